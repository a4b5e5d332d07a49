"""Keras-style callbacks: hooks that ``fit`` calls around epochs and batches.

A callback overrides some of ``on_train_begin/end(logs)``, ``on_epoch_begin/end(epoch,
logs)`` and ``on_train_batch_begin/end(batch, logs)``. Epochs and batches count from 0.
``logs`` is a dict: at a batch end it holds the running ``loss`` and metrics of the epoch so
far, at an epoch end the epoch's ``loss`` and metrics plus the ``val_``-prefixed ones when
there is validation data. A callback may add entries (``LearningRateScheduler`` adds
``lr``) and may set ``self.model.stop_training = True`` to end training after the current
batch. ``fit`` gives each callback the model (``set_model``) and the run's settings
(``set_params``: ``epochs``, ``steps`` per epoch, ``samples``, ``verbose``).
"""

from __future__ import annotations

import csv
import inspect
import io
import math
import numbers
import os
import sys
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .files import atomic_write

__all__ = [
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "History",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "ProgbarLogger",
    "TensorBoard",  # noqa: F822 (provided lazily by __getattr__ below)
    "TerminateOnNaN",
    "improvement_mode",
]

Logs = dict[str, Any]


class Callback:
    """Base class: every hook does nothing."""

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

    def call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(*args)


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


def _format_logs(logs: Logs) -> list[str]:
    return [f"{key}: {_format_number(value)}" for key, value in logs.items()]


def _format_number(value: Any) -> str:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return str(value)
    if value == 0 or not math.isfinite(value) or 1e-3 <= abs(value) < 1e5:
        return f"{value:.4f}"
    return f"{value:.4e}"


class ProgbarLogger(Callback):
    """Progress output: ``verbose=1`` a tqdm bar over all the batches (on stderr) showing
    the running loss and metrics, ``verbose=2`` one line per epoch (on stdout)."""

    def __init__(self, verbose: int = 1) -> None:
        super().__init__()
        self.verbose = verbose
        self._bar: Any = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        if self.verbose == 1:
            from tqdm.auto import tqdm

            total = self.params.get("epochs", 0) * self.params.get("steps", 0)
            self._bar = tqdm(total=total, unit="batch", file=sys.stderr, dynamic_ncols=True)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        if self._bar is not None:
            self._bar.set_description(f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}")

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(", ".join(_format_logs(logs or {})), refresh=False)
            self._bar.update(1)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(", ".join(_format_logs(logs or {})))
        elif self.verbose == 2:
            line = [
                f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}",
                *_format_logs(logs or {}),
            ]
            print(" - ".join(line), flush=True)

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def improvement_mode(metric: str) -> str:
    """``"max"`` for accuracy-like metrics (names containing "acc" or "auc": bigger is
    better), ``"min"`` for the rest (losses and errors)."""
    return "max" if ("acc" in metric or "auc" in metric) else "min"


class _Monitor:
    """Tracks the best value of one logged quantity; ``mode`` "min", "max" or "auto" (max
    for names containing "acc" or "auc", else min). A value improves on the best when it is
    better by more than ``min_delta``."""

    def __init__(self, owner: str, monitor: str, mode: str, min_delta: float = 0.0) -> None:
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":
            mode = improvement_mode(monitor)
        self.owner, self.monitor, self.mode = owner, monitor, mode
        self.min_delta = abs(float(min_delta))
        self.reset()

    def reset(self) -> None:
        """Forget the best value (at the start of each training run)."""
        self.best = math.inf if self.mode == "min" else -math.inf

    def current(self, logs: Logs | None) -> float | None:
        """The monitored value in ``logs``, or None (with a warning) when absent."""
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(
                f"{self.owner}: {self.monitor!r} is not in the logs (available: "
                f"{', '.join(sorted(logs or {})) or 'none'}); skipping",
                RuntimeWarning,
                stacklevel=3,
            )
        return value

    def improved(self, value: float) -> bool:
        """True, and the best updated, when ``value`` beats the best by more than min_delta."""
        if self.mode == "min":
            better = value < self.best - self.min_delta
        else:
            better = value > self.best + self.min_delta
        if better:
            self.best = value
        return better


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved (by more than ``min_delta``) for ``patience``
    epochs in a row: the lecture's "until converged".

    With ``restore_best_weights=True`` the parameters of the best epoch are put back at
    the end of training (as Keras 3 does, whether or not training stopped early).
    ``stopped_epoch`` is the epoch after which training stopped (None if it did not) and
    ``best_epoch`` the best one.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        mode: str = "auto",
        restore_best_weights: bool = False,
        verbose: int = 0,
    ) -> None:
        super().__init__()
        if isinstance(patience, bool) or not isinstance(patience, int) or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an int >= 0, got {patience!r}")
        self._tracker = _Monitor("EarlyStopping", monitor, mode, min_delta)
        self.monitor = monitor
        self.patience = patience
        self.restore_best_weights = restore_best_weights
        self.verbose = verbose
        self.on_train_begin()

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._tracker.reset()
        self.wait = 0
        self.stopped_epoch: int | None = None
        self.best_epoch: int | None = None
        self.best_weights: dict[str, float] | None = None

    @property
    def best(self) -> float:
        return self._tracker.best

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        value = self._tracker.current(logs)
        if value is None:
            return
        if self._tracker.improved(value):
            self.wait = 0
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.state_dict()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: Logs | None = None) -> None:
        if self.stopped_epoch is not None and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring the parameters of the best epoch: {self.best_epoch + 1}")
            self.model.load_state_dict(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model (``model.save``) at the end of every epoch, or with
    ``save_best_only=True`` only when ``monitor`` improved. ``filepath`` may contain
    ``{epoch}`` (counted from 1) and names of logged values, e.g.
    ``"model-{epoch:03d}-{val_loss:.3f}.json"``."""

    def __init__(
        self,
        filepath: str | os.PathLike,
        monitor: str = "val_loss",
        save_best_only: bool = False,
        mode: str = "auto",
        verbose: int = 0,
    ) -> None:
        super().__init__()
        self._tracker = _Monitor("ModelCheckpoint", monitor, mode)
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.save_best_only = save_best_only
        self.verbose = verbose

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._tracker.reset()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self.save_best_only:
            value = self._tracker.current(logs)
            if value is None or not self._tracker.improved(value):
                return
        path = self._path(epoch, logs or {})
        self.model.save(path)
        if self.verbose:
            print(f"Epoch {epoch + 1}: saved the model to {path}")

    def _path(self, epoch: int, logs: Logs) -> str:
        try:
            return self.filepath.format(**{**logs, "epoch": epoch + 1})
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"ModelCheckpoint: cannot fill in filepath {self.filepath!r} ({exc!r}); it "
                f"may use {{epoch}} and these logged names: {', '.join(sorted(logs))}"
            ) from None


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite."""

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: invalid loss {loss}, terminating training")
            self.model.stop_training = True


class CSVLogger(Callback):
    """Write each epoch's logs as one CSV row (an ``epoch`` column, then the logged names
    in alphabetical order). The whole file is rewritten atomically after each epoch, so it
    is always complete. ``append=True`` keeps the rows already in the file (and its
    header)."""

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename = Path(filename)
        self.separator = separator
        self.append = append

    def on_train_begin(self, logs: Logs | None = None) -> None:
        previous = ""
        if self.append and self.filename.exists():
            previous = self.filename.read_text(encoding="utf-8")
            if previous and not previous.endswith("\n"):
                previous += "\n"
        self._previous = previous
        self._keys: list[str] | None = None
        self._rows: list[list[Any]] = []

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
        self._rows.append([epoch, *(logs.get(key, "") for key in self._keys)])
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=self.separator, lineterminator="\n")
        if not self._previous:
            writer.writerow(["epoch", *self._keys])
        writer.writerows(self._rows)
        text = self._previous + buffer.getvalue()
        atomic_write(self.filename, lambda file: file.write(text))


class LearningRateScheduler(Callback):
    """Set ``model.optimizer.lr = schedule(epoch)`` at the beginning of every epoch (epochs
    from 0) and log it as ``lr``. ``schedule`` may also take ``(epoch, lr)``, as in Keras.
    The schedules of :mod:`micrograd_like.optim` (StepDecay, CosineDecay, ...) fit here."""

    def __init__(self, schedule: Callable[..., float], verbose: int = 0) -> None:
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"schedule must be callable, got {type(schedule).__name__}")
        self.schedule = schedule
        self.verbose = verbose
        self._takes_lr = _positional_count(schedule) >= 2

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            raise ValueError("LearningRateScheduler needs a compiled model (model.compile)")
        lr = self.schedule(epoch, optimizer.lr) if self._takes_lr else self.schedule(epoch)
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not 0 <= lr < math.inf:
            raise ValueError(
                f"the schedule returned {lr!r} for epoch {epoch}; expected a finite number >= 0"
            )
        optimizer.lr = float(lr)
        if self.verbose:
            print(f"Epoch {epoch + 1}: learning rate {optimizer.lr}")

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if logs is not None:
            logs["lr"] = self.model.optimizer.lr


def _positional_count(function: Callable) -> int:
    """How many positional arguments ``function`` accepts (0 if its signature is hidden)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return 0
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return 2
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters)


def __getattr__(name: str) -> Any:
    """TensorBoard lives in micrograd_like.tensorboard, which imports this module."""
    if name == "TensorBoard":
        from .tensorboard import TensorBoard

        return TensorBoard
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
