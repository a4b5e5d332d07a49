"""Each epoch's logs as a row of a CSV file."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

from ..files import atomic_write
from .base import Callback, Logs

__all__ = ["CSVLogger"]


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
