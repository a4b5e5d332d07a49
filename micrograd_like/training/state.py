"""The training state a model holds: one object instead of attributes on the model.

``model.compile`` stores a :class:`TrainingState` as the model's ``_training`` attribute;
the Keras-visible ``model.optimizer``, ``model.loss``, ``model.metrics``,
``model.history`` and ``model.stop_training`` read it. The recorded replays are a cache:
never pickled, copied or saved (a pickled model records them again on first use).
"""

from __future__ import annotations

from typing import Any

from .. import losses, optim
from ..callbacks import History
from ..metrics import Metric

__all__ = ["TrainingState"]


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

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["replays"] = {}
        return state

    def __repr__(self) -> str:
        loss = self.loss.name if self.loss is not None else None
        return f"TrainingState(optimizer={self.optimizer!r}, loss={loss!r}, l2={self.l2})"
