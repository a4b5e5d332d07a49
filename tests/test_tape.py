"""The batched replay (Tape) agrees with the per-sample scalar graphs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from micrograd_like import MLP, Module, Value, datasets, define_op, losses, no_grad
from micrograd_like.engine import OPS
from micrograd_like.tape import Tape, TapeNotApplicable
from micrograd_like.training.batches import _run_batch_per_sample, _run_batch_replayed
from micrograd_like.training.state import ParameterArrays


def per_sample_gradients(model, sample_loss, X, T):
    """Reference: one scalar graph per sample, summed, then backward."""
    model.zero_grad()
    total = sum(sample_loss(model, list(x), t) for x, t in zip(X, T))
    total.backward()
    return total.data, np.array([p.grad for p in model.parameters()])


def taped_gradients(model, sample_loss, X, T):
    params = model.parameters()
    n = X.shape[1]

    def forward(leaves):
        return [sample_loss(model, leaves[:n], leaves[n])]

    tape = Tape.record(forward, params, [*X[0], T[0]])
    (losses,) = tape.run([X, T[:, None]], theta(params))
    return losses.sum(), tape.backward([np.ones(len(X))])


def theta(params):
    """The parameters' current values as the vector the replay reads."""
    return np.array([p.data for p in params])


def hinge(model, x, t):
    return (1 - t * model(x)).relu()


def squared(model, x, t):
    return 0.5 * (model(x) - t) ** 2


def logistic(model, x, t):
    z = model(x)
    return z.relu() - z * t + (1 + (-abs(z)).exp()).log()


def softmax_ce(model, x, t):
    z = model(x)
    label = int(t.data) if isinstance(t, Value) else int(t)
    return OPS["logsumexp"](*z) - sum(zi * (1.0 if i == label else 0.0) for i, zi in enumerate(z))


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "linear"])
@pytest.mark.parametrize("sample_loss", [hinge, squared, logistic])
def test_replay_matches_scalar_graphs(activation, sample_loss):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 3))
    T = np.where(rng.random(40) > 0.5, 1.0, 0.0)
    model = MLP(3, [5, 4, 1], activation=activation, seed=7)
    ref_loss, ref_grad = per_sample_gradients(model, sample_loss, X, T)
    loss, grad = taped_gradients(model, sample_loss, X, T)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-12, atol=1e-14)


def test_replay_of_a_multi_output_network_with_a_hidden_layer_of_width_one():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(25, 2))
    T = rng.normal(size=25)
    model = MLP(2, [1, 3, 2], seed=2)

    def two_outputs(m, x, t):
        a, b = m(x)
        return (a - t) ** 2 + a * b.tanh()

    ref_loss, ref_grad = per_sample_gradients(model, two_outputs, X, T)
    loss, grad = taped_gradients(model, two_outputs, X, T)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-12, atol=1e-14)


def test_linear_nodes_with_constant_weights_replay_elementwise():
    # weights that are constants (not parameters) keep the linear node unfused
    w = Value(0.3)
    params = [w]
    X = np.linspace(-1.0, 1.0, 9)[:, None]

    def forward(leaves):
        (x,) = leaves
        return [OPS["linear"](w, 2.0, x, 0.5, 1.0).sin() * x]

    tape = Tape.record(forward, params, [X[0, 0]])
    (out,) = tape.run([X], theta(params))
    expected = np.sin(0.3 * X[:, 0] + 2.0 * 0.5 + 1.0) * X[:, 0]
    np.testing.assert_allclose(out, expected, rtol=1e-14)
    (grad_w,) = tape.backward([np.ones(9)])
    reference = sum(math.cos(0.3 * x + 2.0) * x * x for x in X[:, 0])
    assert grad_w == pytest.approx(reference, rel=1e-12)


def test_the_replay_follows_parameter_updates_without_recording_again():
    model = MLP(2, [3, 1], seed=0)
    X = np.array([[0.5, -1.0], [1.5, 2.0]])
    tape = Tape.record(lambda leaves: [model(leaves)], model.parameters(), X[0])
    for p in model.parameters():
        p.data += 0.25
    (out,) = tape.run([X], theta(model.parameters()))
    assert out == pytest.approx([model(list(x)).data for x in X], rel=1e-12)


def test_categorical_replay_matches():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30, 2))
    T = rng.integers(0, 3, size=30).astype(float)
    model = MLP(2, [6, 3], activation="tanh", seed=1)
    # the label picks the target logit: record per label value is not data independent,
    # so compare one label at a time (the training code passes one-hot targets instead)
    for label in range(3):
        rows = T == label
        ref_loss, ref_grad = per_sample_gradients(model, softmax_ce, X[rows], T[rows])
        loss, grad = taped_gradients(model, softmax_ce, X[rows], T[rows])
        assert loss == pytest.approx(ref_loss, rel=1e-12)
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-12, atol=1e-14)


def test_an_op_without_a_vectorised_form_is_refused():
    cube = define_op("tape_test_cube", lambda x: x**3, lambda x, out: (3 * x * x,))
    model = MLP(1, [2, 1], seed=0)
    with pytest.raises(TapeNotApplicable, match="tape_test_cube"):
        Tape.record(lambda leaves: [cube(model(leaves))], model.parameters(), [1.0])


def test_a_non_finite_result_is_reported_as_such_not_hidden():
    x_leaf_log = OPS["log"]
    tape = Tape.record(lambda leaves: [x_leaf_log(leaves[0])], [], [1.0])
    (out,) = tape.run([np.array([[1.0], [2.0]])], theta([]))
    assert out[0] == 0.0 and out[1] == math.log(2.0)
    with pytest.raises(FloatingPointError, match="invalid value"):
        tape.run([np.array([[1.0], [-1.0]])], theta([]))


# ---------------------------------------------------------------- the replay inside fit


def _targets_for(loss, rng, n, k):
    if loss.name in ("categorical_crossentropy", "sparse_categorical_crossentropy"):
        labels = rng.integers(0, k, size=n)
        y = labels if loss.name.startswith("sparse") else np.eye(k)[labels]
    elif loss.name in ("squared_error", "mse"):
        y = rng.normal(size=(n, k))
    elif loss.name == "hinge":
        y = rng.choice([-1.0, 1.0], size=(n, k))
    elif "probabilities" in loss.name:
        y = rng.integers(0, 2, size=(n, k))
    else:
        y = rng.random(size=(n, k))
    return loss.prepare_targets(y if k > 1 or y.ndim == 1 else y[:, 0], k)


@pytest.mark.parametrize("loss", list(losses.LOSSES.values()), ids=lambda loss: loss.name)
def test_the_replayed_batch_agrees_with_the_per_sample_batch(loss):
    rng = np.random.default_rng(11)
    k = 1 if loss.name in ("hinge", "binary_crossentropy") else 3
    final = "sigmoid" if "probabilities" in loss.name else "tanh"
    model = MLP(3, [6, k], activation=final, seed=4)
    X = rng.normal(size=(17, 3))
    T = _targets_for(loss, rng, 17, k)
    J_ref, out_ref = _run_batch_per_sample(model, loss, X, T, train=True, l2=1e-3)
    grad_ref = np.array([p.grad for p in model.parameters()])
    for p in model.parameters():
        p.grad = 123.0
    arrays = ParameterArrays()
    arrays.load(model)
    J, out, grad = _run_batch_replayed(model, loss, X, T, train=True, l2=1e-3, arrays=arrays)
    assert all(p.grad == 123.0 for p in model.parameters())  # the replay writes no Value
    assert J == pytest.approx(J_ref, rel=1e-12)
    np.testing.assert_allclose(out, out_ref, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(grad, grad_ref, rtol=1e-12, atol=1e-15)


def test_fit_histories_agree_between_the_two_paths(monkeypatch):
    X, y = datasets.make_moons(60, noise=0.1, random_state=0)

    def history():
        model = MLP(2, [8, 8, 1], seed=3)
        model.compile("sgd", "hinge", metrics=["accuracy"], l2=1e-4)
        return model.fit(X, y, epochs=4, batch_size=16, seed=0, verbose=0).history

    replayed = history()
    monkeypatch.setattr(MLP, "static_graph", False)
    per_sample = history()
    assert replayed.keys() == per_sample.keys()
    for key in replayed:
        np.testing.assert_allclose(replayed[key], per_sample[key], rtol=1e-10)


class _LogOfInput(Module):
    """A static model whose forward is undefined for negative inputs."""

    static_graph = True

    def __init__(self):
        self.w = Value(1.5)

    def __call__(self, x):
        return x[0].log() * self.w if isinstance(x[0], Value) else Value(x[0]).log() * self.w


def test_a_batch_the_replay_cannot_compute_gets_the_per_sample_error():
    model = _LogOfInput()
    np.testing.assert_allclose(model.predict([[1.0], [np.e]])[:, 0], [0.0, 1.5])
    with pytest.raises(ValueError, match="log needs a positive input"):
        model.predict([[1.0], [-1.0]])


def test_recording_inside_no_grad_still_records_the_graph():
    model = MLP(2, [4, 1], seed=0)
    X = np.array([[0.1, 0.2], [0.3, -0.4]])
    with no_grad():
        first = model.predict(X)
    model.compile("sgd", "mse")
    model.train_on_batch(X, [1.0, -1.0])
    assert any(p.grad != 0.0 for p in model.parameters())
    expected = [model(list(x)).data for x in X]
    assert not np.allclose(first[:, 0], expected)  # the step changed the model
    np.testing.assert_allclose(model.predict(X)[:, 0], expected, rtol=1e-12)


def test_replacing_a_parameter_records_the_graph_again():
    model = MLP(2, [3, 1], seed=0)
    X = np.array([[0.5, 1.0]])
    model.predict(X)
    model.layers[1].neurons[0].b = Value(10.0)
    assert model.predict(X)[0, 0] == pytest.approx(model([0.5, 1.0]).data, rel=1e-12)


def test_a_layer_rebuilt_around_the_same_parameters_is_recorded_again():
    from micrograd_like import Neuron

    model = MLP(2, [3, 1], seed=0)
    X = np.array([[0.5, -1.0], [1.0, 2.0], [-0.3, 0.4]])
    model.predict(X)
    rebuilt = []
    for old in model.layers[0].neurons:
        new = Neuron(2, activation="tanh")
        new.w, new.b = old.w, old.b
        rebuilt.append(new)
    model.layers[0].neurons = rebuilt
    expected = [model(list(x)).data for x in X]
    np.testing.assert_allclose(model.predict(X)[:, 0], expected, rtol=1e-12)


class _SumOfInputs(Module):
    """A static model of any input width: w * sum(x)."""

    static_graph = True

    def __init__(self):
        self.w = Value(1.0)

    def __call__(self, x):
        return self.w * sum(x)


def test_a_new_number_of_input_columns_is_recorded_again():
    model = _SumOfInputs()
    np.testing.assert_allclose(model.predict([[1.0, 1.0, 1.0]])[:, 0], [3.0])
    np.testing.assert_allclose(model.predict([[1.0, 1.0]])[:, 0], [2.0])
    np.testing.assert_allclose(model.predict([[1.0, 1.0, 1.0, 1.0]])[:, 0], [4.0])


def test_a_neurons_activation_cannot_be_changed_behind_the_graphs_back():
    model = MLP(2, [3, 1], seed=0)
    with pytest.raises(AttributeError):
        model.layers[0].neurons[0].activation = "tanh"


def test_a_value_exponent_is_not_replayed_so_its_domain_errors_stay():
    class Power(Module):
        static_graph = True

        def __init__(self):
            self.w = Value(2.0)

        def __call__(self, x):
            return x[0] ** self.w

    with pytest.raises(ValueError, match="base must be positive"):
        Power().predict([[3.0], [0.0]])


# ---------------------------------------------------------------- how fused layers read theta


class _TwiceThrough(Module):
    """The same square layer applied twice (its parameters are read by two fused steps),
    then a head."""

    static_graph = True

    def __init__(self):
        self.shared = MLP(3, [3], activation="tanh", seed=8).layers[0]
        self.head = MLP(3, [1], seed=9).layers[0]

    def __call__(self, x):
        return self.head(self.shared.forward(self.shared.forward(x)))


class _BiasesFirst(Module):
    """A layer whose parameters are listed biases first: not a Layer's block layout."""

    static_graph = True

    def __init__(self):
        layer = MLP(3, [4], activation="sigmoid", seed=10).layers[0]
        self.biases = [n.b for n in layer.neurons]
        self.weights = [w for n in layer.neurons for w in n.w]
        self._layer = layer
        self.head = MLP(4, [1], seed=11).layers[0]

    def __call__(self, x):
        return self.head(self._layer.forward(x))


@pytest.mark.parametrize("make", [_TwiceThrough, _BiasesFirst])
def test_shared_reordered_and_tied_parameters_replay_exactly(make):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(21, 3))
    T = rng.normal(size=21)
    model = make()
    ref_loss, ref_grad = per_sample_gradients(model, squared, X, T)
    loss, grad = taped_gradients(model, squared, X, T)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-12, atol=1e-14)


def test_a_weight_used_twice_in_one_neuron_gets_both_contributions():
    model = MLP(3, [4, 1], seed=12)
    neuron = model.layers[0].neurons[1]
    neuron.w[2] = neuron.w[0]  # parameters() now lists that Value twice
    rng = np.random.default_rng(7)
    X, T = rng.normal(size=(15, 3)), rng.normal(size=15)
    _, ref_grad = per_sample_gradients(model, squared, X, T)  # each Value's .grad, per position
    _, grad = taped_gradients(model, squared, X, T)
    params = model.parameters()
    for value in set(params):  # the replay gives a Value's gradient once, at one position
        positions = [k for k, p in enumerate(params) if p is value]
        assert grad[positions].sum() == pytest.approx(ref_grad[positions[0]], rel=1e-12)


class _TwoHeads(Module):
    """A trunk and two heads on it; the loss below reads only the first head."""

    static_graph = True

    def __init__(self):
        self.trunk = MLP(3, [4], activation="tanh", seed=13).layers[0]
        self.heads = [MLP(4, [1], seed=14 + i).layers[0] for i in range(2)]

    def __call__(self, x):
        h = self.trunk.forward(x)
        return [head(h) for head in self.heads]


def test_a_layer_that_gets_no_gradient_has_a_zero_gradient_not_garbage():
    rng = np.random.default_rng(8)
    X, T = rng.normal(size=(11, 3)), rng.normal(size=11)
    model = _TwoHeads()
    params = model.parameters()

    def forward(leaves):
        first, second = model(leaves[:3])
        return [(first - leaves[3]) ** 2, second]

    tape = Tape.record(forward, params, [*X[0], T[0]])
    for _ in range(3):  # fresh gradient vectors each time, never zeroed by hand
        tape.run([X, T[:, None]], theta(params))
        grad = tape.backward([np.ones(len(X)), None])
    second_head = [
        k for k, p in enumerate(params) if any(p is q for q in model.heads[1].parameters())
    ]
    assert len(second_head) == 5 and np.all(grad[second_head] == 0.0)
    _, ref_grad = per_sample_gradients(model, lambda m, x, t: (m(x)[0] - t) ** 2, X, T)
    np.testing.assert_allclose(grad, ref_grad, rtol=1e-12, atol=1e-14)
