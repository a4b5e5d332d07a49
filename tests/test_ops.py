"""Every op's derivatives against central finite differences, generated from the op table.

The cases come from OPS itself (after importing every module of the package, so an op
defined anywhere in it is included) plus constant powers ``x ** c``: an op cannot be added
without being checked. First derivatives come from ``backward()``; second derivatives from
``grad(create_graph=True)`` differentiated again, compared with central differences of the
first derivatives. Inputs are drawn inside each op's declared domain, away from its kinks;
both sides of every kink are checked explicitly.
"""

from __future__ import annotations

import importlib
import math
import pkgutil
from collections.abc import Callable, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import micrograd_like
from micrograd_like import Value, define_op, grad
from micrograd_like.engine import OPS, Op, power_op

EPS = 1e-6  # finite-difference step
REL_TOL, ABS_TOL = 1e-5, 1e-6
KINK_GAP = 1e-3  # random inputs keep this distance from kinks; kinks are checked at +-KINK_GAP
EXPONENTS = (2, 3, -1, -2, 0.5, -0.5, 1.5, 0)


def _import_every_module() -> dict[str, str]:
    """Import the whole package so that ops registered by any module are in OPS; returns
    the modules that failed to import, with the error (reported by a test below rather than
    as a collection error that would hide every op test)."""
    failures = {}
    for module in pkgutil.iter_modules(micrograd_like.__path__):
        if module.name != "__main__":
            try:
                importlib.import_module(f"micrograd_like.{module.name}")
            except Exception as exc:  # any failure is reported by a test
                failures[module.name] = f"{type(exc).__name__}: {exc}"
    return failures


IMPORT_FAILURES = _import_every_module()
OPS_UNDER_TEST: list[Op] = [*OPS.values(), *map(power_op, EXPONENTS)]


def arg_counts(op: Op) -> tuple[int, ...]:
    """The op's arity; for a variadic op, its domain's length, one, and two more."""
    if op.arity is not None:
        return (op.arity,)
    n = len(op.domain)
    return (n, 1, n + 2)


def domain_for(op: Op, n: int) -> tuple[tuple[float, float], ...]:
    """One interval per input: the declared ones, the last repeated for extra inputs."""
    return op.domain[:n] + (op.domain[-1],) * (n - len(op.domain))


def generic_point(op: Op, n: int) -> list[float]:
    """A deterministic input inside the domain, well away from every kink."""
    point = []
    for low, high in domain_for(op, n):
        candidates = (low + f * (high - low) for f in (0.3, 0.62, 0.45, 0.8))
        point.append(next(x for x in candidates if far_from_kinks(op, x, 10 * KINK_GAP)))
    return point


def far_from_kinks(op: Op, x: float, gap: float = KINK_GAP) -> bool:
    return all(abs(x - k) > gap for k in op.kinks)


def shifted(xs: Sequence[float], j: int, h: float) -> list[float]:
    return [x + h if i == j else x for i, x in enumerate(xs)]


def central_difference(f: Callable[[list[float]], list[float]], xs, j: int) -> list[float]:
    """(f(x + h e_j) - f(x - h e_j)) / 2h for a list-valued f."""
    plus, minus = f(shifted(xs, j, EPS)), f(shifted(xs, j, -EPS))
    return [(p - m) / (2 * EPS) for p, m in zip(plus, minus)]


def backward_gradient(op: Op, xs: Sequence[float]) -> list[float]:
    """d op / d x_i for each input, from backward()."""
    leaves = [Value(x) for x in xs]
    op(*leaves).backward()
    return [leaf.grad for leaf in leaves]


def graph_derivatives(op: Op, xs: Sequence[float]) -> tuple[list[float], list[list[float]]]:
    """First derivatives from grad(create_graph=True), and the Hessian H[i][j] obtained by
    differentiating each of them again."""
    leaves = [Value(x) for x in xs]
    first = grad(op(*leaves), leaves, create_graph=True)
    return [d.data for d in first], [[h.data for h in grad(d, leaves)] for d in first]


def assert_close(actual: float, expected: float, what: str, op: Op, xs) -> None:
    assert math.isclose(actual, expected, rel_tol=REL_TOL, abs_tol=ABS_TOL), (
        f"{what} of {op.name} at {list(xs)}: got {actual!r}, finite differences give {expected!r}"
    )


def check_derivatives(op: Op, xs: Sequence[float]) -> None:
    """Assert that op's first and second derivatives at xs agree with finite differences."""
    first = backward_gradient(op, xs)
    graph_first, hessian = graph_derivatives(op, xs)
    for j in range(len(xs)):
        (expected,) = central_difference(lambda x: [op.forward(*x)], xs, j)
        assert_close(first[j], expected, f"first derivative d/dx{j}", op, xs)
        assert_close(graph_first[j], first[j], f"differentiable first derivative d/dx{j}", op, xs)
        column = central_difference(lambda x: backward_gradient(op, x), xs, j)
        for i, expected in enumerate(column):
            assert_close(hessian[i][j], expected, f"second derivative d2/dx{i}dx{j}", op, xs)


def op_inputs(op: Op, n: int) -> st.SearchStrategy[list[float]]:
    """n inputs, each inside its interval and at least KINK_GAP away from every kink."""
    coordinates = (
        st.floats(low, high).filter(lambda x: far_from_kinks(op, x))
        for low, high in domain_for(op, n)
    )
    return st.tuples(*coordinates).map(list)


CASES = [
    pytest.param(op, n, id=op.name if op.arity is not None else f"{op.name}[{n} args]")
    for op in OPS_UNDER_TEST
    for n in arg_counts(op)
]

KINKS = [
    pytest.param(op, i, kink, id=f"{op.name}-x{i}-at-{kink:g}")
    for op in OPS_UNDER_TEST
    for i in range(arg_counts(op)[0])
    for kink in op.kinks
]


@pytest.mark.parametrize(("op", "n_args"), CASES)
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_derivatives_match_finite_differences(op: Op, n_args: int, data) -> None:
    check_derivatives(op, data.draw(op_inputs(op, n_args), label="inputs"))


@pytest.mark.parametrize("side", (-1.0, 1.0), ids=("left", "right"))
@pytest.mark.parametrize(("op", "i", "kink"), KINKS)
def test_derivatives_on_each_side_of_a_kink(op: Op, i: int, kink: float, side: float) -> None:
    xs = generic_point(op, arg_counts(op)[0])
    xs[i] = kink + side * KINK_GAP
    check_derivatives(op, xs)


@pytest.mark.parametrize(("op", "i", "kink"), KINKS)
def test_gradient_at_a_kink_is_between_the_one_sided_ones(op: Op, i: int, kink: float) -> None:
    xs = generic_point(op, arg_counts(op)[0])
    xs[i] = kink
    at_kink = backward_gradient(op, xs)[i]
    left = backward_gradient(op, shifted(xs, i, -KINK_GAP))[i]
    right = backward_gradient(op, shifted(xs, i, KINK_GAP))[i]
    assert min(left, right) <= at_kink <= max(left, right)


@pytest.mark.parametrize("op", OPS_UNDER_TEST, ids=lambda op: op.name)
def test_every_op_declares_where_to_check_it(op: Op) -> None:
    assert op.domain, f"{op.name} declares no domain"
    if op.arity is not None:
        assert len(op.domain) == op.arity
    for low, high in op.domain:
        assert math.isfinite(low) and math.isfinite(high) and low < high
    assert all(any(low <= k <= high for low, high in op.domain) for k in op.kinks)
    value = op(*generic_point(op, arg_counts(op)[0])).data
    assert math.isfinite(value)


def test_every_module_imports_so_that_its_ops_are_checked() -> None:
    assert IMPORT_FAILURES == {}


def test_every_op_in_the_table_is_parametrised() -> None:
    checked = {id(case.values[0]) for case in CASES}
    assert all(id(op) in checked for op in OPS_UNDER_TEST)
    assert {op.name for op in OPS_UNDER_TEST} >= {"add", "mul", "pow", "linear", "logsumexp"}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"domain": ((0.0, 1.0), (0.0, 1.0))}, "one .low, high. pair per input"),
        ({"domain": ()}, "one .low, high. pair per input"),
        ({"domain": ((1.0, 0.0),)}, "low < high"),
        ({"domain": ((0.0, math.inf),)}, "finite"),
        ({"domain": (0.0, 1.0)}, "sequence of .low, high. pairs"),
    ],
)
def test_define_op_refuses_an_op_the_tests_could_not_check(scratch_ops, kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        define_op("unchecked", math.sin, lambda x, out: (_cos(x),), **kwargs)
    assert "unchecked" not in OPS


def _cos(x):
    return x.cos() if isinstance(x, Value) else math.cos(x)


def test_the_check_passes_a_correct_user_op(scratch_ops) -> None:
    softplus = define_op("softplus_ok", lambda x: math.log1p(math.exp(x)), _softplus_partial)
    for x in (-2.5, -0.3, 0.0, 1.7):
        check_derivatives(softplus, [x])


def _softplus_partial(x, out):
    """softplus'(x) = sigmoid(x) = 1 - e^-softplus(x), with arithmetic only."""
    return (1 - math.e**-out,)


def test_the_check_catches_a_wrong_first_derivative(scratch_ops) -> None:
    square = define_op("wrong_square", lambda x: x * x, lambda x, out: (x,))
    with pytest.raises(AssertionError, match="first derivative d/dx0 of wrong_square"):
        check_derivatives(square, [1.5])


def test_the_check_catches_a_rule_that_cannot_be_differentiated(scratch_ops) -> None:
    # Right on floats, but math.cos turns a Value into a plain float: the differentiable
    # gradient is then a constant and the second derivative comes out 0, not -sin(x).
    sine = define_op("float_only_sine", math.sin, lambda x, out: (math.cos(x),))
    assert math.isclose(backward_gradient(sine, [1.0])[0], math.cos(1.0))
    with pytest.raises(AssertionError, match="second derivative d2/dx0dx0 of float_only_sine"):
        check_derivatives(sine, [1.0])


def test_the_check_catches_a_wrong_partial_of_a_two_input_op(scratch_ops) -> None:
    # d(a*b)/db should be a: the swapped partials are right only where a == b.
    mul = define_op("swapped_mul", lambda a, b: a * b, lambda a, b, out: (a, b))
    with pytest.raises(AssertionError, match="swapped_mul"):
        check_derivatives(mul, [0.5, 2.0])
