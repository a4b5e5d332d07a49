"""Progress output during ``fit``: a tqdm bar, or one line per epoch."""

from __future__ import annotations

import math
import numbers
import sys
from typing import Any

from .base import Callback, Logs

__all__ = ["ProgbarLogger"]


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

    batch_hooks_read_logs_only = True

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
