"""Training curves, decision boundaries, confusion matrices and small images drawn with
matplotlib (the optional extra ``plot``).

Figures are drawn on matplotlib's Agg canvas without pyplot, so nothing needs a display and
no global figure state is touched. The file format follows the path's extension (``.png`` or
``.svg``); each file is written to a temporary file in the same directory and then moved into
place, so a reader never sees half a picture. SVG text is kept as text (searchable, small).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .callbacks import improvement_mode
from .files import atomic_write

__all__ = [
    "best_epoch",
    "plot_confusion_matrix",
    "plot_decision_boundary",
    "plot_history",
    "plot_images",
]

_FORMATS = (".png", ".svg")
_VALIDATION_PREFIX = "val_"


def _import_matplotlib() -> tuple[Any, Any]:
    """matplotlib's Figure and Agg canvas classes, or an error naming the extra."""
    try:
        import matplotlib  # noqa: F401  (the top-level package decides whether it is there)
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ModuleNotFoundError(
            "plotting needs matplotlib, an optional extra: pip install 'micrograd_like[plot]'"
        ) from err
    return Figure, FigureCanvasAgg


def _checked_path(path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    if path.suffix.lower() not in _FORMATS:
        raise ValueError(
            f"cannot tell the picture format of {str(path)!r}: expected a path ending in "
            f"{' or '.join(_FORMATS)}"
        )
    return path


def _save_atomically(figure: Any, path: Path) -> Path:
    """Write ``figure`` to ``path`` (its format from the extension) atomically."""
    import matplotlib

    with matplotlib.rc_context({"svg.fonttype": "none"}):
        return atomic_write(
            path,
            lambda out: figure.savefig(out, format=path.suffix[1:].lower(), bbox_inches="tight"),
            binary=True,
        )


def _new_figure(width: float, height: float) -> Any:
    Figure, FigureCanvasAgg = _import_matplotlib()
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


# ---------------------------------------------------------------------------------------
# Training curves


def best_epoch(values: Sequence[float] | np.ndarray, mode: str = "min") -> int | None:
    """Index (from 0) of the epoch after which ``values`` never improves again.

    That is the first epoch holding the best value: argmin for ``mode="min"``, argmax for
    ``"max"``; a later equal value is no improvement. Non-finite values (a diverged loss)
    are ignored; None when no value is finite.
    """
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"expected a non-empty 1-D sequence of numbers, got shape {array.shape}")
    finite = np.isfinite(array)
    if not finite.any():
        return None
    fill = math.inf if mode == "min" else -math.inf
    scores = np.where(finite, array, fill)
    return int(np.argmin(scores) if mode == "min" else np.argmax(scores))


def _history_dict(history: Any) -> dict[str, np.ndarray]:
    """The per-epoch lists of a History (or of its ``.history`` dict) as float arrays."""
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise TypeError(f"expected a History or its .history dict, got {type(history).__name__}")
    if not logs:
        raise ValueError("the history is empty: nothing to plot")
    curves = {}
    for key, values in logs.items():
        try:
            curves[str(key)] = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"history[{key!r}] must be a list of numbers") from None
        if curves[str(key)].ndim != 1:
            raise ValueError(f"history[{key!r}] must be a flat list of per-epoch numbers")
    lengths = {key: len(values) for key, values in curves.items()}
    if len(set(lengths.values())) != 1 or 0 in lengths.values():
        raise ValueError(f"history lists must be non-empty and of one length, got {lengths}")
    return curves


def _metric_names(curves: Mapping[str, np.ndarray]) -> list[str]:
    """One name per subplot, "loss" first, a val_ curve sharing its training curve's plot."""
    names = dict.fromkeys(key.removeprefix(_VALIDATION_PREFIX) for key in curves)
    return sorted(names, key=lambda name: name != "loss")


def _mark_best(axes: Any, epochs: np.ndarray, values: np.ndarray, label: str) -> None:
    """A vertical line and a note at the epoch where ``values`` last improved."""
    mode = improvement_mode(label)
    best = best_epoch(values, mode)
    if best is None:
        return
    axes.axvline(epochs[best], color="0.4", linestyle="--", linewidth=1)
    on_the_left = best > len(epochs) / 2  # keep the note inside the plot
    axes.annotate(
        f"best {label} {values[best]:.4g}\nepoch {epochs[best]}",
        xy=(epochs[best], values[best]),
        xytext=(-8 if on_the_left else 8, 12 if mode == "min" else -24),
        textcoords="offset points",
        horizontalalignment="right" if on_the_left else "left",
        fontsize=8,
        arrowprops={"arrowstyle": "->", "color": "0.3"},
    )


def plot_history(
    history: Any,
    path: str | os.PathLike[str],
    *,
    title: str | None = None,
    columns: int = 3,
    marks: Mapping[int, str] | None = None,
) -> Path:
    """Draw each metric of a training history, training vs validation, into ``path``.

    ``history`` is the History that ``fit`` returns or its ``.history`` dict of per-epoch
    lists (Keras keys: ``loss``, ``val_loss``, ``accuracy``, ...). One subplot per metric,
    epochs numbered from 1 as ``fit`` prints them; where a validation curve exists, a dashed
    line marks the epoch where it stops improving (lowest value; highest for accuracy-like
    metrics). ``marks`` maps epochs, counted from 0 as callbacks count them (e.g.
    ``EarlyStopping.stopped_epoch``), to a text drawn with a dotted line on every subplot.
    Returns the path written.
    """
    path = _checked_path(path)
    curves = _history_dict(history)
    _check_columns(columns)
    n_epochs = len(next(iter(curves.values())))
    marks = _checked_marks(marks or {}, n_epochs)
    names = _metric_names(curves)
    n_columns = min(columns, len(names))
    n_rows = math.ceil(len(names) / n_columns)
    figure = _new_figure(4.5 * n_columns, 3.4 * n_rows)
    epochs = np.arange(1, n_epochs + 1)
    for index, name in enumerate(names):
        axes = figure.add_subplot(n_rows, n_columns, index + 1)
        _draw_metric(axes, epochs, name, curves)
        for epoch, text in marks.items():
            axes.axvline(epoch + 1, color="C3", linestyle=":", linewidth=1.5)
            axes.text(
                epoch + 1,
                0.97,
                f"{text} ",
                transform=axes.get_xaxis_transform(),
                color="C3",
                fontsize=8,
                rotation=90,
                verticalalignment="top",
                horizontalalignment="right",
            )
    if title:
        figure.suptitle(title)
    return _save_atomically(figure, path)


def _check_columns(columns: object) -> None:
    """A grid's number of columns must be a positive int (numpy ints and bools refused)."""
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
        raise ValueError(f"columns must be a positive int, got {columns!r}")


def _checked_marks(marks: Mapping[int, str], n_epochs: int) -> dict[int, str]:
    if not isinstance(marks, Mapping):
        raise TypeError(f"marks must map epochs to texts, got {type(marks).__name__}")
    for epoch, text in marks.items():
        if isinstance(epoch, bool) or not isinstance(epoch, int) or not 0 <= epoch < n_epochs:
            raise ValueError(
                f"marks: an epoch is counted from 0 and below {n_epochs}, got {epoch!r}"
            )
        if not isinstance(text, str):
            raise TypeError(f"marks[{epoch}] must be a str, got {type(text).__name__}")
    return dict(marks)


def _draw_metric(
    axes: Any, epochs: np.ndarray, name: str, curves: Mapping[str, np.ndarray]
) -> None:
    val_name = _VALIDATION_PREFIX + name
    if name in curves:
        axes.plot(epochs, curves[name], marker=".", label="train")
    if val_name in curves:
        axes.plot(epochs, curves[val_name], marker=".", label="validation")
        _mark_best(axes, epochs, curves[val_name], val_name)
    axes.set_title(name)
    axes.set_xlabel("epoch")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)


# ---------------------------------------------------------------------------------------
# Decision boundary


def _checked_points(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    try:
        points = np.asarray(X, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("X must be an array of numbers of shape (n_samples, 2)") from None
    if points.ndim != 2 or points.shape[1] != 2 or points.shape[0] == 0:
        raise ValueError(
            f"a decision boundary is drawn for 2-D inputs: X must have shape (n_samples, 2), "
            f"got {points.shape}"
        )
    if not np.isfinite(points).all():
        raise ValueError("X contains NaN or infinite values")
    labels = np.asarray(y)
    if labels.ndim != 1 or len(labels) != len(points):
        raise ValueError(
            f"y must be a 1-D array of {len(points)} labels (one per row of X), "
            f"got shape {labels.shape}"
        )
    return points, labels


def _grid(points: np.ndarray, resolution: int, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """A resolution x resolution grid covering the points plus ``margin`` of their span."""
    axes = []
    for low, high in zip(points.min(axis=0), points.max(axis=0)):
        pad = margin * (high - low) if high > low else 0.5
        axes.append(np.linspace(low - pad, high + pad, resolution))
    xx, yy = np.meshgrid(*axes)
    return xx, yy


def _binary_classes(y: np.ndarray) -> np.ndarray:
    """The (negative, positive) labels a one-output model's sign picks between."""
    classes = np.unique(y)
    if len(classes) > 2:
        raise ValueError(
            f"a model with one output separates two classes, but y has {len(classes)}: "
            f"{classes.tolist()}; pass labels_fn to map outputs to labels"
        )
    if len(classes) == 2:
        return classes
    return np.array([-1, 1]) if classes[0] == -1 else np.array([0, 1])


def _grid_labels(
    outputs: Any,
    n_points: int,
    y: np.ndarray,
    threshold: float,
    labels_fn: Callable[[np.ndarray], Any] | None,
) -> np.ndarray:
    """Class labels from raw model outputs of shape (n_points, n_outputs).

    One output: the larger of y's two labels where output > threshold, else the smaller.
    Several outputs: the index of the largest. ``labels_fn(outputs)`` overrides both.
    """
    outputs = np.asarray(outputs, dtype=float)
    if outputs.ndim == 1:
        outputs = outputs[:, None]
    if outputs.ndim != 2 or outputs.shape[0] != n_points:
        raise ValueError(
            f"model.predict must return an array of shape ({n_points}, n_outputs), "
            f"got {outputs.shape}"
        )
    if labels_fn is not None:
        labels = np.asarray(labels_fn(outputs))
        if labels.shape != (n_points,):
            raise ValueError(f"labels_fn must return {n_points} labels, got shape {labels.shape}")
        return labels
    if outputs.shape[1] == 1:
        return _binary_classes(y)[(outputs[:, 0] > threshold).astype(int)]
    return outputs.argmax(axis=1)


def plot_decision_boundary(
    model: Any,
    X: Any,
    y: Any,
    path: str | os.PathLike[str],
    *,
    resolution: int = 100,
    threshold: float = 0.0,
    labels_fn: Callable[[np.ndarray], Any] | None = None,
    margin: float = 0.1,
    title: str | None = None,
) -> Path:
    """Colour the plane by the class ``model`` predicts and scatter the points ``X``, ``y``.

    ``model.predict`` is called once on a ``resolution`` x ``resolution`` grid spanning the
    data plus ``margin`` of its range on each side, and must return raw outputs of shape
    (n, n_outputs). One output is read as a score: class = y's larger label where
    output > ``threshold`` (0 suits hinge and logits; 0.5 suits probabilities), else the
    smaller one. Several outputs: class = argmax. ``labels_fn(outputs) -> labels`` replaces
    both rules. Returns the path written.
    """
    path = _checked_path(path)
    points, labels = _checked_points(X, y)
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ValueError(f"resolution must be an int >= 2, got {resolution!r}")
    if not margin >= 0:
        raise ValueError(f"margin must be >= 0, got {margin!r}")
    figure = _new_figure(6.0, 5.0)  # before predict: a missing matplotlib fails fast
    from matplotlib.colors import ListedColormap

    xx, yy = _grid(points, resolution, margin)
    grid = np.column_stack([xx.ravel(), yy.ravel()])
    predicted = _grid_labels(model.predict(grid), len(grid), labels, threshold, labels_fn)
    classes = np.unique(np.concatenate([labels, predicted]))

    palette = ListedColormap([f"C{i % 10}" for i in range(len(classes))])
    axes = figure.add_subplot()
    regions = np.searchsorted(classes, predicted).reshape(xx.shape)
    levels = np.arange(len(classes) + 1) - 0.5
    axes.contourf(xx, yy, regions, levels=levels, cmap=palette, alpha=0.3)
    for index, label in enumerate(classes):
        members = labels == label
        if members.any():
            axes.scatter(
                *points[members].T,
                s=18,
                color=palette(index),
                edgecolors="k",
                linewidths=0.4,
                label=f"class {label}",
            )
    axes.set_xlim(xx.min(), xx.max())
    axes.set_ylim(yy.min(), yy.max())
    axes.set_title(title or "decision boundary")
    axes.legend(fontsize=8, loc="best")
    return _save_atomically(figure, path)


# ---------------------------------------------------------------------------------------
# Confusion matrix and images


def plot_confusion_matrix(
    matrix: Any,
    path: str | os.PathLike[str],
    *,
    class_names: Sequence[str] | None = None,
    title: str | None = None,
) -> Path:
    """Draw a confusion matrix (rows: true class, columns: predicted class, as
    :func:`micrograd_like.metrics.confusion_matrix` makes it) with its counts written in the
    cells. Returns the path written."""
    path = _checked_path(path)
    counts = np.asarray(matrix)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.size == 0:
        raise ValueError(f"matrix must be square (classes x classes), got shape {counts.shape}")
    if not np.issubdtype(counts.dtype, np.integer) or (counts < 0).any():
        raise ValueError("matrix must hold counts (integers >= 0)")
    k = len(counts)
    names = [str(i) for i in range(k)] if class_names is None else [str(n) for n in class_names]
    if len(names) != k:
        raise ValueError(f"class_names must name the {k} classes, got {len(names)}")
    figure = _new_figure(1.0 + 0.45 * k, 0.8 + 0.45 * k)
    axes = figure.add_subplot()
    axes.imshow(counts, cmap="Blues")
    threshold = counts.max() / 2
    for (i, j), n in np.ndenumerate(counts):
        if n:
            color = "white" if n > threshold else "black"
            axes.text(j, i, str(n), ha="center", va="center", fontsize=8, color=color)
    axes.set_xticks(range(k), names)
    axes.set_yticks(range(k), names)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    axes.set_title(title or f"confusion matrix (accuracy {accuracy:.1%})")
    return _save_atomically(figure, path)


def plot_images(
    images: Any,
    path: str | os.PathLike[str],
    *,
    captions: Sequence[str] | None = None,
    shape: tuple[int, int] = (8, 8),
    columns: int = 8,
    title: str | None = None,
) -> Path:
    """Draw rows of pixels (e.g. ``load_digits`` images, 64 values each) as a grid of small
    grey pictures of ``shape``, each with its caption. Returns the path written."""
    path = _checked_path(path)
    pixels = np.asarray(images, dtype=float)
    height, width = shape
    if pixels.ndim != 2 or pixels.shape[1] != height * width or len(pixels) == 0:
        raise ValueError(
            f"images must have shape (n_images, {height * width}) for pictures of {shape}, "
            f"got {pixels.shape}"
        )
    if captions is not None and len(captions) != len(pixels):
        raise ValueError(
            f"captions must give one text per image ({len(pixels)}), got {len(captions)}"
        )
    _check_columns(columns)
    n_columns = min(columns, len(pixels))
    n_rows = math.ceil(len(pixels) / n_columns)
    figure = _new_figure(1.2 * n_columns, 1.4 * n_rows + (0.4 if title else 0.0))
    for index, image in enumerate(pixels):
        axes = figure.add_subplot(n_rows, n_columns, index + 1)
        axes.imshow(image.reshape(shape), cmap="gray_r", interpolation="nearest")
        axes.set_axis_off()
        if captions is not None:
            axes.set_title(captions[index], fontsize=8)
    if title:
        figure.suptitle(title)
    return _save_atomically(figure, path)
