"""Keras-style training: ``compile``, ``fit``, ``evaluate``, ``predict``, ``train_on_batch``.

These functions take the model first; every :class:`~micrograd_like.nn.Module` also has
them as methods (``model.fit(X, y)``). ``fit`` is the lecture's SGD algorithm: each epoch
shuffles the data and, for each minibatch, runs the forward pass of every sample, the loss
J, the backward pass and one optimizer step (``w -= lr * dJ/dw`` for plain SGD).

- ``batch_size=None``: batch mode, one step per epoch on the whole set;
  ``batch_size=k``: minibatches of k samples (the last one may be smaller), so
  ceil(n / k) steps per epoch; ``batch_size=1``: pure stochastic gradient descent.
- The objective of a batch is the compiled loss (reduced by its ``reduction``: the mean,
  or the sum for ``squared_error``) plus, with ``compile(..., l2=alpha)``, the penalty
  ``alpha * sum(p^2)`` over all parameters (micrograd's demo uses hinge + 1e-4 L2).
- An epoch's logged ``loss`` is the mean of its batch objectives weighted by batch size
  (so for a mean loss it is the mean over the epoch's samples, as Keras reports it); for a
  sum loss (``squared_error``) it is the sum of the batch objectives, i.e. the sum over
  the data (plus the l2 penalty once per batch). Metrics are means over the epoch's
  samples, computed from the outputs each batch had when it was trained on. The ``val_``
  entries are computed on the validation data after the epoch's last step.
- A NaN or infinite loss stops training with a RuntimeWarning; the step that would
  have used its gradients is not taken.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import operator
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import datasets, losses, optim
from . import tape as tape_module
from .callbacks import Callback, CallbackList, History, ProgbarLogger
from .engine import Value, no_grad
from .nn import Module

__all__ = [
    "METRICS",
    "Metric",
    "compile",
    "evaluate",
    "fit",
    "get_metric",
    "predict",
    "train_on_batch",
]


# ---------------------------------------------------------------- metrics


@dataclass(frozen=True)
class Metric:
    """A quantity logged during training: ``function(outputs, targets, loss) -> float``, the
    mean over a batch. ``outputs`` are the raw model outputs (n, k), ``targets`` the loss's
    prepared targets (n, k); the loss decides how outputs become class labels."""

    name: str
    function: Callable[[np.ndarray, np.ndarray, losses.Loss], float]

    def __call__(self, outputs: np.ndarray, targets: np.ndarray, loss: losses.Loss) -> float:
        return float(self.function(outputs, targets, loss))


def _accuracy(outputs: np.ndarray, targets: np.ndarray, loss: losses.Loss) -> float:
    """Fraction of samples whose predicted class equals the true class."""
    return np.mean(loss.to_labels(outputs) == loss.target_labels(targets))


METRICS = {
    "accuracy": Metric("accuracy", _accuracy),
    "mse": Metric("mse", lambda outputs, targets, loss: np.mean((outputs - targets) ** 2)),
    "mae": Metric("mae", lambda outputs, targets, loss: np.mean(np.abs(outputs - targets))),
}
"""The metrics known by name (Keras' aliases in _METRIC_ALIASES are accepted too)."""

_METRIC_ALIASES = {
    "acc": "accuracy",
    "mean_squared_error": "mse",
    "mean_absolute_error": "mae",
}


def get_metric(metric: str | Metric | Callable) -> Metric:
    """A Metric from its name, or from a function ``f(y_true, y_pred) -> float`` on the
    prepared targets and the outputs (Keras' argument order), named after the function."""
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str):
        name = _METRIC_ALIASES.get(metric, metric)
        if name not in METRICS:
            known = sorted([*METRICS, *_METRIC_ALIASES])
            raise ValueError(f"unknown metric {metric!r}; known metrics: {', '.join(known)}")
        return METRICS[name]
    if callable(metric):
        name = getattr(metric, "__name__", type(metric).__name__)
        return Metric(name, lambda outputs, targets, loss: metric(targets, outputs))
    raise TypeError(f"a metric is a name or a function, got {type(metric).__name__}")


# ---------------------------------------------------------------- compile


def compile(
    model: Module,
    optimizer: str | optim.Optimizer,
    loss: str | losses.Loss,
    metrics: Sequence[str | Metric | Callable] | None = None,
    *,
    l2: float = 0.0,
) -> None:
    """Set ``model.optimizer`` (bound to the model's parameters), ``model.loss``,
    ``model.metrics`` and ``model.l2`` (the weight of the penalty l2 * sum(p^2))."""
    loss = losses.get_loss(loss)
    optimizer = optim.get_optimizer(optimizer)
    if isinstance(metrics, (str, Metric)) or callable(metrics):
        metrics = [metrics]
    metrics = [get_metric(m) for m in (metrics or [])]
    names = ["loss", *(m.name for m in metrics)]
    if len(set(names)) != len(names):
        raise ValueError(f"metric names must be distinct and not 'loss', got {names[1:]}")
    if isinstance(l2, bool) or not isinstance(l2, numbers.Real) or not 0 <= l2 < math.inf:
        raise ValueError(f"l2 must be a finite number >= 0, got {l2!r}")
    optimizer.bind(model.parameters())
    model.optimizer, model.loss, model.metrics, model.l2 = optimizer, loss, metrics, float(l2)


def _compiled(model: Module, action: str) -> tuple[optim.Optimizer, losses.Loss]:
    optimizer, loss = getattr(model, "optimizer", None), getattr(model, "loss", None)
    if optimizer is None or loss is None:
        raise ValueError(
            f"call model.compile(optimizer, loss) before {action}, e.g. "
            "model.compile('adam', 'binary_crossentropy', metrics=['accuracy'])"
        )
    return optimizer, loss


# ---------------------------------------------------------------- checking the data


def _check_inputs(model: Module, X: Any) -> np.ndarray:
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
    bad = np.argwhere(~np.isfinite(X))
    if len(bad):
        row, column = bad[0]
        raise ValueError(f"X contains {X[row, column]} at row {row}, column {column}")
    return X


def _check_targets(model: Module, loss: losses.Loss, y: Any, X: np.ndarray) -> np.ndarray:
    """The loss's prepared targets for ``y`` (n, outputs); the loss validates the labels."""
    try:
        y_array = np.asarray(y)
    except ValueError:
        raise ValueError(f"y must be an array of {len(X)} targets") from None
    if y_array.ndim == 0 or len(y_array) != len(X):
        n_targets = "a single value" if y_array.ndim == 0 else len(y_array)
        raise ValueError(f"X has {len(X)} samples but y has {n_targets}")
    return loss.prepare_targets(y, _n_outputs(model, X))


def _n_outputs(model: Module, X: np.ndarray) -> int:
    nout = getattr(model, "nout", None)
    if nout is None:  # a custom Module: ask it
        with no_grad():
            nout = len(_as_outputs(model(X[0].tolist())))
    return nout


def _as_outputs(out: Any) -> list[Value]:
    if type(out) is Value:
        return [out]
    if isinstance(out, (list, tuple)) and all(type(o) is Value for o in out):
        return list(out)
    raise TypeError(f"the model must return a Value or a list of Values, got {out!r}")


# ---------------------------------------------------------------- one batch


def _run_batch(
    model: Module,
    loss: losses.Loss | None,
    Xb: np.ndarray,
    targets: np.ndarray | None,
    *,
    train: bool,
    l2: float = 0.0,
) -> tuple[float, np.ndarray]:
    """Forward every sample of the batch; return ``(J, outputs)`` with outputs (n, k).

    With a loss, J = reduce_i loss(t_i, model(x_i)) + l2 * sum(p^2) (reduce = the loss's
    sum or mean over the batch), and with ``train=True`` every parameter's ``.grad`` is set
    to dJ/dp. Without a loss (predict), J is NaN. A loss that overflows is J = inf.

    Models with a static graph (``model.static_graph``) are replayed over the whole batch
    with numpy (see :mod:`micrograd_like.tape`); anything the replay cannot do, or a
    batch whose replay gives a non-finite number, runs sample by sample instead.
    """
    if getattr(model, "static_graph", False):
        replayed = _run_batch_replayed(model, loss, Xb, targets, train=train, l2=l2)
        if replayed is not None:
            return replayed
    return _run_batch_per_sample(model, loss, Xb, targets, train=train, l2=l2)


def _run_batch_per_sample(
    model: Module,
    loss: losses.Loss | None,
    Xb: np.ndarray,
    targets: np.ndarray | None,
    *,
    train: bool,
    l2: float = 0.0,
) -> tuple[float, np.ndarray]:
    """:func:`_run_batch` with one scalar graph per sample."""
    with contextlib.nullcontext() if train else no_grad():
        if loss is None:
            outputs = [_as_outputs(model(row)) for row in Xb.tolist()]
            return math.nan, np.array([[o.data for o in sample] for sample in outputs])
        try:
            outputs = [_as_outputs(model(row)) for row in Xb.tolist()]
            terms = [
                loss.per_sample(float(t[0]) if len(t) == 1 else t, sample)
                for t, sample in zip(targets, outputs)
            ]
        except OverflowError:  # the objective is infinite; its outputs may not exist
            return math.inf, np.full(targets.shape, math.nan)
        gathered = np.array([[o.data for o in sample] for sample in outputs])
        objective = sum(terms) if loss.reduction == "sum" else sum(terms) / len(terms)
        params = model.parameters() if (l2 or train) else []
        if l2:
            objective = objective + losses.l2_penalty(params, l2)
        if train:
            for p in params:
                p.grad = 0.0
            objective.backward()
    return objective.data, gathered


def _run_batch_replayed(
    model: Module,
    loss: losses.Loss | None,
    Xb: np.ndarray,
    targets: np.ndarray | None,
    *,
    train: bool,
    l2: float = 0.0,
) -> tuple[float, np.ndarray] | None:
    """:func:`_run_batch` by replaying one recorded graph over the batch; None when the
    replay does not apply or produced a non-finite number (the caller then runs the batch
    sample by sample, which gives the exact error or value)."""
    params, modules = model.parameters_and_modules()
    tape = _tape_for(model, loss, params, modules, Xb, targets)
    if tape is None:
        return None
    columns = [*Xb.T] if loss is None else [*Xb.T, *targets.T]
    results = tape.run(columns)
    if loss is None:
        outputs = np.column_stack(results)
        return (math.nan, outputs) if np.isfinite(outputs).all() else None
    per_sample, outputs = results[0], np.column_stack(results[1:])
    n = len(Xb)
    theta = tape.parameter_values
    objective = float(per_sample.sum() if loss.reduction == "sum" else per_sample.sum() / n)
    if l2:
        objective += l2 * float(theta @ theta)
    if not (math.isfinite(objective) and np.isfinite(outputs).all()):
        return None
    if train:
        weight = 1.0 if loss.reduction == "sum" else 1.0 / n
        gradient = tape.backward([np.full(n, weight)] + [None] * outputs.shape[1])
        if l2:
            gradient += 2.0 * l2 * theta
        if not np.isfinite(gradient).all():
            return None
        for p, g in zip(params, gradient.tolist()):
            p.grad = g
    return objective, outputs


def _tape_for(
    model: Module,
    loss: losses.Loss | None,
    params: list[Value],
    modules: list[Module],
    Xb: np.ndarray,
    targets: np.ndarray | None,
) -> tape_module.Tape | None:
    """The model's recorded graph for ``loss`` (None: outputs only), recorded on first use
    and again whenever the model's parameters, its modules or the number of input columns
    change; None if it cannot be recorded. (Keeping the modules themselves in the cache,
    not their ids, means a new module can never pass for a freed one.)"""
    cache = model.__dict__.setdefault("_tapes", {})
    n_features = Xb.shape[1]
    known = cache.get(loss)
    if (
        known is not None
        and known[2] == n_features
        and _same_objects(known[0], params)
        and _same_objects(known[1], modules)
    ):
        return known[3]

    def forward(leaves: list[Value]) -> list[Value]:
        outputs = _as_outputs(model(leaves[:n_features]))
        if loss is None:
            return outputs
        return [loss.per_sample(leaves[n_features:], outputs), *outputs]

    example = Xb[0].tolist() + ([] if loss is None else targets[0].tolist())
    try:
        recorded = tape_module.Tape.record(forward, params, example)
    except tape_module.TapeNotApplicable:
        recorded = None
    except (ArithmeticError, ValueError):  # not computable at this example: the
        return None  # per-sample path reports it; record again on the next batch
    cache[loss] = (params, modules, n_features, recorded)
    return recorded


def _same_objects(a: list, b: list) -> bool:
    return len(a) == len(b) and all(map(operator.is_, a, b))


class _EpochTotals:
    """Running loss and metrics over the batches seen so far in an epoch (see the module
    docstring for how they are aggregated)."""

    def __init__(self, loss: losses.Loss, metrics: list[Metric]) -> None:
        self.loss, self.metrics = loss, metrics
        self.samples = 0
        self.objective = 0.0
        self.metric_sums = dict.fromkeys((m.name for m in metrics), 0.0)

    def add(self, objective: float, outputs: np.ndarray, targets: np.ndarray) -> None:
        n = len(outputs)
        self.samples += n
        self.objective += objective if self.loss.reduction == "sum" else objective * n
        for metric in self.metrics:
            self.metric_sums[metric.name] += metric(outputs, targets, self.loss) * n

    def logs(self) -> dict[str, float]:
        scale = 1.0 if self.loss.reduction == "sum" else 1.0 / self.samples
        logs = {"loss": self.objective * scale}
        logs.update((name, s / self.samples) for name, s in self.metric_sums.items())
        return logs


def _evaluate_arrays(model: Module, X: np.ndarray, targets: np.ndarray) -> dict[str, float]:
    objective, outputs = _run_batch(model, model.loss, X, targets, train=False, l2=model.l2)
    logs = {"loss": objective}
    logs.update((m.name, m(outputs, targets, model.loss)) for m in model.metrics)
    return logs


def _warn_not_finite(objective: float, where: str, stacklevel: int) -> None:
    """Say that a step was skipped; ``stacklevel`` counts the frames up to the user's
    ``model.fit(...)`` or ``model.train_on_batch(...)`` line."""
    warnings.warn(
        f"the loss became {objective} {where} (a smaller learning rate usually helps)",
        RuntimeWarning,
        stacklevel=stacklevel,
    )


# ---------------------------------------------------------------- fit and friends


def fit(
    model: Module,
    X: Any,
    y: Any,
    *,
    epochs: int = 1,
    batch_size: int | None = 32,
    validation_split: float = 0.0,
    validation_data: tuple[Any, Any] | None = None,
    shuffle: bool = True,
    callbacks: Sequence[Callback] | None = None,
    verbose: int = 1,
    seed: int | None = None,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``(X, y)``; returns the History.

    ``validation_split`` holds out the last fraction of the rows (before any shuffling)
    and ``validation_data=(X_val, y_val)`` gives validation data explicitly; either adds
    ``val_loss`` and ``val_<metric>`` to the logs. ``seed`` fixes the shuffling, so
    the same seed and the same initial model give the same history. ``verbose``: 0 silent,
    1 a progress bar, 2 one line per epoch.
    """
    optimizer, loss = _compiled(model, "fit")
    epochs = _count(epochs, "epochs", minimum=0)
    if batch_size is not None:
        batch_size = _count(batch_size, "batch_size", minimum=1)
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
    X = _check_inputs(model, X)
    targets = _check_targets(model, loss, y, X)
    X, targets, validation = _split_validation(model, X, targets, validation_split, validation_data)
    steps = 1 if batch_size is None else math.ceil(len(X) / batch_size)
    history = History()
    extra = [] if verbose == 0 else [ProgbarLogger(verbose)]
    params = {"epochs": epochs, "steps": steps, "samples": len(X), "verbose": verbose}
    hooks = CallbackList([*(callbacks or []), history, *extra], model, params)
    rng = np.random.default_rng(seed)
    model.history = history
    model.stop_training = False
    logs: dict[str, float] = {}
    hooks.call("on_train_begin", logs)
    for epoch in range(epochs):
        hooks.call("on_epoch_begin", epoch, {})
        batches = datasets.iterate_minibatches(X, targets, batch_size, shuffle=shuffle, rng=rng)
        logs = _train_epoch(model, optimizer, loss, hooks, batches, epoch)
        if validation is not None:
            val_logs = _evaluate_arrays(model, *validation)
            logs.update((f"val_{name}", value) for name, value in val_logs.items())
        hooks.call("on_epoch_end", epoch, logs)
        if model.stop_training:
            break
    hooks.call("on_train_end", logs)
    return history


def _train_epoch(
    model: Module,
    optimizer: optim.Optimizer,
    loss: losses.Loss,
    hooks: CallbackList,
    batches: Iterable[tuple[np.ndarray, np.ndarray]],
    epoch: int,
) -> dict[str, float]:
    """One step per batch until the batches run out or training is stopped; returns the
    epoch's logs. A non-finite loss skips its step and stops training."""
    totals = _EpochTotals(loss, model.metrics)
    for batch, (Xb, Tb) in enumerate(batches):
        hooks.call("on_train_batch_begin", batch, {"size": len(Xb)})
        objective, outputs = _run_batch(model, loss, Xb, Tb, train=True, l2=model.l2)
        if math.isfinite(objective):
            optimizer.step()
        totals.add(objective, outputs, Tb)
        hooks.call("on_train_batch_end", batch, totals.logs())
        if not math.isfinite(objective) and not model.stop_training:  # no callback did it
            where = (
                f"in epoch {epoch + 1}, batch {batch}: its step was skipped and training stopped"
            )
            _warn_not_finite(objective, where, stacklevel=5)  # _train_epoch, fit, Module.fit
            model.stop_training = True
        if model.stop_training:
            break
    return totals.logs()


def _count(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{what} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _split_validation(
    model: Module,
    X: np.ndarray,
    targets: np.ndarray,
    validation_split: float,
    validation_data: tuple[Any, Any] | None,
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """(training X, training targets, validation (X, targets) or None)."""
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise ValueError("validation_data must be a pair (X_val, y_val)")
        X_val = _check_inputs(model, validation_data[0])
        return X, targets, (X_val, _check_targets(model, model.loss, validation_data[1], X_val))
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


def evaluate(model: Module, X: Any, y: Any) -> dict[str, float]:
    """``{"loss": ..., <metric>: ...}`` on the whole of ``(X, y)`` (loss as in ``fit``,
    including the l2 penalty), without changing the model."""
    _, loss = _compiled(model, "evaluate")
    X = _check_inputs(model, X)
    return _evaluate_arrays(model, X, _check_targets(model, loss, y, X))


def predict(model: Module, X: Any) -> np.ndarray:
    """The raw outputs for every row of ``X``: an array of shape (n, outputs)."""
    return _run_batch(model, None, _check_inputs(model, X), None, train=False)[1]


def train_on_batch(model: Module, X: Any, y: Any) -> float:
    """One optimizer step on the whole of ``(X, y)``; returns the batch's loss (computed
    before the step). A NaN or infinite loss skips the step, with a RuntimeWarning."""
    optimizer, loss = _compiled(model, "train_on_batch")
    X = _check_inputs(model, X)
    targets = _check_targets(model, loss, y, X)
    objective, _ = _run_batch(model, loss, X, targets, train=True, l2=model.l2)
    if math.isfinite(objective):
        optimizer.step()
    else:
        _warn_not_finite(objective, "in train_on_batch: the step was skipped", stacklevel=4)
    return objective
