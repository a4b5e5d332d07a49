"""Metrics: quantities logged during training, such as accuracy.

A :class:`Metric` is ``function(outputs, targets, loss) -> float``, the mean over a batch.
``outputs`` are the raw model outputs (n, k), ``targets`` the loss's prepared targets
(n, k); the loss decides how outputs become class labels, so accuracy always thresholds the
outputs the way the loss reads them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import losses
from .checks import count, lookup

__all__ = ["METRICS", "Metric", "confusion_matrix", "get_metric"]


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


def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int | None = None) -> np.ndarray:
    """``C[i, j]`` = how many samples of true class i were predicted as class j, for
    integer labels 0 .. n_classes - 1 (by default 1 + the largest label seen). The diagonal
    holds the right answers; ``C.trace() / C.sum()`` is the accuracy."""
    true, predicted = (
        _class_labels(y, name) for y, name in ((y_true, "y_true"), (y_pred, "y_pred"))
    )
    if true.shape != predicted.shape:
        raise ValueError(
            f"y_true and y_pred must have one label per sample each, got {len(true)} and "
            f"{len(predicted)}"
        )
    largest = int(max(true.max(initial=-1), predicted.max(initial=-1)))
    if n_classes is None:
        n_classes = largest + 1
    n_classes = count(n_classes, "n_classes")
    if largest >= n_classes:
        raise ValueError(f"a label is {largest}, but n_classes is {n_classes}")
    matrix = np.zeros((n_classes, n_classes), dtype=int)
    np.add.at(matrix, (true, predicted), 1)
    return matrix


def _class_labels(y: Any, name: str) -> np.ndarray:
    labels = np.asarray(y)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D array of class labels, got shape {labels.shape}"
        )
    if not np.issubdtype(labels.dtype, np.integer):
        if not (np.issubdtype(labels.dtype, np.floating) and np.all(labels == np.round(labels))):
            raise ValueError(f"{name} must hold integer class labels, got {labels.dtype} values")
        labels = labels.astype(int)
    if labels.min() < 0:
        raise ValueError(f"{name} holds a negative label, {labels.min()}; labels are 0 .. k - 1")
    return labels
