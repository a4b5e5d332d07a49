"""The confusion matrix (metrics) and its picture, small images, and marked epochs on the
training curves (plot)."""

from __future__ import annotations

import numpy as np
import pytest

from micrograd_like.metrics import confusion_matrix

pytest.importorskip("matplotlib")

from micrograd_like.plot import plot_confusion_matrix, plot_history, plot_images  # noqa: E402
from tests.test_plot import PNG_MAGIC, svg_texts  # noqa: E402


def counted_by_hand(true, predicted, k):
    matrix = [[0] * k for _ in range(k)]
    for t, p in zip(true, predicted):
        matrix[t][p] += 1
    return np.array(matrix)


def test_confusion_matrix_counts_every_pair():
    rng = np.random.default_rng(0)
    true, predicted = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    matrix = confusion_matrix(true, predicted)
    np.testing.assert_array_equal(matrix, counted_by_hand(true, predicted, 4))
    assert matrix.sum() == 200
    assert np.trace(matrix) == np.sum(true == predicted)
    assert confusion_matrix([0, 1], [1, 1], n_classes=3).shape == (3, 3)
    np.testing.assert_array_equal(
        confusion_matrix([2.0, 0.0], [2, 1]), [[0, 1, 0], [0] * 3, [0, 0, 1]]
    )


@pytest.mark.parametrize(
    "true, predicted, kwargs, match",
    [
        ([0, 1], [0], {}, "one label per sample"),
        ([0, 1.5], [0, 1], {}, "integer class labels"),
        ([0, -1], [0, 1], {}, "negative label"),
        ([[0, 1]], [0, 1], {}, "1-D array"),
        ([0, 3], [0, 1], {"n_classes": 3}, "a label is 3, but n_classes is 3"),
        ([0, 1], [0, 1], {"n_classes": 0}, "n_classes must be an int >= 1"),
    ],
)
def test_confusion_matrix_refuses_what_is_not_labels(true, predicted, kwargs, match):
    with pytest.raises(ValueError, match=match):
        confusion_matrix(true, predicted, **kwargs)


def test_the_confusion_matrix_picture_writes_its_counts(tmp_path):
    matrix = np.array([[5, 1, 0], [0, 7, 2], [3, 0, 9]])
    path = plot_confusion_matrix(matrix, tmp_path / "cm.svg", class_names=["a", "b", "c"])
    texts = svg_texts(path)
    for n in (5, 1, 7, 2, 3, 9):
        assert str(n) in texts
    assert "0" not in texts  # empty cells stay blank
    assert "confusion matrix (accuracy 77.8%)" in texts  # 21 of 27
    assert {"a", "b", "c", "true class", "predicted class"} <= set(texts)
    png = plot_confusion_matrix(matrix, tmp_path / "cm.png")
    assert png.read_bytes().startswith(PNG_MAGIC)
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix(np.ones((2, 3), dtype=int), tmp_path / "x.png")
    with pytest.raises(ValueError, match="counts"):
        plot_confusion_matrix(np.array([[0.5]]), tmp_path / "x.png")
    with pytest.raises(ValueError, match="name the 3 classes"):
        plot_confusion_matrix(matrix, tmp_path / "x.png", class_names=["a"])


def test_images_are_drawn_with_their_captions(tmp_path):
    images = np.arange(3 * 64, dtype=float).reshape(3, 64)
    path = plot_images(images, tmp_path / "digits.svg", captions=["1->7", "4->9", "3->5"])
    assert {"1->7", "4->9", "3->5"} <= set(svg_texts(path))
    with pytest.raises(ValueError, match=r"shape \(n_images, 64\)"):
        plot_images(np.ones((2, 10)), tmp_path / "x.png")
    with pytest.raises(ValueError, match="one text per image"):
        plot_images(images, tmp_path / "x.png", captions=["a"])


def test_marked_epochs_are_drawn_on_every_curve(tmp_path):
    history = {"loss": [3.0, 2.0, 1.0, 0.5], "val_loss": [3.0, 2.0, 2.5, 3.0]}
    path = plot_history(history, tmp_path / "h.svg", marks={3: "early stopping"})
    assert svg_texts(path).count("early stopping ") == 1  # one subplot: loss
    with pytest.raises(ValueError, match="counted from 0 and below 4"):
        plot_history(history, tmp_path / "h.svg", marks={4: "too late"})
    with pytest.raises(TypeError, match="must be a str"):
        plot_history(history, tmp_path / "h.svg", marks={1: 2})
