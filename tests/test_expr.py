"""The restricted expression language: what it computes and everything it refuses."""

from __future__ import annotations

import ast
import builtins
import math

import pytest

from micrograd_like import Value, define_op
from micrograd_like.engine import OPS, grad
from micrograd_like.expr import (
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_LENGTH,
    ExpressionError,
    functions,
    parse_expression,
)


def value_of(text: str, **values: float) -> float:
    return parse_expression(text, list(values)).evaluate(values)[0].data


def test_arithmetic_follows_python_precedence():
    x, y, z = 1.5, -2.0, 0.5
    assert value_of("x - y / z ** 2 * -x + +y", x=x, y=y, z=z) == pytest.approx(
        x - y / z**2 * -x + +y
    )
    assert value_of("-x ** 2", x=3.0) == -9.0  # ** binds tighter than unary minus
    assert value_of("2 ** -1") == 0.5
    assert value_of("(x + 1) * (x - 1)", x=4.0) == 15.0


def test_functions_and_gradients_match_hand_derivatives():
    expression = parse_expression("tanh(x*w + b)", ["x", "w", "b"])
    out, leaves = expression.evaluate({"x": 1.0, "w": -2.0, "b": 0.5})
    t = math.tanh(1.0 * -2.0 + 0.5)
    assert out.data == pytest.approx(t)
    # d tanh(u)/du = 1 - tanh(u)^2; du/dx = w, du/dw = x, du/db = 1
    expected = [(1 - t * t) * -2.0, (1 - t * t) * 1.0, 1 - t * t]
    assert [g.data for g in grad(out, leaves)] == pytest.approx(expected)
    assert [leaf.label for leaf in leaves] == ["x", "w", "b"]
    assert value_of("sqrt(x) + log(x) + exp(0) + abs(-x)", x=4.0) == pytest.approx(
        2 + math.log(4) + 1 + 4
    )
    assert value_of("pow(x, 3) + logsumexp(x, x)", x=2.0) == pytest.approx(8 + 2 + math.log(2))


def test_literal_exponent_uses_the_constant_power_op_and_literals_become_constants():
    out = parse_expression("x ** 2 * 3", ["x"])(Value(-1.5))
    assert out.op == "mul"
    power, three = out.parents
    assert power.op == "**2"  # works for a negative base, unlike pow(x, Value(2))
    assert three.data == 3.0 and three.label == "" and three.parents == ()
    assert parse_expression("-2", []).program == (("const", -2.0),)


def test_function_names_come_from_the_op_table(scratch_ops):
    names = functions()
    assert set(OPS) <= set(names) and "sqrt" in names
    assert "backward" not in names
    define_op("cube", lambda x: x**3, lambda x, out: (3 * x * x,))
    assert value_of("cube(x) + 1", x=2.0) == 9.0


REFUSED = [
    ("__import__('os').system('echo hi')", "attribute access"),
    ("x.__class__", "attribute access"),
    ("[x for x in ()]", "comprehensions"),
    ("(x for x in ())", "comprehensions"),
    ("lambda: 1", "lambda"),
    ("x[0]", "indexing"),
    ("'a'", "strings"),
    ("f'{x}'", "strings"),
    ("b'a'", "strings"),
    ("True", "True/False"),
    ("1j", "complex"),
    ("1e999", "too large"),
    ("1e308**1e308", "exponent"),
    ("2**99999999", "exponent"),
    ("x ** -1001", "exponent"),
    ("y + 1", "unknown name 'y'"),
    ("__import__('os')", "unknown function '__import__'"),
    ("open('f')", "unknown function 'open'"),
    ("x(1)", "unknown function 'x'"),
    ("tanh", "is a function"),
    ("tanh(x, x)", "takes 1 argument"),
    ("tanh(x=1)", "keyword"),
    ("tanh(*x)", "starred"),
    ("tanh(x)(x)", "only a function name"),
    ("x ^ 2", "use **"),
    ("x // 2", "//"),
    ("x % 2", "%"),
    ("x < 1", "comparisons"),
    ("x and x", "and/or"),
    ("not x", "not"),
    ("~x", "~"),
    ("x if x else x", "if/else"),
    ("(x := 1)", ":="),
    ("(x, x)", "tuples"),
    ("{x: 1}", "dicts"),
    ("import os", "invalid syntax"),
    ("x; x", "invalid syntax"),
    ("", "empty"),
    ("x\0", "null"),
    ("(" * 300 + "x" + ")" * 300, "nested"),
    ("tanh(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1), "nested too deeply"),
    ("+".join(["x"] * (MAX_DEPTH + 2)), "nested too deeply"),
    ("-" * (MAX_LENGTH - 1) + "x", "nested"),
    ("x+" * MAX_LENGTH + "x", "too long"),
]


@pytest.mark.parametrize("text, fragment", REFUSED)
def test_refused_expressions_give_one_line_errors(text, fragment):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text, ["x"])
    message = str(info.value)
    assert fragment in message and "\n" not in message
    assert isinstance(info.value, ValueError)


def test_limits_are_inclusive():
    assert value_of("x ** 1000", x=1.0) == 1.0 and MAX_EXPONENT == 1000
    assert value_of("tanh(" * (MAX_DEPTH - 1) + "x" + ")" * (MAX_DEPTH - 1), x=0.0) == 0.0


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("log(x - 1)", "log needs a positive input"),
        ("exp(1000 * x)", "overflowed"),
        ("x / (x - 1)", "division by zero"),
        ("(2 ** 10) ** (2 ** 10)", "overflowed"),
        ("linear(x, x)", "expected 2n"),
    ],
)
def test_evaluation_errors_become_expression_errors(text, fragment):
    expression = parse_expression(text, ["x"])
    with pytest.raises(ExpressionError, match=fragment):
        expression(Value(1.0))


@pytest.mark.parametrize(
    "variables, fragment",
    [
        (["x", "x"], "distinct"),
        (["tanh"], "function name"),
        (["_x"], "identifier"),
        (["1a"], "identifier"),
        (["if"], "keyword"),
    ],
)
def test_bad_variable_names(variables, fragment):
    with pytest.raises(ExpressionError, match=fragment):
        parse_expression("1", variables)


def test_never_calls_eval_or_exec(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("eval/exec must not be used")

    real_compile = builtins.compile

    def parse_only(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & ast.PyCF_ONLY_AST:  # ast.parse is fine; compiling to code is not
            forbidden()
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    monkeypatch.setattr(builtins, "compile", parse_only)
    assert value_of("sin(x) ** 2 + cos(x) ** 2", x=0.3) == pytest.approx(1.0)
    with pytest.raises(ExpressionError):
        parse_expression("__import__('os')", ["x"])


def test_wrong_number_of_values():
    with pytest.raises(TypeError, match="expected 2"):
        parse_expression("x + y", ["x", "y"])(Value(1.0))
    with pytest.raises(ExpressionError, match="no value given for y"):
        parse_expression("x + y", ["x", "y"]).evaluate({"x": 1.0})
