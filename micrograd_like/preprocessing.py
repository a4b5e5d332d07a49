"""Feature standardization and one-hot labels (numpy only).

``Standardizer`` rescales each column to mean 0 and standard deviation 1 using statistics
learned from the training data only: ``fit`` on the training rows, then ``transform`` the
training and the test rows alike. It gives the same numbers as scikit-learn's
``StandardScaler`` and can be saved as a small JSON file. ``one_hot`` turns integer class
labels into rows of 0s and a 1, like Keras' ``to_categorical``.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .checks import count, finite_number, positive_number
from .files import atomic_write

__all__ = [
    "DEFAULT_STANDARDIZER_MAX_BYTES",
    "STANDARDIZER_FORMAT",
    "STANDARDIZER_VERSION",
    "NotFittedError",
    "Standardizer",
    "one_hot",
]

STANDARDIZER_FORMAT = "micrograd_like.Standardizer"
STANDARDIZER_VERSION = 1
DEFAULT_STANDARDIZER_MAX_BYTES = 16 * 1024 * 1024
"""``Standardizer.load`` refuses larger files unless given a larger ``max_bytes``."""

_KEYS = ("format", "version", "n_features", "mean", "scale")


class NotFittedError(ValueError, AttributeError):
    """A Standardizer was used before ``fit`` (or ``load``) gave it its statistics."""


class Standardizer:
    """Standardize features: ``(X - mean_) / scale_``, column by column.

    ``fit(X_train)`` learns ``mean_``, each column's mean, and ``scale_``, its standard
    deviation (``ddof=0``, the population formula), from the training data alone; a column
    that is constant in the training data gets the scale 1, so it maps to 0 instead of
    dividing by zero. ``transform`` then applies these statistics to any rows with the same
    columns (training, validation or test), so no information from the test rows leaks into
    the scaling. ``inverse_transform`` undoes it.

    Inputs are 2-D arrays (samples, features) of finite real numbers, computed in float64;
    results are new float64 arrays (the input is never modified). The statistics are those
    of scikit-learn's ``StandardScaler`` with its defaults, to the last bit.

    ``save(path)`` writes a small JSON file (atomically), ``Standardizer.load(path)`` reads
    it back with exactly the same statistics; ``to_dict`` / ``from_dict`` are the same as
    plain, JSON-ready dicts::

        scaler = Standardizer().fit(X_train)
        X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    """

    mean_: np.ndarray
    scale_: np.ndarray
    n_features_in_: int

    def __repr__(self) -> str:
        if not self._fitted():
            return "Standardizer()  # not fitted"
        return f"Standardizer()  # fitted on {self.n_features_in_} feature(s)"

    # ------------------------------------------------------------ fitting and scaling

    def fit(self, X: Any) -> Standardizer:
        """Learn each column's mean and standard deviation from ``X``; returns self."""
        X = _matrix(X, "Standardizer.fit")
        n = X.shape[0]
        if n == 0:
            raise ValueError("Standardizer.fit: X has no rows; the statistics need at least one")
        mean = X.sum(axis=0) / n
        deviation = X - mean
        # The corrected two-pass variance (Chan, Golub and LeVeque): the sum of the
        # deviations is zero in exact arithmetic, and subtracting its square / n removes
        # most of the rounding error left in the mean.
        drift = deviation.sum(axis=0)
        var = (np.square(deviation).sum(axis=0) - drift**2 / n) / n
        # A column counts as constant when its variance is within the rounding error bound
        # of that algorithm, n eps var + (n eps mean)^2: computing the mean of identical
        # values may leave a tiny variance, which must not become a tiny scale.
        eps = np.finfo(np.float64).eps
        constant = var <= n * eps * var + (n * mean * eps) ** 2
        self.mean_ = mean
        self.scale_ = np.sqrt(np.where(constant, 1.0, var))
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """``(X - mean_) / scale_``: X standardized with the statistics of ``fit``."""
        X = self._input(X, "transform")
        return (X - self.mean_) / self.scale_

    def fit_transform(self, X: Any) -> np.ndarray:
        """``fit(X)``, then ``transform(X)``: for the training data."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """``X * scale_ + mean_``: standardized values back in the original units."""
        X = self._input(X, "inverse_transform")
        return X * self.scale_ + self.mean_

    def _fitted(self) -> bool:
        return hasattr(self, "mean_")

    def _input(self, X: Any, method: str) -> np.ndarray:
        where = f"Standardizer.{method}"
        if not self._fitted():
            raise NotFittedError(
                f"{where}: this Standardizer is not fitted yet; call fit(X_train) first "
                "(or Standardizer.load(path))"
            )
        return _matrix(X, where, width=self.n_features_in_)

    # ------------------------------------------------------------ saving and loading

    def to_dict(self) -> dict[str, Any]:
        """The statistics as a plain dict of JSON types, with its "format" and "version"."""
        if not self._fitted():
            raise NotFittedError("Standardizer.to_dict: this Standardizer is not fitted yet")
        return {
            "format": STANDARDIZER_FORMAT,
            "version": STANDARDIZER_VERSION,
            "n_features": self.n_features_in_,
            "mean": [float(v) for v in self.mean_],
            "scale": [float(v) for v in self.scale_],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Standardizer:
        """A fitted Standardizer from ``to_dict``'s output, after checking every field."""
        if not isinstance(data, Mapping):
            raise TypeError(
                f"Standardizer.from_dict needs a dict (from to_dict), got {type(data).__name__}"
            )
        if data.get("format") != STANDARDIZER_FORMAT:
            raise ValueError(
                f'not a saved Standardizer: "format" is {data.get("format")!r}, expected '
                f"{STANDARDIZER_FORMAT!r}"
            )
        version = data.get("version")
        if version != STANDARDIZER_VERSION or isinstance(version, bool):
            raise ValueError(
                f'unsupported Standardizer "version" {version!r}; this micrograd_like reads '
                f"version {STANDARDIZER_VERSION}"
            )
        missing = [key for key in _KEYS if key not in data]
        unknown = sorted(str(key) for key in data if key not in _KEYS)
        if missing or unknown:
            problems = [f"missing {', '.join(missing)}"] if missing else []
            problems += [f"unexpected {', '.join(unknown)}"] if unknown else []
            raise ValueError(
                f"a saved Standardizer has the fields {', '.join(_KEYS)}: {'; '.join(problems)}"
            )
        n = count(data["n_features"], "n_features")
        mean = _numbers(data["mean"], "mean", n, finite_number)
        scale = _numbers(data["scale"], "scale", n, positive_number)
        scaler = cls()
        scaler.mean_ = np.array(mean, dtype=np.float64)
        scaler.scale_ = np.array(scale, dtype=np.float64)
        scaler.n_features_in_ = n
        return scaler

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``to_dict()`` as JSON to ``path`` (atomically: a complete file or the old
        one, never half a file); returns the path."""
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"
        return atomic_write(path, lambda file: file.write(text))

    @classmethod
    def load(
        cls, path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_STANDARDIZER_MAX_BYTES
    ) -> Standardizer:
        """The Standardizer saved at ``path``. The file must be a regular file of at most
        ``max_bytes`` bytes holding what ``save`` writes; anything else is a ValueError
        naming the file (FileNotFoundError if it is missing)."""
        max_bytes = count(max_bytes, "Standardizer.load: max_bytes")
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"Standardizer.load: path must be a str or a path, got {path!r}")
        where = Path(os.fspath(path))
        text = _read_text(where, max_bytes)
        try:
            data = json.loads(text, parse_constant=_no_constant)
        except json.JSONDecodeError as error:
            raise ValueError(
                f"Standardizer.load: {where} is not valid JSON ({error.msg} at line "
                f"{error.lineno}, column {error.colno})"
            ) from None
        except (ValueError, RecursionError) as error:
            raise ValueError(f"Standardizer.load: {where} is not valid JSON ({error})") from None
        if not isinstance(data, dict):
            raise ValueError(
                f"Standardizer.load: {where} holds a JSON {type(data).__name__}, not the "
                "object that Standardizer.save writes"
            )
        try:
            return cls.from_dict(data)
        except (TypeError, ValueError) as error:
            raise ValueError(f"Standardizer.load: {where}: {error}") from None


def _matrix(X: Any, where: str, width: int | None = None) -> np.ndarray:
    """X as a 2-D float64 array of finite numbers (``width`` columns when given)."""
    try:
        array = np.asarray(X)
    except (TypeError, ValueError) as error:  # rows of different lengths, for one
        raise ValueError(f"{where}: X must be a 2-D array of numbers ({error})") from None
    if array.dtype.kind not in "biuf":
        if array.dtype.kind != "O":
            raise ValueError(f"{where}: X must hold real numbers, got dtype {array.dtype}")
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: X must hold real numbers, got {X!r}") from None
    array = np.asarray(array, dtype=np.float64)
    if array.ndim != 2:
        hint = "; use X.reshape(-1, 1) for a single feature" if array.ndim == 1 else ""
        raise ValueError(
            f"{where}: X must be 2-D (samples, features), got shape {array.shape}{hint}"
        )
    if width is not None and array.shape[1] != width:
        raise ValueError(
            f"{where}: X has {array.shape[1]} column(s) but the Standardizer was fitted on {width}"
        )
    if array.shape[1] == 0:
        raise ValueError(f"{where}: X has no columns")
    bad = ~np.isfinite(array)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{where}: X has the non-finite value {array[row, column]} at row {row}, column "
            f"{column}; every value must be a finite number"
        )
    return array


def _numbers(values: object, name: str, n: int, check: Any) -> list[float]:
    if not isinstance(values, list) or len(values) != n:
        size = f"{len(values)} values" if isinstance(values, list) else type(values).__name__
        raise ValueError(f'"{name}" must be a list of n_features = {n} numbers, got {size}')
    return [check(v, f"{name}[{i}]") for i, v in enumerate(values)]


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a finite number")


def _read_text(path: Path, max_bytes: int) -> str:
    """The UTF-8 text of the regular file ``path`` of at most ``max_bytes`` bytes (checked
    before opening it, so that a FIFO or a device is never opened, and on the open file)."""
    where = f"Standardizer.load: {path}"
    try:
        _check_regular(where, os.stat(path), max_bytes)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise FileNotFoundError(f"{where} does not exist") from None
    except OSError as error:
        raise ValueError(f"{where} cannot be read: {error.strerror or error}") from None
    try:
        _check_regular(where, os.fstat(fd), max_bytes)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as file:
        raw = file.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ValueError(f"{where} is more than max_bytes={max_bytes:,} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"{where} is not UTF-8 text (byte {error.start})") from None


def _check_regular(where: str, info: os.stat_result, max_bytes: int) -> None:
    if not stat.S_ISREG(info.st_mode):
        raise ValueError(f"{where} is not a regular file")
    if info.st_size > max_bytes:
        raise ValueError(
            f"{where} is {info.st_size:,} bytes, more than max_bytes={max_bytes:,}; a saved "
            "Standardizer is far smaller (pass a larger max_bytes if the file is trusted)"
        )


# ---------------------------------------------------------------- labels


def one_hot(y: Any, num_classes: int | None = None) -> np.ndarray:
    """Class labels as one-hot rows: a float64 array (n, num_classes) with a 1 in column
    ``y[i]`` of row i and 0 elsewhere, like Keras' ``to_categorical``.

    ``y``: non-negative integer labels, 1-D or a column (n, 1) (floats are accepted when
    they are whole numbers). ``num_classes`` defaults to ``max(y) + 1``; every label must
    be below it.
    """
    try:
        labels = np.asarray(y)
    except (TypeError, ValueError) as error:
        raise ValueError(f"one_hot: y must be a 1-D array of class labels ({error})") from None
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(
            f"one_hot: y must be a 1-D array of class labels (or a column (n, 1)), "
            f"got shape {labels.shape}"
        )
    if labels.dtype.kind == "f":
        whole = np.isfinite(labels) & (labels == np.round(labels))
        if not whole.all():
            i = int(np.flatnonzero(~whole)[0])
            raise ValueError(
                f"one_hot: labels must be non-negative integers, got y[{i}] = {labels[i].item()!r}"
            )
    elif labels.dtype.kind not in "iu":
        raise ValueError(
            f"one_hot: labels must be non-negative integers, got an array of dtype {labels.dtype}"
        )
    negative = np.flatnonzero(labels < 0)
    if negative.size:
        i = int(negative[0])
        raise ValueError(
            f"one_hot: labels must be non-negative integers, got y[{i}] = {labels[i].item()!r}"
        )
    if num_classes is None:
        if labels.size == 0:
            raise ValueError("one_hot: y is empty; pass num_classes to say how many columns")
        k = int(labels.max()) + 1
    else:
        k = count(num_classes, "one_hot: num_classes")
        too_big = np.flatnonzero(labels >= k)
        if too_big.size:
            i = int(too_big[0])
            raise ValueError(
                f"one_hot: y[{i}] = {labels[i].item()!r} is not below num_classes={k} (labels are "
                f"0 to {k - 1})"
            )
    encoded = np.zeros((labels.size, k), dtype=np.float64)
    encoded[np.arange(labels.size), labels.astype(np.intp)] = 1.0
    return encoded
