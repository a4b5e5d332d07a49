"""Neuron, Layer and MLP: micrograd compatibility (same initial parameters, outputs and
gradients as micrograd 0.1.0 for the same random seed), parameter order, output shapes,
activations, seeds, reprs and errors."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

import numpy as np
import pytest

from micrograd_like import MLP, Layer, Neuron, Value

INPUTS = [[0.5, -1.0], [2.0, 0.3], [-1.2, -0.7], [0.0, 1.5]]

FLOAT_ACTIVATIONS = {
    "relu": lambda z: max(z, 0.0),
    "tanh": math.tanh,
    "sigmoid": lambda z: 1 / (1 + math.exp(-z)),
    "linear": lambda z: z,
}


def reference_forward(model: MLP, x: list[float], activation: str = "relu") -> list[float]:
    """The MLP's outputs computed on plain floats from its parameters (last layer linear)."""
    for i, layer in enumerate(model.layers):
        act = FLOAT_ACTIVATIONS["linear" if i == len(model.layers) - 1 else activation]
        x = [act(sum(w.data * xi for w, xi in zip(n.w, x)) + n.b.data) for n in layer.neurons]
    return x


def numeric_parameter_gradients(model: MLP, x: list[float], h: float = 1e-6) -> list[float]:
    """Central differences of sum(outputs) with respect to each parameter."""

    def total() -> float:
        out = model(x)
        return sum(o.data for o in out) if isinstance(out, list) else out.data

    grads = []
    for p in model.parameters():
        original = p.data
        p.data = original + h
        plus = total()
        p.data = original - h
        minus = total()
        p.data = original
        grads.append((plus - minus) / (2 * h))
    return grads


def with_nonzero_biases(model: MLP) -> MLP:
    """Biases start at 0, so a dead ReLU unit would put the next layer exactly on the ReLU
    kink, where finite differences are meaningless; shift them off it."""
    neurons = [n for layer in model.layers for n in layer.neurons]
    for i, n in enumerate(neurons):
        n.b.data = 0.1 + 0.01 * i
    return model


@pytest.fixture
def global_random() -> Iterator[None]:
    """Tests that seed the global random module leave its state as they found it."""
    state = random.getstate()
    yield
    random.setstate(state)


# ---------------------------------------------------------------- micrograd compatibility


def test_same_initial_parameters_as_micrograd(global_random) -> None:
    micrograd_nn = pytest.importorskip("micrograd.nn")
    random.seed(1337)
    theirs = micrograd_nn.MLP(2, [16, 16, 1])
    after_theirs = random.random()
    random.seed(1337)
    ours = MLP(2, [16, 16, 1])
    assert random.random() == after_theirs  # the same number of draws from the generator
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    assert repr(ours) == repr(theirs)


def test_same_outputs_and_gradients_as_micrograd(global_random) -> None:
    micrograd_nn = pytest.importorskip("micrograd.nn")
    random.seed(1337)
    theirs = micrograd_nn.MLP(2, [16, 16, 1])
    random.seed(1337)
    ours = MLP(2, [16, 16, 1])
    for x in INPUTS:
        ours.zero_grad()
        theirs.zero_grad()
        out, reference = ours(x), theirs(x)
        out.backward()
        reference.backward()
        assert out.data == pytest.approx(reference.data, rel=1e-12, abs=1e-12)
        for p, q in zip(ours.parameters(), theirs.parameters()):
            assert p.grad == pytest.approx(q.grad, rel=1e-12, abs=1e-12)


def test_a_loss_over_a_batch_matches_micrograd(global_random) -> None:
    micrograd_nn = pytest.importorskip("micrograd.nn")
    random.seed(7)
    theirs = micrograd_nn.MLP(2, [8, 3])
    random.seed(7)
    ours = MLP(2, [8, 3])
    targets = [1.0, -1.0, 0.5]

    def loss(model):
        return sum((o - t) ** 2 for x in INPUTS for o, t in zip(model(x), targets)) * (
            1.0 / len(INPUTS)
        )

    mine, reference = loss(ours), loss(theirs)
    mine.backward()
    reference.backward()
    assert mine.data == pytest.approx(reference.data, rel=1e-12)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        assert p.grad == pytest.approx(q.grad, rel=1e-12, abs=1e-12)


# ---------------------------------------------------------------- parameters


def test_parameters_layer_by_layer_neuron_by_neuron_weights_then_bias() -> None:
    model = MLP(2, [16, 16, 1], seed=0)
    expected = [p for layer in model.layers for n in layer.neurons for p in (*n.w, n.b)]
    params = model.parameters()
    assert len(params) == 337 == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    assert all(p is q for p, q in zip(params, expected, strict=True))
    assert model.layers[0].parameters() == [p for n in model.layers[0].neurons for p in (*n.w, n.b)]


def test_initialisation_is_uniform_weights_and_zero_bias() -> None:
    model = MLP(3, [20, 20, 2], seed=1)
    neurons = [n for layer in model.layers for n in layer.neurons]
    assert all(-1.0 <= w.data <= 1.0 for n in neurons for w in n.w)
    assert all(n.b.data == 0.0 for n in neurons)
    assert len({w.data for n in neurons for w in n.w}) == sum(len(n.w) for n in neurons)


def test_zero_grad() -> None:
    model = MLP(2, [4, 3], seed=0)
    for o in model([1.0, -2.0]):
        o.backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    neuron = Neuron(2, seed=0)
    neuron([1.0, 1.0]).backward()
    neuron.zero_grad()
    assert [p.grad for p in neuron.parameters()] == [0.0, 0.0, 0.0]


# ---------------------------------------------------------------- outputs


def test_a_single_output_is_a_value_several_are_a_list() -> None:
    x = [0.5, -1.0]
    assert type(MLP(2, [4, 1], seed=0)(x)) is Value
    many = MLP(2, [4, 3], seed=0)(x)
    assert type(many) is list and len(many) == 3 and all(type(o) is Value for o in many)
    assert type(Layer(2, 1, seed=0)(x)) is Value
    assert len(Layer(2, 3, seed=0)(x)) == 3
    assert type(Layer(2, 1, seed=0).forward(x)) is list
    assert type(Neuron(2, seed=0)(x)) is Value


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_hidden_layer_of_width_one(activation: str) -> None:
    model = with_nonzero_biases(MLP(3, [1, 4, 2], activation=activation, seed=5))
    x = [0.4, -0.8, 1.1]
    out = model(x)
    assert model.layers[0](x).data > 0  # the width-1 unit is active: gradients flow through
    assert [o.data for o in out] == pytest.approx(
        reference_forward(model, x, activation), rel=1e-13
    )
    (out[0] + out[1]).backward()
    analytic = [p.grad for p in model.parameters()]
    assert any(g != 0.0 for g in analytic[:4])
    assert analytic == pytest.approx(numeric_parameter_gradients(model, x), rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
def test_mlp_output_and_gradients_with_each_activation(activation: str) -> None:
    model = with_nonzero_biases(MLP(2, [5, 4, 2], activation=activation, seed=11))
    for x in INPUTS[:2]:
        model.zero_grad()
        out = model(x)
        assert [o.data for o in out] == pytest.approx(reference_forward(model, x, activation))
        (out[0] + out[1]).backward()
        numeric = numeric_parameter_gradients(model, x)
        assert [p.grad for p in model.parameters()] == pytest.approx(numeric, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize(
    ("activation", "expected"),
    [
        ("relu", 0.0),
        ("tanh", math.tanh(-1.25)),
        ("sigmoid", 1 / (1 + math.exp(1.25))),
        ("linear", -1.25),
    ],
)
def test_neuron_activation(activation: str, expected: float) -> None:
    neuron = Neuron(2, activation=activation, seed=0)
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 0.5, -1.0, 0.25
    assert neuron([1.0, 2.0]).data == pytest.approx(expected, rel=1e-15)  # z = -1.25
    assert neuron.activation == activation and neuron.nonlin == (activation != "linear")


def test_relu_neuron_passes_positive_sums() -> None:
    neuron = Neuron(2, seed=0)
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 0.5, 1.0, 0.25
    out = neuron([1.0, 2.0])
    out.backward()
    assert out.data == 2.75
    assert [p.grad for p in neuron.parameters()] == [1.0, 2.0, 1.0]


def test_hidden_layers_use_the_activation_and_the_last_layer_is_linear() -> None:
    model = MLP(2, [3, 3, 2], activation="tanh", seed=0)
    kinds = [{n.activation for n in layer.neurons} for layer in model.layers]
    assert kinds == [{"tanh"}, {"tanh"}, {"linear"}]
    assert not Neuron(2, nonlin=False).nonlin
    assert Neuron(2, nonlin=False).activation == "linear"


def test_lone_scalar_and_numpy_inputs() -> None:
    assert Neuron(1, seed=0)(2.0).data == pytest.approx(Neuron(1, seed=0)([2.0]).data)
    model = MLP(2, [3, 1], seed=4)
    assert model(np.array([0.5, -1.0])).data == model([0.5, -1.0]).data
    assert model([Value(0.5), -1.0]).data == model([0.5, -1.0]).data


# ---------------------------------------------------------------- seeds


def test_seed_gives_reproducible_initialisation() -> None:
    def weights(seed: int) -> list[float]:
        return [p.data for p in MLP(2, [4, 4, 1], seed=seed).parameters()]

    assert weights(5) == weights(5)
    assert weights(5) != weights(6)
    assert [p.data for p in Neuron(3, seed=2).parameters()] == [
        p.data for p in Neuron(3, seed=2).parameters()
    ]
    layer_a, layer_b = Layer(2, 3, seed=9), Layer(2, 3, seed=9)
    assert [p.data for p in layer_a.parameters()] == [p.data for p in layer_b.parameters()]
    # one generator shared by the neurons: they do not all get the same weights
    assert layer_a.neurons[0].w[0].data != layer_a.neurons[1].w[0].data


def test_seed_leaves_the_global_random_state_alone() -> None:
    state = random.getstate()
    MLP(2, [4, 1], seed=3)
    assert random.getstate() == state


def test_seed_none_uses_the_global_random_module(global_random) -> None:
    random.seed(42)
    first = [p.data for p in MLP(2, [3, 1]).parameters()]
    random.seed(42)
    assert [p.data for p in MLP(2, [3, 1]).parameters()] == first


def test_a_random_instance_can_be_the_seed() -> None:
    a = MLP(2, [3, 1], seed=random.Random(8))
    b = MLP(2, [3, 1], seed=8)
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]


# ---------------------------------------------------------------- reprs


def test_reprs() -> None:
    assert repr(Neuron(2)) == "ReLUNeuron(2)"
    assert repr(Neuron(2, nonlin=False)) == "LinearNeuron(2)"
    assert repr(Neuron(3, activation="tanh")) == "TanhNeuron(3)"
    assert repr(Neuron(3, activation="sigmoid")) == "SigmoidNeuron(3)"
    assert repr(Layer(2, 2)) == "Layer of [ReLUNeuron(2), ReLUNeuron(2)]"
    assert repr(MLP(2, [2, 1])) == (
        "MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2)], Layer of [LinearNeuron(2)]]"
    )


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("module", "x"),
    [
        (MLP(2, [3, 1], seed=0), [1.0]),
        (MLP(2, [3, 1], seed=0), [1.0, 2.0, 3.0]),
        (Layer(2, 3, seed=0), [1.0]),
        (Neuron(3, seed=0), [1.0, 2.0]),
        (Neuron(2, seed=0), 1.0),
    ],
)
def test_wrong_number_of_inputs(module, x) -> None:
    with pytest.raises(ValueError, match=r"expected \d input\(s\), got \d"):
        module(x)


def test_inputs_that_are_not_a_sequence() -> None:
    with pytest.raises(TypeError, match="expected a sequence of 2 input"):
        MLP(2, [1], seed=0)(None)
    with pytest.raises(TypeError, match="real number.*str"):
        MLP(2, [1], seed=0)(["a", 1.0])


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Neuron(0), ValueError, "Neuron nin must be an int >= 1, got 0"),
        (lambda: Neuron(2.5), ValueError, "Neuron nin must be an int >= 1, got 2.5"),
        (lambda: Neuron(True), ValueError, "Neuron nin must be an int >= 1, got True"),
        (lambda: Neuron("2"), ValueError, "Neuron nin must be an int >= 1"),
        (lambda: Layer(2, 0), ValueError, "Layer nout must be an int >= 1, got 0"),
        (lambda: MLP(0, [1]), ValueError, "MLP nin must be an int >= 1, got 0"),
        (lambda: MLP(2, []), ValueError, "MLP needs at least one layer size"),
        (lambda: MLP(2, [3, -1]), ValueError, "nout must be an int >= 1, got -1"),
        (lambda: MLP(2, [1], activation="gelu"), ValueError, "unknown activation 'gelu'"),
        (lambda: Neuron(2, activation="tahn"), ValueError, r"did you mean 'tanh'\?"),
        (lambda: MLP(2, [1], seed="x"), TypeError, "seed must be an int or None, got str"),
        (lambda: MLP(2, [1], seed=1.5), TypeError, "seed must be an int or None, got float"),
    ],
)
def test_bad_construction_arguments(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make()
