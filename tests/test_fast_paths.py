"""The engine's fast paths give exactly what its general paths give.

``backward()`` runs an op's ``push`` (the chain rule written out on floats) and skips a
node whose gradient is 0; ``grad()`` evaluates the op's partials. Arithmetic and the unary
methods make nodes without ``Op.__call__``'s sorting of arguments; ``weighted_sum`` makes a
neuron's ``linear`` node; the topological order emits a node at once when its parents are
all visited. Each is compared here, number for number, with the general path.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd_like import MLP, Layer, Neuron, Value, grad, no_grad
from micrograd_like.engine import OPS, Op, topological_order
from micrograd_like.engine.value import weighted_sum

PUSHED = [op for op in OPS.values() if op.push is not None]
finite = st.floats(-5.0, 5.0, allow_nan=False)


def test_the_ops_with_a_push_are_those_whose_partials_are_always_finite() -> None:
    assert {op.name for op in PUSHED} == {
        "add", "mul", "relu", "abs", "tanh", "sigmoid", "exp", "sin", "cos", "linear"
    }  # fmt: skip
    # pow, log and x ** c have partials that are infinite or undefined at 0: checked path
    assert OPS["pow"].push is OPS["log"].push is None


def _inputs_of(op: Op, draw: st.DrawFn) -> list[float]:
    n = op.arity if op.arity is not None else 2 * draw(st.integers(1, 4)) + 1
    return [draw(finite) for _ in range(n)]


@pytest.mark.parametrize("op", PUSHED, ids=lambda op: op.name)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_push_adds_exactly_what_the_partials_give(op: Op, data: st.DataObject) -> None:
    xs = data.draw(st.composite(lambda draw: _inputs_of(op, draw))())
    seed = data.draw(finite.filter(lambda g: g != 0))
    leaves = [Value(x) for x in xs]
    out = op(*leaves)
    start = [data.draw(finite) for _ in leaves]
    for leaf, g in zip(leaves, start):
        leaf.grad = g
    out.grad = seed
    op.push(out)
    partials = op.derivative(*xs, out.data)
    assert [leaf.grad for leaf in leaves] == [g + p * seed for g, p in zip(start, partials)]


def test_push_of_a_node_that_uses_one_input_twice_adds_both_uses() -> None:
    w = Value(3.0)
    out = OPS["linear"](w, w, Value(0.5))  # w * w + 0.5
    out.backward()
    assert w.grad == 6.0
    x = Value(-2.0)
    (x * x).backward()
    assert x.grad == -4.0


def _grads_both_ways(build) -> tuple[list[float], list[float]]:
    """d(root)/d(leaf) from backward() (pushes, zero skipping) and from grad() (partials)."""
    leaves, root = build()
    expected = [g.data for g in grad(root, leaves)]
    root.backward()
    return [leaf.grad for leaf in leaves], expected


def test_a_branch_cut_off_by_a_relu_that_is_off_gets_exactly_zero() -> None:
    def build():
        a, b, c = Value(-1.5), Value(2.0), Value(0.7)
        return [a, b, c], (a * b).relu() * c + b.tanh()

    got, expected = _grads_both_ways(build)
    assert got == expected
    assert got[0] == 0.0  # a only reaches the root through the relu that is off


def test_a_hinge_that_is_met_passes_no_gradient_to_its_sample() -> None:
    def build():
        model = MLP(2, [4, 1], seed=3)
        params = model.parameters()
        scores = [model([1.0, -2.0]), model([0.3, 0.4])]
        losses = [(1 + -y * s).relu() for y, s in zip([1.0, -1.0], scores)]
        return params, sum(losses) * 0.5 + 1e-4 * sum(p * p for p in params)

    got, expected = _grads_both_ways(build)
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_a_gradient_through_an_undefined_partial_is_still_refused() -> None:
    # d/dx (sqrt(x))^2 at 0: the outer square passes 0 to sqrt, whose partial is infinite.
    # pow ops have no push, so the zero is not skipped and the sweep says where it failed.
    x = Value(0.0)
    with pytest.raises((ZeroDivisionError, ValueError, OverflowError), match="pow"):
        ((x**0.5) ** 2).backward()
    assert x.grad == 0.0


SAME_AS_CALL = [
    ("add", lambda a, b: a + b),
    ("add", lambda a, b: 2 + b),
    ("add", lambda a, b: a + 0.5),
    ("mul", lambda a, b: a * b),
    ("mul", lambda a, b: -3 * a),
    ("mul", lambda a, b: -a),
    ("relu", lambda a, b: a.relu()),
    ("tanh", lambda a, b: a.tanh()),
    ("sigmoid", lambda a, b: a.sigmoid()),
    ("exp", lambda a, b: a.exp()),
    ("sin", lambda a, b: a.sin()),
    ("cos", lambda a, b: a.cos()),
    ("abs", lambda a, b: abs(a)),
]


@pytest.mark.parametrize(("name", "make"), SAME_AS_CALL)
@pytest.mark.parametrize(("x", "y"), [(1.5, -2.0), (-0.25, 0.0), (0.0, 3.0)])
def test_methods_make_the_node_the_ops_general_call_makes(name, make, x, y) -> None:
    a, b = Value(x), Value(y)
    node = make(a, b)
    assert node.rule is OPS[name]
    general = node.rule(*node.parents)
    assert (node.data, node.op) == (general.data, general.op)
    assert all(p is a or p is b or not p.parents for p in node.parents)
    with no_grad():
        leaf = make(a, b)
    assert leaf.data == node.data and leaf.parents == () and leaf.rule is None


@pytest.mark.parametrize(
    ("compute", "error", "message"),
    [
        (lambda: Value(800.0).exp(), OverflowError, "exp overflowed at 800.0"),
        (lambda: Value(1e308) * Value(10.0), OverflowError, "mul overflowed"),
        (lambda: Value(1e308) + 1e308, OverflowError, "add overflowed"),
        (lambda: Value(-1.0).log(), ValueError, "log needs a positive input"),
        (lambda: Value(1.0) + "2", TypeError, "real number"),
        (lambda: True * Value(1.0), TypeError, "got bool"),
    ],
)
def test_the_fast_paths_say_what_went_wrong_as_the_general_call_does(
    compute, error, message
) -> None:
    with pytest.raises(error, match=message):
        compute()


class Tagged(Value):
    """A subclass, as a user might write: its instances are nodes like any other."""


def test_a_subclass_operand_is_a_parent_as_it_is() -> None:
    t = Tagged(2.0)
    node = Value(3.0) * t
    assert node.parents[1] is t and type(node) is Value
    node.backward()
    assert t.grad == 3.0


def test_weighted_sum_is_the_linear_node_of_the_general_call() -> None:
    ws, xs, b = [Value(0.5), Value(-1.0)], [Value(2.0), Value(3.0)], Value(0.25)
    node = weighted_sum(ws, xs, b, [x.data for x in xs])
    general = OPS["linear"](*ws, *xs, b)
    assert node.data == general.data == -1.75
    assert node.parents == (*ws, *xs, b) and node.rule is OPS["linear"]


def test_weighted_sum_with_a_weight_that_is_a_number_goes_through_the_general_call() -> None:
    xs, b = [Value(2.0), Value(3.0)], Value(0.25)
    node = weighted_sum([0.5, Value(-1.0)], xs, b, [2.0, 3.0])
    assert node.data == -1.75 and node.parents[0].data == 0.5 and not node.parents[0].parents


def test_weighted_sum_refuses_counts_that_do_not_pair() -> None:
    with pytest.raises(ValueError, match="2 weight"):
        weighted_sum([Value(1.0), Value(2.0)], [Value(1.0)], Value(0.0), [1.0])


def test_a_neuron_with_a_weight_too_large_overflows_with_the_ops_name() -> None:
    neuron = Neuron(2, seed=0)
    neuron.w[0].data = 1e308
    with pytest.raises(OverflowError, match="linear"):
        neuron([10.0, 0.0])


def test_a_layer_wraps_each_number_once_for_all_its_neurons() -> None:
    layer = Layer(2, 3, seed=0)
    outs = layer([1.0, -2.0])
    constants = [[p for p in o.parents[0].parents if not p.parents][-3:-1] for o in outs]
    assert constants[0] == constants[1] == constants[2]
    assert [c.data for c in constants[0]] == [1.0, -2.0]


def test_a_layer_refuses_an_input_that_is_not_a_number() -> None:
    with pytest.raises(TypeError, match="real number"):
        Layer(2, 3, seed=0)([1.0, "2"])


def test_the_order_from_several_roots_is_the_order_below_a_root_that_joins_them() -> None:
    a, b = Value(1.0), Value(2.0)
    shared = a * b
    first, second = shared.relu(), shared + a
    third = first * second  # has both as ancestors
    joined = OPS["linear"](first, second, third)  # first * second + third
    assert topological_order(first, second, third) == topological_order(joined)[:-1]
    assert topological_order(third, first) == topological_order(third)


def test_a_node_found_with_all_its_parents_visited_comes_after_them() -> None:
    model = MLP(3, [5, 5, 1], seed=1)
    root = sum(model([float(i), 1.0, -1.0]) for i in range(4))
    order = topological_order(root)
    position = {node: i for i, node in enumerate(order)}
    assert len(position) == len(order)
    for node in order:
        assert all(position[p] < position[node] for p in node.parents)


def test_backward_and_grad_agree_on_a_network_where_many_relus_are_off() -> None:
    model = MLP(2, [16, 16, 1], seed=7)
    xs = [[math.cos(k), math.sin(3 * k)] for k in range(20)]

    def build():
        params = model.parameters()
        loss = sum((1 + -((-1) ** k) * model(x)).relu() for k, x in enumerate(xs))
        return params, loss

    got, expected = _grads_both_ways(build)
    assert sum(g == 0.0 for g in got) > 0
    assert got == pytest.approx(expected, rel=1e-12, abs=1e-15)
