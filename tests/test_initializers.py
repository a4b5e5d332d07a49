"""Initial weights: micrograd's U(-1, 1) by default for MLP, Keras' Glorot for Dense, and
the initializers a user picks by name or writes as a function."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from micrograd_like import MLP, Dense, Layer, Neuron, Sequential, optim
from micrograd_like.nn import initializers


def kernels(model) -> list[np.ndarray]:
    return model.get_weights()[::2]


def test_mlp_starts_from_micrograds_weights_after_random_seed_1337() -> None:
    micrograd_nn = pytest.importorskip("micrograd.nn")
    random.seed(1337)
    theirs = [p.data for p in micrograd_nn.MLP(2, [16, 16, 1]).parameters()]
    random.seed(1337)
    ours = [p.data for p in MLP(2, [16, 16, 1]).parameters()]
    assert ours == theirs  # the same numbers, in the same order


def test_the_uniform_default_draws_what_random_uniform_draws() -> None:
    random.seed(7)
    expected = [[random.uniform(-1, 1) for _ in range(3)] for _ in range(2)]  # per neuron
    random.seed(7)
    layer = Layer(3, 2)
    assert [[w.data for w in n.w] for n in layer.neurons] == expected
    assert [n.b.data for n in layer.neurons] == [0.0, 0.0]


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        ("glorot_uniform", math.sqrt(6 / (40 + 30))),
        ("he_uniform", math.sqrt(6 / 40)),
        ("uniform", 1.0),
    ],
)
def test_named_initializers_fill_their_range(name, limit) -> None:
    (kernel,) = kernels(Sequential([Dense(30, kernel_initializer=name, seed=0, input_dim=40)]))
    assert kernel.shape == (40, 30)
    assert np.abs(kernel).max() <= limit
    assert np.abs(kernel).max() > 0.99 * limit  # 1200 draws reach the edge
    assert abs(kernel.std() - limit / math.sqrt(3)) < 0.05 * limit  # U(-a, a): std a/sqrt(3)


def test_dense_uses_keras_defaults_and_mlp_can_choose() -> None:
    dense = Dense(8, seed=0, input_dim=50)
    kernel, bias = dense.get_weights()
    assert np.abs(kernel).max() <= math.sqrt(6 / 58) and not bias.any()
    (first, _) = kernels(MLP(50, [8, 1], seed=0, kernel_initializer="he_uniform"))
    assert np.abs(first).max() <= math.sqrt(6 / 50) < 1.0
    _, bias = MLP(2, [3], seed=0, bias_initializer="uniform").layers[0].get_weights()
    assert bias.any() and np.abs(bias).max() <= 1.0


def test_seeds_make_the_weights_reproducible() -> None:
    def weights(**kwargs):
        model = Sequential([Dense(4, **kwargs), Dense(2, **kwargs)])
        model.build(3)
        return [w.tolist() for w in model.get_weights()]

    assert weights(seed=3) == weights(seed=3) != weights(seed=4)
    random.seed(11)
    first = weights()
    random.seed(11)
    assert weights() == first  # without a seed, the random module's state


def test_a_function_as_initializer() -> None:
    calls = []

    def ramp(nin, nout, rng):
        calls.append((nin, nout, isinstance(rng, random.Random)))
        return np.arange(nin * nout, dtype=float).reshape(nin, nout) / 10

    layer = Layer(3, 2, seed=0, kernel_initializer=ramp, bias_initializer=lambda i, o, r: [1.0] * o)
    kernel, bias = layer.get_weights()
    np.testing.assert_array_equal(kernel, np.arange(6).reshape(3, 2) / 10)
    np.testing.assert_array_equal(bias, [1.0, 1.0])
    assert calls == [(3, 2, True)]
    with pytest.raises(
        ValueError, match=r"kernel_initializer <lambda>\(3, 4, rng\) must return numbers"
    ):
        Layer(3, 4, kernel_initializer=lambda nin, nout, rng: "abc")
    with pytest.raises(ValueError, match=r"returned shape \(4, 3\); expected \(3, 4\)"):
        Layer(3, 4, kernel_initializer=lambda nin, nout, rng: np.zeros((nout, nin)))
    with pytest.raises(ValueError, match="non-finite"):
        Layer(2, 1, bias_initializer=lambda nin, nout, rng: [math.nan])


def test_bad_initializer_names() -> None:
    with pytest.raises(
        ValueError, match=r"unknown kernel initializer 'glorot' \(did you mean .*'glorot_uniform'"
    ):
        Dense(2, kernel_initializer="glorot")
    with pytest.raises(TypeError, match="bias_initializer must be a name"):
        Layer(2, 2, bias_initializer=0.0)
    with pytest.raises(ValueError, match="softmax is the activation of a whole layer"):
        Neuron(2, activation="softmax")
    assert initializers.get("GlorotUniform", "kernel_initializer").name == "glorot_uniform"
    assert initializers.get("kaiming_uniform", "kernel_initializer").name == "he_uniform"


def test_glorot_helps_on_sixty_four_inputs() -> None:
    """The README's note: U(-1, 1) on 64 standardized inputs saturates the first layer."""
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(X))
    X, y = X[order], y[order]
    train, test = slice(0, 1300), slice(1300, None)
    X = (X - X[train].mean(axis=0)) / (X[train].std(axis=0) + 1e-8)
    accuracy = {}
    for name in ("uniform", "glorot_uniform"):
        model = MLP(64, [64, 10], seed=0, kernel_initializer=name)
        model.compile(
            optim.Adam(learning_rate=3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"]
        )
        model.fit(X[train], y[train], epochs=5, batch_size=32, verbose=0, seed=0)
        accuracy[name] = model.evaluate(X[test], y[test], verbose=0)[1]
    assert accuracy["glorot_uniform"] >= 0.95
    assert accuracy["glorot_uniform"] > accuracy["uniform"] + 0.05
