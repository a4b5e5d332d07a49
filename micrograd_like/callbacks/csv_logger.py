"""Each epoch's logs as a row of a CSV file."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import IO, Any

from .. import checks
from .base import Callback, Logs

__all__ = ["CSVLogger"]


class CSVLogger(Callback):
    """Write each epoch's logs as one CSV row (an ``epoch`` column, then the logged names
    in alphabetical order).

    The file is opened when training begins (so a file that cannot be written stops
    ``fit`` before any step), one line is appended per epoch and flushed, and the file is
    closed when training ends. ``append=True`` keeps the rows already in the file, under
    its header; a header with other columns than this run logs is refused (ValueError)
    rather than written under. ``separator`` is one character other than a quote or a line
    break.
    """

    def __init__(
        self, filename: str | os.PathLike, separator: str = ",", append: bool = False
    ) -> None:
        super().__init__()
        if not isinstance(filename, (str, os.PathLike)):
            raise TypeError(f"CSVLogger: filename must be a path, got {type(filename).__name__}")
        if not isinstance(separator, str) or len(separator) != 1 or separator in '"\r\n':
            raise ValueError(
                "CSVLogger: separator must be one character other than a quote or a line "
                f"break, got {separator!r}"
            )
        self.filename = Path(filename)
        self.separator = separator
        self.append = checks.flag(append, "CSVLogger: append")
        self._file: IO[str] | None = None

    def on_train_begin(self, logs: Logs | None = None) -> None:
        self._close()
        self.filename.parent.mkdir(parents=True, exist_ok=True)
        self._header: list[str] | None = None
        self._ends_mid_line = False
        if self.append and self.filename.is_file():
            with open(self.filename, "rb") as old:
                first = old.readline().decode("utf-8", "replace").rstrip("\r\n")
                old.seek(0, os.SEEK_END)
                if old.tell():
                    old.seek(-1, os.SEEK_END)
                    self._ends_mid_line = old.read(1) != b"\n"
            if first:
                self._header = next(csv.reader([first], delimiter=self.separator))
        self._file = open(self.filename, "a" if self.append else "w", encoding="utf-8", newline="")
        self._keys: list[str] | None = None
        self._writer = csv.writer(self._file, delimiter=self.separator, lineterminator="\n")

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        if self._file is None:
            raise RuntimeError("CSVLogger: on_epoch_end before on_train_begin")
        logs = logs or {}
        if self._keys is None:
            self._keys = sorted(logs)
            columns = ["epoch", *self._keys]
            if self._header is not None and self._header != columns:
                self._close()
                raise ValueError(
                    f"CSVLogger: {self.filename} has the columns {self._header}, but this "
                    f"training logs {columns}; append to a new file instead"
                )
            if self._ends_mid_line:
                self._file.write("\n")
            if self._header is None:
                self._writer.writerow(columns)
        row: list[Any] = [epoch, *(logs.get(key, "") for key in self._keys)]
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs: Logs | None = None) -> None:
        self._close()

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
