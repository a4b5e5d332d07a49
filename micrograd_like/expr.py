"""A restricted expression language for the command line: ``tanh(x*w + b)``.

The text is parsed with ``ast.parse(mode="eval")`` and walked with a whitelist; it is never
given to ``eval`` or ``exec``. The grammar:

    expr := number | variable | expr (+ - * / **) expr | (+|-) expr | ( expr )
          | function(expr, ...)

Numbers are int or float literals (no bool, complex or string); variables are the names
declared by the caller; functions are the engine's ops by name (``OPS``: tanh, relu,
sigmoid, exp, log, abs, sin, cos, pow, logsumexp, ..., and any op added with ``define_op``)
plus the one-argument Value methods that are not ops (``sqrt``). Everything else is refused
with an :class:`ExpressionError` (a ValueError) whose one-line message says what and where,
as are texts longer than :data:`MAX_LENGTH`, nesting deeper than :data:`MAX_DEPTH` and
constant exponents larger than :data:`MAX_EXPONENT` in magnitude.

A parsed expression is a small program run on a stack (no recursion), so evaluating it
builds the same graph as writing the Python by hand: ``x ** 2`` with a literal exponent uses
the constant power op (label ``**2``), every other literal becomes a constant leaf.
"""

from __future__ import annotations

import ast
import inspect
import keyword
import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import cast

from .engine import OPS, Value

__all__ = [
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "Expression",
    "ExpressionError",
    "functions",
    "parse_expression",
]

MAX_LENGTH = 1000
"""Longest accepted expression text, in characters."""
MAX_DEPTH = 100
"""Deepest accepted syntax tree (each operator or function call is one level)."""
MAX_EXPONENT = 1000.0
"""Largest accepted |c| in ``expr ** c`` for a literal c."""

_BINARY: dict[type, Callable] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_SIGNS = (ast.USub, ast.UAdd)
_REFUSED = {
    ast.Attribute: "attribute access (.)",
    ast.Subscript: "indexing ([])",
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions",
    ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Starred: "starred arguments (*)",
    ast.Compare: "comparisons",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.NamedExpr: "assignment (:=)",
    ast.JoinedStr: "strings",
    ast.List: "lists",
    ast.Tuple: "tuples",
    ast.Dict: "dicts",
    ast.Set: "sets",
    ast.FloorDiv: "// (use /)",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.BitXor: "^ (use ** for powers)",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.Invert: "~",
    ast.Not: "not",
}


class ExpressionError(ValueError):
    """The expression is not in the accepted grammar, or cannot be evaluated."""


def functions() -> dict[str, Callable[..., Value]]:
    """The callable names: every op of ``OPS`` plus Value's one-argument methods that return
    a Value (``sqrt``). Read at each parse, so ops added with ``define_op`` are included."""
    methods = {
        name: method
        for name, method in vars(Value).items()
        if not name.startswith("_") and _is_unary_value_method(method)
    }
    return {**methods, **OPS}


def _is_unary_value_method(method: object) -> bool:
    if not inspect.isfunction(method) or method.__annotations__.get("return") not in (
        "Value",
        Value,
    ):
        return False
    return len(inspect.signature(method).parameters) == 1


# ---------------------------------------------------------------- the compiled program

# Instructions: ("const", float) pushes a constant leaf; ("var", index) pushes a variable;
# ("apply", callable, n) pops n operands and pushes callable(*operands);
# ("power", c) replaces the top with top ** c for a literal c (the constant power op).
Instruction = tuple


@dataclass(frozen=True)
class Expression:
    """A parsed expression; call it with one Value (or number) per variable, in order."""

    text: str
    variables: tuple[str, ...]
    program: tuple[Instruction, ...]

    def __call__(self, *args: Value | float) -> Value:
        """Evaluate on Values; domain errors and overflows become ExpressionError."""
        if len(args) != len(self.variables):
            raise TypeError(f"expected {len(self.variables)} value(s), got {len(args)}")
        stack: list = []
        try:
            args = tuple(a if isinstance(a, Value) else Value(a) for a in args)  # numbers too
            for instruction in self.program:
                _run(instruction, stack, args)
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise ExpressionError(f"cannot evaluate {self.text!r}: {exc}") from None
        result = stack.pop()
        return result if type(result) is Value else Value(result)

    def evaluate(self, values: Mapping[str, float]) -> tuple[Value, list[Value]]:
        """The result and the variables' leaves (labelled with their names)."""
        missing = [name for name in self.variables if name not in values]
        if missing:
            raise ExpressionError(f"no value given for {', '.join(missing)}")
        leaves = [Value(values[name], label=name) for name in self.variables]
        return self(*leaves), leaves


def _run(instruction: Instruction, stack: list, args: Sequence) -> None:
    kind = instruction[0]
    if kind == "const":
        stack.append(Value(instruction[1]))
    elif kind == "var":
        stack.append(args[instruction[1]])
    elif kind == "power":
        stack.append(stack.pop() ** instruction[1])
    else:
        _, function, n = instruction
        operands = stack[len(stack) - n :]
        del stack[len(stack) - n :]
        stack.append(function(*operands))


# ---------------------------------------------------------------- parsing


def _error(message: str, node: ast.AST | None = None) -> ExpressionError:
    where = ""
    if node is not None and hasattr(node, "col_offset"):
        where = f" (at column {node.col_offset + 1})"
    return ExpressionError(f"{message}{where}")


def _parse_tree(text: str) -> ast.expr:
    if not isinstance(text, str):
        raise ExpressionError(f"the expression must be a str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"the expression is too long ({len(text)} > {MAX_LENGTH} characters)")
    if not text.strip():
        raise ExpressionError("the expression is empty")
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        column = f" (at column {exc.offset})" if exc.offset else ""
        raise ExpressionError(f"invalid syntax: {exc.msg}{column}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError("the expression is nested too deeply") from None
    except ValueError as exc:  # e.g. null bytes
        raise ExpressionError(f"invalid expression: {exc}") from None


def _literal(node: ast.expr) -> float | None:
    """The value of a number literal, possibly signed (``-2``); None for anything else."""
    sign = 1.0
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, _SIGNS):
        sign = -sign if isinstance(node.op, ast.USub) else sign
        node = node.operand
    if not (isinstance(node, ast.Constant) and type(node.value) in (int, float)):
        return None
    try:
        value = float(cast("int | float", node.value))  # its type is int or float (above)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise _error("a number is too large for a float", node)
    return sign * value


def _refuse(node: ast.AST, at: ast.AST | None = None) -> ExpressionError:
    """The error for a construct outside the grammar (``at``: where, when ``node`` is an
    operator, which has no position of its own)."""
    if isinstance(node, ast.Constant):
        kind = type(node.value).__name__
        what = {"str": "strings", "bytes": "strings", "bool": "True/False"}.get(kind, kind)
        return _error(f"not allowed in an expression: {what} (use int or float numbers)", node)
    what = _REFUSED.get(type(node), type(node).__name__)
    return _error(f"not allowed in an expression: {what}", at or node)


class _Compiler:
    """Turns a whitelisted tree into a stack program, iteratively (no recursion)."""

    def __init__(self, variables: Sequence[str], callables: Mapping[str, Callable]) -> None:
        self.index = {name: i for i, name in enumerate(variables)}
        self.callables = callables
        self.program: list[Instruction] = []

    def compile(self, tree: ast.expr) -> tuple[Instruction, ...]:
        # work items: (node, depth) to visit, or a finished instruction to emit
        work: list = [(tree, 1)]
        while work:
            item = work.pop()
            if not isinstance(item[0], ast.AST):
                self.program.append(item)
                continue
            node, depth = item
            if depth > MAX_DEPTH:
                raise _error(f"the expression is nested too deeply (more than {MAX_DEPTH} levels)")
            work.extend(self._visit(node, depth))
        return tuple(self.program)

    def _visit(self, node: ast.expr, depth: int) -> list:
        """The work items for ``node``, last to be done first (a stack)."""
        value = _literal(node)
        if value is not None:
            return [("const", value)]
        if isinstance(node, ast.Name):
            return [self._name(node)]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return [("apply", operator.neg, 1), (node.operand, depth + 1)]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
            return [(node.operand, depth + 1)]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            exponent = _literal(node.right) if isinstance(node.op, ast.Pow) else None
            if exponent is not None:
                return [("power", _checked_exponent(exponent, node)), (node.left, depth + 1)]
            apply = ("apply", _BINARY[type(node.op)], 2)
            return [apply, (node.right, depth + 1), (node.left, depth + 1)]
        if isinstance(node, (ast.BinOp, ast.UnaryOp)):
            raise _refuse(node.op, at=node)
        if isinstance(node, ast.Call):
            function = self._function(node)
            items: list[tuple] = [("apply", function, len(node.args))]
            items.extend((arg, depth + 1) for arg in reversed(node.args))
            return items
        raise _refuse(node)

    def _name(self, node: ast.Name) -> Instruction:
        if node.id in self.index:
            return ("var", self.index[node.id])
        if node.id in self.callables:
            raise _error(f"{node.id} is a function: call it as {node.id}(...)", node)
        declared = ", ".join(self.index) or "none"
        raise _error(
            f"unknown name {node.id!r}; assign it as {node.id}=NUMBER "
            f"(declared variables: {declared})",
            node,
        )

    def _function(self, node: ast.Call) -> Callable:
        if not isinstance(node.func, ast.Name):
            if type(node.func) in _REFUSED:
                raise _refuse(node.func)
            raise _error("only a function name can be called, as in tanh(x)", node)
        name = node.func.id
        if name not in self.callables:
            known = ", ".join(sorted(self.callables))
            raise _error(f"unknown function {name!r}; the functions are: {known}", node)
        if node.keywords:
            raise _error(f"{name}() takes no keyword arguments", node)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise _refuse(arg)
        arity = _arity(self.callables[name])
        if arity is not None and len(node.args) != arity:
            raise _error(f"{name}() takes {arity} argument(s), got {len(node.args)}", node)
        if not node.args:
            raise _error(f"{name}() needs at least one argument", node)
        return self.callables[name]


def _arity(function: Callable) -> int | None:
    """1 for a Value method, the op's declared arity otherwise (None: any number)."""
    return getattr(function, "arity", 1)


def _checked_exponent(exponent: float, node: ast.AST) -> float:
    if abs(exponent) > MAX_EXPONENT:
        raise _error(
            f"the exponent {exponent:g} is too large (|exponent| <= {MAX_EXPONENT:g})", node
        )
    return exponent


def _checked_variables(variables: Sequence[str], callables: Mapping[str, Callable]) -> tuple:
    names = tuple(variables)
    for name in names:
        if (
            not isinstance(name, str)
            or not name.isidentifier()
            or keyword.iskeyword(name)
            or name.startswith("_")
        ):
            raise ExpressionError(
                f"a variable name must be an identifier (not a keyword, not starting with _), "
                f"got {name!r}"
            )
        if name in callables:
            raise ExpressionError(f"{name!r} is a function name; choose another variable name")
    if len(set(names)) != len(names):
        raise ExpressionError(f"variable names must be distinct, got {', '.join(names)}")
    return names


def parse_expression(text: str, variables: Sequence[str] = ()) -> Expression:
    """Parse ``text`` in the restricted grammar (see the module doc) with these variables.

    Raises ExpressionError (a ValueError) with a one-line message for anything else.
    """
    callables = functions()
    names = _checked_variables(variables, callables)
    tree = _parse_tree(text)
    program = _Compiler(names, callables).compile(tree)
    return Expression(text.strip(), names, program)
