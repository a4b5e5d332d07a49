"""The callback protocol (Keras'): hooks that ``fit`` calls around epochs and batches.

A callback overrides some of ``on_train_begin/end(logs)``, ``on_epoch_begin/end(epoch,
logs)`` and ``on_train_batch_begin/end(batch, logs)``, or their older Keras names
``on_batch_begin/end(batch, logs)``, which the default ``on_train_batch_begin/end`` call.
:class:`LambdaCallback` makes a callback from functions. Epochs and batches count from 0.
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

import html
from collections.abc import Iterable
from typing import Any

__all__ = ["Callback", "CallbackList", "History", "LambdaCallback", "Logs"]

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
        self.on_batch_begin(batch, logs)  # Keras' older name, as Keras calls it

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        self.on_batch_end(batch, logs)

    def on_batch_begin(self, batch: int, logs: Logs | None = None) -> None:
        pass

    def on_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        pass


_HOOKS = (
    "on_train_begin",
    "on_train_end",
    "on_epoch_begin",
    "on_epoch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_batch_begin",
    "on_batch_end",
)


class LambdaCallback(Callback):
    """A callback made of functions, as in Keras: ``LambdaCallback(on_epoch_end=lambda
    epoch, logs: print(epoch, logs["loss"]))``. Each keyword is a hook's name
    (``on_train_begin/end(logs)``, ``on_epoch_begin/end(epoch, logs)``,
    ``on_train_batch_begin/end(batch, logs)`` or ``on_batch_begin/end(batch, logs)``)."""

    def __init__(self, **hooks: Any) -> None:
        super().__init__()
        for name, function in hooks.items():
            if name not in _HOOKS:
                raise TypeError(
                    f"LambdaCallback got an unknown hook {name!r}; the hooks are "
                    f"{', '.join(_HOOKS)}"
                )
            if not callable(function):
                raise TypeError(f"LambdaCallback: {name} must be a function, got {function!r}")
            setattr(self, name, function)


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
    """The callback overrides a batch hook (either name: the default ``on_train_batch_*``
    call Keras' older ``on_batch_*``) and does not declare it reads only logs."""
    if callback.batch_hooks_read_logs_only:
        return False
    return any(
        getattr(getattr(callback, hook), "__func__", None) is not getattr(Callback, hook)
        for hook in ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")
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

    def __repr__(self) -> str:
        return f"<History of {len(self.epoch)} epoch(s): {', '.join(self.history) or 'no logs'}>"

    def _repr_html_(self, rows: int = 10) -> str:
        """The logs as an HTML table, one row per epoch (the first and last ``rows // 2``
        of a long run), which is how Jupyter shows a History."""
        keys = list(self.history)
        shown = list(range(len(self.epoch)))
        if len(shown) > rows:
            shown = shown[: rows // 2] + [-1] + shown[-(rows // 2) :]
        head = "".join(f"<th>{html.escape(key)}</th>" for key in ["epoch", *keys])
        body = []
        for i in shown:
            cells = (
                ["…"] * (len(keys) + 1)
                if i < 0
                else [
                    str(self.epoch[i] + 1),
                    *(_cell(self.history[key], i) for key in keys),
                ]
            )
            body.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _cell(values: list, i: int) -> str:
    value = values[i] if i < len(values) else ""
    return f"{value:.4g}" if isinstance(value, float) else html.escape(str(value))
