"""The engine: Value, its ops and conversions, graph shapes, backward and grad, no_grad,
define_op, the errors on bad input, and the command line entry points.

Expected numbers are derived by hand (formulas evaluated with the math module) or are the
published outputs of micrograd's README example.
"""

from __future__ import annotations

import asyncio
import gc
import math
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import micrograd_like
from micrograd_like import Value, define_op, grad, is_grad_enabled, no_grad
from micrograd_like.engine import OPS, topological_order

# ---------------------------------------------------------------- micrograd's README example


def micrograd_readme_example(value_class):
    """The expression of micrograd's README, built with the given Value class."""
    a = value_class(-4.0)
    b = value_class(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    return a, b, g


def test_micrograd_readme_example_prints_its_published_numbers() -> None:
    a, b, g = micrograd_readme_example(Value)
    g.backward()
    assert f"{g.data:.4f}" == "24.7041"
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"


def test_micrograd_readme_example_matches_micrograd_itself() -> None:
    micrograd_engine = pytest.importorskip("micrograd.engine")
    ours, theirs = micrograd_readme_example(Value), micrograd_readme_example(micrograd_engine.Value)
    ours[2].backward()
    theirs[2].backward()
    assert ours[2].data == pytest.approx(theirs[2].data, rel=1e-12)
    for mine, reference in zip(ours[:2], theirs[:2]):
        assert mine.grad == pytest.approx(reference.grad, rel=1e-12)


# ---------------------------------------------------------------- conversions


@pytest.mark.parametrize(
    ("number", "expected"),
    [(3, 3.0), (-2.5, -2.5), (np.float64(2.5), 2.5), (np.float32(0.5), 0.5), (np.int64(7), 7.0)],
)
def test_value_converts_real_numbers_to_float(number, expected) -> None:
    v = Value(number)
    assert type(v.data) is float and v.data == expected
    assert type(v.grad) is float and v.grad == 0.0


@pytest.mark.parametrize(
    ("bad", "type_name"),
    [
        (True, "bool"),
        ("1.0", "str"),
        (None, "NoneType"),
        (1 + 2j, "complex"),
        ([1.0], "list"),
        (np.array([1.0, 2.0]), "ndarray"),
        (np.array(1.0), "ndarray"),
        (Value(1.0), "Value"),
    ],
)
def test_value_refuses_non_real_data_naming_the_type(bad, type_name) -> None:
    with pytest.raises(TypeError, match=rf"real number.*got {type_name}"):
        Value(bad)


@pytest.mark.parametrize("bad", ["1", None, True, [1.0]])
def test_ops_refuse_non_numbers_on_either_side(bad) -> None:
    v = Value(1.0)
    for op in (
        lambda: v + bad,
        lambda: bad + v,
        lambda: v - bad,
        lambda: v * bad,
        lambda: bad * v,
        lambda: v / bad,
        lambda: v**bad,
    ):
        with pytest.raises(TypeError, match=type(bad).__name__):
            op()


def test_label_must_be_a_string() -> None:
    assert Value(1.0, label="x").label == "x"
    with pytest.raises(TypeError, match="label must be a str"):
        Value(1.0, label=3)


# ---------------------------------------------------------------- ops with numbers on either side

V, W = 3.0, 2.0
OPERATIONS = [
    # (expression, f(v, w), value, d/dv, d/dw), all values derived by hand
    ("v + 2", lambda v, w: v + 2, V + 2, 1.0, 0.0),
    ("2 + v", lambda v, w: 2 + v, V + 2, 1.0, 0.0),
    ("v + w", lambda v, w: v + w, V + W, 1.0, 1.0),
    ("v - 2", lambda v, w: v - 2, V - 2, 1.0, 0.0),
    ("3 - v", lambda v, w: 3 - v, 3 - V, -1.0, 0.0),
    ("v - w", lambda v, w: v - w, V - W, 1.0, -1.0),
    ("v * 2", lambda v, w: v * 2, 2 * V, 2.0, 0.0),
    ("2 * v", lambda v, w: 2 * v, 2 * V, 2.0, 0.0),
    ("v * w", lambda v, w: v * w, V * W, W, V),
    ("v / 2", lambda v, w: v / 2, V / 2, 0.5, 0.0),
    ("1 / v", lambda v, w: 1 / v, 1 / V, -1 / V**2, 0.0),
    ("v / w", lambda v, w: v / w, V / W, 1 / W, -V / W**2),
    ("v ** 2", lambda v, w: v**2, V**2, 2 * V, 0.0),
    ("v ** -2", lambda v, w: v**-2, V**-2, -2 * V**-3, 0.0),
    ("v ** 0.5", lambda v, w: v**0.5, math.sqrt(V), 0.5 / math.sqrt(V), 0.0),
    ("2 ** v", lambda v, w: 2**v, 2**V, 2**V * math.log(2), 0.0),
    ("v ** w", lambda v, w: v**w, V**W, W * V ** (W - 1), V**W * math.log(V)),
    ("-v", lambda v, w: -v, -V, -1.0, 0.0),
    ("abs(-v)", lambda v, w: abs(-v), V, 1.0, 0.0),
    ("abs(w - v)", lambda v, w: abs(w - v), V - W, 1.0, -1.0),
    ("relu(v)", lambda v, w: v.relu(), V, 1.0, 0.0),
    ("relu(w - v)", lambda v, w: (w - v).relu(), 0.0, 0.0, 0.0),
    ("tanh(v)", lambda v, w: v.tanh(), math.tanh(V), 1 - math.tanh(V) ** 2, 0.0),
    (
        "sigmoid(v)",
        lambda v, w: v.sigmoid(),
        1 / (1 + math.exp(-V)),
        math.exp(-V) / (1 + math.exp(-V)) ** 2,
        0.0,
    ),
    ("exp(v)", lambda v, w: v.exp(), math.exp(V), math.exp(V), 0.0),
    ("log(v)", lambda v, w: v.log(), math.log(V), 1 / V, 0.0),
    ("sin(v)", lambda v, w: v.sin(), math.sin(V), math.cos(V), 0.0),
    ("cos(v)", lambda v, w: v.cos(), math.cos(V), -math.sin(V), 0.0),
    ("sqrt(v)", lambda v, w: v.sqrt(), math.sqrt(V), 0.5 / math.sqrt(V), 0.0),
    ("float64(2) * v", lambda v, w: np.float64(2.0) * v, 2 * V, 2.0, 0.0),
    ("v + int64(2)", lambda v, w: v + np.int64(2), V + 2, 1.0, 0.0),
]


@pytest.mark.parametrize(
    ("f", "value", "dv", "dw"), [c[1:] for c in OPERATIONS], ids=[c[0] for c in OPERATIONS]
)
def test_operation_value_and_gradients(f, value, dv, dw) -> None:
    v, w = Value(V), Value(W)
    out = f(v, w)
    assert type(out) is Value
    out.backward()
    assert out.data == pytest.approx(value, rel=1e-12)
    assert v.grad == pytest.approx(dv, rel=1e-12, abs=1e-15)
    assert w.grad == pytest.approx(dw, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(("base", "exponent"), [(-2.0, 3), (-2.0, -1), (-1.5, 2.0), (-3.0, -2)])
def test_negative_base_with_integer_exponent(base: float, exponent: float) -> None:
    x = Value(base)
    y = x**exponent
    y.backward()
    assert y.data == pytest.approx(base**exponent, rel=1e-15)
    assert x.grad == pytest.approx(exponent * base ** (exponent - 1), rel=1e-15)


def test_linear_and_logsumexp_by_hand() -> None:
    w1, w2, x1, x2, b = (Value(d) for d in (0.5, -2.0, 3.0, 1.5, 0.25))
    y = OPS["linear"](w1, w2, x1, x2, b)
    y.backward()
    assert y.data == 0.5 * 3.0 - 2.0 * 1.5 + 0.25
    assert [v.grad for v in (w1, w2, x1, x2, b)] == [3.0, 1.5, 0.5, -2.0, 1.0]
    z = [Value(d) for d in (1.0, 2.0, 3.0)]
    s = OPS["logsumexp"](*z)
    s.backward()
    total = sum(math.exp(d) for d in (1.0, 2.0, 3.0))
    assert s.data == pytest.approx(math.log(total), rel=1e-15)
    assert [v.grad for v in z] == pytest.approx([math.exp(d) / total for d in (1.0, 2.0, 3.0)])


def test_linear_refuses_an_even_number_of_arguments() -> None:
    with pytest.raises(ValueError, match=r"linear: expected 2n \+ 1 arguments.*got 4"):
        OPS["linear"](1.0, 2.0, 3.0, 4.0)
    with pytest.raises(ValueError, match="got 0"):
        OPS["linear"]()


def test_logsumexp_stays_finite_for_large_inputs() -> None:
    assert OPS["logsumexp"](1000.0, 1000.0).data == pytest.approx(1000.0 + math.log(2.0))


# ---------------------------------------------------------------- comparisons, hashing, slots


def test_comparisons_compare_data_and_return_bool() -> None:
    v, w = Value(3.0), Value(2.0)
    results = [v > 0, v > w, w < v, v >= 3, v <= 3.0, 3 < v, 2 <= w, v < 1]
    assert all(type(r) is bool for r in results)
    assert results == [True, True, True, True, True, False, True, False]
    with pytest.raises(TypeError, match="comparison with a Value expects a real number.*str"):
        _ = v < "a"


def test_max_sorted_and_if_work() -> None:
    values = [Value(1.0), Value(3.0), Value(-2.0), Value(2.0)]
    assert max(values) is values[1]
    assert min(values) is values[2]
    assert [v.data for v in sorted(values)] == [-2.0, 1.0, 2.0, 3.0]
    branch = "positive" if values[0] > 0 else "negative"
    assert branch == "positive"


def test_equality_is_identity_and_values_are_hashable() -> None:
    a, b = Value(1.0), Value(1.0)
    assert a == a and a != b
    assert len({a, b, a}) == 2
    assert {a: "a", b: "b"}[b] == "b"


def test_value_has_slots_and_no_instance_dict() -> None:
    v = Value(1.0)
    assert not hasattr(v, "__dict__")
    assert "__slots__" in vars(Value)
    with pytest.raises(AttributeError):
        v.anything = 1  # type: ignore[attr-defined]


def test_float_and_repr() -> None:
    v = Value(2.5)
    assert float(v) == 2.5
    assert repr(v) == "Value(data=2.5, grad=0.0)"


# ---------------------------------------------------------------- graph shapes


def test_x_times_x() -> None:
    x = Value(3.0)
    y = x * x
    y.backward()
    assert y.parents == (x, x) and x.grad == 6.0


def test_a_plus_a() -> None:
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0


def test_diamond() -> None:
    a = Value(3.0)
    d = (a * 2) * (a + 1)  # 2a(a + 1): d' = 4a + 2
    d.backward()
    assert d.data == 24.0 and a.grad == 14.0


def test_diamond_with_unary_ops() -> None:
    x = Value(0.7)
    u, s = x * x, x.sin()
    y = u * s + u  # (x^2 sin x + x^2)' = 2x sin x + x^2 cos x + 2x
    y.backward()
    expected = 2 * 0.7 * math.sin(0.7) + 0.7**2 * math.cos(0.7) + 2 * 0.7
    assert x.grad == pytest.approx(expected, rel=1e-14)


def test_value_used_in_many_places() -> None:
    a = Value(0.5)
    y = sum(k * a for k in range(1, 101))  # sum_k k a: derivative 5050
    y.backward()
    assert a.grad == 5050.0


def test_backward_twice_doubles_leaf_gradients_exactly() -> None:
    a = Value(2.0)
    t = a * a
    z = t * 1
    z.backward()
    z.backward()
    assert a.grad == 8.0  # micrograd gives 12: it accumulates into t as well
    assert t.grad == 1.0 and z.grad == 1.0  # interior gradients are recomputed


def test_micrograd_gets_backward_twice_wrong() -> None:
    micrograd_engine = pytest.importorskip("micrograd.engine")
    a = micrograd_engine.Value(2.0)
    z = (a * a) * 1
    z.backward()
    z.backward()
    assert a.grad == 12.0


def test_backward_from_two_outputs_sharing_a_node_accumulates_in_leaves() -> None:
    a, b = Value(2.0), Value(5.0)
    t = a * b
    (t * 2).backward()
    (t + 1).backward()
    assert a.grad == 2 * 5.0 + 5.0 and b.grad == 2 * 2.0 + 2.0
    assert t.grad == 1.0


def test_backward_on_a_leaf_accumulates() -> None:
    v = Value(4.0)
    v.backward()
    v.backward()
    assert v.grad == 2.0


def test_parents_are_an_ordered_tuple() -> None:
    a, b = Value(1.0), Value(2.0)
    assert (a * b).parents == (a, b)
    assert (b * a).parents == (b, a)
    assert (a**b).parents == (a, b)
    assert (a * b).op == "mul" and a.op == ""


def test_topological_order_puts_inputs_first_and_is_deterministic() -> None:
    a, b = Value(1.0), Value(2.0)
    c = a * b
    root = (c + a).tanh() * (c - b)
    order = topological_order(root)
    position = {node: i for i, node in enumerate(order)}
    assert len(position) == len(order) and order[-1] is root
    assert all(position[p] < position[node] for node in order for p in node.parents)
    assert topological_order(root) == order


def test_million_node_chain_backward_without_recursion() -> None:
    x = Value(1.5)
    y = x
    for _ in range(1_000_000):
        y = y.relu()
    y.backward()
    assert y.data == 1.5 and x.grad == 1.0


# ---------------------------------------------------------------- no reference cycles


def live_values() -> int:
    return sum(type(obj) is Value for obj in gc.get_objects())


def test_a_dropped_graph_is_freed_by_reference_counting_alone() -> None:
    gc.collect()
    gc.disable()  # only reference counting may free the graph
    try:
        before = live_values()
        x, y = Value(0.5), Value(-1.5)
        out = ((x * y).tanh() + x**2 - y / x).exp() + OPS["linear"](x, y, x, y, 1.0).sigmoid()
        out.backward()
        (dx,) = grad(out, [x], create_graph=True)
        grad(dx, [x, y])
        assert live_values() > before
        del x, y, out, dx
        assert live_values() == before
    finally:
        gc.enable()


def test_the_cycle_measurement_detects_a_cycle() -> None:
    gc.collect()
    gc.disable()
    try:
        before = live_values()
        v = Value(1.0)
        v._parents = (v,)  # a node that keeps itself alive
        del v
        assert live_values() == before + 1
    finally:
        gc.enable()
        gc.collect()


# ---------------------------------------------------------------- grad() and higher derivatives


def test_grad_returns_gradients_without_touching_grad_fields() -> None:
    x, y = Value(2.0), Value(3.0)
    t = x * y
    out = t + x.sin()
    dx, dy = grad(out, [x, y])
    assert dx.data == pytest.approx(3.0 + math.cos(2.0), rel=1e-15) and dy.data == 2.0
    assert (x.grad, y.grad, t.grad, out.grad) == (0.0, 0.0, 0.0, 0.0)
    assert dx.parents == ()  # without create_graph the results are plain numbers


def test_grad_of_an_input_not_in_the_graph_is_zero() -> None:
    x, unused = Value(2.0), Value(1.0)
    assert [g.data for g in grad(x * x, [x, unused])] == [4.0, 0.0]


def test_grad_refuses_non_values() -> None:
    x = Value(1.0)
    with pytest.raises(TypeError, match="output must be a Value, got float"):
        grad(1.0, [x])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"inputs\[1\] must be a Value, got float"):
        grad(x * x, [x, 2.0])  # type: ignore[list-item]


def nth_derivative(f, x0: float, n: int) -> float:
    x = Value(x0)
    d = f(x)
    for _ in range(n):
        (d,) = grad(d, [x], create_graph=True)
    return d.data


@pytest.mark.parametrize(
    ("f", "x0", "n", "expected"),
    [
        (lambda x: x**3, 1.5, 2, 6 * 1.5),
        (lambda x: x.tanh(), 0.7, 2, -2 * math.tanh(0.7) * (1 - math.tanh(0.7) ** 2)),
        (lambda x: x.sin(), 0.7, 2, -math.sin(0.7)),
        (lambda x: x.exp() * x, 0.3, 2, (0.3 + 2) * math.exp(0.3)),
        (lambda x: x**4, 1.5, 3, 24 * 1.5),
        (lambda x: x**4, 1.5, 4, 24.0),
        (lambda x: x**4, 1.5, 5, 0.0),
        (lambda x: x**2, 0.0, 3, 0.0),
        (lambda x: 1 / x, 2.0, 2, 2 / 2.0**3),
        (lambda x: x.sigmoid(), 0.4, 2, None),
    ],
    ids=[
        "x^3''",
        "tanh''",
        "sin''",
        "(x e^x)''",
        "x^4'''",
        "x^4''''",
        "x^4'''''",
        "x^2'''@0",
        "1/x''",
        "sigmoid''",
    ],
)
def test_higher_derivatives(f, x0: float, n: int, expected: float | None) -> None:
    if expected is None:  # sigmoid'' = s (1 - s) (1 - 2 s)
        s = 1 / (1 + math.exp(-x0))
        expected = s * (1 - s) * (1 - 2 * s)
    assert nth_derivative(f, x0, n) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_mixed_second_derivative() -> None:
    x, y = Value(0.5), Value(1.5)
    f = x * y**2 + (x * y).sin()
    dfdx, _ = grad(f, [x, y], create_graph=True)
    (d2f_dxdy,) = grad(dfdx, [y])
    xy = 0.5 * 1.5
    assert d2f_dxdy.data == pytest.approx(2 * 1.5 + math.cos(xy) - xy * math.sin(xy), rel=1e-14)


def test_a_differentiable_gradient_can_be_backpropagated() -> None:
    x = Value(1.5)
    (g,) = grad(x**3, [x], create_graph=True)
    g.backward()
    assert x.grad == pytest.approx(6 * 1.5, rel=1e-15)


# ---------------------------------------------------------------- no_grad


def test_no_grad_records_no_graph() -> None:
    x = Value(2.0)
    with no_grad():
        assert not is_grad_enabled()
        y = x * x + 1
    assert is_grad_enabled()
    assert y.data == 5.0 and y.parents == () and y.op == ""
    y.backward()
    assert x.grad == 0.0


def test_no_grad_as_a_decorator_and_nested() -> None:
    x = Value(2.0)

    @no_grad()
    def square(v: Value) -> Value:
        return v * v

    assert square(x).parents == ()
    assert len((x * x).parents) == 2
    with no_grad():
        with no_grad():
            pass
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_no_grad_is_restored_after_an_exception() -> None:
    with pytest.raises(RuntimeError), no_grad():
        raise RuntimeError("inside")
    assert is_grad_enabled()


def test_no_grad_is_per_thread() -> None:
    entered, checked = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def silent() -> None:
        with no_grad():
            entered.set()
            checked.wait(timeout=10)
            seen["silent"] = len((Value(1.0) * 2).parents)

    def recording() -> None:
        entered.wait(timeout=10)
        seen["recording"] = (is_grad_enabled(), len((Value(1.0) * 2).parents))
        checked.set()

    threads = [threading.Thread(target=silent), threading.Thread(target=recording)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert seen == {"silent": 0, "recording": (True, 2)}
    assert is_grad_enabled()


def test_no_grad_is_per_asyncio_task() -> None:
    async def main() -> list:
        entered, released = asyncio.Event(), asyncio.Event()

        async def silent() -> int:
            with no_grad():
                entered.set()
                await released.wait()
                return len((Value(1.0) * 2).parents)

        async def recording() -> tuple[bool, int]:
            await entered.wait()
            result = (is_grad_enabled(), len((Value(1.0) * 2).parents))
            released.set()
            return result

        return await asyncio.gather(silent(), recording())

    assert asyncio.run(main()) == [0, (True, 2)]


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("compute", "error", "message"),
    [
        (lambda: Value(0.0).log(), ValueError, r"log.*positive.*got 0\.0"),
        (lambda: Value(-1.0).log(), ValueError, r"log.*positive.*got -1\.0"),
        (lambda: Value(-8.0) ** (1 / 3), ValueError, r"pow0\.33.*negative base -8\.0"),
        (lambda: (-8) ** Value(1 / 3), ValueError, r"pow.*base must be positive.*-8\.0"),
        (lambda: Value(-2.0) ** Value(0.5), ValueError, r"pow.*base must be positive.*-2\.0"),
        (lambda: Value(0.0) ** -1, ValueError, r"pow-1.*0 to a negative power"),
        (lambda: Value(0.0) ** -0.5, ValueError, r"pow-0\.5.*0 to a negative power"),
        (lambda: Value(3.0) / 0, ZeroDivisionError, "division by zero"),
        (lambda: Value(3.0) / 0.0, ZeroDivisionError, "division by zero"),
        (lambda: Value(3.0) / Value(0.0), ZeroDivisionError, "division by zero"),
        (lambda: 1 / Value(0.0), ZeroDivisionError, "division by zero"),
        (lambda: Value(1000.0).exp(), OverflowError, r"exp overflowed at 1000\.0"),
        (lambda: Value(10.0) ** 400, OverflowError, r"pow400 overflowed at 10\.0"),
        (lambda: Value(0.0).sqrt().backward(), ValueError, r"derivative of pow0\.5.*at 0\.0"),
        (lambda: grad(Value(0.0).sqrt(), []), ValueError, r"derivative of pow0\.5.*at 0\.0"),
    ],
    ids=[
        "log(0)",
        "log(-1)",
        "(-8)**(1/3)",
        "(-8)**Value(1/3)",
        "Value(-2)**Value(0.5)",
        "0**-1",
        "0**-0.5",
        "v/0",
        "v/0.0",
        "v/Value(0)",
        "1/Value(0)",
        "exp(1000)",
        "10**400",
        "sqrt'(0) backward",
        "sqrt'(0) grad",
    ],
)
def test_bad_input_gives_a_clear_error(compute, error, message) -> None:
    with pytest.raises(error, match=message):
        compute()


# ---------------------------------------------------------------- define_op


@pytest.fixture
def softplus(scratch_ops):
    """softplus(x) = log(1 + e^x); softplus'(x) = sigmoid(x) = 1 - e^-softplus(x)."""
    return define_op(
        "softplus", lambda x: math.log1p(math.exp(x)), lambda x, out: (1 - math.e**-out,)
    )


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_user_op_works_with_values_and_numbers(softplus) -> None:
    assert OPS["softplus"] is softplus
    assert softplus(0.0).data == pytest.approx(math.log(2.0), rel=1e-15)
    assert softplus(2).data == pytest.approx(math.log(1 + math.exp(2.0)), rel=1e-15)
    x = Value(1.0)
    y = softplus(x * 2 + 1)
    assert y.parents[0].parents[0].parents[0] is x and y.op == "softplus"


@pytest.mark.parametrize("x0", [-3.0, -0.5, 0.0, 0.8, 4.0])
def test_user_op_gradient_matches_finite_differences(softplus, x0: float) -> None:
    x = Value(x0)
    softplus(x).backward()
    h = 1e-6
    numeric = (softplus.forward(x0 + h) - softplus.forward(x0 - h)) / (2 * h)
    assert x.grad == pytest.approx(numeric, rel=1e-7)
    assert x.grad == pytest.approx(sigmoid(x0), rel=1e-12)


def test_user_op_second_derivative(softplus) -> None:
    x0 = 0.8
    assert nth_derivative(softplus, x0, 2) == pytest.approx(
        sigmoid(x0) * (1 - sigmoid(x0)), rel=1e-12
    )


def test_user_op_with_an_int_result_gives_a_float(scratch_ops) -> None:
    step = define_op("floor_op", math.floor, lambda x, out: (0.0,))
    assert step(2.7).data == 2.0 and type(step(2.7).data) is float


def test_define_op_run_again_replaces_the_op_with_a_warning(softplus) -> None:
    before = softplus(Value(1.0))
    with pytest.warns(UserWarning, match="replacing the op 'softplus'"):
        again = define_op("softplus", math.exp, lambda x, out: (out,))
    assert OPS["softplus"] is again and again is not softplus
    assert again(1.0).data == math.exp(1.0)
    assert before.rule is softplus  # Values made before keep the op that made them
    before.backward()
    assert before.parents[0].grad == pytest.approx(sigmoid(1.0), rel=1e-12)


def test_define_op_refuses_bad_declarations(softplus) -> None:
    with pytest.raises(ValueError, match="'add' is a built-in op and cannot be replaced"):
        define_op("add", math.exp, lambda x, out: (out,))
    assert OPS["add"](1.0, 2.0).data == 3.0
    for name in ("soft plus", "1st", "", 3):
        with pytest.raises(ValueError, match="name must be an identifier"):
            define_op(name, math.exp, lambda x, out: (out,))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be callables"):
        define_op("not_callable", 2.0, lambda x, out: (out,))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive int arity"):
        define_op("no_inputs", lambda: 1.0, lambda out: ())


def test_user_op_errors_at_call_and_at_backward(scratch_ops) -> None:
    two_partials = define_op("two_partials", lambda x: 2 * x, lambda x, out: (2.0, 0.0))
    with pytest.raises(TypeError, match=r"two_partials takes 1 argument\(s\), got 2"):
        two_partials(1.0, 2.0)
    y = two_partials(Value(1.0))
    with pytest.raises(ValueError, match=r"two_partials'? returned 2 partial\(s\) for 1 input"):
        y.backward()
    complex_result = define_op("complex_result", lambda x: 1j * x, lambda x, out: (1.0,))
    with pytest.raises(TypeError, match="complex_result.*complex"):
        complex_result(1.0)
    failing = define_op("failing", lambda x: x, lambda x, out: (1 / (x - x),))
    with pytest.raises(ValueError, match="derivative of failing is undefined at 1.0"):
        failing(Value(1.0)).backward()


# ---------------------------------------------------------------- command line


def run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def test_python_m_version_and_help() -> None:
    version = run(sys.executable, "-m", "micrograd_like", "--version")
    assert version.returncode == 0
    assert version.stdout.strip() == f"micrograd-like {micrograd_like.__version__}"
    usage = run(sys.executable, "-m", "micrograd_like", "--help")
    assert usage.returncode == 0 and usage.stdout.startswith("usage: micrograd-like")


def test_console_script_next_to_the_interpreter() -> None:
    if sys.prefix == sys.base_prefix:
        pytest.skip("not running in a virtual environment")
    script = Path(sys.executable).parent / "micrograd-like"
    assert script.exists()
    result = run(str(script), "--version")
    assert result.returncode == 0 and micrograd_like.__version__ in result.stdout


# ---------------------------------------------------------------- finite numbers only


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_values_hold_finite_numbers_only(bad):
    with pytest.raises(ValueError, match="finite number"):
        Value(bad)


def test_an_overflow_in_any_op_is_an_error_naming_the_op_never_a_silent_inf():
    big = Value(1e308)
    with pytest.raises(OverflowError, match="mul overflowed at 1e\\+308, 10.0"):
        big * 10
    with pytest.raises(OverflowError, match="add overflowed"):
        big + big
    with pytest.raises(OverflowError, match="linear overflowed"):
        OPS["linear"](big, 10.0, 0.0)


def test_a_non_finite_number_assigned_to_data_is_refused_by_the_next_op():
    v = Value(1.0)
    v.data = math.nan
    with pytest.raises(ValueError, match="add: an input is nan"):
        v + 1


def test_grad_with_create_graph_records_even_inside_no_grad():
    x = Value(1.0)
    y = x**3
    with no_grad():
        (dy,) = grad(y, [x], create_graph=True)
    (d2y,) = grad(dy, [x])
    assert dy.data == 3.0 and d2y.data == 6.0


def test_a_backward_that_fails_leaves_every_grad_as_it_was() -> None:
    x = Value(0.0)
    root = x**0.5 * 2.0 + x  # d(x ** 0.5)/dx is undefined at 0; the sum's partial is fine
    x.grad, root.grad = 3.0, 7.0
    with pytest.raises(ValueError, match="derivative of pow0.5 is undefined at 0.0"):
        root.backward()
    assert (x.grad, root.grad) == (3.0, 7.0)
    y = Value(4.0)
    z = y**0.5 * 2.0 + y
    z.backward()
    z.backward()  # leaves accumulate exactly: 0 + g, then g + g
    assert y.grad == 2 * (0.5 * 4.0**-0.5 * 2.0 + 1.0)
