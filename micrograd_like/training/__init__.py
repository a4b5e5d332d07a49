"""Keras-style training: ``compile``, ``fit``, ``evaluate``, ``predict``, ``train_on_batch``.

- :mod:`.loop`: the five functions and the epoch loop (the lecture's SGD algorithm);
- :mod:`.batches`: one batch through the model, per sample or by the recorded replay;
- :mod:`.inputs`: checks of X, y and the validation split;
- :mod:`.state`: :class:`TrainingState`, what a compiled model holds.

A model is anything callable with ``parameters()``; this package never imports
:mod:`micrograd_like.nn`, whose Module gets ``model.fit(...)`` and friends from here.
"""

from .loop import compile, evaluate, fit, predict, train_on_batch
from .state import TrainingState

__all__ = ["TrainingState", "compile", "evaluate", "fit", "predict", "train_on_batch"]
