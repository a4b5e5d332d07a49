"""The callback protocol (Keras'): hooks that ``fit`` calls around epochs and batches.

A callback overrides some of ``on_train_begin/end(logs)``, ``on_epoch_begin/end(epoch,
logs)`` and ``on_train_batch_begin/end(batch, logs)``. Epochs and batches count from 0.
``logs`` is a dict: at a batch end it holds the running ``loss`` and metrics of the epoch so
far, at an epoch end the epoch's ``loss`` and metrics plus the ``val_``-prefixed ones when
there is validation data. A callback may add entries (``LearningRateScheduler`` adds
``lr``) and may set ``self.model.stop_training = True`` to end training after the current
batch. ``fit`` gives each callback the model (``set_model``) and the run's settings
(``set_params``: ``epochs``, ``steps`` per epoch, ``samples``, ``verbose``).

During ``fit`` the parameters live in numpy arrays; the model's Values are brought up to
date before every hook that may look at them, and read back after it (a hook may change
them): always for the train and epoch hooks, and for the batch hooks when some callback
overrides ``on_train_batch_begin`` or ``on_train_batch_end`` without declaring
``batch_hooks_read_logs_only = True`` (which costs a pass over every parameter per batch).
The built-in callbacks whose batch hooks read only ``logs`` declare it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["Callback", "CallbackList", "History", "Logs"]

Logs = dict[str, Any]
"""What a hook receives: logged name -> value."""


class Callback:
    """Base class: every hook does nothing."""

    batch_hooks_read_logs_only: bool = False
    """True when this callback's batch hooks read only their arguments, never the model's
    parameters (nor change them): ``fit`` then does not bring the Values up to date for
    them (see the module docstring)."""

    def __init__(self) -> None:
        self.model: Any = None
        self.params: dict[str, Any] = {}

    def set_model(self, model: Any) -> None:
        self.model = model

    def set_params(self, params: dict[str, Any]) -> None:
        self.params = dict(params)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        pass

    def on_train_end(self, logs: Logs | None = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        pass

    def on_train_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        pass

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        pass


class CallbackList:
    """Calls a hook on several callbacks, in order."""

    def __init__(self, callbacks: Iterable[Callback], model: Any, params: dict[str, Any]):
        self.callbacks = list(callbacks)
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"callbacks must be Callback instances, got {type(callback).__name__}"
                )
            callback.set_model(model)
            callback.set_params(params)
        self.batch_hooks_see_parameters = any(map(_batch_hooks_see_parameters, self.callbacks))
        """True when some callback's batch hooks may read or change the parameters."""

    def call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(*args)


def _batch_hooks_see_parameters(callback: Callback) -> bool:
    """The callback overrides a batch hook and does not declare it reads only logs."""
    if callback.batch_hooks_read_logs_only:
        return False
    return any(
        getattr(getattr(callback, hook), "__func__", None) is not getattr(Callback, hook)
        for hook in ("on_train_batch_begin", "on_train_batch_end")
    )


class History(Callback):
    """Records the logs of every epoch: ``history["loss"][e]`` is epoch e's loss; ``epoch``
    lists the epoch numbers. ``fit`` returns it (and stores it as ``model.history``)."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
