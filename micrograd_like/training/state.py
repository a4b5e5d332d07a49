"""The training state a model holds: one object instead of attributes on the model.

``model.compile`` stores a :class:`TrainingState` as the model's ``_training`` attribute;
the Keras-visible ``model.optimizer``, ``model.loss``, ``model.metrics``,
``model.history`` and ``model.stop_training`` read it. The recorded replays are a cache:
never pickled, copied or saved (a pickled model records them again on first use); so are
the :class:`ParameterArrays`, where training keeps the parameters between the moments
when someone can look at the Values.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import losses, optim
from ..callbacks import History
from ..checks import same_objects
from ..engine import Value
from ..metrics import Metric

__all__ = ["ParameterArrays", "TrainingState"]


class ParameterArrays:
    """The model's parameters as numpy vectors, in ``parameters()`` order: ``data`` (their
    values) and ``grad`` (the last gradient, None before any).

    Training reads and updates these instead of the Values, which are the user's view:
    ``store()`` writes ``data`` and ``grad`` to every Value's ``.data`` and ``.grad`` when
    the arrays are ahead of them, and is called wherever someone can look (before any
    callback hook, at the end of ``fit``, on an exception, after ``train_on_batch``);
    ``invalidate()`` says the Values may have been changed (after a hook), and
    ``refresh(model)`` then reads them again. Floats go to float64 and back exactly.
    ``structure`` is the walk (``model._parameter_structure()``) that found ``params`` and
    ``modules``: ``load`` walks the model again only when it no longer describes it.
    """

    def __init__(self) -> None:
        self.params: list[Value] = []
        self.modules: list[Any] = []
        self.structure: Any = None
        self.data = np.zeros(0)
        self.grad: np.ndarray | None = None
        self.ahead = False  # data or grad newer than the Values
        self.stale = True  # the Values may be newer than data

    def load(self, model: Any, like: list[Value] | None = None) -> None:
        """Find ``model``'s parameters and modules (walking it only if ``structure`` no
        longer describes it) and read every ``.data`` (arrays ahead of the Values are
        stored first, so ``evaluate`` called where ``fit`` did not expect it loses no
        step). When the parameters are the objects of ``like`` (in order) ``params`` is
        ``like`` itself, so that later checks against it are one ``is``."""
        self.store()
        if self.structure is None or not self.structure.describes(model):
            self.structure = model._parameter_structure()
        params, self.modules = self.structure.parameters, self.structure.modules
        for known in (like, self.params):
            if known is not None and same_objects(known, params):
                params = known
                break
        self.params = params
        self.data = np.fromiter([p.data for p in params], float, len(params))
        self.grad = None
        self.ahead = self.stale = False

    def refresh(self, model: Any, like: list[Value] | None = None) -> None:
        """``load`` if the Values may have changed since the last one."""
        if self.stale:
            self.load(model, like)

    def update(self, data: np.ndarray, grad: np.ndarray) -> None:
        """New values and the gradient they came from; the Values are now behind."""
        self.data, self.grad = data, grad
        self.ahead = True

    def store(self) -> None:
        """Write ``data`` (and ``grad``) to the Values if they are behind. (Plain loops and
        a list comprehension in ``load``: the interpreter's own attribute reads and writes
        are faster than ``setattr`` or ``attrgetter`` through ``map``.)"""
        if not self.ahead:
            return
        for p, value in zip(self.params, self.data.tolist()):
            p.data = value
        if self.grad is not None:
            for p, grad in zip(self.params, self.grad.tolist()):
                p.grad = grad
        self.ahead = False

    def invalidate(self) -> None:
        """The Values may have been changed: read them again before the next use."""
        self.stale = True


class TrainingState:
    """Optimizer, loss, metrics and L2 weight (from ``compile``), the last ``fit``'s
    History, the stop flag callbacks set, and the cache of recorded replays."""

    def __init__(
        self,
        optimizer: optim.Optimizer | None = None,
        loss: losses.Loss | None = None,
        metrics: list[Metric] | None = None,
        l2: float = 0.0,
    ) -> None:
        self.optimizer = optimizer
        self.loss = loss
        self.metrics: list[Metric] = metrics or []
        self.l2 = l2
        self.binds_optimizer = False
        """True when compile bound the optimizer: it then follows the model's parameters."""
        self.output_activation: str | None = None
        """The model's output activation, read when data first comes; ``loss`` reads it."""
        self.history: History | None = None
        self.stop_training = False
        self.replays: dict[Any, tuple] = {}
        """loss (None for predict) -> (parameters, modules, input width, Tape or None)."""
        self.arrays = ParameterArrays()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["replays"] = {}
        state["arrays"] = ParameterArrays()
        return state

    def __repr__(self) -> str:
        loss = self.loss.name if self.loss is not None else None
        return f"TrainingState(optimizer={self.optimizer!r}, loss={loss!r}, l2={self.l2})"
