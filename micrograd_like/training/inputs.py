"""Checking what ``fit``, ``evaluate`` and ``predict`` are given: inputs, targets, splits."""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import losses
from ..engine import Value, no_grad
from ..optim import all_finite

__all__ = ["as_outputs", "check_inputs", "check_targets", "split_validation"]


def check_inputs(model: Any, X: Any) -> np.ndarray:
    """X as a finite float array of shape (n, model inputs)."""
    nin = getattr(model, "nin", None)
    expected = f"(n_samples, {nin if nin is not None else 'n_features'})"
    try:
        X = np.asarray(X, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"X must be an array of numbers of shape {expected}") from None
    if X.ndim == 1 and nin == 1:
        X = X[:, None]
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"X must be a non-empty array of shape {expected}, got shape {X.shape}")
    if nin is not None and X.shape[1] != nin:
        raise ValueError(f"the model takes {nin} feature(s) per sample but X has {X.shape[1]}")
    if not all_finite(X):
        row, column = np.argwhere(~np.isfinite(X))[0]
        raise ValueError(f"X contains {X[row, column]} at row {row}, column {column}")
    return X


def check_targets(model: Any, loss: losses.Loss, y: Any, X: np.ndarray) -> np.ndarray:
    """The loss's prepared targets for ``y`` (n, outputs); the loss validates the labels."""
    try:
        y_array = np.asarray(y)
    except ValueError:
        raise ValueError(f"y must be an array of {len(X)} targets") from None
    if y_array.ndim == 0 or len(y_array) != len(X):
        n_targets = "a single value" if y_array.ndim == 0 else len(y_array)
        raise ValueError(f"X has {len(X)} samples but y has {n_targets}")
    return loss.prepare_targets(y, _n_outputs(model, X))


def _n_outputs(model: Any, X: np.ndarray) -> int:
    nout = getattr(model, "nout", None)
    if nout is None:  # a custom Module: ask it
        with no_grad():
            nout = len(as_outputs(model(X[0].tolist())))
    return nout


def as_outputs(out: Any) -> list[Value]:
    if type(out) is Value:
        return [out]
    if isinstance(out, (list, tuple)) and all(type(o) is Value for o in out):
        return list(out)
    raise TypeError(f"the model must return a Value or a list of Values, got {out!r}")


def split_validation(
    model: Any,
    loss: losses.Loss,
    X: np.ndarray,
    targets: np.ndarray,
    validation_split: float,
    validation_data: tuple[Any, Any] | None,
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """(training X, training targets, validation (X, targets) or None)."""
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data must be a pair (X_val, y_val)")
        X_val = check_inputs(model, validation_data[0])
        return X, targets, (X_val, check_targets(model, loss, validation_data[1], X_val))
    if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real):
        raise ValueError(f"validation_split must be a number in [0, 1), got {validation_split!r}")
    if not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
    if validation_split == 0:
        return X, targets, None
    # the tiny epsilon keeps e.g. 10 * (1 - 0.9) = 0.99999... from flooring to 0
    n_train = math.floor(len(X) * (1.0 - validation_split) + 1e-9)
    if n_train == 0 or n_train == len(X):
        raise ValueError(
            f"validation_split={validation_split} of {len(X)} samples leaves "
            f"{n_train} for training and {len(X) - n_train} for validation; both must be > 0"
        )
    return X[:n_train], targets[:n_train], (X[n_train:], targets[n_train:])
