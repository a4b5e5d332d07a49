"""Tests for micrograd_like.plot: training curves and decision boundaries."""

from __future__ import annotations

import math
import random
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from micrograd_like.callbacks import improvement_mode

pytest.importorskip("matplotlib")

from micrograd_like import plot  # noqa: E402
from micrograd_like.plot import (  # noqa: E402
    best_epoch,
    plot_decision_boundary,
    plot_history,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG_NS = "{http://www.w3.org/2000/svg}"


def svg_texts(path) -> list[str]:
    """The text of every <text> element of an SVG file (parsing it as XML on the way)."""
    root = ET.parse(path).getroot()
    assert root.tag == SVG_NS + "svg"
    return ["".join(t.itertext()) for t in root.iter(SVG_NS + "text")]


def last_improvement(values, mode):
    """EarlyStopping's definition, written as a scan: the last epoch that strictly beat
    every earlier finite value (an independent oracle for best_epoch)."""
    better = (lambda a, b: a < b) if mode == "min" else (lambda a, b: a > b)
    best_index, best_value = None, None
    for i, v in enumerate(values):
        if math.isfinite(v) and (best_value is None or better(v, best_value)):
            best_index, best_value = i, v
    return best_index


class FakeHistory:
    def __init__(self, history):
        self.history = history


# Validation loss falls until the 4th epoch (index 3) then rises: overfitting from there.
# Validation accuracy peaks at index 2 and ties at index 4 (a tie is no improvement).
HISTORY = {
    "loss": [0.9, 0.6, 0.4, 0.3, 0.2, 0.1],
    "val_loss": [1.0, 0.7, 0.5, 0.45, 0.5, 0.6],
    "accuracy": [0.5, 0.6, 0.7, 0.8, 0.9, 0.95],
    "val_accuracy": [0.5, 0.55, 0.75, 0.7, 0.75, 0.6],
}


# --- the "stops improving" epoch -------------------------------------------------------


def test_best_epoch_on_a_synthetic_history():
    assert best_epoch(HISTORY["val_loss"], "min") == 3
    assert best_epoch(HISTORY["val_accuracy"], "max") == 2  # the later tie does not count
    assert best_epoch([3.0, 2.0, 2.0, 1.0], "min") == 3
    assert best_epoch([5.0]) == 0


def test_best_epoch_ignores_non_finite_values():
    assert best_epoch([1.0, float("nan"), 0.5, float("inf")], "min") == 2
    assert best_epoch([float("nan"), 0.2, float("-inf")], "max") == 1
    assert best_epoch([float("nan"), float("nan")]) is None


def test_best_epoch_matches_a_scan_on_random_histories():
    rng = random.Random(5)
    for _ in range(300):
        n = rng.randint(1, 12)
        values = [rng.choice([0.1, 0.2, 0.3, rng.random(), float("nan")]) for _ in range(n)]
        for mode in ("min", "max"):
            assert best_epoch(values, mode) == last_improvement(values, mode), (values, mode)


@pytest.mark.parametrize(
    "values, mode",
    [([], "min"), ([[1.0, 2.0]], "min"), ([1.0], "lowest"), (["a"], "min")],
)
def test_best_epoch_rejects_bad_input(values, mode):
    with pytest.raises(ValueError):
        best_epoch(values, mode)


@pytest.mark.parametrize(
    "metric, mode",
    [
        ("loss", "min"),
        ("val_loss", "min"),
        ("mse", "min"),
        ("accuracy", "max"),
        ("val_accuracy", "max"),
        ("binary_accuracy", "max"),
        ("acc", "max"),
        ("val_auc", "max"),
        ("lr", "min"),
    ],
)
def test_improvement_mode(metric, mode):
    assert improvement_mode(metric) == mode


# --- plot_history ----------------------------------------------------------------------


def test_plot_history_writes_a_png(tmp_path):
    out = plot_history(FakeHistory(HISTORY), tmp_path / "curves.png")
    assert out == tmp_path / "curves.png"
    assert out.read_bytes().startswith(PNG_MAGIC)
    assert [p.name for p in tmp_path.iterdir()] == ["curves.png"]  # no temporary file left


def test_plot_history_svg_has_a_subplot_per_metric_and_marks_the_best_epoch(tmp_path):
    out = plot_history(HISTORY, str(tmp_path / "curves.SVG"), title="moons")
    texts = svg_texts(out)
    assert {"loss", "accuracy", "moons", "train", "validation"} <= set(texts)
    # Epochs are numbered from 1 on the plot: index 3 is "epoch 4", index 2 is "epoch 3".
    loss_note = texts.index("best val_loss 0.45")
    assert texts[loss_note + 1] == f"epoch {last_improvement(HISTORY['val_loss'], 'min') + 1}"
    accuracy_note = texts.index("best val_accuracy 0.75")
    assert texts[accuracy_note + 1] == (
        f"epoch {last_improvement(HISTORY['val_accuracy'], 'max') + 1}"
    )


def test_plot_history_without_validation_has_no_marker(tmp_path):
    texts = svg_texts(plot_history({"loss": [1.0, 0.5], "lr": [0.1, 0.05]}, tmp_path / "h.svg"))
    assert {"loss", "lr", "train"} <= set(texts)
    assert "validation" not in texts
    assert not any(t.startswith("best") for t in texts)


def test_plot_history_replaces_an_existing_file(tmp_path):
    target = tmp_path / "curves.png"
    target.write_bytes(b"old")
    plot_history(HISTORY, target)
    assert target.read_bytes().startswith(PNG_MAGIC)


@pytest.mark.parametrize(
    "history, error",
    [
        ({}, ValueError),
        (FakeHistory({}), ValueError),
        ({"loss": []}, ValueError),
        ({"loss": [1.0, 0.5], "val_loss": [1.0]}, ValueError),
        ({"loss": ["high", "low"]}, ValueError),
        ({"loss": [[1.0], [0.5]]}, ValueError),
        ([0.5, 0.4], TypeError),
    ],
)
def test_plot_history_rejects_bad_histories(tmp_path, history, error):
    with pytest.raises(error):
        plot_history(history, tmp_path / "h.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["h.jpg", "h", "h.png.txt", "h.pdf"])
def test_plot_history_refuses_other_formats(tmp_path, name):
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        plot_history(HISTORY, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


# --- plot_decision_boundary ------------------------------------------------------------


class LinearRule:
    """A fake model: raw output x0 (one output), so the boundary is the line x0 = 0."""

    def __init__(self):
        self.calls = []

    def predict(self, X):
        X = np.asarray(X)
        self.calls.append(X.copy())
        return X[:, :1] * 1.0


class ThreeSectors:
    """A fake 3-output model: class 0 left of x0 = -1, class 2 right of x0 = 1, else 1."""

    def predict(self, X):
        X = np.asarray(X)
        return np.column_stack([-X[:, 0] - 1, np.zeros(len(X)), X[:, 0] - 1])


def points(n=40, seed=0):
    X = np.random.default_rng(seed).uniform(-2, 2, size=(n, 2))
    return X, (X[:, 0] > 0).astype(int)


def tinted(color_index: int) -> np.ndarray:
    """The RGB of matplotlib's colour C<i> at alpha 0.3 over white, as the regions show."""
    from matplotlib.colors import to_rgb

    return 0.3 * np.array(to_rgb(f"C{color_index}")) + 0.7


def columns_of(image: np.ndarray, rgb: np.ndarray) -> np.ndarray:
    """The x pixel positions of the pixels of ``image`` showing colour ``rgb``."""
    matches = np.all(np.abs(image[:, :, :3] - rgb) < 2.5 / 255, axis=2)
    return np.nonzero(matches)[1]


def mean_column_of(image: np.ndarray, rgb: np.ndarray) -> float:
    """Mean x position of a region of colour ``rgb`` (which must cover many pixels)."""
    columns = columns_of(image, rgb)
    assert len(columns) > 1000, "region colour not found in the picture"
    return float(columns.mean())


def test_decision_boundary_colours_each_side_of_the_rule(tmp_path):
    from matplotlib.image import imread

    X, y = points()
    model = LinearRule()
    out = plot_decision_boundary(model, X, y, tmp_path / "boundary.png", resolution=50)
    assert out.read_bytes().startswith(PNG_MAGIC)
    # One predict call on the whole grid, covering the data plus 10% of its span.
    (grid,) = model.calls
    assert grid.shape == (50 * 50, 2)
    span = X.max(axis=0) - X.min(axis=0)
    np.testing.assert_allclose(grid.min(axis=0), X.min(axis=0) - 0.1 * span)
    np.testing.assert_allclose(grid.max(axis=0), X.max(axis=0) + 0.1 * span)
    # Class 0 (x0 <= 0) is drawn on the left of class 1 (x0 > 0).
    image = imread(out)
    assert mean_column_of(image, tinted(0)) < mean_column_of(image, tinted(1))


def test_decision_boundary_svg_with_several_outputs(tmp_path):
    from matplotlib.image import imread

    X = np.random.default_rng(1).uniform(-3, 3, size=(60, 2))
    y = np.digitize(X[:, 0], [-1, 1])  # 0, 1, 2 by sector
    texts = svg_texts(
        plot_decision_boundary(ThreeSectors(), X, y, tmp_path / "b.svg", title="spiral")
    )
    assert {"spiral", "class 0", "class 1", "class 2"} <= set(texts)
    image = imread(plot_decision_boundary(ThreeSectors(), X, y, tmp_path / "b.png"))
    columns = [mean_column_of(image, tinted(i)) for i in range(3)]
    assert columns == sorted(columns)


def test_grid_labels_rules():
    y01, y_pm = np.array([0, 1, 1]), np.array([-1, 1, -1])
    outputs = np.array([[0.5], [-0.2], [0.0]])
    np.testing.assert_array_equal(plot._grid_labels(outputs, 3, y01, 0.0, None), [1, 0, 0])
    np.testing.assert_array_equal(plot._grid_labels(outputs, 3, y_pm, 0.0, None), [1, -1, -1])
    np.testing.assert_array_equal(plot._grid_labels(outputs, 3, y01, -0.5, None), [1, 1, 1])
    several = np.array([[0.1, 0.9, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 3.0]])
    np.testing.assert_array_equal(plot._grid_labels(several, 3, y01, 0.0, None), [1, 0, 2])
    by_fn = plot._grid_labels(outputs, 3, y01, 0.0, lambda o: np.where(o[:, 0] > 0.4, 7, 8))
    np.testing.assert_array_equal(by_fn, [7, 8, 8])


def test_decision_boundary_threshold_and_labels_fn(tmp_path):
    from matplotlib.image import imread

    X, y = points()
    # A threshold above every output: the whole plane is class 0, no class-1 region.
    image = imread(plot_decision_boundary(LinearRule(), X, y, tmp_path / "a.png", threshold=10.0))
    assert len(columns_of(image, tinted(0))) > 1000
    assert len(columns_of(image, tinted(1))) == 0
    # labels_fn inverting the rule puts class 1 on the left.
    flip = lambda outputs: (outputs[:, 0] <= 0).astype(int)  # noqa: E731
    image = imread(plot_decision_boundary(LinearRule(), X, y, tmp_path / "b.png", labels_fn=flip))
    assert mean_column_of(image, tinted(1)) < mean_column_of(image, tinted(0))


class Returns:
    def __init__(self, outputs):
        self.outputs = outputs

    def predict(self, X):
        return self.outputs


@pytest.mark.parametrize(
    "X, y, kwargs, match",
    [
        (np.zeros((5, 3)), np.zeros(5), {}, r"shape \(n_samples, 2\)"),
        (np.zeros(5), np.zeros(5), {}, r"shape \(n_samples, 2\)"),
        (np.zeros((0, 2)), np.zeros(0), {}, r"shape \(n_samples, 2\)"),
        (np.zeros((5, 2)), np.zeros(4), {}, "5 labels"),
        (np.zeros((5, 2)), np.zeros((5, 1)), {}, "5 labels"),
        (np.array([[0.0, np.nan]]), np.zeros(1), {}, "NaN"),
        (np.zeros((5, 2)), np.arange(5) % 3, {}, "two classes"),
        (np.zeros((5, 2)), np.zeros(5), {"resolution": 1}, "resolution"),
        (np.zeros((5, 2)), np.zeros(5), {"margin": -0.1}, "margin"),
    ],
)
def test_decision_boundary_rejects_bad_input(tmp_path, X, y, kwargs, match):
    with pytest.raises(ValueError, match=match):
        plot_decision_boundary(
            LinearRule(), X, y, tmp_path / "b.png", **{"resolution": 4, **kwargs}
        )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "outputs, labels_fn",
    [(np.zeros((3, 1)), None), (np.zeros((16, 1, 1)), None), (np.zeros(16), lambda o: [0, 1])],
)
def test_decision_boundary_rejects_bad_predictions(tmp_path, outputs, labels_fn):
    X, y = points(6)
    with pytest.raises(ValueError, match="16"):
        plot_decision_boundary(
            Returns(outputs), X, y, tmp_path / "b.svg", resolution=4, labels_fn=labels_fn
        )
    assert list(tmp_path.iterdir()) == []


def test_decision_boundary_refuses_other_formats(tmp_path):
    X, y = points(6)
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        plot_decision_boundary(LinearRule(), X, y, tmp_path / "b.eps")


# --- matplotlib missing ----------------------------------------------------------------


def test_missing_matplotlib_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # "import matplotlib" now fails
    with pytest.raises(ImportError, match=r"pip install 'micrograd_like\[plot\]'"):
        plot_history(HISTORY, tmp_path / "h.png")
    X, y = points(6)
    model = LinearRule()
    with pytest.raises(ImportError, match=r"micrograd_like\[plot\]"):
        plot_decision_boundary(model, X, y, tmp_path / "b.png")
    assert model.calls == []  # failed before the (possibly slow) predictions
    assert list(tmp_path.iterdir()) == []


def test_importing_the_module_does_not_import_matplotlib():
    code = "import sys, micrograd_like.plot; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
