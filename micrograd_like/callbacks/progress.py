"""Progress output during ``fit``: a bar per epoch on a terminal, one line per epoch in logs."""

from __future__ import annotations

import math
import numbers
import sys
from typing import Any, TextIO

from .base import Callback, Logs

__all__ = ["ProgbarLogger", "format_logs", "on_terminal"]


def format_logs(logs: Logs) -> list[str]:
    """``["loss: 0.1234", "accuracy: 0.9500", ...]``, as Keras prints them."""
    return [f"{key}: {_format_number(value)}" for key, value in logs.items()]


def _format_number(value: Any) -> str:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return str(value)
    number = float(value)
    if number == 0 or not math.isfinite(number) or 1e-3 <= abs(number) < 1e5:
        return f"{number:.4f}"
    return f"{number:.4e}"


def on_terminal(stream: TextIO) -> bool:
    """True when ``stream`` is an interactive terminal (not a file, a pipe or a notebook)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # a closed stream
        return False


class ProgbarLogger(Callback):
    """Progress output on stderr, as Keras prints it: ``verbose=1`` a bar for each epoch
    (its batches, with the running loss and metrics) when stderr is a terminal, and one
    line per epoch when it is not (a log file, a pipe, a notebook), so a log holds one line
    per epoch rather than every refresh of a bar; ``verbose=2`` one line per epoch on
    stdout."""

    batch_hooks_read_logs_only = True

    def __init__(self, verbose: int = 1) -> None:
        super().__init__()
        self.verbose = verbose
        self._bar: Any = None
        self._bars = False

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._bars = self.verbose == 1 and on_terminal(sys.stderr)

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        if self._bars:
            from tqdm import tqdm

            self._bar = tqdm(
                total=self.params.get("steps", 0),
                desc=self._epoch(epoch),
                unit="batch",
                file=sys.stderr,
                dynamic_ncols=True,
            )

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(", ".join(format_logs(logs or {})), refresh=False)
            self._bar.update(1)

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self._bar is not None:
            self._bar.set_postfix_str(", ".join(format_logs(logs or {})))
            self._close()
        elif self.verbose:
            line = " - ".join([self._epoch(epoch), *format_logs(logs or {})])
            print(line, file=sys.stdout if self.verbose == 2 else sys.stderr, flush=True)

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._close()  # an epoch cut short (training stopped) still closes its bar

    def _epoch(self, epoch: int) -> str:
        return f"Epoch {epoch + 1}/{self.params.get('epochs', '?')}"

    def _close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
