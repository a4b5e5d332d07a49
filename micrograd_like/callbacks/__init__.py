"""Keras-style callbacks: hooks that ``fit`` calls around epochs and batches.

A callback overrides some of ``on_train_begin/end(logs)``, ``on_epoch_begin/end(epoch,
logs)`` and ``on_train_batch_begin/end(batch, logs)`` (or Keras' older ``on_batch_begin/end``;
see :mod:`.base`). The callbacks here: :class:`History`, :class:`ProgbarLogger`,
:class:`EarlyStopping`, :class:`ModelCheckpoint`, :class:`TerminateOnNaN`, :class:`CSVLogger`,
:class:`LearningRateScheduler`, :class:`ReduceLROnPlateau`, :class:`LambdaCallback` and
:class:`TensorBoard`.
"""

from .base import Callback, CallbackList, History, LambdaCallback, Logs
from .csv_logger import CSVLogger
from .monitoring import EarlyStopping, ModelCheckpoint, TerminateOnNaN, improvement_mode
from .progress import ProgbarLogger, format_logs, on_terminal
from .schedules import LearningRateScheduler, ReduceLROnPlateau
from .tensorboard import TensorBoard

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "Logs",
    "ModelCheckpoint",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TensorBoard",
    "TerminateOnNaN",
    "format_logs",
    "improvement_mode",
    "on_terminal",
]
