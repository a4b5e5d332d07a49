"""Metrics: quantities logged during training, such as accuracy.

A :class:`Metric` is ``function(outputs, targets, loss) -> float``, the mean over a batch.
``outputs`` are the raw model outputs (n, k), ``targets`` the loss's prepared targets
(n, k); the loss decides how outputs become class labels, so accuracy always thresholds the
outputs the way the loss reads them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import losses
from .checks import lookup

__all__ = ["METRICS", "Metric", "get_metric"]


@dataclass(frozen=True)
class Metric:
    """A named ``function(outputs, targets, loss) -> float`` (see the module docstring)."""

    name: str
    function: Callable[[np.ndarray, np.ndarray, losses.Loss], float]

    def __call__(self, outputs: np.ndarray, targets: np.ndarray, loss: losses.Loss) -> float:
        return float(self.function(outputs, targets, loss))


def _accuracy(outputs: np.ndarray, targets: np.ndarray, loss: losses.Loss) -> float:
    """Fraction of samples whose predicted class equals the true class."""
    return float(np.mean(loss.to_labels(outputs) == loss.target_labels(targets)))


def _mean_squared_error(outputs: np.ndarray, targets: np.ndarray, loss: losses.Loss) -> float:
    """mean((outputs - targets)^2)."""
    return float(np.mean((outputs - targets) ** 2))


def _mean_absolute_error(outputs: np.ndarray, targets: np.ndarray, loss: losses.Loss) -> float:
    """mean(|outputs - targets|)."""
    return float(np.mean(np.abs(outputs - targets)))


METRICS = {
    "accuracy": Metric("accuracy", _accuracy),
    "mse": Metric("mse", _mean_squared_error),
    "mae": Metric("mae", _mean_absolute_error),
}
"""The metrics known by name (Keras' aliases in ``ALIASES`` are accepted too)."""

ALIASES = {
    "acc": "accuracy",
    "mean_squared_error": "mse",
    "mean_absolute_error": "mae",
}


@dataclass(frozen=True)
class _KerasOrder:
    """A user's ``f(y_true, y_pred)`` called as a Metric function (a class, not a lambda,
    so a compiled model still pickles)."""

    function: Callable[[np.ndarray, np.ndarray], float]

    def __call__(self, outputs: np.ndarray, targets: np.ndarray, loss: losses.Loss) -> float:
        return self.function(targets, outputs)


def get_metric(metric: str | Metric | Callable) -> Metric:
    """A Metric from its name (any case), or from a function ``f(y_true, y_pred) -> float``
    on the prepared targets and the outputs (Keras' argument order), named after the
    function."""
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str):
        return lookup(metric, METRICS, "metric", ALIASES)
    if callable(metric):
        name = getattr(metric, "__name__", type(metric).__name__)
        return Metric(name, _KerasOrder(metric))
    raise TypeError(f"a metric is a name or a function, got {type(metric).__name__}")
