"""Changing the learning rate from epoch to epoch: on a schedule, or when progress stalls."""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Callable

from ..checks import count, nonnegative_number, positive_number
from .base import Callback, Logs
from .monitoring import _Monitor

__all__ = ["LearningRateScheduler", "ReduceLROnPlateau"]


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


class ReduceLROnPlateau(Callback):
    """Keras' ReduceLROnPlateau: when ``monitor`` has not improved (by more than
    ``min_delta``) for ``patience`` epochs, multiply the learning rate by ``factor`` (never
    below ``min_lr``), then wait ``cooldown`` epochs before counting again. The learning
    rate of each epoch is logged as ``learning_rate``."""

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__()
        self.factor = positive_number(factor, "ReduceLROnPlateau: factor", below=1.0)
        self.patience = count(patience, "ReduceLROnPlateau: patience", minimum=0)
        self.cooldown = count(cooldown, "ReduceLROnPlateau: cooldown", minimum=0)
        self.min_lr = nonnegative_number(min_lr, "ReduceLROnPlateau: min_lr")
        self.monitor = monitor
        self.verbose = verbose
        self._tracker = _Monitor(
            "ReduceLROnPlateau", monitor, mode, nonnegative_number(min_delta, "min_delta")
        )
        self.on_train_begin()

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._tracker.reset()
        self.wait = 0
        self.cooldown_counter = 0

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            raise ValueError("ReduceLROnPlateau needs a compiled model (model.compile)")
        if logs is not None:
            logs["learning_rate"] = optimizer.lr
        value = self._tracker.current(logs)
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._tracker.improved(value):
            self.wait = 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience and optimizer.lr > self.min_lr:
                optimizer.lr = max(optimizer.lr * self.factor, self.min_lr)
                if self.verbose:
                    print(f"Epoch {epoch + 1}: ReduceLROnPlateau: learning rate {optimizer.lr:.4g}")
                self.cooldown_counter = self.cooldown
                self.wait = 0
