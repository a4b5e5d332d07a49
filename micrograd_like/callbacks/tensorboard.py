"""The TensorBoard callback: training curves, learning rate and histograms as event files.

Event files are written with tensorboardX (the optional extra ``tensorboard``) in Keras'
layout, so ``tensorboard --logdir LOG_DIR`` shows the runs ``train`` and ``validation`` and
overlays their curves: each epoch-end log ``name`` becomes the scalar ``epoch_name`` of
``LOG_DIR/train``, and ``val_name`` becomes ``epoch_name`` of ``LOG_DIR/validation``, at
step = epoch (counted from 0).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..engine import Value
from .base import Callback

__all__ = ["TensorBoard", "parameter_group", "parameter_groups"]

_VALIDATION_PREFIX = "val_"
_LEARNING_RATE_LOGS = ("lr", "learning_rate")


def _summary_writer_class() -> type:
    """tensorboardX's SummaryWriter, or an error naming the extra to install."""
    try:
        import tensorboardX  # noqa: F401  (the top-level package decides whether it is there)
        from tensorboardX import SummaryWriter
    except ImportError as err:
        raise ModuleNotFoundError(
            "the TensorBoard callback needs tensorboardX, an optional extra: "
            "pip install 'micrograd_like[tensorboard]'"
        ) from err
    return SummaryWriter


def parameter_group(name: str) -> str:
    """The histogram group of a parameter: its dotted name without the neuron and input
    indices, so ``layers.0.neurons.3.w.1`` -> ``layers.0.w`` (layer 0's weights) and
    ``layers.0.neurons.3.b`` -> ``layers.0.b``. A number is kept only after ``layers``."""
    parts = name.split(".")
    kept = [
        part
        for previous, part in zip(["", *parts], parts)
        if part != "neurons" and (not part.isdigit() or previous == "layers")
    ]
    return ".".join(kept) or name


def parameter_groups(named: Iterable[tuple[str, Value]]) -> dict[str, list[Value]]:
    """Parameters gathered by :func:`parameter_group`, in order of first appearance."""
    groups: dict[str, list[Value]] = {}
    for name, p in named:
        groups.setdefault(parameter_group(name), []).append(p)
    return groups


def _summarizable(values: np.ndarray) -> bool:
    """Whether a histogram of ``values`` (finite numbers) can be written: at least one
    value, and a finite sum of squares (one of the histogram's statistics)."""
    with np.errstate(over="ignore"):
        return values.size > 0 and bool(np.isfinite(values @ values))


def _bucket_limits(writer: Any) -> np.ndarray:
    """tensorboardX's default buckets, which end at +-1e20, widened to the largest float at
    both ends (as TensorFlow's are), so that no finite value falls outside every bucket
    (a diverging run's histogram would be empty, an error)."""
    largest = np.finfo(float).max
    return np.concatenate([[-largest], writer.default_bins, [largest]])


class TensorBoard(Callback):
    """Log each epoch's metrics (and optionally histograms) for TensorBoard.

    - ``log_dir``: the directory of the runs ``train/`` and ``validation/``.
    - ``histogram_freq``: every that many epochs (0 = never), histograms of the parameter
      values and of their gradients (``.grad`` at the epoch's end: the gradient of its last
      batch), one per parameter group (the weights or the biases of a layer, see
      :func:`parameter_group`), tagged ``parameters/<group>`` and ``gradients/<group>``
      under ``train/``. Values that are not finite are left out of a histogram, and a
      histogram whose sum of squares overflows (a diverging run) is skipped.
    - ``write_lr``: log ``model.optimizer.lr`` as ``epoch_learning_rate`` under ``train/``.

    Files are flushed at every epoch end (a running ``tensorboard`` sees progress) and
    closed at the end of training.
    """

    def __init__(
        self,
        log_dir: str | os.PathLike[str] = "logs",
        histogram_freq: int = 0,
        write_lr: bool = True,
    ) -> None:
        super().__init__()
        self._writer_class = _summary_writer_class()  # fail now, not after an epoch
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int):
            raise TypeError(f"histogram_freq must be an int, got {histogram_freq!r}")
        if histogram_freq < 0:
            raise ValueError(
                f"histogram_freq must be >= 0 (0 = no histograms), got {histogram_freq}"
            )
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_lr = bool(write_lr)
        self._writers: dict[str, Any] = {}

    # -- writers --------------------------------------------------------------------------

    def _writer(self, run: str) -> Any:
        """The writer of ``log_dir/run``, opened on first use (no empty validation run)."""
        if run not in self._writers:
            self._writers[run] = self._writer_class(os.path.join(self.log_dir, run))
        return self._writers[run]

    def close(self) -> None:
        """Flush and close the event files; the next training opens new ones."""
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    # -- what is logged -------------------------------------------------------------------

    def _write_metrics(self, epoch: int, logs: Mapping[str, Any]) -> None:
        for name, value in logs.items():
            if self.write_lr and name in _LEARNING_RATE_LOGS:
                continue  # logged once, from the optimizer, as epoch_learning_rate
            run, metric = "train", name
            if name.startswith(_VALIDATION_PREFIX):
                run, metric = "validation", name[len(_VALIDATION_PREFIX) :]
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise TypeError(
                    f"TensorBoard logs numbers; logs[{name!r}] is {type(value).__name__}"
                ) from None
            self._writer(run).add_scalar(f"epoch_{metric}", number, epoch)

    def _write_learning_rate(self, epoch: int) -> None:
        lr = getattr(getattr(self.model, "optimizer", None), "lr", None)
        if lr is not None:
            self._writer("train").add_scalar("epoch_learning_rate", float(lr), epoch)

    def _write_histograms(self, epoch: int) -> None:
        writer = self._writer("train")
        buckets = _bucket_limits(writer)
        for group, params in parameter_groups(self.model.named_parameters()).items():
            for kind, numbers in (
                ("parameters", np.array([p.data for p in params])),
                ("gradients", np.array([p.grad for p in params])),
            ):
                finite = numbers[np.isfinite(numbers)]  # a diverged run may hold inf or nan
                if _summarizable(finite):
                    writer.add_histogram(f"{kind}/{group}", finite, epoch, bins=buckets)

    def mark(self, epoch: int, name: str, text: str) -> None:
        """Mark ``epoch`` (counted from 0, as the logged epochs are) in ``train/``: a
        scalar ``epoch_<name>`` = 1 at that step (a dot on the scalars' time line) and
        ``text`` as a text summary tagged ``name``. Usable during or after training
        (``EarlyStopping.stopped_epoch`` is known once ``fit`` returns): the marks go to an
        event file of their own (``*.<name>``), which TensorBoard reads with the others."""
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"TensorBoard.mark: epoch must be an int >= 0, got {epoch!r}")
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"TensorBoard.mark: name must be an identifier, got {name!r}")
        # a writer opened in the same second as another would reuse its file name
        writer = self._writer_class(os.path.join(self.log_dir, "train"), filename_suffix=f".{name}")
        try:
            writer.add_scalar(f"epoch_{name}", 1.0, epoch)
            writer.add_text(name, str(text), epoch)
        finally:
            writer.close()

    # -- callback hooks -------------------------------------------------------------------

    def on_train_begin(self, logs: Mapping[str, Any] | None = None) -> None:
        self.close()  # a previous training that ended without on_train_end
        self._writer("train")

    def on_epoch_end(self, epoch: int, logs: Mapping[str, Any] | None = None) -> None:
        self._write_metrics(epoch, logs or {})
        if self.write_lr:
            self._write_learning_rate(epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._write_histograms(epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs: Mapping[str, Any] | None = None) -> None:
        self.close()
