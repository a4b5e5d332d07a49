"""demos/digits.py: a real classifier reaches 97% test accuracy on the digits in seconds."""

from __future__ import annotations

import numpy as np
import pytest

from tests.demo_loader import load_demo


@pytest.fixture(scope="module")
def digits():
    return load_demo("digits")


@pytest.fixture(scope="module")
def run(digits):
    return digits.train()


def test_the_recipe_reaches_97_percent_on_the_held_out_digits(run):
    assert run.accuracy >= 0.97
    assert len(run.y_test) == 450  # a quarter of 1,797, rounded up
    assert run.seconds < 30  # seconds, not minutes, even on a loaded machine


def test_the_confusion_matrix_agrees_with_the_predictions(run):
    matrix = run.confusion
    assert matrix.sum() == len(run.y_test)
    assert np.trace(matrix) / matrix.sum() == pytest.approx(run.accuracy)
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(run.y_test, minlength=10))


def test_the_split_is_stratified_and_the_scaling_fitted_on_training_images_only(digits, run):
    X_train, X_test, y_train, y_test = digits.split()
    np.testing.assert_array_equal(X_test, run.X_test)
    shares = np.bincount(y_test, minlength=10) / np.bincount(y_train, minlength=10)
    assert shares.min() > 0.30 and shares.max() < 0.37  # each digit about 1/3 as often
    scaled = run.standardizer.transform(X_train)
    varying = X_train.std(axis=0) > 0
    np.testing.assert_allclose(scaled.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(scaled[:, varying].std(axis=0), 1.0, rtol=1e-12)


def test_the_initial_weights_lie_in_glorot_s_range(digits):
    model = digits.new_model()
    for layer in model.layers:
        limit = np.sqrt(6.0 / (layer.nin + layer.nout))
        weights = np.array([w.data for n in layer.neurons for w in n.w])
        assert np.abs(weights).max() <= limit and np.abs(weights).max() > 0.9 * limit


def test_the_script_prints_the_matrix_and_draws_the_pictures(digits, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    run = digits.main(["--out", str(tmp_path), "--epochs", "2"])
    text = capsys.readouterr().out
    assert f"test accuracy {run.accuracy:.1%}" in text
    assert "true\\pred  0  1  2" in text
    for name in ("digits_confusion.png", "digits_misclassified.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG")
