"""Keras-style training: ``compile``, ``fit``, ``evaluate``, ``predict``, ``train_on_batch``.

These functions take the model first; every :class:`~micrograd_like.nn.Module` has them
as methods (``model.fit(X, y)``), which is how they are meant to be called. The model is
anything callable with ``parameters()``; its training state is a :class:`TrainingState`.
``fit`` is the lecture's SGD algorithm: each epoch
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
  have used its gradients is not taken. So does a step the optimizer refuses because it
  would make a parameter or its state non-finite (``optim.StepOverflowError``): the last
  finite weights are kept, and the model can still be saved.
- A model whose number of inputs is not known yet (``Dense`` layers) is built from the
  first data it is given. An optimizer that ``compile`` bound follows the model's
  parameters: it is bound once the model is built, and bound again by ``fit`` when they
  changed (after ``add``, say; ``train_on_batch`` does not look, as that would cost a walk
  over the model per step: call ``fit`` or ``compile`` after changing a compiled model).
  One bound by the user keeps its own.
- The loss is read against the model's output (``Loss.for_output``): a crossentropy that
  follows it reads probabilities after a sigmoid or softmax, logits after a linear output,
  and so does the accuracy metric.
"""

from __future__ import annotations

import math
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from .. import activations, checks, datasets, losses, optim
from ..callbacks import Callback, CallbackList, History, ProgbarLogger, format_logs, on_terminal
from ..engine import enable_grad
from ..metrics import Metric, get_metric
from .batches import run_batch
from .inputs import as_outputs, check_inputs, check_targets, split_validation
from .state import ParameterArrays, TrainingState

__all__ = ["compile", "evaluate", "fit", "predict", "train_on_batch"]


def compile(
    model: Any,
    optimizer: str | optim.Optimizer,
    loss: str | losses.Loss,
    metrics: Sequence[str | Metric | Callable] | None = None,
    *,
    l2: float = 0.0,
) -> TrainingState:
    """The training state for ``model``: the optimizer, the loss, the metrics and ``l2``,
    the weight of the penalty l2 * sum(p^2). An unbound optimizer is bound to the model's
    parameters (now, or once the model is built); one already bound (PyTorch-style, e.g.
    to one layer's parameters) keeps them: only those train."""
    loss = losses.get_loss(loss)
    optimizer = optim.get_optimizer(optimizer)
    if isinstance(metrics, (str, Metric)) or callable(metrics):
        metrics = [metrics]
    compiled_metrics = [get_metric(m) for m in (metrics or [])]
    names = ["loss", *(m.name for m in compiled_metrics)]
    if len(set(names)) != len(names):
        raise ValueError(f"metric names must be distinct and not 'loss', got {names[1:]}")
    l2 = checks.nonnegative_number(l2, "l2")
    binds = not optimizer.params
    if binds:
        if getattr(model, "built", True):
            optimizer.bind(model.parameters())
    else:
        _check_own_parameters(model, optimizer)
    state = TrainingState(optimizer, loss, compiled_metrics, l2)
    state.binds_optimizer = binds
    return state


def _check_own_parameters(model: Any, optimizer: optim.Optimizer) -> None:
    """A bound optimizer must update parameters of this model, never another's."""
    own = set(model.parameters())
    foreign = sum(p not in own for p in optimizer.params)
    if foreign:
        raise ValueError(
            f"the optimizer is bound to {foreign} parameter(s) that are not this model's; "
            "create it with this model's parameters (all, or a part such as one layer's), or "
            "unbound (e.g. SGD(lr=0.1)) for compile to bind it to all of them"
        )


def _compiled(model: Any, action: str) -> TrainingState:
    state = model._training_state()
    if state.optimizer is None or state.loss is None:
        raise ValueError(
            f"call model.compile(optimizer, loss) before {action}, e.g. "
            "model.compile('adam', 'binary_crossentropy', metrics=['accuracy'])"
        )
    return state


def _built(model: Any, X: np.ndarray) -> None:
    """Build a model whose number of inputs was unknown from the width of ``X``."""
    if not getattr(model, "built", True):
        model.build(X.shape[1])


def _prepared(model: Any, action: str, X: np.ndarray, *, follow: bool = False) -> TrainingState:
    """The compiled state, ready for ``X``: the model built, an optimizer that compile
    bound bound to the model's parameters (``follow``: bound again if they changed), and
    the loss read against the model's output."""
    state = _compiled(model, action)
    _built(model, X)
    optimizer = _optimizer(state)
    if state.binds_optimizer and (follow or not optimizer.params):
        params = model.parameters()
        if not checks.same_objects(optimizer.params, params):
            optimizer.bind(params)
    if state.output_activation is None:
        state.output_activation = _output_activation(model, X)
        if state.output_activation is not None:
            state.loss = _loss(state).for_output(state.output_activation)
    return state


def _output_activation(model: Any, X: np.ndarray) -> str | None:
    """What the model's outputs are, read from the graph of its first sample (whatever the
    model's class, see :func:`micrograd_like.activations.output_activation`); None when
    that sample cannot be computed (the batch reports it; the next call reads again)."""
    try:
        with enable_grad():
            return activations.output_activation(as_outputs(model(X[0].tolist())))
    except (ArithmeticError, ValueError):
        return None


def _verbosity(verbose: object) -> int:
    """0, 1 or 2 from Keras' ``verbose`` ("auto" is 1)."""
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
    return int(verbose)


def _required(x: Any, name: str, action: str) -> Any:
    if x is None:
        raise ValueError(f"{action} needs {name} (the {'inputs' if name == 'x' else 'targets'})")
    return x


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


def _evaluate_arrays(
    model: Any, state: TrainingState, X: np.ndarray, targets: np.ndarray
) -> dict[str, float]:
    """The loss and metrics on ``(X, targets)`` with the parameters in ``state.arrays``."""
    objective, outputs, _ = run_batch(
        model, state.loss, X, targets, train=False, arrays=state.arrays, l2=state.l2
    )
    logs = {"loss": objective}
    loss = _loss(state)
    logs.update((m.name, m(outputs, targets, loss)) for m in state.metrics)
    return logs


def _apply_gradient(state: TrainingState, gradient: np.ndarray) -> optim.StepOverflowError | None:
    """One optimizer step on ``state.arrays`` (``optimizer.update``, no Value touched); or
    on the Values through ``optimizer.step()`` when the optimizer overrides ``step`` (its
    own code then runs, as it expects) or is bound to other parameters than the model's
    (a part of them, say). Returns the error if the optimizer refused a step that was not
    finite (nothing changed, all or nothing)."""
    arrays, optimizer = state.arrays, _optimizer(state)
    try:
        if optimizer.params is arrays.params and type(optimizer).step is optim.Optimizer.step:
            arrays.update(optimizer.update(arrays.data, gradient), gradient)
            return None
        arrays.update(arrays.data, gradient)
        arrays.store()
        try:
            optimizer.step()
        finally:
            arrays.invalidate()
    except optim.StepOverflowError as exc:
        return exc
    return None


class _Observed:
    """Calls the callbacks' hooks where they can see the parameters: the arrays are written
    to the Values before each hook and read again after it (a hook may change them). Batch
    hooks get this only when some callback needs it (``CallbackList.batch_hooks_see_
    parameters``); otherwise the parameters stay in the arrays from one batch to the next."""

    def __init__(self, hooks: CallbackList, arrays: ParameterArrays) -> None:
        self.hooks, self.arrays = hooks, arrays
        self.batches_seen = hooks.batch_hooks_see_parameters

    def call(self, hook: str, *args: Any) -> None:
        self.arrays.store()
        self.hooks.call(hook, *args)
        self.arrays.invalidate()

    def batch(self, hook: str, *args: Any) -> None:
        if self.batches_seen:
            self.call(hook, *args)
        else:
            self.hooks.call(hook, *args)


def _warn_not_finite(objective: float, where: str, stacklevel: int) -> None:
    """Say that a step was skipped; ``stacklevel`` counts the frames up to the user's
    ``model.fit(...)`` or ``model.train_on_batch(...)`` line."""
    warnings.warn(
        f"the loss became {objective} {where} (a smaller learning rate usually helps)",
        RuntimeWarning,
        stacklevel=stacklevel,
    )


def _warn_refused_step(where: str, error: Exception, outcome: str, stacklevel: int) -> None:
    """Say that the optimizer refused a step (``stacklevel`` as in _warn_not_finite)."""
    warnings.warn(
        f"{where}: {error}; {outcome} (a smaller learning rate usually helps)",
        RuntimeWarning,
        stacklevel=stacklevel,
    )


def fit(
    model: Any,
    x: Any = None,
    y: Any = None,
    *,
    epochs: int = 1,
    batch_size: int | None = 32,
    validation_split: float = 0.0,
    validation_data: tuple[Any, Any] | None = None,
    shuffle: bool = True,
    callbacks: Sequence[Callback] | None = None,
    verbose: int | str = "auto",
    seed: int | None = None,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``(x, y)``; returns the History.

    ``validation_split`` holds out the last fraction of the rows (before any shuffling)
    and ``validation_data=(X_val, y_val)`` gives validation data explicitly; either adds
    ``val_loss`` and ``val_<metric>`` to the logs. ``seed`` fixes the shuffling, so
    the same seed and the same initial model give the same history. ``verbose``: 0 silent;
    1 or "auto" a progress bar per epoch on a terminal and one line per epoch otherwise
    (in a log or a notebook); 2 one line per epoch.
    """
    _compiled(model, "fit")
    epochs = checks.count(epochs, "epochs", minimum=0)
    if batch_size is not None:
        batch_size = checks.count(batch_size, "batch_size")
    verbose = _verbosity(verbose)
    if seed is not None:
        seed = checks.seed(seed)
    X = check_inputs(model, _required(x, "x", "fit"))
    state = _prepared(model, "fit", X, follow=True)
    loss = _loss(state)
    targets = check_targets(model, loss, _required(y, "y", "fit"), X)
    X, targets, validation = split_validation(
        model, loss, X, targets, validation_split, validation_data
    )
    steps = 1 if batch_size is None else math.ceil(len(X) / batch_size)
    history = History()
    extra = [] if verbose == 0 else [ProgbarLogger(verbose)]
    params = {"epochs": epochs, "steps": steps, "samples": len(X), "verbose": verbose}
    hooks = CallbackList([*(callbacks or []), history, *extra], model, params)
    rng = np.random.default_rng(seed)
    state.history = history
    state.stop_training = False
    observed = _Observed(hooks, state.arrays)
    logs: dict[str, float] = {}
    try:
        observed.call("on_train_begin", logs)
        for epoch in range(epochs):
            observed.call("on_epoch_begin", epoch, {})
            batches = datasets.iterate_minibatches(X, targets, batch_size, shuffle=shuffle, rng=rng)
            logs = _train_epoch(model, state, observed, batches, epoch)
            if validation is not None:
                _current(model, state)
                val_logs = _evaluate_arrays(model, state, *validation)
                logs.update((f"val_{name}", value) for name, value in val_logs.items())
            observed.call("on_epoch_end", epoch, logs)
            if state.stop_training:
                break
    except BaseException:  # an error or Ctrl-C: the Values get the last step, the progress
        state.arrays.store()  # bar's line is ended, and open files (TensorBoard's event
        for progress in extra:  # writers, whose threads would block the exit) are closed
            progress.on_train_end()
        for callback in hooks.callbacks:
            close = getattr(callback, "close", None)
            if callable(close):
                close()
        raise
    observed.call("on_train_end", logs)
    return history


def _optimizer(state: TrainingState) -> optim.Optimizer:
    """The compiled optimizer (``_compiled`` has refused a state without one)."""
    assert state.optimizer is not None
    return state.optimizer


def _loss(state: TrainingState) -> losses.Loss:
    """The compiled loss (``_compiled`` has refused a state without one)."""
    assert state.loss is not None
    return state.loss


def _current(model: Any, state: TrainingState) -> None:
    """Make ``state.arrays`` hold the parameters' current values (read them again if a
    hook may have changed them)."""
    state.arrays.refresh(model, _optimizer(state).params)


def _train_epoch(
    model: Any,
    state: TrainingState,
    hooks: _Observed,
    batches: Iterable[tuple[np.ndarray, np.ndarray]],
    epoch: int,
) -> dict[str, float]:
    """One step per batch until the batches run out or training is stopped; returns the
    epoch's logs. A non-finite loss skips its step and stops training."""
    loss = _loss(state)
    totals = _EpochTotals(loss, state.metrics)
    for batch, (Xb, Tb) in enumerate(batches):
        hooks.batch("on_train_batch_begin", batch, {"size": len(Xb)})
        _current(model, state)
        objective, outputs, gradient = run_batch(
            model, loss, Xb, Tb, train=True, arrays=state.arrays, l2=state.l2
        )
        refused = None
        if math.isfinite(objective) and gradient is not None:  # a gradient comes with it
            refused = _apply_gradient(state, gradient)
        totals.add(objective, outputs, Tb)
        hooks.batch("on_train_batch_end", batch, totals.logs())
        if refused is not None:
            outcome = "training stopped with the last finite weights"
            _warn_refused_step(f"in epoch {epoch + 1}, batch {batch}", refused, outcome, 5)
            state.stop_training = True
        elif not math.isfinite(objective) and not state.stop_training:  # no callback did it
            where = (
                f"in epoch {epoch + 1}, batch {batch}: its step was skipped and training stopped"
            )
            _warn_not_finite(objective, where, stacklevel=5)  # _train_epoch, fit, Module.fit
            state.stop_training = True
        if state.stop_training:
            break
    return totals.logs()


def evaluate(
    model: Any,
    x: Any = None,
    y: Any = None,
    *,
    verbose: int | str = "auto",
    return_dict: bool = False,
) -> float | list[float] | dict[str, float]:
    """The loss on the whole of ``(x, y)`` (as in ``fit``, including the l2 penalty), without
    changing the model, as Keras returns it: a float without metrics, else the list
    ``[loss, *metrics]`` in compile's order; ``return_dict=True`` gives ``{"loss": ...,
    <metric>: ...}``. ``verbose`` 1, 2 or "auto" also prints them on one line."""
    _compiled(model, "evaluate")
    verbose = _verbosity(verbose)
    return_dict = checks.flag(return_dict, "return_dict")
    X = check_inputs(model, _required(x, "x", "evaluate"))
    state = _prepared(model, "evaluate", X)
    targets = check_targets(model, _loss(state), _required(y, "y", "evaluate"), X)
    state.arrays.load(model, _optimizer(state).params)
    logs = _evaluate_arrays(model, state, X, targets)
    if verbose:
        print(" - ".join(format_logs(logs)), flush=True)
    if return_dict:
        return logs
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def predict(
    model: Any, x: Any, *, batch_size: int | None = None, verbose: int | str = "auto"
) -> np.ndarray:
    """The raw outputs for every row of ``x``: an array of shape (n, outputs), computed
    ``batch_size`` rows at a time (all at once for None). ``verbose`` 1, 2 or "auto" shows a
    progress bar over the batches on a terminal (and nothing in a log or a notebook)."""
    verbose = _verbosity(verbose)
    if batch_size is not None:
        batch_size = checks.count(batch_size, "batch_size")
    X = check_inputs(model, x)
    _built(model, X)
    arrays = model._training_state().arrays
    arrays.load(model)
    starts = range(0, len(X), batch_size or len(X))
    bar = None
    if verbose and len(starts) > 1 and on_terminal(sys.stderr):
        from tqdm import tqdm

        bar = tqdm(total=len(starts), unit="batch", desc="predict", file=sys.stderr)
    outputs = []
    try:
        for start in starts:
            Xb = X[start : start + batch_size] if batch_size else X
            outputs.append(run_batch(model, None, Xb, None, train=False, arrays=arrays)[1])
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return np.concatenate(outputs)


def train_on_batch(model: Any, x: Any, y: Any) -> float:
    """One optimizer step on the whole of ``(x, y)``; returns the batch's loss (computed
    before the step). A NaN or infinite loss skips the step, with a RuntimeWarning, and so
    does a step the optimizer refuses (StepOverflowError).

    The parameters are read from the Values at every call (so a change made by hand
    between two calls is seen) and written back, with their gradient, before it returns."""
    _compiled(model, "train_on_batch")
    X = check_inputs(model, x)
    state = _prepared(model, "train_on_batch", X)
    targets = check_targets(model, _loss(state), y, X)
    state.arrays.load(model, _optimizer(state).params)
    try:
        objective, _, gradient = run_batch(
            model, state.loss, X, targets, train=True, arrays=state.arrays, l2=state.l2
        )
        if not math.isfinite(objective):
            _warn_not_finite(objective, "in train_on_batch: the step was skipped", stacklevel=4)
        elif gradient is not None and (refused := _apply_gradient(state, gradient)) is not None:
            _warn_refused_step("in train_on_batch", refused, "the weights are unchanged", 4)
    finally:
        state.arrays.store()
    return objective
