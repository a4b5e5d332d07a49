"""Gradient checks: finite differences, PyTorch's criterion, faulty-op localisation, kinks."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd_like import MLP, Value, define_op
from micrograd_like.engine import OPS
from micrograd_like.gradcheck import (
    GradcheckError,
    check_model,
    compare_gradients,
    gradcheck,
    gradgradcheck,
    numerical_grad,
)

BUILT_IN_OPS = sorted(OPS)  # before any test adds its own


def test_numerical_grad_matches_hand_derivatives():
    # f = x*y + sin(x): df/dx = y + cos(x), df/dy = x
    x, y = 0.7, -1.3
    numeric = numerical_grad(lambda a, b: a * b + a.sin(), [x, y])
    assert numeric == pytest.approx([y + math.cos(x), x], abs=1e-8)


def test_numerical_grad_accepts_a_lone_number_and_a_constant_function():
    assert numerical_grad(lambda a: a**3, 2.0) == pytest.approx([12.0], rel=1e-8)
    assert numerical_grad(lambda a: 5.0, [1.0]) == [0.0]


@pytest.mark.parametrize("name", BUILT_IN_OPS)
def test_gradcheck_passes_on_every_built_in_op(name):
    op = OPS[name]
    # a point inside each input's domain, away from the middle (where kinks sit)
    point = [low + 0.3 * (high - low) for low, high in op.domain]
    assert gradcheck(lambda *xs: op(*xs), point)
    assert gradgradcheck(lambda *xs: op(*xs), point)


def _expressions(depth: int):
    """Hypothesis strategy: functions of (x, y) built from smooth ops, as (text, function)."""
    leaves = st.sampled_from(
        [("x", lambda x, y: x), ("y", lambda x, y: y), ("0.5", lambda x, y: 0.5)]
    )
    if depth == 0:
        return leaves
    sub = _expressions(depth - 1)
    unary = {
        "tanh": Value.tanh,
        "sigmoid": Value.sigmoid,
        "sin": Value.sin,
        "cos": Value.cos,
        "exp∘tanh": lambda v: v.tanh().exp(),
    }
    binary = {
        "+": lambda a, b: a + b,
        "*": lambda a, b: a * b,
        "-": lambda a, b: a - b,
        "/": lambda a, b: a / (b * b + 1),
    }

    def apply_unary(name, e):
        return (f"{name}({e[0]})", lambda x, y: unary[name](_lift(e[1](x, y))))

    def apply_binary(name, a, b):
        return (f"({a[0]} {name} {b[0]})", lambda x, y: binary[name](_lift(a[1](x, y)), b[1](x, y)))

    return st.one_of(
        leaves,
        st.builds(apply_unary, st.sampled_from(sorted(unary)), sub),
        st.builds(apply_binary, st.sampled_from(sorted(binary)), sub, sub),
    )


def _lift(v):
    return v if isinstance(v, Value) else Value(v)


@settings(max_examples=40, deadline=None)
@given(
    _expressions(3),
    st.floats(-2, 2, allow_nan=False),
    st.floats(-2, 2, allow_nan=False),
)
def test_gradcheck_passes_on_random_smooth_expressions(expression, x, y):
    text, function = expression
    report = compare_gradients(lambda a, b: _lift(function(a, b)), [x, y])
    assert report.ok, f"{text}\n{report}"
    assert gradgradcheck(lambda a, b: _lift(function(a, b)), [x, y])


def test_a_wrong_user_op_is_caught_and_named(scratch_ops):
    # d(x^2)/dx is 2x, not 3x
    bad = define_op("bad_square", lambda x: x * x, lambda x, out: (3 * x,))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: bad(x) * y + x.tanh(), [1.5, 2.0])
    message = str(info.value)
    assert "'bad_square'" in message
    assert "NO" in message and "analytic" in message and "numeric" in message
    finding = info.value.report.faulty_ops[0]
    assert finding.op == "bad_square"
    assert finding.analytic == pytest.approx(4.5)  # 3 * 1.5
    assert finding.numeric == pytest.approx(3.0, rel=1e-6)  # 2 * 1.5
    assert [row.status for row in info.value.report.rows] == ["FAIL", "ok"]
    assert gradcheck(lambda x, y: bad(x) * y, [1.5, 2.0], raise_exception=False) is False


def test_the_wrong_partial_of_a_two_input_op_is_located(scratch_ops):
    # f(a, b) = a * b^2: partials (b^2, 2ab); the rule gets the second one wrong
    op = define_op("half_wrong", lambda a, b: a * b * b, lambda a, b, out: (b * b, a * b))
    report = compare_gradients(lambda a, b: op(a, b).sin(), [0.8, -1.1])
    assert [row.status for row in report.rows] == ["ok", "FAIL"]
    (finding,) = report.faulty_ops
    assert (finding.op, finding.input_index) == ("half_wrong", 1)
    assert finding.numeric == pytest.approx(2 * 0.8 * -1.1, rel=1e-6)


def test_pytorch_criterion_atol_plus_rtol_times_numeric(scratch_ops):
    # the derivative rule is 1% too large: fails with rtol 1e-3, passes with rtol 2e-2
    op = define_op("one_percent_off", lambda x: 3 * x, lambda x, out: (3.03,))
    assert not gradcheck(op, [1.0], raise_exception=False)
    assert gradcheck(op, [1.0], rtol=2e-2)
    # |3.03 - 3| = 0.03 <= atol 0.031 + 0
    assert gradcheck(op, [1.0], atol=0.031, rtol=0.0)


def test_a_graph_broken_by_data_is_not_blamed_on_an_op():
    report = compare_gradients(lambda x: Value(x.data**2) + x, [1.5])
    assert not report.ok
    assert report.faulty_ops == ()
    assert "Values only" in str(report)


def test_gradgradcheck_passes_on_second_derivatives():
    # includes pow with a Value exponent, log and a division
    assert gradgradcheck(lambda x, y: x**y + (x * y).log() / (y * y + 1), [1.3, 0.7])
    assert gradgradcheck(lambda x: x**3 - 2 * x, [0.4])


def test_gradgradcheck_names_an_op_whose_rule_is_not_differentiable(scratch_ops):
    # the rule reads .data on Values, so the second derivative through it is 0
    def rule(x, out):
        return (2 * (x.data if isinstance(x, Value) else x),)

    op = define_op("reads_data", lambda x: x * x, rule)
    assert gradcheck(lambda x: op(x).sin(), [0.4])  # first derivatives are right
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(lambda x: op(x).sin(), [0.4])
    assert "'reads_data'" in str(info.value)
    assert "not differentiable as written" in str(info.value)


def test_relu_at_its_kink_is_reported_as_kink_not_failure():
    # engine: relu'(0) = 0 (like PyTorch); the central difference gives 0.5
    report = compare_gradients(lambda x: x.relu(), [0.0])
    (row,) = report.rows
    assert (row.analytic, row.status) == (0.0, "kink")
    assert row.numeric == pytest.approx(0.5)
    assert report.ok and gradcheck(lambda x: x.relu(), [0.0])
    assert "kink" in str(report)


def test_kinks_within_eps_and_inside_the_graph():
    assert compare_gradients(lambda x: x.relu(), [1e-7]).rows[0].status == "kink"
    assert compare_gradients(lambda x: x.relu(), [0.5]).rows[0].status == "ok"
    # the kink is on an intermediate node: relu(x - 1) at x = 1
    assert compare_gradients(lambda x: (x - 1).relu() * 3, [1.0]).rows[0].status == "kink"
    # abs at 0: derivative 0 by convention and 0 by the symmetric difference
    assert compare_gradients(lambda x: abs(x), [0.0]).rows[0].status == "ok"


def test_a_kink_does_not_hide_a_real_error_elsewhere(scratch_ops):
    bad = define_op("bad_cube", lambda x: x**3, lambda x, out: (x * x,))
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: x.relu() + bad(y), [0.0, 1.0])
    assert [row.status for row in info.value.report.rows] == ["kink", "FAIL"]
    assert "'bad_cube'" in str(info.value)


def _squared_error(data):
    def loss(model):
        return sum(((model(x) - t) ** 2 for x, t in data), Value(0.0))

    return loss


DATA = [([0.5, -1.0], 1.0), ([1.0, 2.0], -1.0), ([-0.3, 0.2], 0.5)]


def test_check_model_on_a_small_mlp():
    model = MLP(2, [3, 1], activation="tanh", seed=1)
    before = [p.data for p in model.parameters()]
    report = check_model(model, _squared_error(DATA))
    assert report.ok
    assert len(report.rows) == 13 == len(model.parameters())
    assert report.max_rel_error < 1e-6
    assert report.rows[0].name == model.named_parameters()[0][0]
    assert [p.data for p in model.parameters()] == before  # restored
    assert all(p.grad == 0.0 for p in model.parameters())  # untouched
    text = str(report)
    assert "worst relative error" in text and "parameter" in text


def test_check_model_random_subset_is_seeded():
    model = MLP(2, [8, 8, 1], activation="tanh", seed=2)
    loss = _squared_error(DATA)
    first = check_model(model, loss, max_params=5, seed=3)
    again = check_model(model, loss, max_params=5, seed=3)
    assert len(first.rows) == 5 and first.total == len(model.parameters())
    assert [r.name for r in first.rows] == [r.name for r in again.rows]
    assert "random subset: 5 of" in str(first)
    assert first.ok


def test_check_model_reports_a_kink_and_a_wrong_op(scratch_ops):
    model = MLP(1, [1, 1], activation="relu", seed=0)
    hidden = model.layers[0].neurons[0]
    hidden.w[0].data, hidden.b.data = 1.0, 0.0
    report = check_model(model, _squared_error([([0.0], 1.0)]))  # hidden pre-activation is 0
    status = {row.name: row.status for row in report.rows}
    assert status["layers.0.neurons.0.b"] == "kink"
    assert report.ok

    bad = define_op("bad_exp", math.exp, lambda x, out: (2 * out,))
    report = check_model(model, lambda m: bad(_squared_error([([0.5], 1.0)])(m)))
    assert not report.ok
    assert [f.op for f in report.faulty_ops] == ["bad_exp"]


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: gradcheck(lambda x: x, ["a"]), ValueError),
        (lambda: gradcheck(lambda x: x, [math.nan]), ValueError),
        (lambda: gradcheck(lambda x: x, [1.0], eps=0), ValueError),
        (lambda: gradcheck(lambda x: x, [1.0], atol=-1), ValueError),
        (lambda: gradcheck(42, [1.0]), TypeError),
        (lambda: gradcheck(lambda x: [x, x], [1.0]), TypeError),
        (lambda: check_model(MLP(1, [1]), lambda m: 3.0), TypeError),
        (lambda: check_model(MLP(1, [1]), lambda m: m([1.0]), max_params=0), ValueError),
    ],
)
def test_bad_arguments_are_refused(call, error):
    with pytest.raises(error):
        call()
