"""Optimizers (SGD, Adam) with PyTorch's update rules, and learning-rate schedules.

Two ways to use an optimizer:

- PyTorch style: ``opt = SGD(model.parameters(), lr=0.1)``, then for every batch
  ``opt.zero_grad(); loss.backward(); opt.step()``;
- Keras style: ``model.compile(SGD(lr=0.1), "mse")`` with an unbound optimizer, which
  ``compile`` binds to the model's parameters (``opt.bind(params)``). Keras' spellings work
  too: ``SGD(learning_rate=0.1)``, ``SGD(0.1)``, ``opt.learning_rate``.

With g = dL/dp of each parameter p, one ``step()`` of

- SGD: g += weight_decay * p; with momentum mu: b = g at the first step, then
  b = mu * b + g; g = g + mu * b (nesterov) or g = b; finally p -= lr * g;
- Adam (t = 1, 2, ...): g += weight_decay * p (L2, not AdamW); m = b1 m + (1 - b1) g;
  v = b2 v + (1 - b2) g²; p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
  It keeps r = sqrt(v), updated as r = hypot(sqrt(b2) r, sqrt(1 - b2) g), which scales
  before squaring: a gradient above 1e154, whose square overflows, leaves r finite.

A step is all or nothing: the new parameters and the new optimizer state are computed in
arrays first and written only when all are finite; otherwise :class:`StepOverflowError`
and nothing changes (``fit`` then stops training with a warning, keeping the last finite
weights).

A schedule is a callable ``schedule(epoch) -> lr`` (epochs from 0). Use it with
``callbacks.LearningRateScheduler(schedule)`` in ``fit``, or PyTorch style with
``LRScheduler(optimizer, schedule)`` and one ``scheduler.step()`` per epoch.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .checks import count, lookup, nonnegative_number, positive_number
from .engine import Value

__all__ = [
    "OPTIMIZERS",
    "Adam",
    "CosineDecay",
    "ExponentialDecay",
    "LRScheduler",
    "LinearDecay",
    "Optimizer",
    "SGD",
    "StepDecay",
    "StepOverflowError",
    "all_finite",
    "get_optimizer",
]


# ---------------------------------------------------------------- optimizers

_data, _grad = operator.attrgetter("data"), operator.attrgetter("grad")


class StepOverflowError(OverflowError):
    """A step would have made a parameter or the optimizer's state inf or nan (too large a
    learning rate or gradient); no parameter and no state was changed."""


class Optimizer:
    """Updates a list of parameters (Values) from their ``.grad``.

    ``params=None`` leaves the optimizer unbound until ``bind(params)`` (which
    ``model.compile`` calls); a number in its place is the learning rate, as Keras'
    ``SGD(0.1)``. ``learning_rate=`` is Keras' name for ``lr=``. Subclasses implement
    ``_reset_state()`` and ``_update(data, grads)`` on numpy arrays, which returns the new
    parameter values, or ``(values, state)`` where ``state`` maps attribute names to their
    new values (the optimizer's state after the step); it must not change anything itself.
    """

    default_lr = 0.01

    def __init__(
        self,
        params: Iterable[Value] | float | None = None,
        lr: float | None = None,
        learning_rate: float | None = None,
    ) -> None:
        if isinstance(params, numbers.Real) and not isinstance(params, bool):
            params, learning_rate = None, _only_one(params, learning_rate, "the first argument")
        given = _only_one(lr, learning_rate, "lr")
        self.lr = self.default_lr if given is None else given
        self.params: list[Value] = []
        if params is not None:
            self.bind(params)  # type: ignore[arg-type]

    @property
    def lr(self) -> float:
        """The learning rate (schedules set it between steps)."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = nonnegative_number(value, f"{type(self).__name__}: lr")

    learning_rate = lr
    """Keras' name for ``lr``."""

    def bind(self, params: Iterable[Value]) -> Optimizer:
        """Optimize ``params`` from now on (forgetting any momentum or moments); returns self."""
        name = type(self).__name__
        if isinstance(params, Value) or not isinstance(params, Iterable):
            raise TypeError(
                f"{name}: params must be an iterable of Values such as model.parameters(), "
                f"got {type(params).__name__}"
            )
        params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Value):
                raise TypeError(f"{name}: params[{i}] must be a Value, got {type(p).__name__}")
        if not params:
            raise ValueError(f"{name}: got an empty list of parameters")
        if len(set(params)) != len(params):
            raise ValueError(f"{name}: a parameter appears more than once in params")
        self.params = params
        self._reset_state()
        return self

    def _bound_params(self, action: str) -> list[Value]:
        if not self.params:
            name = type(self).__name__
            raise ValueError(
                f"{name}.{action}(): the optimizer has no parameters; create it with them, "
                f"{name}(model.parameters(), ...), call .bind(params), or pass it to "
                "model.compile(optimizer, loss)"
            )
        return self.params

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0."""
        for p in self._bound_params("zero_grad"):
            p.grad = 0.0

    def step(self) -> None:
        """One update of every parameter from its ``.grad``, all or nothing: a non-finite
        gradient is a ValueError, a step that would make a parameter or the optimizer's
        state non-finite a :class:`StepOverflowError`; either way nothing is changed."""
        params = self._bound_params("step")
        data = np.fromiter(map(_data, params), float, len(params))
        grads = np.fromiter(map(_grad, params), float, len(params))
        for p, value in zip(params, self._checked_update(data, grads).tolist()):
            p.data = value

    def update(self, data: np.ndarray, grads: np.ndarray) -> np.ndarray:
        """``step()`` on arrays: the parameters' new values from their values ``data`` and
        gradients ``grads`` (vectors in ``params`` order), advancing the optimizer's state
        (momentum, moments) as ``step()`` does; no Value is read or written. ``fit`` and
        ``train_on_batch`` keep the parameters in arrays and update them this way. All or
        nothing, as ``step()``: ValueError or :class:`StepOverflowError` (their messages say
        ``step()``, the step it takes), nothing changed."""
        return self._checked_update(data, grads)

    def _checked_update(self, data: np.ndarray, grads: np.ndarray) -> np.ndarray:
        """The new values of ``data``, and the optimizer's state committed, or an error and
        nothing changed (see ``step``). Finiteness is checked with one sum per array, and
        element by element only to say which one failed."""
        name = type(self).__name__
        n = len(self._bound_params("step"))
        if data.shape != (n,) or grads.shape != (n,):
            raise ValueError(
                f"{name}.step(): expected data and grads of shape ({n},), got "
                f"{data.shape} and {grads.shape}"
            )
        if not all_finite(grads):
            bad = np.flatnonzero(~np.isfinite(grads))
            raise ValueError(
                f"{name}.step(): the gradient of parameter {bad[0]} is "
                f"{grads[bad[0]]}; no parameter was changed"
            )
        with np.errstate(all="ignore"):  # overflows are refused below, not warned about
            result = self._update(data, grads)
        new, state = result if isinstance(result, tuple) else (result, {})
        new = np.asarray(new, dtype=float)
        if not all_finite(new):
            i = np.flatnonzero(~np.isfinite(new))[0]
            raise StepOverflowError(
                f"{name}.step(): the update would make parameter {i} {float(new[i])} (from "
                f"{float(data[i])!r} with gradient {float(grads[i])!r} and lr {self.lr!r}); "
                "no parameter or state was changed"
            )
        for attribute, value in state.items():
            if not all_finite(np.asarray(value, dtype=float)):
                raise StepOverflowError(
                    f"{name}.step(): the update would make the optimizer's state "
                    f"{attribute} non-finite (lr {self.lr!r}, largest |gradient| "
                    f"{float(np.abs(grads).max())!r}); no parameter or state was changed"
                )
        for attribute, value in state.items():
            setattr(self, attribute, value)
        return new

    def _reset_state(self) -> None:
        """Forget the per-parameter state (called by ``bind``)."""

    def _update(
        self, data: np.ndarray, grads: np.ndarray
    ) -> np.ndarray | tuple[np.ndarray, dict[str, Any]]:
        """The new parameter values (and optimizer state) from the current values and their
        gradients, computed without changing anything."""
        raise NotImplementedError(f"{type(self).__name__} must implement _update")


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight
    decay, as ``torch.optim.SGD`` (dampening 0): see the module docstring."""

    def __init__(
        self,
        params: Iterable[Value] | float | None = None,
        lr: float | None = None,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        *,
        learning_rate: float | None = None,
    ) -> None:
        self.momentum = nonnegative_number(momentum, "SGD: momentum")
        self.weight_decay = nonnegative_number(weight_decay, "SGD: weight_decay")
        if not isinstance(nesterov, bool):
            raise TypeError(f"SGD: nesterov must be True or False, got {nesterov!r}")
        if nesterov and self.momentum == 0:
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0")
        self.nesterov = nesterov
        super().__init__(params, lr, learning_rate)

    def __repr__(self) -> str:
        return (
            f"SGD(lr={self.lr}, momentum={self.momentum}, nesterov={self.nesterov}, "
            f"weight_decay={self.weight_decay})"
        )

    def _reset_state(self) -> None:
        self._buffer: np.ndarray | None = None

    def _update(self, data: np.ndarray, grads: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        g = grads + self.weight_decay * data if self.weight_decay else grads
        if not self.momentum:
            return data - self.lr * g, {}
        b = g.copy() if self._buffer is None else self.momentum * self._buffer + g
        g = g + self.momentum * b if self.nesterov else b
        return data - self.lr * g, {"_buffer": b}


class Adam(Optimizer):
    """Adam with bias correction and L2 weight decay added to the gradient, as
    ``torch.optim.Adam`` (not AdamW): see the module docstring."""

    default_lr = 1e-3

    def __init__(
        self,
        params: Iterable[Value] | float | None = None,
        lr: float | None = None,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        learning_rate: float | None = None,
    ) -> None:
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (
            nonnegative_number(betas[0], "Adam: betas[0]", below=1.0),
            nonnegative_number(betas[1], "Adam: betas[1]", below=1.0),
        )
        self.eps = positive_number(eps, "Adam: eps")
        self.weight_decay = nonnegative_number(weight_decay, "Adam: weight_decay")
        super().__init__(params, lr, learning_rate)

    def __repr__(self) -> str:
        return (
            f"Adam(lr={self.lr}, betas={self.betas}, eps={self.eps}, "
            f"weight_decay={self.weight_decay})"
        )

    def _reset_state(self) -> None:
        self._t = 0
        self._m = np.zeros(len(self.params))
        self._r = np.zeros(len(self.params))  # sqrt(v), see the module docstring

    def _update(self, data: np.ndarray, grads: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        beta1, beta2 = self.betas
        t = self._t + 1
        g = grads + self.weight_decay * data if self.weight_decay else grads
        m = beta1 * self._m + (1 - beta1) * g
        r = np.hypot(math.sqrt(beta2) * self._r, math.sqrt(1 - beta2) * g)
        step_size = self.lr / (1 - beta1**t)
        denominator = r / math.sqrt(1 - beta2**t) + self.eps
        return data - step_size * m / denominator, {"_t": t, "_m": m, "_r": r}


def all_finite(values: np.ndarray) -> bool:
    """No inf or NaN in ``values``: one sum (fast), and an element check only when the sum
    is not finite (finite values can overflow it)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return math.isfinite(values.sum()) or bool(np.isfinite(values).all())


def _only_one(lr: float | None, learning_rate: float | None, name: str) -> float | None:
    """The learning rate given as ``lr`` (named ``name``) or ``learning_rate``, not both."""
    if lr is not None and learning_rate is not None:
        raise TypeError(
            f"the learning rate is given twice, as {name} ({lr!r}) and as learning_rate "
            f"({learning_rate!r})"
        )
    return lr if lr is not None else learning_rate


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "adam": Adam}
"""The optimizers known by name (case-insensitive)."""


def get_optimizer(name_or_optimizer: str | Optimizer, **kwargs: Any) -> Optimizer:
    """An unbound optimizer from its name ("sgd", "adam"; ``kwargs`` go to its
    constructor), or the given Optimizer itself."""
    if isinstance(name_or_optimizer, Optimizer):
        if kwargs:
            raise TypeError("get_optimizer: keyword arguments only apply to an optimizer name")
        return name_or_optimizer
    if not isinstance(name_or_optimizer, str):
        raise TypeError(
            f"an optimizer is a name or an Optimizer, got {type(name_or_optimizer).__name__}"
        )
    return lookup(name_or_optimizer, OPTIMIZERS, "optimizer")(**kwargs)


# ---------------------------------------------------------------- learning-rate schedules


def _epoch(epoch: object) -> int:
    if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral) or epoch < 0:
        raise ValueError(f"a schedule takes an epoch number (an int >= 0), got {epoch!r}")
    return int(epoch)


@dataclass(frozen=True)
class StepDecay:
    """lr(epoch) = initial_lr * gamma ** (epoch // step_size)."""

    initial_lr: float
    step_size: int
    gamma: float = 0.1

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "initial_lr", nonnegative_number(self.initial_lr, "StepDecay: initial_lr")
        )
        object.__setattr__(self, "step_size", count(self.step_size, "StepDecay: step_size"))
        object.__setattr__(self, "gamma", positive_number(self.gamma, "StepDecay: gamma"))

    def __call__(self, epoch: int) -> float:
        return self.initial_lr * self.gamma ** (_epoch(epoch) // self.step_size)


@dataclass(frozen=True)
class ExponentialDecay:
    """lr(epoch) = initial_lr * gamma ** epoch."""

    initial_lr: float
    gamma: float

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "initial_lr", nonnegative_number(self.initial_lr, "ExponentialDecay: initial_lr")
        )
        object.__setattr__(self, "gamma", positive_number(self.gamma, "ExponentialDecay: gamma"))

    def __call__(self, epoch: int) -> float:
        return self.initial_lr * self.gamma ** _epoch(epoch)


@dataclass(frozen=True)
class CosineDecay:
    """lr(epoch) = min_lr + (initial_lr - min_lr) * (1 + cos(pi * e / total_epochs)) / 2
    with e = min(epoch, total_epochs): from initial_lr down to min_lr, then constant."""

    initial_lr: float
    total_epochs: int
    min_lr: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "initial_lr", nonnegative_number(self.initial_lr, "CosineDecay: initial_lr")
        )
        object.__setattr__(
            self, "total_epochs", count(self.total_epochs, "CosineDecay: total_epochs")
        )
        object.__setattr__(self, "min_lr", nonnegative_number(self.min_lr, "CosineDecay: min_lr"))

    def __call__(self, epoch: int) -> float:
        progress = min(_epoch(epoch), self.total_epochs) / self.total_epochs
        return (
            self.min_lr + (self.initial_lr - self.min_lr) * (1 + math.cos(math.pi * progress)) / 2
        )


@dataclass(frozen=True)
class LinearDecay:
    """lr(epoch) = initial_lr - (initial_lr - final_lr) * e / total_epochs with
    e = min(epoch, total_epochs). micrograd's demo uses ``1.0 - 0.9*k/100``, which is
    ``LinearDecay(1.0, 100, 0.1)``."""

    initial_lr: float
    total_epochs: int
    final_lr: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "initial_lr", nonnegative_number(self.initial_lr, "LinearDecay: initial_lr")
        )
        object.__setattr__(
            self, "total_epochs", count(self.total_epochs, "LinearDecay: total_epochs")
        )
        object.__setattr__(
            self, "final_lr", nonnegative_number(self.final_lr, "LinearDecay: final_lr")
        )

    def __call__(self, epoch: int) -> float:
        elapsed = min(_epoch(epoch), self.total_epochs)
        return self.initial_lr - (self.initial_lr - self.final_lr) * elapsed / self.total_epochs


class LRScheduler:
    """PyTorch-style driver of a schedule: sets ``optimizer.lr = schedule(0)`` when created
    and ``optimizer.lr = schedule(epoch)`` at each ``step()`` (call it once per epoch)."""

    def __init__(self, optimizer: Optimizer, schedule: Callable[[int], float]) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"LRScheduler: optimizer must be an Optimizer, got {type(optimizer).__name__}"
            )
        if not callable(schedule):
            raise TypeError(f"LRScheduler: schedule must be callable, got {schedule!r}")
        self.optimizer = optimizer
        self.schedule = schedule
        self.epoch = 0
        self._apply()

    def step(self) -> None:
        """Advance one epoch and set the optimizer's learning rate for it."""
        self.epoch += 1
        self._apply()

    def _apply(self) -> None:
        lr = self.schedule(self.epoch)
        self.optimizer.lr = nonnegative_number(
            lr, f"the schedule's learning rate for epoch {self.epoch}"
        )
