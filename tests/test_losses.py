"""Losses: values and gradients by hand formulas and against PyTorch, targets, labels."""

from __future__ import annotations

import math

import numpy as np
import pytest

from micrograd_like import MLP, Value
from micrograd_like.engine import topological_order
from micrograd_like.losses import (
    LOSSES,
    Loss,
    binary_crossentropy,
    binary_crossentropy_from_probabilities,
    categorical_crossentropy,
    get_loss,
    hinge,
    l2_penalty,
    mse,
    sparse_categorical_crossentropy,
    squared_error,
)


def leaves(outputs: np.ndarray) -> list[list[Value]]:
    """One list of leaf Values per sample, from an (n, k) array of outputs."""
    return [[Value(float(z)) for z in row] for row in np.asarray(outputs, dtype=float)]


def loss_and_grads(loss: Loss, y_true, outputs: np.ndarray) -> tuple[float, np.ndarray]:
    """The loss and d(loss)/d(output) for every output, shape (n, k)."""
    z = leaves(outputs)
    result = loss(y_true, z)
    result.backward()
    return result.data, np.array([[v.grad for v in row] for row in z])


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * z))


# ---------------------------------------------------------------- hand formulas


def test_squared_error_is_half_the_sum_and_its_derivative_is_y_minus_t() -> None:
    outputs = np.array([[0.5, -1.0], [2.0, 0.25], [0.0, 3.0]])
    targets = np.array([[1.0, -1.0], [0.0, 1.0], [0.5, 2.0]])
    value, grads = loss_and_grads(squared_error, targets, outputs)
    assert value == pytest.approx(0.5 * np.sum((outputs - targets) ** 2), rel=1e-15)
    np.testing.assert_allclose(grads, outputs - targets, rtol=0, atol=1e-15)
    assert squared_error.reduction == "sum"


def test_mse_is_the_mean_over_samples_and_outputs() -> None:
    outputs = np.array([[0.5, -1.0], [2.0, 0.25], [0.0, 3.0]])
    targets = np.array([[1.0, -1.0], [0.0, 1.0], [0.5, 2.0]])
    value, grads = loss_and_grads(mse, targets, outputs)
    assert value == pytest.approx(np.mean((outputs - targets) ** 2), rel=1e-15)
    np.testing.assert_allclose(grads, 2 * (outputs - targets) / outputs.size, atol=1e-15)


def test_a_loss_on_a_model_s_outputs_like_micrograd() -> None:
    model = MLP(3, [4, 1], seed=0)
    X = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    predictions = [model(x) for x in X]
    loss = mse(ys, predictions)
    expected = np.mean([(p.data - y) ** 2 for p, y in zip(predictions, ys)])
    assert loss.data == pytest.approx(expected, rel=1e-15)
    loss.backward()
    assert any(p.grad != 0 for p in model.parameters())


def test_hinge_maps_0_1_labels_to_minus_1_plus_1() -> None:
    np.testing.assert_array_equal(hinge.prepare_targets([0, 1, 1, 0], 1)[:, 0], [-1, 1, 1, -1])
    np.testing.assert_array_equal(hinge.prepare_targets([-1, 1, 1], 1)[:, 0], [-1, 1, 1])
    outputs = np.array([[0.3], [-2.0], [0.9], [1.5]])
    from_01, grads_01 = loss_and_grads(hinge, [0, 1, 1, 0], outputs)
    from_pm, grads_pm = loss_and_grads(hinge, [-1, 1, 1, -1], outputs)
    t = np.array([-1, 1, 1, -1])
    expected = np.mean(np.maximum(0, 1 - t * outputs[:, 0]))
    assert from_01 == from_pm == pytest.approx(expected, rel=1e-15)
    np.testing.assert_array_equal(grads_01, grads_pm)
    np.testing.assert_allclose(grads_pm[:, 0], np.where(1 - t * outputs[:, 0] > 0, -t / 4, 0))


@pytest.mark.parametrize("z", [-1000.0, -40.0, -1.0, 0.0, 1e-3, 2.5, 40.0, 1000.0])
@pytest.mark.parametrize("t", [0.0, 1.0, 0.3])
def test_binary_crossentropy_on_logits_is_stable_and_has_the_right_gradient(z, t) -> None:
    value, grads = loss_and_grads(binary_crossentropy, [t], np.array([[z]]))
    # log(1 + e^z) - t z, written to avoid overflow: max(z, 0) + log1p(e^-|z|) - t z
    expected = max(z, 0.0) + math.log1p(math.exp(-abs(z))) - t * z
    assert math.isfinite(value)
    assert value == pytest.approx(expected, rel=1e-14, abs=1e-15)
    assert grads[0, 0] == pytest.approx(sigmoid(np.array(z)) - t, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("scale", [1.0, 1000.0])
def test_categorical_crossentropy_is_stable_with_huge_logits(scale) -> None:
    logits = scale * np.array([[1.0, -1.0, 0.5], [-1.0, -1.0, 1.0]])
    labels = np.array([0, 1])
    value, grads = loss_and_grads(sparse_categorical_crossentropy, labels, logits)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    onehot = np.eye(3)[labels]
    assert math.isfinite(value)
    assert value == pytest.approx(-np.mean(log_softmax[[0, 1], labels]), rel=1e-14)
    np.testing.assert_allclose(grads, (np.exp(log_softmax) - onehot) / 2, atol=1e-15)


def test_binary_crossentropy_from_probabilities_clips_to_1e_7() -> None:
    value, grads = loss_and_grads(binary_crossentropy_from_probabilities, [1, 0], [[0.0], [1.0]])
    assert value == pytest.approx(-math.log(1e-7), rel=1e-8)  # 1 - (1 - 1e-7) is inexact
    np.testing.assert_array_equal(grads, [[0.0], [0.0]])  # the clip is flat outside


# ---------------------------------------------------------------- against PyTorch


def torch_reference(name: str, torch, z, t):
    """The same loss computed by torch.nn.functional (hinge by its formula)."""
    F = torch.nn.functional
    if name == "squared_error":
        return 0.5 * F.mse_loss(z, t, reduction="sum")
    if name == "mse":
        return F.mse_loss(z, t)
    if name == "mae":
        return F.l1_loss(z, t)
    if name == "hinge":
        return torch.clamp(1 - (2 * t - 1) * z, min=0).mean()
    if name == "binary_crossentropy":
        return F.binary_cross_entropy_with_logits(z, t)
    if name == "binary_crossentropy_from_probabilities":
        return F.binary_cross_entropy(z, t)
    if name == "categorical_crossentropy":
        return F.cross_entropy(z, t)
    return F.cross_entropy(z, t.long())


def random_case(name: str, n: int, k: int, rng: np.random.Generator):
    """(outputs, targets) suited to the loss, with some huge logits for crossentropies."""
    outputs = rng.normal(scale=2.0, size=(n, k))
    if name == "binary_crossentropy_from_probabilities":
        return rng.uniform(0.01, 0.99, size=(n, k)), rng.integers(0, 2, size=(n, k)) * 1.0
    if name in (
        "binary_crossentropy",
        "categorical_crossentropy",
        "sparse_categorical_crossentropy",
    ):
        outputs[0, 0], outputs[-1, -1] = 1000.0, -1000.0
    if name == "sparse_categorical_crossentropy":
        return outputs, rng.integers(0, k, size=n)
    if name == "categorical_crossentropy":
        return outputs, np.eye(k)[rng.integers(0, k, size=n)]
    if name == "binary_crossentropy":
        return outputs, rng.uniform(0, 1, size=(n, k))  # soft labels too
    if name == "hinge":
        return outputs, rng.integers(0, 2, size=(n, k)) * 1.0
    return outputs, rng.normal(size=(n, k))


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("k", [1, 3])
def test_losses_and_gradients_match_torch(name, k) -> None:
    torch = pytest.importorskip("torch")
    if "categorical" in name and k == 1:
        k = 2
    outputs, targets = random_case(name, 6, k, np.random.default_rng(k))
    value, grads = loss_and_grads(LOSSES[name], targets, outputs)
    z = torch.tensor(outputs, dtype=torch.float64, requires_grad=True)
    t = torch.tensor(targets, dtype=torch.float64)
    reference = torch_reference(name, torch, z, t)
    reference.backward()
    assert value == pytest.approx(reference.item(), rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(grads, z.grad.numpy(), rtol=1e-10, atol=1e-14)


# ---------------------------------------------------------------- per-sample terms


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_per_sample_uses_value_ops_only(name) -> None:
    """The same graph shape for any targets and outputs, and Value targets work: the term
    can be traced once and replayed."""
    loss = LOSSES[name]
    rng = np.random.default_rng(0)

    def graph(outputs: list[float], targets: np.ndarray, as_values: bool):
        t = [Value(x) for x in targets.tolist()] if as_values else targets
        z = [Value(x) for x in outputs]
        out = loss.per_sample(t, z)
        return out, [node.op for node in topological_order(out)]

    shapes = set()
    for scale in (0.1, 5.0, 100.0):
        outputs = (scale * rng.normal(size=3)).tolist()
        if name == "binary_crossentropy_from_probabilities":
            outputs = rng.uniform(0, 1, size=3).tolist()
        raw = rng.integers(0, 2, (1, 3))
        if "categorical" in name:
            raw = rng.integers(0, 3, size=1)
            raw = raw if name.startswith("sparse") else np.eye(3)[raw]
        targets = loss.prepare_targets(raw, 3)[0]
        constant, ops = graph(outputs, targets, as_values=False)
        traced, traced_ops = graph(outputs, targets, as_values=True)
        assert traced.data == pytest.approx(constant.data, rel=1e-15, abs=1e-300)
        shapes.add(tuple(op for op in ops if op))
    assert len(shapes) == 1


def test_per_sample_takes_a_number_or_a_row_and_checks_the_width() -> None:
    z = Value(0.5)
    assert mse.per_sample(np.float64(1.5), [z]).data == 1.0
    assert mse.per_sample([1.5], [z]).data == 1.0
    with pytest.raises(ValueError, match="mse: one sample has 1 output"):
        mse.per_sample(np.array([1.0, 2.0]), [z])


# ---------------------------------------------------------------- targets and labels


@pytest.mark.parametrize(
    "loss, y, k, message",
    [
        (mse, [0.0, float("nan")], 1, r"mse expects finite real numbers; got nan \(row 1\)"),
        (mse, [[0.0, 1.0]], 1, r"mse expects targets of shape \(n,\) or \(n, 1\)"),
        (mse, [0.0, 1.0], 2, r"mse expects targets of shape \(n, 2\)"),
        (mse, ["a", "b"], 1, "mse expects an array of finite real numbers"),
        (mse, [], 1, "at least one sample"),
        (squared_error, [1.0, float("inf")], 1, "squared_error expects finite .* got inf"),
        (hinge, [0, 1, 2], 1, r"hinge expects labels -1 or \+1 .*got 2.0 \(row 2\)"),
        (hinge, [-1, 0, 1], 1, "hinge expects labels -1 or"),
        (hinge, [0.5, 1.0], 1, "hinge expects labels"),
        (binary_crossentropy, [0, 2, 1], 1, r"binary_crossentropy expects targets in \[0, 1\]"),
        (binary_crossentropy, [0, -1], 1, r"got -1.0 \(row 1\)"),
        (binary_crossentropy, [0, float("nan")], 1, "binary_crossentropy expects .* got nan"),
        (binary_crossentropy_from_probabilities, [3], 1, "from_probabilities expects targets"),
        (categorical_crossentropy, [0, 1], 2, "use sparse_categorical_crossentropy"),
        (categorical_crossentropy, [[1, 1], [0, 1]], 2, r"expects one-hot rows.*\(row 0\)"),
        (categorical_crossentropy, [[1.5, -0.5]], 2, "expects one-hot rows"),
        (categorical_crossentropy, [[1.0]], 1, "at least 2"),
        (sparse_categorical_crossentropy, [0, 3], 3, r"labels 0 \.\. 2 .* got 3.0 \(row 1\)"),
        (sparse_categorical_crossentropy, [0, -1], 3, r"got -1.0 \(row 1\)"),
        (sparse_categorical_crossentropy, [0.5], 3, "integer class labels"),
        (sparse_categorical_crossentropy, [[0, 1]], 3, r"shape \(n,\) or \(n, 1\)"),
        (sparse_categorical_crossentropy, [0, 1], 1, "one output per class"),
        (sparse_categorical_crossentropy, [0, float("inf")], 2, "sparse_categorical.* inf"),
    ],
)
def test_bad_targets_are_refused_with_the_loss_name(loss, y, k, message) -> None:
    with pytest.raises(ValueError, match=message):
        loss.prepare_targets(y, k)


def test_prepared_targets() -> None:
    np.testing.assert_array_equal(
        sparse_categorical_crossentropy.prepare_targets([2, 0, 1.0], 3), np.eye(3)[[2, 0, 1]]
    )
    np.testing.assert_array_equal(
        sparse_categorical_crossentropy.prepare_targets([[1], [0]], 2), [[0, 1], [1, 0]]
    )
    np.testing.assert_array_equal(binary_crossentropy.prepare_targets([True, False], 1), [[1], [0]])
    assert mse.prepare_targets([[1.0, 2.0]], 2).dtype == np.float64
    with pytest.raises(ValueError, match="n_outputs must be >= 1"):
        mse.prepare_targets([1.0], 0)


@pytest.mark.parametrize(
    "loss, outputs, expected",
    [
        (hinge, [[0.3], [-0.1], [0.0]], [1, -1, -1]),
        (binary_crossentropy, [[0.3], [-0.1], [0.0]], [1, 0, 0]),
        (binary_crossentropy_from_probabilities, [[0.3], [0.7], [0.5]], [0, 1, 0]),
        (mse, [[0.3], [0.7], [0.5]], [0, 1, 0]),
        (mse, [[0.3, 0.1], [0.2, 0.7]], [0, 1]),
        (categorical_crossentropy, [[0.3, 0.1, 5.0], [2.0, 0.7, 1.0]], [2, 0]),
        (sparse_categorical_crossentropy, [[-3.0, -2.0], [2.0, 0.7]], [1, 0]),
    ],
)
def test_outputs_to_labels(loss, outputs, expected) -> None:
    np.testing.assert_array_equal(loss.to_labels(np.array(outputs)), expected)


@pytest.mark.parametrize(
    "loss, y, k",
    [
        (hinge, [0, 1, 1], 1),
        (hinge, [-1, 1, 1], 1),
        (binary_crossentropy, [0, 1, 1], 1),
        (binary_crossentropy_from_probabilities, [1, 0, 0], 1),
        (mse, [0, 1, 1], 1),
        (sparse_categorical_crossentropy, [2, 0, 1], 3),
        (categorical_crossentropy, np.eye(3)[[1, 1, 0]], 3),
    ],
)
def test_target_labels_agree_with_perfect_predictions(loss, y, k) -> None:
    """Outputs that a perfectly trained model gives are labelled like the targets."""
    prepared = loss.prepare_targets(y, k)
    perfect = {
        "hinge": 2.0 * prepared,
        "binary_crossentropy": 20.0 * (prepared - 0.5),
    }.get(loss.name, prepared)
    np.testing.assert_array_equal(loss.to_labels(perfect), loss.target_labels(prepared))


def test_multi_output_binary_labels_are_per_output() -> None:
    outputs = np.array([[1.0, -1.0], [-2.0, 3.0]])
    np.testing.assert_array_equal(binary_crossentropy.to_labels(outputs), [[1, 0], [0, 1]])
    np.testing.assert_array_equal(hinge.to_labels(outputs), [[1, -1], [-1, 1]])


# ---------------------------------------------------------------- calling errors


def test_loss_call_errors() -> None:
    z = [Value(0.1), Value(0.2)]
    with pytest.raises(ValueError, match="mse: y_true has 3 sample"):
        mse([1.0, 2.0, 3.0], z)
    with pytest.raises(TypeError, match="for one sample .* y_true must be a number, got list"):
        mse([1.0], Value(0.1))
    with pytest.raises(
        TypeError, match="y_pred must be a Value .one sample. or a non-empty sequence"
    ):
        mse([], [])
    with pytest.raises(TypeError, match=r"y_pred\[1\] must be a Value"):
        mse([1.0, 2.0], [Value(0.1), 0.2])
    with pytest.raises(ValueError, match="the same number of outputs"):
        mse([[1.0], [2.0]], [[Value(0.1)], [Value(0.2), Value(0.3)]])


def test_a_custom_loss() -> None:
    def absolute(targets, outputs):
        return sum(abs(z - t) for z, t in zip(outputs, targets))

    mae = Loss("mae", absolute)
    assert mae([1.0, -1.0], [Value(0.5), Value(1.0)]).data == pytest.approx(1.25)
    assert get_loss(mae) is mae
    with pytest.raises(ValueError, match="reduction must be 'sum' or 'mean'"):
        Loss("x", absolute, reduction="max")
    with pytest.raises(TypeError, match="per_sample must be callable"):
        Loss("x", 3)


# ---------------------------------------------------------------- names and penalty


def test_get_loss_by_name_and_alias() -> None:
    for name, loss in LOSSES.items():
        assert get_loss(name) is loss and loss.name == name
    assert get_loss("mean_squared_error") is mse
    with pytest.raises(ValueError, match="unknown loss 'l1'; known: binary_crossentropy"):
        get_loss("l1")
    with pytest.raises(TypeError, match="a loss is a name or a Loss"):
        get_loss(3)


def test_l2_penalty_value_and_gradient() -> None:
    params = [Value(1.5), Value(-2.0), Value(0.25)]
    penalty = l2_penalty(params, 1e-2)
    assert penalty.data == pytest.approx(1e-2 * (1.5**2 + 2.0**2 + 0.25**2), rel=1e-15)
    penalty.backward()
    assert [p.grad for p in params] == pytest.approx([2e-2 * p.data for p in params], rel=1e-15)
    assert l2_penalty([], 0.5).data == 0.0
    with pytest.raises(ValueError, match="alpha must be a finite number >= 0"):
        l2_penalty(params, -1.0)
    with pytest.raises(TypeError, match=r"params\[0\] must be a Value"):
        l2_penalty([1.0], 0.1)
