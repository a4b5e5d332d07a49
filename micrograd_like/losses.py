"""Loss functions: a per-sample term built from Value ops, reduced over the batch.

Every loss is called Keras' way, ``loss(y_true, y_pred)``, where ``y_pred`` lists the model's
outputs for each sample (a Value, or a list of Values for a model with several outputs)::

    loss = mse(y, [model(x) for x in X])
    loss.backward()

or on one sample, a number and a Value: ``squared_error(1.0, model(x))``. With ``y`` the
targets and ``z`` the k outputs of one sample:

- ``squared_error``: ½ Σ_i (z_i - y_i)², summed over the batch (the lecture's form: its
  derivative with respect to an output is z_i - y_i);
- ``mse``: the mean over the batch of the mean over outputs of (z_i - y_i)²;
- ``mae``: the same with |z_i - y_i|;
- ``hinge``: mean of max(0, 1 - y_i z_i) with labels ±1 (0/1 labels become -1/+1);
- ``binary_crossentropy``: -(y log p + (1 - y) log(1 - p)) for a probability p = sigmoid(z)
  of a logit z, computed from z as log(1 + e^z) - y z = logsumexp(0, z) - y z, which never
  overflows;
- ``categorical_crossentropy``: -Σ_i y_i log softmax(z)_i = logsumexp(z) - Σ_i y_i z_i for
  one-hot y; ``sparse_categorical_crossentropy``: the same with integer class labels.

The crossentropies follow the model's output, read from the graph (:mod:`.activations`): a
sigmoid or softmax output is a probability and the loss reads the logit behind it; a linear
output is a logit. ``BinaryCrossentropy(from_logits=...)``, ``CategoricalCrossentropy`` and
``SparseCategoricalCrossentropy`` say it explicitly, as in Keras (a probability that is not a
sigmoid's or a softmax's output is clipped to [1e-7, 1 - 1e-7]); when that contradicts the
model's output, ``for_output`` warns, as Keras 3 does. ``binary_crossentropy_from_probabilities``
is ``BinaryCrossentropy(from_logits=False)``.

Each loss validates the targets it can take (``prepare_targets``) and says how raw outputs
become class labels for the accuracy metric (``to_labels``), the way it reads them.
"""

from __future__ import annotations

import copy
import functools
import math
import numbers
import operator
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .activations import log_probabilities
from .checks import lookup
from .engine import OPS, Value

__all__ = [
    "LOSSES",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Loss",
    "SparseCategoricalCrossentropy",
    "binary_crossentropy",
    "binary_crossentropy_from_probabilities",
    "categorical_crossentropy",
    "get_loss",
    "hinge",
    "l2_penalty",
    "mae",
    "mse",
    "sparse_categorical_crossentropy",
    "squared_error",
]

_LINEAR = OPS["linear"]
_LOGSUMEXP = OPS["logsumexp"]
_SIGMOID = OPS["sigmoid"]
_PROBABILITY_EPSILON = 1e-7

# A per-sample function gets the targets of one sample (floats, or Values when a graph is
# traced with placeholder targets) and the sample's outputs, a list of the same length.
PerSample = Callable[[list, list[Value]], Value]


# ---------------------------------------------------------------- Value helpers


def _total(values: Iterable[Value]) -> Value:
    """v_1 + v_2 + ... + v_n as a chain of additions."""
    return functools.reduce(operator.add, values)


def _dot(weights: Sequence, values: Sequence) -> Value:
    """Σ_i w_i v_i as a single ``linear`` node (with bias 0)."""
    return _LINEAR(*weights, *values, 0.0)


def _clip(p: Value, low: float, high: float) -> Value:
    """min(max(p, low), high) = p + relu(low - p) - relu(p - high) for low < high, with
    Value ops only (exactly p inside the interval; derivative 1 inside, 0 outside)."""
    return p + (low - p).relu() - (p - high).relu()


# ---------------------------------------------------------------- per-sample terms


def _half_squared_error(targets: list, outputs: list[Value]) -> Value:
    """½ Σ_i (z_i - y_i)²."""
    return 0.5 * _total((z - y) ** 2 for z, y in zip(outputs, targets))


def _mean_squared_error(targets: list, outputs: list[Value]) -> Value:
    """(1/k) Σ_i (z_i - y_i)²."""
    return _total((z - y) ** 2 for z, y in zip(outputs, targets)) / len(outputs)


def _mean_absolute_error(targets: list, outputs: list[Value]) -> Value:
    """(1/k) Σ_i |z_i - y_i|."""
    return _total(abs(z - y) for z, y in zip(outputs, targets)) / len(outputs)


def _hinge(targets: list, outputs: list[Value]) -> Value:
    """(1/k) Σ_i max(0, 1 - y_i z_i)."""
    return _total((1 - y * z).relu() for z, y in zip(outputs, targets)) / len(outputs)


def _logistic_term(z: Value, y: Any) -> Value:
    """log(1 + e^z) - y z, where log(1 + e^z) = logsumexp(0, z) = max(z, 0) + log(1 + e^-|z|)
    is finite for any z; derivative sigmoid(z) - y."""
    return _LOGSUMEXP(0.0, z) - y * z


def _logistic(targets: list, outputs: list[Value]) -> Value:
    """(1/k) Σ_i log(1 + e^z_i) - y_i z_i: every output read as a logit."""
    return _total(map(_logistic_term, outputs, targets)) / len(outputs)


def _binary_log_loss(targets: list, outputs: list[Value]) -> Value:
    """(1/k) Σ_i -(y_i log p_i + (1 - y_i) log(1 - p_i)), every output read as a probability:
    from its logit when it is a sigmoid's output (exactly, as above), else clipped to
    [1e-7, 1 - 1e-7]."""
    terms = []
    for p, y in zip(outputs, targets):
        if p.rule is _SIGMOID:
            terms.append(_logistic_term(p.parents[0], y))
            continue
        p = _clip(p, _PROBABILITY_EPSILON, 1.0 - _PROBABILITY_EPSILON)
        terms.append(-(y * p.log() + (1 - y) * (1 - p).log()))
    return _total(terms) / len(outputs)


def _binary_following(targets: list, outputs: list[Value]) -> Value:
    """(1/k) Σ_i log(1 + e^z_i) - y_i z_i, where z_i is the logit behind a sigmoid output,
    else the output itself."""
    return _logistic(targets, [z.parents[0] if z.rule is _SIGMOID else z for z in outputs])


def _softmax_crossentropy(targets: list, outputs: list[Value]) -> Value:
    """logsumexp(z) - Σ_i y_i z_i = -Σ_i y_i log softmax(z)_i for Σ_i y_i = 1, the outputs
    read as logits; derivative softmax(z)_i - y_i."""
    return _LOGSUMEXP(*outputs) - _dot(targets, outputs)


def _categorical_log_loss(targets: list, outputs: list[Value]) -> Value:
    """-Σ_i y_i log p_i, the outputs read as probabilities: from the log-probabilities
    behind a softmax output (exactly), else (Keras' way) p scaled to sum 1 and clipped to
    [1e-7, 1 - 1e-7]."""
    logs = log_probabilities(outputs)
    if logs is None:
        total = _total(outputs)
        eps = _PROBABILITY_EPSILON
        logs = [_clip(p / total, eps, 1.0 - eps).log() for p in outputs]
    return -_dot(targets, logs)


def _categorical_following(targets: list, outputs: list[Value]) -> Value:
    """-Σ_i y_i log softmax(z)_i from the logits z: those behind a softmax output, else the
    outputs themselves."""
    logs = log_probabilities(outputs)
    if logs is None:
        return _softmax_crossentropy(targets, outputs)
    return -_dot(targets, logs)


# ---------------------------------------------------------------- the Loss classes


def _threshold_labels(values: np.ndarray, threshold: float, negative: int) -> np.ndarray:
    """1 where a value exceeds ``threshold``, else ``negative``; shape (n,) for one column."""
    labels = np.where(values > threshold, 1, negative)
    return labels[:, 0] if labels.shape[1] == 1 else labels


def _first_bad(values: np.ndarray, bad: np.ndarray) -> str:
    """'<value> (row r)' for the first True entry of ``bad``."""
    index = tuple(np.argwhere(bad)[0])
    return f"{float(values[index])!r} (row {index[0]})"


class Loss:
    """A loss = a per-sample term + a reduction ("sum" or "mean") over the batch.

    ``per_sample(targets, outputs)`` receives one sample's targets as a list (of floats)
    and its outputs as a list of Values of the same length, and must build its result with
    Value ops only, without branching on ``.data``. This base class takes any finite real
    targets and turns outputs into labels as a regression-as-classification would: one
    output -> 1 where it exceeds 0.5 (0/1 targets), several -> the argmax.
    """

    expects = "finite real numbers"

    def __init__(self, name: str, per_sample: PerSample, *, reduction: str = "mean") -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"a loss name must be a non-empty str, got {name!r}")
        if not callable(per_sample):
            raise TypeError(f"{name}: per_sample must be callable, got {per_sample!r}")
        if reduction not in ("sum", "mean"):
            raise ValueError(f"{name}: reduction must be 'sum' or 'mean', got {reduction!r}")
        self.name = name
        self.reduction = reduction
        self._per_sample = per_sample

    def __repr__(self) -> str:
        return f"<Loss {self.name} (reduction={self.reduction!r})>"

    # -- computing the loss
    def per_sample(self, target: Any, outputs: Sequence[Value]) -> Value:
        """The loss of one sample. ``target``: a number (or Value) for one output, else a
        sequence of k (a row of ``prepare_targets``); ``outputs``: the k output Values."""
        outputs = list(outputs)
        if isinstance(target, np.ndarray):
            targets = np.atleast_1d(target).tolist()
        elif isinstance(target, (list, tuple)):
            targets = [t if isinstance(t, Value) else float(t) for t in target]
        else:
            targets = [target if isinstance(target, Value) else float(target)]
        if len(targets) != len(outputs) or not outputs:
            raise ValueError(
                f"{self.name}: one sample has {len(outputs)} output(s) but {len(targets)} target(s)"
            )
        return self._per_sample(targets, outputs)

    def __call__(self, y_true: Any, y_pred: Value | Sequence[Value | Sequence[Value]]) -> Value:
        """The reduced loss over the batch: Σ or mean_n of per_sample(y_true[n], y_pred[n]);
        for one sample (``y_pred`` a Value, ``y_true`` a number) its per_sample term."""
        if isinstance(y_pred, Value):
            if not isinstance(y_true, numbers.Real):
                raise TypeError(
                    f"{self.name}: for one sample (y_pred a Value) y_true must be a number, "
                    f"got {type(y_true).__name__}"
                )
            return self.per_sample(self.prepare_targets([y_true], 1)[0], [y_pred])
        outputs = self._batch_outputs(y_pred)
        prepared = self.prepare_targets(y_true, len(outputs[0]))
        if len(prepared) != len(outputs):
            raise ValueError(
                f"{self.name}: y_true has {len(prepared)} sample(s) but y_pred has {len(outputs)}"
            )
        terms = [self.per_sample(t, z) for t, z in zip(prepared, outputs)]
        total = _total(terms)
        return total if self.reduction == "sum" else total / len(terms)

    def _batch_outputs(self, y_pred: Any) -> list[list[Value]]:
        """y_pred as one list of Values per sample, all of the same length."""
        if not isinstance(y_pred, Sequence) or len(y_pred) == 0:
            raise TypeError(
                f"{self.name}: y_pred must be a Value (one sample) or a non-empty sequence over "
                f"the batch of model outputs (Values, or lists of Values), got "
                f"{type(y_pred).__name__}"
            )
        batch = []
        for n, out in enumerate(y_pred):
            sample = [out] if isinstance(out, Value) else out
            if not isinstance(sample, Sequence) or not all(isinstance(z, Value) for z in sample):
                raise TypeError(
                    f"{self.name}: y_pred[{n}] must be a Value or a sequence of Values, got {out!r}"
                )
            batch.append(list(sample))
        widths = {len(sample) for sample in batch}
        if len(widths) != 1 or 0 in widths:
            raise ValueError(
                f"{self.name}: every sample of y_pred must have the same number of outputs "
                f"(at least one), got {sorted(widths)}"
            )
        return batch

    # -- targets
    def prepare_targets(self, y_true: Any, n_outputs: int) -> np.ndarray:
        """Validate the targets and return them as floats of shape (n, n_outputs)."""
        if isinstance(n_outputs, bool) or not isinstance(n_outputs, numbers.Integral):
            raise TypeError(f"{self.name}: n_outputs must be an int, got {n_outputs!r}")
        if n_outputs < 1:
            raise ValueError(f"{self.name}: n_outputs must be >= 1, got {n_outputs}")
        y = self._numeric(y_true)
        bad = ~np.isfinite(y)
        if bad.any():
            raise ValueError(f"{self.name} expects {self.expects}; got {_first_bad(y, bad)}")
        return self._check_values(self._shaped(y, n_outputs))

    def _numeric(self, y_true: Any) -> np.ndarray:
        """y_true as a float array with at least one sample."""
        try:
            y = np.asarray(y_true)
            if y.dtype.kind not in "biuf":
                raise TypeError
            y = y.astype(float)
        except (TypeError, ValueError):
            raise ValueError(
                f"{self.name} expects an array of {self.expects} (one row per sample), "
                f"got {y_true!r}"
            ) from None
        if y.ndim == 0 or len(y) == 0:
            raise ValueError(f"{self.name} expects targets for at least one sample, got {y!r}")
        return y

    def _shaped(self, y: np.ndarray, n_outputs: int) -> np.ndarray:
        """(n,) or (n, 1) for one output, (n, k) for k outputs -> (n, n_outputs)."""
        if y.ndim == 1 and n_outputs == 1:
            return y[:, None]
        if y.ndim == 2 and y.shape[1] == n_outputs:
            return y
        expected = "(n,) or (n, 1)" if n_outputs == 1 else f"(n, {n_outputs})"
        raise ValueError(
            f"{self.name} expects targets of shape {expected} for a model with "
            f"{n_outputs} output(s), got shape {y.shape}"
        )

    def _check_values(self, y: np.ndarray) -> np.ndarray:
        """Refuse values this loss cannot take; convert the others. Here: any finite."""
        return y

    # -- the model's outputs
    def for_output(self, activation: str) -> Loss:
        """This loss for a model whose output activation is ``activation`` ("linear",
        "sigmoid", "softmax", ...): a crossentropy that follows the model's output becomes
        the one that reads it right; an explicit ``from_logits`` that contradicts the output
        warns. Other losses do not depend on it."""
        return self

    # -- class labels for the accuracy metric
    def to_labels(self, outputs: np.ndarray) -> np.ndarray:
        """Predicted class labels from raw outputs (n, k)."""
        outputs = np.asarray(outputs, dtype=float)
        if outputs.shape[1] == 1:
            return _threshold_labels(outputs, 0.5, 0)
        return np.argmax(outputs, axis=1)

    def target_labels(self, prepared: np.ndarray) -> np.ndarray:
        """True class labels from ``prepare_targets``' result, comparable with to_labels."""
        return self.to_labels(prepared)


class _HingeLoss(Loss):
    """Labels ±1; if every label is 0 or 1 they are mapped to -1/+1 (as Keras does).
    Predicted label: +1 where the output is > 0, else -1 (per output)."""

    expects = "labels -1 or +1 (0/1 labels are converted to -1/+1)"

    def _check_values(self, y: np.ndarray) -> np.ndarray:
        """±1 labels as they are, 0/1 labels as 2y - 1 (all 1s are both); anything else is
        refused, 0 among -1s too. Comparisons, not np.isin: a few times faster on a batch."""
        one, zero = y == 1.0, y == 0.0
        if (one | (y == -1.0)).all():
            return y
        if (one | zero).all():
            return 2.0 * y - 1.0
        bad = ~(one | zero | (y == -1.0))
        if not bad.any():  # 0 mixed with -1: 0 is a label only among 0/1 labels
            bad = zero
        raise ValueError(f"{self.name} expects {self.expects}; got {_first_bad(y, bad)}")

    def to_labels(self, outputs: np.ndarray) -> np.ndarray:
        return _threshold_labels(np.asarray(outputs, dtype=float), 0.0, -1)


class _Crossentropy(Loss):
    """A crossentropy that reads the outputs as logits (``from_logits=True``), as
    probabilities (False), or as the model's output says (None: probabilities after a
    sigmoid or softmax, logits after a linear output)."""

    keras_name = ""
    """The loss's Keras name: the name of the one that follows the model's output."""

    _forms: dict[bool | None, PerSample] = {}
    """from_logits -> the per-sample term."""

    def __init__(self, from_logits: bool | None = False, name: str | None = None) -> None:
        if from_logits is not None and not isinstance(from_logits, bool):
            raise TypeError(f"from_logits must be True, False or None, got {from_logits!r}")
        super().__init__(name or self.keras_name, self._forms[from_logits])
        self.from_logits = from_logits
        self._origin: _Crossentropy | None = None  # the loss that follows the output
        self._followers: dict[bool, _Crossentropy] = {}  # its reading of each kind of output

    def __repr__(self) -> str:
        reads = (
            "the model's output"
            if self.from_logits is None
            else ("logits" if self.from_logits else "probabilities")
        )
        return f"<Loss {self.name} (reads {reads})>"

    def for_output(self, activation: str) -> Loss:
        probabilities = activation in ("sigmoid", "softmax")
        origin = self._origin or self
        if origin.from_logits is None:  # one loss object per reading, so replays are reused
            if probabilities not in origin._followers:
                follower = copy.copy(origin)
                follower.from_logits = not probabilities
                follower._origin, follower._followers = origin, {}
                origin._followers[probabilities] = follower
            return origin._followers[probabilities]
        if self.from_logits and probabilities:
            warnings.warn(
                f"{self.name} received from_logits=True, but the model's output is a "
                f"{activation} activation, so it gives probabilities, not logits. Was this "
                f'intended? (loss="{self.keras_name}" follows the output)',
                UserWarning,
                stacklevel=2,
            )
        elif not self.from_logits and not probabilities:
            warnings.warn(
                f"{self.name} received from_logits=False, but the model's output is "
                f"{activation}, not a sigmoid or softmax, so it gives logits, not probabilities. "
                f'Was this intended? (loss="{self.keras_name}" follows the output)',
                UserWarning,
                stacklevel=2,
            )
        return self


class BinaryCrossentropy(_Crossentropy):
    """Keras' ``BinaryCrossentropy(from_logits=False)``: targets in [0, 1] (0/1 labels or
    probabilities), one column per independent output. Predicted label: 1 where the output
    exceeds 0.5 when it is read as a probability, 0 when read as a logit."""

    keras_name = "binary_crossentropy"
    expects = "targets in [0, 1] (0/1 labels or probabilities)"
    _forms = {True: _logistic, False: _binary_log_loss, None: _binary_following}

    @property
    def output_threshold(self) -> float:
        """The output above which the predicted label is 1 (a logit 0 is a probability 0.5;
        a loss that follows the output and does not know it yet reads logits)."""
        return 0.5 if self.from_logits is False else 0.0

    def _check_values(self, y: np.ndarray) -> np.ndarray:
        bad = (y < 0) | (y > 1)
        if bad.any():
            raise ValueError(f"{self.name} expects {self.expects}; got {_first_bad(y, bad)}")
        return y

    def to_labels(self, outputs: np.ndarray) -> np.ndarray:
        return _threshold_labels(np.asarray(outputs, dtype=float), self.output_threshold, 0)

    def target_labels(self, prepared: np.ndarray) -> np.ndarray:
        return _threshold_labels(np.asarray(prepared, dtype=float), 0.5, 0)


class CategoricalCrossentropy(_Crossentropy):
    """Keras' ``CategoricalCrossentropy(from_logits=False)``: one-hot (or probability) rows
    over k >= 2 classes; predicted label: the argmax (the same for logits and probabilities)."""

    keras_name = "categorical_crossentropy"
    expects = "one-hot rows (non-negative, summing to 1) with one column per class"
    _forms = {
        True: _softmax_crossentropy,
        False: _categorical_log_loss,
        None: _categorical_following,
    }

    def _shaped(self, y: np.ndarray, n_outputs: int) -> np.ndarray:
        self._check_classes(n_outputs)
        if y.ndim == 1:
            raise ValueError(
                f"{self.name} expects {self.expects}, got a 1-D array of labels; "
                "use sparse_categorical_crossentropy for integer class labels"
            )
        return super()._shaped(y, n_outputs)

    def _check_classes(self, n_outputs: int) -> None:
        if n_outputs < 2:
            raise ValueError(
                f"{self.name} needs a model with one output per class (at least 2), "
                f"got {n_outputs} output"
            )

    def _check_values(self, y: np.ndarray) -> np.ndarray:
        bad_rows = (y < 0).any(axis=1) | ~np.isclose(y.sum(axis=1), 1.0, rtol=0.0, atol=1e-6)
        if bad_rows.any():
            row = int(np.argmax(bad_rows))
            raise ValueError(f"{self.name} expects {self.expects}; got {y[row]} (row {row})")
        return y

    def to_labels(self, outputs: np.ndarray) -> np.ndarray:
        return np.argmax(np.asarray(outputs, dtype=float), axis=1)


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Keras' ``SparseCategoricalCrossentropy(from_logits=False)``: integer class labels
    0..k-1 (shape (n,) or (n, 1)), converted to one-hot rows."""

    keras_name = "sparse_categorical_crossentropy"
    expects = "integer class labels 0 .. n_classes-1 (one per sample)"

    def _shaped(self, y: np.ndarray, n_outputs: int) -> np.ndarray:
        self._check_classes(n_outputs)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(
                f"{self.name} expects {self.expects}, shape (n,) or (n, 1); got shape {y.shape}"
            )
        bad = (y != np.round(y)) | (y < 0) | (y >= n_outputs)
        if bad.any():
            raise ValueError(
                f"{self.name} expects integer class labels 0 .. {n_outputs - 1} for a model "
                f"with {n_outputs} outputs; got {_first_bad(y, bad)}"
            )
        return np.eye(n_outputs)[y.astype(int)]


squared_error = Loss("squared_error", _half_squared_error, reduction="sum")
mse = Loss("mse", _mean_squared_error)
mae = Loss("mae", _mean_absolute_error)
hinge = _HingeLoss("hinge", _hinge)
binary_crossentropy = BinaryCrossentropy(from_logits=None)
binary_crossentropy_from_probabilities = BinaryCrossentropy(
    from_logits=False, name="binary_crossentropy_from_probabilities"
)
categorical_crossentropy = CategoricalCrossentropy(from_logits=None)
sparse_categorical_crossentropy = SparseCategoricalCrossentropy(from_logits=None)

LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        squared_error,
        mse,
        mae,
        hinge,
        binary_crossentropy,
        binary_crossentropy_from_probabilities,
        categorical_crossentropy,
        sparse_categorical_crossentropy,
    )
}
"""The losses known by name (``get_loss`` also takes the aliases in ``ALIASES``)."""

ALIASES = {
    "mean_squared_error": "mse",
    "mean_absolute_error": "mae",
    "sum_squared_error": "squared_error",
}


def get_loss(name_or_loss: str | Loss) -> Loss:
    """A Loss from its name, in any case (or a Keras alias such as "mean_squared_error");
    a Loss is returned as is."""
    if isinstance(name_or_loss, Loss):
        return name_or_loss
    if not isinstance(name_or_loss, str):
        raise TypeError(f"a loss is a name or a Loss, got {type(name_or_loss).__name__}")
    return lookup(name_or_loss, LOSSES, "loss", ALIASES)


def l2_penalty(params: Iterable[Value], alpha: float) -> Value:
    """alpha * Σ_p p², one ``linear`` node Σ p·p (derivative 2 alpha p per parameter)."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
        raise TypeError(f"l2_penalty: alpha must be a real number, got {alpha!r}")
    if not 0 <= alpha < math.inf:
        raise ValueError(f"l2_penalty: alpha must be a finite number >= 0, got {alpha!r}")
    params = list(params)
    for i, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"l2_penalty: params[{i}] must be a Value, got {type(p).__name__}")
    return float(alpha) * _dot(params, params)
