"""The nn extensions for training: Sequential, named parameters, state dicts, summary."""

from __future__ import annotations

import math

import numpy as np
import pytest

from micrograd_like import MLP, Layer, Module, Neuron, Value
from micrograd_like.nn import Sequential
from micrograd_like.optim import SGD


def test_named_parameters_follow_the_attributes_in_parameters_order() -> None:
    model = MLP(2, [16, 16, 1], seed=0)
    named = model.named_parameters()
    assert [p for _, p in named] == model.parameters()
    names = [name for name, _ in named]
    assert len(set(names)) == len(names) == 337
    # layer 0: each neuron has 2 weights then a bias, so neuron 3 starts at index 9
    assert names[9 + 1] == "layers.0.neurons.3.w.1"
    assert names[9 + 2] == "layers.0.neurons.3.b"
    assert names[0] == "layers.0.neurons.0.w.0"
    assert names[-1] == "layers.2.neurons.0.b"
    assert named[10][1] is model.layers[0].neurons[3].w[1]


def test_named_parameters_of_neurons_layers_and_custom_modules() -> None:
    assert [n for n, _ in Neuron(2, seed=0).named_parameters()] == ["w.0", "w.1", "b"]
    assert [n for n, _ in Layer(1, 2, seed=0).named_parameters()] == [
        "neurons.0.w.0",
        "neurons.0.b",
        "neurons.1.w.0",
        "neurons.1.b",
    ]

    class Affine(Module):
        def __init__(self) -> None:
            self.scale = Value(2.0)
            self.inner = Neuron(1, seed=0)
            self._cache = Value(9.0)  # private: not a parameter
            self.name = "affine"

    model = Affine()
    assert [n for n, _ in model.named_parameters()] == ["scale", "inner.w.0", "inner.b"]
    assert model.parameters() == [model.scale, model.inner.w[0], model.inner.b]


def test_a_shared_submodule_is_counted_once() -> None:
    shared = Layer(2, 2, seed=0)

    class Twice(Module):
        def __init__(self) -> None:
            self.first = shared
            self.second = shared

    assert len(Twice().parameters()) == len(shared.parameters()) == 6


def test_state_dict_round_trip_gives_identical_outputs() -> None:
    source, target = MLP(3, [4, 2], seed=1), MLP(3, [4, 2], seed=2)
    state = source.state_dict()
    assert list(state) == [n for n, _ in source.named_parameters()]
    assert all(type(v) is float for v in state.values())
    target.load_state_dict(state)
    x = [0.3, -1.2, 0.7]
    assert [o.data for o in target(x)] == [o.data for o in source(x)]
    state["layers.0.neurons.0.w.0"] = 123.0  # the dict is a copy
    assert source.layers[0].neurons[0].w[0].data != 123.0


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s.pop("layers.1.neurons.0.b"), "missing 'layers.1.neurons.0.b'"),
        (lambda s: s.update(extra=1.0), "unexpected 'extra'"),
        (lambda s: s.update({"layers.0.neurons.0.b": math.nan}), "finite"),
        (lambda s: s.update({"layers.0.neurons.0.b": math.inf}), "finite"),
        (lambda s: s.update({"layers.0.neurons.0.b": "0.5"}), "real number"),
        (lambda s: s.update({"layers.0.neurons.0.b": True}), "real number"),
    ],
)
def test_load_state_dict_is_strict_and_all_or_nothing(change, message) -> None:
    model = MLP(2, [2, 1], seed=0)
    before = model.state_dict()
    state = {name: value + 1.0 for name, value in before.items()}
    change(state)
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(state)
    assert model.state_dict() == before


def test_load_state_dict_accepts_numpy_numbers_and_refuses_non_mappings() -> None:
    model = Neuron(1, seed=0)
    model.load_state_dict({"w.0": np.float64(0.25), "b": np.int64(-1)})
    assert (model.w[0].data, model.b.data) == (0.25, -1.0)
    with pytest.raises(TypeError, match="mapping"):
        model.load_state_dict([("w.0", 1.0), ("b", 0.0)])


def summary_text(model) -> str:
    lines: list[str] = []
    assert model.summary(print_fn=lines.append) is None  # Keras' summary prints
    return "\n".join(lines)


def test_summary_of_micrograds_demo_model(capsys) -> None:
    model = MLP(2, [16, 16, 1], seed=0)
    model.summary()
    text = capsys.readouterr().out
    assert text == summary_text(model) + "\n"
    # (inputs + 1 bias) * neurons per layer: 3*16, 17*16, 17*1
    rows = [line.split() for line in text.splitlines() if line.startswith("layers.")]
    assert rows == [
        ["layers.0", "(Layer)", "16", "relu", "48"],
        ["layers.1", "(Layer)", "16", "relu", "272"],
        ["layers.2", "(Layer)", "1", "linear", "17"],
    ]
    assert "Total params: 337" in text
    assert "MLP" in text.splitlines()[0]


def test_summary_shows_mixed_activations() -> None:
    layer = Layer(2, 2, seed=0)
    layer.neurons[1] = Neuron(2, activation="tanh", seed=0)
    assert layer.activation is None
    assert "mixed" in summary_text(Sequential(layer))


def test_sequential_applies_the_layers_in_order() -> None:
    first = Layer(2, 3, activation="tanh", seed=0)
    second = Layer(3, 2, nonlin=False, seed=1)
    model = Sequential(first, second)
    x = [0.4, -0.9]
    expected = second(first(x))
    assert [o.data for o in model(x)] == [o.data for o in expected]
    assert model.parameters() == first.parameters() + second.parameters()
    assert (model.nin, model.nout) == (2, 2)
    assert repr(model).startswith("Sequential of [Layer of [TanhNeuron(2)")
    assert Sequential([first, second]).layers == [first, second]
    single = Sequential(Layer(2, 1, nonlin=False, seed=0))
    assert type(single([1.0, 2.0])) is Value


def test_an_mlp_is_a_sequential() -> None:
    model = MLP(3, [5, 1], seed=0)
    assert isinstance(model, Sequential)
    assert (model.nin, model.nout) == (3, 1)
    assert (Neuron(4).nin, Neuron(4).nout) == (4, 1)
    assert (Layer(4, 2).nin, Layer(4, 2).nout) == (4, 2)


def test_bad_sequentials() -> None:
    with pytest.raises(ValueError, match=r"no layers yet: add\(layer\) first"):
        Sequential()([1.0])
    with pytest.raises(TypeError, match="item 1 is a Neuron"):
        Sequential(Layer(2, 1), Neuron(1))
    with pytest.raises(ValueError, match="layer 1 reads 4 input"):
        Sequential(Layer(2, 3), Layer(4, 1))


def test_a_neuron_can_be_trained_with_fit() -> None:
    """The training methods work on any Module: a single neuron learns logical AND."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 0, 0, 1])
    neuron = Neuron(2, nonlin=False, seed=0)
    neuron.compile(SGD(lr=0.5), "hinge", metrics=["accuracy"])
    neuron.fit(X, y, epochs=40, batch_size=None, verbose=0)
    assert neuron.evaluate(X, y, return_dict=True, verbose=0)["accuracy"] == 1.0
    assert neuron.predict(X).shape == (4, 1)
