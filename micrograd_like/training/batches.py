"""One batch through the model: the per-sample graphs, or the recorded replay.

:func:`run_batch` gives the batch's objective J and its outputs, and with ``train=True``
sets every parameter's ``.grad`` to dJ/dp. Models with a static graph are replayed over the
whole batch with numpy (:mod:`micrograd_like.tape`); anything the replay cannot do runs
sample by sample, one scalar graph each.
"""

from __future__ import annotations

import contextlib
import math
import operator
from typing import Any

import numpy as np

from .. import losses
from ..checks import same_objects
from ..engine import Value, no_grad
from ..optim import all_finite
from ..tape import Tape, TapeNotApplicable
from .inputs import as_outputs
from .state import ParameterArrays, TrainingState

__all__ = ["run_batch"]


def run_batch(
    model: Any,
    loss: losses.Loss | None,
    Xb: np.ndarray,
    targets: np.ndarray | None,
    *,
    train: bool,
    arrays: ParameterArrays,
    l2: float = 0.0,
) -> tuple[float, np.ndarray, np.ndarray | None]:
    """Forward every sample of the batch; return ``(J, outputs, gradient)``, outputs (n, k).

    With a loss, J = reduce_i loss(t_i, model(x_i)) + l2 * sum(p^2) (reduce = the loss's
    sum or mean over the batch), and with ``train=True`` and a finite J, ``gradient`` is
    dJ/dtheta in ``arrays.params`` order (else None). Without a loss (predict), J is NaN.
    A loss that overflows is J = inf. ``arrays`` holds the parameters' current values.

    Models with a static graph (``model.static_graph``) are replayed over the whole batch
    with numpy (see :mod:`micrograd_like.tape`); anything the replay cannot do, or a
    batch whose replay gives a non-finite number, runs sample by sample instead, on the
    Values (``arrays`` are stored first; the per-sample backward also sets every ``.grad``).
    """
    if getattr(model, "static_graph", False):
        replayed = _run_batch_replayed(model, loss, Xb, targets, train=train, l2=l2, arrays=arrays)
        if replayed is not None:
            return replayed
    arrays.store()
    params = arrays.params
    objective, outputs = _run_batch_per_sample(
        model, loss, Xb, targets, train=train, l2=l2, params=params
    )
    if not (train and math.isfinite(objective)):
        return objective, outputs, None
    return objective, outputs, np.fromiter(map(_grad, params), float, len(params))


_grad = operator.attrgetter("grad")


def _run_batch_per_sample(
    model: Any,
    loss: losses.Loss | None,
    Xb: np.ndarray,
    targets: np.ndarray | None,
    *,
    train: bool,
    l2: float = 0.0,
    params: list[Value] | None = None,
) -> tuple[float, np.ndarray]:
    """``(J, outputs)`` of :func:`run_batch` with one scalar graph per sample; with
    ``train=True`` every parameter's ``.grad`` is set to dJ/dp. ``params`` are the model's
    parameters (walked again when None)."""
    with contextlib.nullcontext() if train else no_grad():
        if loss is None:
            outputs = [as_outputs(model(row)) for row in Xb.tolist()]
            return math.nan, np.array([[o.data for o in sample] for sample in outputs])
        if targets is None:
            raise TypeError("a batch with a loss needs its targets")
        try:
            outputs = [as_outputs(model(row)) for row in Xb.tolist()]
            terms = [
                loss.per_sample(float(t[0]) if len(t) == 1 else t, sample)
                for t, sample in zip(targets, outputs)
            ]
        except OverflowError:  # the objective is infinite; its outputs may not exist
            return math.inf, np.full(targets.shape, math.nan)
        gathered = np.array([[o.data for o in sample] for sample in outputs])
        total = sum(terms)
        if not isinstance(total, Value):  # sum([]) is 0: a batch has samples
            raise ValueError("a batch with no samples has no objective")
        objective = total if loss.reduction == "sum" else total / len(terms)
        if l2 or train:
            params = model.parameters() if params is None else params
            if l2:
                objective = objective + losses.l2_penalty(params, l2)
            if train:
                for p in params:
                    p.grad = 0.0
                objective.backward()
    return objective.data, gathered


def _run_batch_replayed(
    model: Any,
    loss: losses.Loss | None,
    Xb: np.ndarray,
    targets: np.ndarray | None,
    *,
    train: bool,
    arrays: ParameterArrays,
    l2: float = 0.0,
) -> tuple[float, np.ndarray, np.ndarray | None] | None:
    """:func:`run_batch` by replaying one recorded graph over the batch; None when the
    replay does not apply or met a non-finite number anywhere, intermediate values included
    (the caller then runs the batch sample by sample, which gives the exact error or value)."""
    state = model._training_state()
    tape = _tape_for(state, model, loss, arrays.params, arrays.modules, Xb, targets)
    if tape is None:
        return None
    theta = arrays.data
    try:
        results = tape.run([Xb] if targets is None else [Xb, targets], theta)
    except FloatingPointError:  # a value on the way was not finite (see tape's doc)
        return None
    if loss is None:
        outputs = np.column_stack(results)
        return (math.nan, outputs, None) if np.isfinite(outputs).all() else None
    per_sample, outputs = results[0], np.column_stack(results[1:])
    n = len(Xb)
    objective = float(per_sample.sum() if loss.reduction == "sum" else per_sample.sum() / n)
    if l2:
        objective += l2 * float(theta @ theta)
    if not (math.isfinite(objective) and np.isfinite(outputs).all()):
        return None
    gradient = None
    if train:
        weight = 1.0 if loss.reduction == "sum" else 1.0 / n
        try:
            gradient = tape.backward([np.full(n, weight)] + [None] * outputs.shape[1])
        except FloatingPointError:
            return None
        if l2:  # the replay's own values are finite (FloatingPointError otherwise)
            gradient += 2.0 * l2 * theta
            if not all_finite(gradient):
                return None
    return objective, outputs, gradient


def _tape_for(
    state: TrainingState,
    model: Any,
    loss: losses.Loss | None,
    params: list[Value],
    modules: list[Any],
    Xb: np.ndarray,
    targets: np.ndarray | None,
) -> Tape | None:
    """The model's recorded graph for ``loss`` (None: outputs only), recorded on first use
    and again whenever the model's parameters, its modules or the number of input columns
    change; None if it cannot be recorded. (Keeping the modules themselves in the cache,
    not their ids, means a new module can never pass for a freed one.)"""
    cache = state.replays
    n_features = Xb.shape[1]
    known = cache.get(loss)
    if (
        known is not None
        and known[2] == n_features
        and same_objects(known[0], params)
        and same_objects(known[1], modules)
    ):
        return known[3]

    def forward(leaves: list[Value]) -> list[Value]:
        outputs = as_outputs(model(leaves[:n_features]))
        if loss is None:
            return outputs
        return [loss.per_sample(leaves[n_features:], outputs), *outputs]

    if loss is None:
        example = Xb[0].tolist()
    elif targets is None:
        raise TypeError("a batch with a loss needs its targets")
    else:
        example = Xb[0].tolist() + targets[0].tolist()
    try:
        recorded = Tape.record(forward, params, example)
    except TapeNotApplicable:
        recorded = None
    except (ArithmeticError, ValueError):  # not computable at this example: the
        return None  # per-sample path reports it; record again on the next batch
    cache[loss] = (params, modules, n_features, recorded)
    return recorded
