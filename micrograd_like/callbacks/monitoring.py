"""Callbacks that watch a logged quantity: early stopping, checkpoints, NaN guard."""

from __future__ import annotations

import math
import os
import string
import tempfile
import warnings
from pathlib import Path

from .. import checks
from ..files import check_writable_directory
from .base import Callback, Logs

__all__ = ["EarlyStopping", "ModelCheckpoint", "TerminateOnNaN", "improvement_mode"]


def improvement_mode(metric: str) -> str:
    """``"max"`` for accuracy-like metrics (names containing "acc" or "auc": bigger is
    better), ``"min"`` for the rest (losses and errors)."""
    return "max" if ("acc" in metric or "auc" in metric) else "min"


class _Monitor:
    """Tracks the best value of one logged quantity; ``mode`` "min", "max" or "auto" (max
    for names containing "acc" or "auc", else min). A value improves on the best when it is
    better by more than ``min_delta``."""

    def __init__(self, owner: str, monitor: str, mode: str, min_delta: float = 0.0) -> None:
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(
                f"{owner}: monitor must be the name of a logged value, got {monitor!r}"
            )
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
        if mode == "auto":
            mode = improvement_mode(monitor)
        self.owner, self.monitor, self.mode = owner, monitor, mode
        self.min_delta = abs(checks.finite_number(min_delta, f"{owner}: min_delta"))
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
        self.restore_best_weights = checks.flag(
            restore_best_weights, "EarlyStopping: restore_best_weights"
        )
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
            if self.verbose and self.best_epoch is not None:
                print(f"Restoring the parameters of the best epoch: {self.best_epoch + 1}")
            self.model.load_state_dict(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model (``model.save``) at the end of every epoch, or with
    ``save_best_only=True`` only when ``monitor`` improved. ``filepath`` may contain
    ``{epoch}`` (counted from 1) and names of logged values, e.g.
    ``"model-{epoch:03d}-{val_loss:.3f}.json"``.

    Mistakes are caught before any step: a malformed pattern when the callback is made, and
    when training begins a model that cannot be saved (a bare Layer) or a directory that
    cannot be written."""

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
        self.filepath = _checked_pattern(filepath)
        self.monitor = monitor
        self.save_best_only = checks.flag(save_best_only, "ModelCheckpoint: save_best_only")
        self.verbose = verbose

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._tracker.reset()
        save = getattr(self.model, "save", None)
        if not callable(save):
            raise TypeError(
                f"ModelCheckpoint: a {type(self.model).__name__} cannot be saved to a file (it "
                "has no save method); checkpoint an MLP or a Sequential of Layers"
            )
        with tempfile.TemporaryDirectory() as scratch:  # a save that would fail fails now
            try:
                save(os.path.join(scratch, "probe.json"))
            except (TypeError, ValueError) as exc:
                raise type(exc)(f"ModelCheckpoint: the model cannot be saved: {exc}") from None
        static = self.filepath.split("{", 1)[0]
        check_writable_directory(Path(static).parent)

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


def _checked_pattern(filepath: object) -> str:
    """``filepath`` as a str, when it formats with ``epoch`` (an int) and logged names (floats)."""
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(f"ModelCheckpoint: filepath must be a path, got {type(filepath).__name__}")
    pattern = os.fspath(filepath)
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(pattern) if name is not None]
        names = {name.split(".")[0].split("[")[0] for name in fields}
        pattern.format(**{name: 1 if name == "epoch" else 1.0 for name in names if name})
    except (ValueError, IndexError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(
            f"ModelCheckpoint: filepath {pattern!r} is not a valid pattern ({exc}); it may use "
            "{epoch} and names of logged values, e.g. 'model-{epoch:03d}-{val_loss:.3f}.json'"
        ) from None
    return pattern


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite."""

    batch_hooks_read_logs_only = True

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: invalid loss {loss}, terminating training")
            self.model.stop_training = True
