"""Changing the learning rate from epoch to epoch."""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable

from .base import Callback, Logs

__all__ = ["LearningRateScheduler"]


class LearningRateScheduler(Callback):
    """Set ``model.optimizer.lr = schedule(epoch)`` at the beginning of every epoch (epochs
    from 0) and log it as ``lr``. ``schedule`` may also take ``(epoch, lr)``, as in Keras.
    The schedules of :mod:`micrograd_like.optim` (StepDecay, CosineDecay, ...) fit here."""

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"schedule must be callable, got {type(schedule).__name__}")
        self.schedule = schedule
        self.verbose = verbose
        self._takes_lr = _positional_count(schedule) >= 2

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            raise ValueError("LearningRateScheduler needs a compiled model (model.compile)")
        lr = self.schedule(epoch, optimizer.lr) if self._takes_lr else self.schedule(epoch)
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not 0 <= lr < math.inf:
            raise ValueError(
                f"the schedule returned {lr!r} for epoch {epoch}; expected a finite number >= 0"
            )
        optimizer.lr = float(lr)
        if self.verbose:
            print(f"Epoch {epoch + 1}: learning rate {optimizer.lr}")

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if logs is not None:
            logs["lr"] = self.model.optimizer.lr


def _positional_count(function: Callable) -> int:
    """How many positional arguments ``function`` accepts (0 if its signature is hidden)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return 0
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return 2
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters)
