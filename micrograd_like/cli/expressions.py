"""``micrograd-like grad`` and ``micrograd-like gradcheck``: an expression's gradient, and
its check against finite differences.

The expression language (:mod:`micrograd_like.expr`) parses with :mod:`ast` and a whitelist,
never ``eval``. Graphviz is imported only for ``--svg``.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence

from ..checks import positive_number
from ..errors import DOT_TIMEOUT
from ..expr import Expression, ExpressionError, functions, parse_expression
from .exit_codes import EXIT_CHECK_FAILED, EXIT_OK

__all__ = [
    "add_expression_arguments",
    "add_grad_command",
    "add_gradcheck_command",
    "parse_expression_arguments",
]

_EXPRESSION_HELP = (
    "an expression in x, w, ...: numbers, variables, + - * / **, parentheses and the "
    "functions {functions}; quote it, and put -- before it if it starts with -"
)


def _assignments(items: Sequence[str]) -> dict[str, float]:
    """``["x=1", "w=-2"]`` -> ``{"x": 1.0, "w": -2.0}``; one finite number per name."""
    values: dict[str, float] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ExpressionError(f"expected NAME=NUMBER, got {item!r}")
        if name in values:
            raise ExpressionError(f"{name} is assigned twice")
        try:
            value = float(text)
        except ValueError:
            raise ExpressionError(f"{name}: expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise ExpressionError(f"{name}: expected a finite number, got {text!r}")
        values[name] = value
    return values


def parse_expression_arguments(args: argparse.Namespace) -> tuple[Expression, dict[str, float]]:
    values = _assignments(args.assignments)
    return parse_expression(args.expression, list(values)), values


def add_expression_arguments(parser: argparse.ArgumentParser) -> None:
    names = ", ".join(sorted(functions()))
    parser.add_argument("expression", help=_EXPRESSION_HELP.format(functions=names))
    parser.add_argument(
        "assignments", nargs="*", metavar="NAME=NUMBER", help="a value for each variable"
    )


def _finite(x: float, what: str) -> float:
    if not math.isfinite(x):
        raise ExpressionError(f"{what} is not finite ({x!r})")
    return x


# ---------------------------------------------------------------- grad


def _run_grad(args: argparse.Namespace) -> int:
    if args.svg is not None:
        from ..viz import draw_dot, output_format, render

        output_format(args.svg)  # refuse an unknown extension or timeout before any work
        positive_number(args.timeout, "--timeout")
    expression, values = parse_expression_arguments(args)
    out, leaves = expression.evaluate(values)
    _finite(out.data, "the value")
    try:
        out.backward()
    except (ArithmeticError, ValueError) as exc:
        raise ExpressionError(f"cannot differentiate {expression.text!r}: {exc}") from None
    print(f"{expression.text} = {out.data:.10g}")
    for leaf in leaves:
        print(f"d/d{leaf.label} = {_finite(leaf.grad, f'd/d{leaf.label}'):.10g}")
    if args.svg is not None:
        path = render(draw_dot(out), args.svg, timeout=args.timeout)
        print(f"graph written to {path}")
    return EXIT_OK


def add_grad_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "grad",
        help="print an expression's value and its gradient with respect to each variable",
        description='Example: micrograd-like grad "tanh(x*w + b)" x=1 w=-2 b=0.5 --svg g.svg',
    )
    add_expression_arguments(parser)
    parser.add_argument(
        "--svg",
        metavar="PATH",
        help="also draw the computation graph to PATH (.svg, or .png/.pdf/.dot by extension)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DOT_TIMEOUT,
        metavar="SECONDS",
        help="time Graphviz's dot may take to draw the graph (default: %(default)g)",
    )
    parser.set_defaults(run=_run_grad)


# ---------------------------------------------------------------- gradcheck


def _run_gradcheck(args: argparse.Namespace) -> int:
    from ..gradcheck import compare_gradients

    expression, values = parse_expression_arguments(args)
    _finite(expression(*values.values()).data, "the value")
    try:
        report = compare_gradients(
            expression,
            list(values.values()),
            eps=args.eps,
            atol=args.atol,
            rtol=args.rtol,
            names=expression.variables,
        )
    except ArithmeticError as exc:  # a gradient too large for a float
        raise ExpressionError(f"cannot check {expression.text!r}: {exc}") from None
    print(report)
    return EXIT_OK if report.ok else EXIT_CHECK_FAILED


def add_gradcheck_command(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "gradcheck",
        help="compare an expression's gradient with central finite differences",
        description=(
            "Prints analytic vs numeric derivatives; exit code 0 when all agree "
            "(|analytic - numeric| <= atol + rtol*|numeric|), 1 otherwise."
        ),
    )
    add_expression_arguments(parser)
    parser.add_argument("--eps", type=float, default=1e-6, help="finite-difference step")
    parser.add_argument("--atol", type=float, default=1e-5, help="absolute tolerance")
    parser.add_argument("--rtol", type=float, default=1e-3, help="relative tolerance")
    parser.set_defaults(run=_run_gradcheck)
