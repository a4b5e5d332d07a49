"""Keras-style callbacks: hooks that ``fit`` calls around epochs and batches.

A callback overrides some of ``on_train_begin/end(logs)``, ``on_epoch_begin/end(epoch,
logs)`` and ``on_train_batch_begin/end(batch, logs)`` (see :mod:`.base`). The callbacks
here: :class:`History`, :class:`ProgbarLogger`, :class:`EarlyStopping`,
:class:`ModelCheckpoint`, :class:`TerminateOnNaN`, :class:`CSVLogger`,
:class:`LearningRateScheduler` and :class:`TensorBoard`.
"""

from .base import Callback, CallbackList, History, Logs
from .csv_logger import CSVLogger
from .monitoring import EarlyStopping, ModelCheckpoint, TerminateOnNaN, improvement_mode
from .progress import ProgbarLogger
from .schedules import LearningRateScheduler
from .tensorboard import TensorBoard

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LearningRateScheduler",
    "Logs",
    "ModelCheckpoint",
    "ProgbarLogger",
    "TensorBoard",
    "TerminateOnNaN",
    "improvement_mode",
]
