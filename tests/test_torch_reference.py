"""Values, gradients and second derivatives against PyTorch in float64.

Random expression graphs (seeded; operands drawn from every node built so far, so
sub-expressions are reused) are built twice, once with Values and once with torch tensors:
most ops are written once and run on both, since both types have the same methods.
"""

from __future__ import annotations

import math
import random

import pytest

from micrograd_like import MLP, Value, grad
from micrograd_like.engine import OPS

torch = pytest.importorskip("torch")

REL, ABS = 1e-10, 1e-12


def torch_logsumexp(*z):
    return torch.logsumexp(torch.stack(z), dim=0)


# (name, arity, op on Values, op on tensors or None when the same code serves both)
GRAPH_OPS = [
    ("add", 2, lambda a, b: a + b, None),
    ("sub", 2, lambda a, b: a - b, None),
    ("mul", 2, lambda a, b: a * b, None),
    ("div", 2, lambda a, b: a / (b * b + 1), None),
    ("rdiv", 1, lambda a: 2 / (1 + a * a), None),
    ("rsub", 1, lambda a: 3 - a, None),
    ("neg", 1, lambda a: -a, None),
    ("square", 1, lambda a: a**2, None),
    ("cube", 1, lambda a: 0.5 * a**3, None),
    ("inverse", 1, lambda a: (a * a + 1) ** -1, None),
    ("sqrt", 1, lambda a: (a * a + 0.5).sqrt(), None),
    ("pow", 2, lambda a, b: (a * a + 1) ** b.tanh(), None),
    ("rpow", 1, lambda a: 2 ** a.tanh(), None),
    ("abs", 1, abs, None),
    ("relu", 1, lambda a: a.relu(), None),
    ("tanh", 1, lambda a: a.tanh(), None),
    ("sigmoid", 1, lambda a: a.sigmoid(), None),
    ("exp", 1, lambda a: a.tanh().exp(), None),
    ("log", 1, lambda a: (a * a + 0.1).log(), None),
    ("sin", 1, lambda a: a.sin(), None),
    ("cos", 1, lambda a: a.cos(), None),
    (
        "linear",
        5,
        lambda *v: OPS["linear"](*v),
        lambda w1, w2, x1, x2, b: w1 * x1 + w2 * x2 + b,
    ),
    ("logsumexp", 3, lambda *z: OPS["logsumexp"](*z), torch_logsumexp),
]


def random_graph(seed: int, n_leaves: int = 3, n_ops: int = 14):
    """A recipe: leaf values and a list of (op index, operand indices) steps."""
    rng = random.Random(seed)
    leaves = [rng.uniform(-2.0, 2.0) for _ in range(n_leaves)]
    steps = []
    for k in range(n_ops):
        op = rng.randrange(len(GRAPH_OPS))
        size = n_leaves + k
        # operands: mostly recent nodes (depth), sometimes any earlier one (reuse)
        steps.append(
            (
                op,
                [
                    rng.randrange(max(0, size - 4), size)
                    if rng.random() < 0.6
                    else rng.randrange(size)
                    for _ in range(GRAPH_OPS[op][1])
                ],
            )
        )
    return leaves, steps


def build(leaves: list, steps, use_torch: bool):
    """Run the recipe on Values or on tensors; the output is the sum of the last 3 nodes."""
    nodes = list(leaves)
    for op, operands in steps:
        _, _, ours, theirs = GRAPH_OPS[op]
        f = (theirs or ours) if use_torch else ours
        nodes.append(f(*(nodes[i] for i in operands)))
    return nodes[-1] + nodes[-2] + nodes[-3]


def torch_leaves(data: list[float]):
    return [torch.tensor(d, dtype=torch.float64, requires_grad=True) for d in data]


def torch_first_and_second(out, leaves):
    """Gradient and Hessian of out with torch (zeros where a leaf is unused)."""
    first = torch.autograd.grad(out, leaves, create_graph=True, allow_unused=True)
    hessian = []
    for g in first:
        if g is None or not g.requires_grad:
            hessian.append([0.0] * len(leaves))
            continue
        row = torch.autograd.grad(g, leaves, retain_graph=True, allow_unused=True)
        hessian.append([0.0 if h is None else h.item() for h in row])
    return [0.0 if g is None else g.item() for g in first], hessian


def assert_all_close(ours, theirs, what: str) -> None:
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert math.isclose(a, b, rel_tol=REL, abs_tol=ABS), f"{what}[{i}]: {a!r} vs torch {b!r}"


@pytest.mark.parametrize("seed", range(40))
def test_random_graph_value_and_gradients(seed: int) -> None:
    data, steps = random_graph(seed)
    leaves = [Value(d) for d in data]
    out = build(leaves, steps, use_torch=False)
    out.backward()
    reference_leaves = torch_leaves(data)
    reference = build(reference_leaves, steps, use_torch=True)
    reference.backward()
    assert math.isclose(out.data, reference.item(), rel_tol=REL, abs_tol=ABS)
    expected = [0.0 if t.grad is None else t.grad.item() for t in reference_leaves]
    assert_all_close([v.grad for v in leaves], expected, "gradient")


@pytest.mark.parametrize("seed", range(100, 125))
def test_random_graph_second_derivatives(seed: int) -> None:
    data, steps = random_graph(seed, n_ops=10)
    leaves = [Value(d) for d in data]
    first = grad(build(leaves, steps, use_torch=False), leaves, create_graph=True)
    hessian = [[h.data for h in grad(g, leaves)] for g in first]
    reference_leaves = torch_leaves(data)
    reference = build(reference_leaves, steps, use_torch=True)
    expected_first, expected_hessian = torch_first_and_second(reference, reference_leaves)
    assert_all_close([g.data for g in first], expected_first, "gradient")
    for i, (row, expected_row) in enumerate(zip(hessian, expected_hessian)):
        assert_all_close(row, expected_row, f"hessian row {i}")


def test_micrograd_readme_example_against_torch() -> None:
    def example(a, b):
        c = a + b
        d = a * b + b**3
        c = c + c + 1
        c = c + 1 + c + (-a)
        d = d + d * 2 + (b + a).relu()
        d = d + 3 * d + (b - a).relu()
        e = c - d
        f = e**2
        g = f / 2.0
        return g + 10.0 / f

    a, b = Value(-4.0), Value(2.0)
    g = example(a, b)
    g.backward()
    ta, tb = torch_leaves([-4.0, 2.0])
    tg = example(ta, tb)
    tg.backward()
    assert g.data == pytest.approx(tg.item(), rel=1e-13)
    assert a.grad == pytest.approx(ta.grad.item(), rel=1e-13)
    assert b.grad == pytest.approx(tb.grad.item(), rel=1e-13)


@pytest.mark.parametrize("f", [abs, lambda v: v.relu()], ids=["abs", "relu"])
def test_kink_conventions_match_torch(f) -> None:
    x = Value(0.0)
    f(x).backward()
    tx = torch_leaves([0.0])[0]
    f(tx).backward()
    assert x.grad == tx.grad.item() == 0.0


@pytest.mark.parametrize("exponent", [2, 3, -1, -2, 0, 4.0])
@pytest.mark.parametrize("base", [-1.7, -0.3, 0.6, 2.5])
def test_constant_powers_match_torch(base: float, exponent: float) -> None:
    x = Value(base)
    (d1,) = grad(x**exponent, [x], create_graph=True)
    (d2,) = grad(d1, [x])
    tx = torch_leaves([base])[0]
    (t1,) = torch.autograd.grad(tx**exponent, [tx], create_graph=True)
    t2 = torch.autograd.grad(t1, [tx])[0].item() if t1.requires_grad else 0.0
    assert (x**exponent).data == pytest.approx((tx**exponent).item(), rel=1e-14)
    assert d1.data == pytest.approx(t1.item(), rel=1e-13)
    assert d2.data == pytest.approx(t2, rel=1e-13, abs=1e-15)


# ---------------------------------------------------------------- MLP against torch


def mlp_in_torch(model: MLP):
    """The MLP's parameters as torch matrices W (nout, nin) and bias vectors, per layer."""
    layers = []
    for layer in model.layers:
        w = [[w.data for w in n.w] for n in layer.neurons]
        b = [n.b.data for n in layer.neurons]
        layers.append(
            (
                torch.tensor(w, dtype=torch.float64, requires_grad=True),
                torch.tensor(b, dtype=torch.float64, requires_grad=True),
            )
        )
    return layers


def torch_mlp_forward(layers, x, activation: str):
    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation]
    for i, (w, b) in enumerate(layers):
        x = w @ x + b
        if i < len(layers) - 1:
            x = act(x)
    return x


def torch_parameter_grads(layers) -> list[float]:
    """Gradients in micrograd's order: layer by layer, neuron by neuron, weights then bias."""
    grads = []
    for w, b in layers:
        w_grad = torch.zeros_like(w) if w.grad is None else w.grad
        b_grad = torch.zeros_like(b) if b.grad is None else b.grad  # unused: zero
        for i in range(w.shape[0]):
            grads.extend(w_grad[i].tolist())
            grads.append(b_grad[i].item())
    return grads


BATCH = [[0.5, -1.0, 0.25], [2.0, 0.3, -0.6], [-1.2, -0.7, 1.1], [0.1, 1.5, -0.4]]
TARGETS = [[1.0, -1.0], [0.5, 0.0], [-0.5, 2.0], [0.0, 0.3]]


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_mlp_loss_and_gradients_match_torch(activation: str) -> None:
    model = MLP(3, [6, 5, 2], activation=activation, seed=21)
    layers = mlp_in_torch(model)
    loss = sum(
        (o - t) ** 2 for x, target in zip(BATCH, TARGETS) for o, t in zip(model(x), target)
    ) * (1 / len(BATCH))
    loss.backward()
    xs = torch.tensor(BATCH, dtype=torch.float64)
    ts = torch.tensor(TARGETS, dtype=torch.float64)
    outputs = torch.stack([torch_mlp_forward(layers, x, activation) for x in xs])
    reference = ((outputs - ts) ** 2).sum() / len(BATCH)
    reference.backward()
    assert loss.data == pytest.approx(reference.item(), rel=1e-12)
    assert_all_close([p.grad for p in model.parameters()], torch_parameter_grads(layers), "grad")


def test_mlp_gradient_of_an_input_gradient_penalty_matches_torch() -> None:
    """d/dparams of |d model / d x|^2: a second derivative through the linear op."""
    model = MLP(3, [5, 4, 1], activation="tanh", seed=2)
    x = [Value(d) for d in BATCH[0]]
    input_grads = grad(model(x), x, create_graph=True)
    penalty = sum(g * g for g in input_grads)
    penalty.backward()
    layers = mlp_in_torch(model)
    tx = torch.tensor(BATCH[0], dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad(
        torch_mlp_forward(layers, tx, "tanh").sum(), [tx], create_graph=True
    )
    reference = (tg * tg).sum()
    reference.backward()
    assert penalty.data == pytest.approx(reference.item(), rel=1e-12)
    assert_all_close([p.grad for p in model.parameters()], torch_parameter_grads(layers), "grad")
