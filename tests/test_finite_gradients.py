"""Gradients are finite floats or the pass fails with an error naming the op (issue 11, 1).

backward() and grad() check every local partial and every accumulated gradient; a failed
backward() leaves every .grad as it was; define_op derivatives returning garbage get a clear
error naming the op, never a raw one and never a stored nan, inf, complex or array.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd_like import Op, Value, define_op, grad
from micrograd_like.engine import topological_order


def test_an_overflowing_product_of_partials_is_an_error_not_an_inf_grad():
    a = Value(1e-300)
    c = (a * 1e300) * 1e300  # c = 1e300, dc/da = 1e600
    with pytest.raises(OverflowError) as info:
        c.backward()
    message = str(info.value)
    assert "op 'mul'" in message and "input 0" in message and "1e-300" in message
    assert a.grad == 0.0
    with pytest.raises(OverflowError, match="op 'mul'"):
        grad(c, [a])  # was "Value expects a finite number, got inf"
    with pytest.raises(OverflowError, match="mul"):
        grad(c, [a], create_graph=True)


def test_an_infinite_local_derivative_is_an_error_naming_the_op():
    x = Value(5e-324)  # d log(x)/dx = 1/x = inf
    with pytest.raises(OverflowError, match=r"op 'log' at \(5e-324\), input 0, is inf"):
        x.log().backward()
    assert x.grad == 0.0


def test_a_sum_of_finite_contributions_that_overflows_is_refused():
    x = Value(1e-10)
    y = x * 1e308 + x * 1e308  # y = 2e298; dy/dx = 1e308 along each path, 2e308 in all
    with pytest.raises(OverflowError, match="gathered so far"):
        y.backward()
    assert x.grad == 0.0


def test_a_failed_backward_leaves_every_grad_as_it_was():
    x, w = Value(2.0, label="x"), Value(1e-300, label="w")
    ok = x * 3.0
    ok.backward()
    h = (w * 1e300) * 1e300 + ok * x
    before = {node: node.grad for node in topological_order(h)}
    assert any(g != 0.0 for g in before.values())
    with pytest.raises(OverflowError):
        h.backward()
    assert {node: node.grad for node in topological_order(h)} == before


def test_accumulating_into_a_huge_leaf_grad_is_refused_before_anything_is_written():
    x = Value(1e-10, label="x")
    y = x * 1e308
    y.backward()
    assert x.grad == 1e308
    with pytest.raises(OverflowError, match="leaf 'x'.*zero_grad"):
        y.backward()
    assert x.grad == 1e308 and y.grad == 1.0
    x.grad = 0.0
    y.backward()
    assert x.grad == 1e308


def test_a_leaf_grad_that_is_not_a_number_is_named():
    x = Value(2.0, label="x")
    x.grad = None  # a habit from PyTorch
    with pytest.raises(TypeError, match="leaf 'x' with data 2.0 has .grad None"):
        (x * 3.0).backward()
    assert x.grad is None


def test_huge_but_finite_gradients_whose_total_overflows_are_still_returned():
    xs = [Value(1e-10) for _ in range(3)]
    y = sum((x * 1e308 for x in xs), Value(0.0))  # total of the gradients is 3e308: inf
    y.backward()
    assert [x.grad for x in xs] == [1e308] * 3
    assert [g.data for g in grad(y, xs)] == [1e308] * 3


GARBAGE = [
    ("returns_none", lambda x, out: None, TypeError, "must return a tuple"),
    ("returns_float", lambda x, out: 2.0, TypeError, "must return a tuple"),
    ("returns_complex", lambda x, out: 1j, TypeError, "must return a tuple"),
    ("none_partial", lambda x, out: (None,), TypeError, "is NoneType None"),
    ("str_partial", lambda x, out: ("ab",), TypeError, "is str 'ab'"),
    ("complex_partial", lambda x, out: (1j,), TypeError, "is complex 1j"),
    ("array_partial", lambda x, out: (np.ones(2),), TypeError, "is ndarray"),
    ("value_partial", lambda x, out: (Value(1.0),), TypeError, "is Value"),
    ("nan_partial", lambda x, out: (math.nan,), ValueError, "input 0, is nan"),
    ("inf_partial", lambda x, out: (-math.inf,), OverflowError, "input 0, is -inf"),
    ("huge_int_partial", lambda x, out: (10**400,), OverflowError, "too large for a float"),
    ("two_partials", lambda x, out: (1.0, 2.0), ValueError, r"2 partial\(s\) for 1 input"),
    ("no_partials", lambda x, out: (), ValueError, r"0 partial\(s\) for 1 input"),
]


@pytest.mark.parametrize(("name", "derivative", "error", "message"), GARBAGE)
def test_define_op_derivatives_returning_garbage_get_a_clear_error(
    scratch_ops, name, derivative, error, message
):
    op = define_op(name, lambda x: 2 * x, derivative)
    computations = [lambda y, x: y.backward(), lambda y, x: grad(y, [x])]
    if name != "value_partial":  # a Value is a valid partial of a differentiable gradient
        computations.append(lambda y, x: grad(y, [x], create_graph=True))
    for compute in computations:
        x = Value(1.5)
        x.grad = 7.0
        y = op(x) * 3.0
        with pytest.raises(error, match=message) as info:
            compute(y, x)
        assert repr(name) in str(info.value)
        assert x.grad == 7.0 and y.grad == 0.0


def test_real_partials_of_other_types_are_stored_as_floats(scratch_ops):
    op = define_op("numpy_partial", lambda x: 2 * x, lambda x, out: (np.float64(2.0),))
    x = Value(1.0)
    (op(x) * 3.0).backward()
    assert x.grad == 6.0 and type(x.grad) is float


# every kind of thing a careless derivative rule may return, valid or not
partials = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.complex_numbers(),
    st.none(),
    st.text(max_size=3),
    st.booleans(),
    st.builds(np.float64, st.floats()),
    st.builds(np.array, st.lists(st.floats(), max_size=3)),
)
returns = st.one_of(partials, st.lists(partials, max_size=3).map(tuple), st.lists(partials))


_returned: list[object] = [None]
FUZZED = Op("fuzzed", lambda x: x, lambda x, out: _returned[0], 1)
"""An op (not registered in OPS) whose derivative returns whatever ``_returned`` holds."""


RULE_EXAMPLES = 150  # reported in the README's reliability section


@settings(max_examples=RULE_EXAMPLES, deadline=None)
@given(returned=returns, x=st.floats(-1e3, 1e3))
def test_fuzz_define_op_rules_returning_anything(returned, x):
    """Any rule: a finite float gradient or a TypeError/ValueError/OverflowError naming the
    op, and .grad untouched on failure."""
    _returned[0] = returned
    leaf = Value(x)
    out = FUZZED(leaf) * 2.0
    try:
        out.backward()
    except (TypeError, ValueError, OverflowError) as exc:
        assert "fuzzed" in str(exc)
        assert leaf.grad == 0.0
    else:
        assert type(leaf.grad) is float and math.isfinite(leaf.grad)
    try:
        (g,) = grad(out, [leaf])
    except (TypeError, ValueError, OverflowError) as exc:
        assert "fuzzed" in str(exc)
    else:
        assert type(g.data) is float and math.isfinite(g.data)
