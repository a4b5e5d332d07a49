"""``micrograd-like explain``: backpropagation through an expression, step by step.

::

    micrograd-like explain "tanh(x*w + b)" x=1 w=-2 b=0.5                # the steps, as text
    micrograd-like explain "tanh(x*w + b)" x=1 w=-2 b=0.5 --html backprop.html [--lang es]

Without ``--html`` the narration is printed to stdout, one step per line (no Graphviz
needed). With ``--html PATH`` the page of :func:`micrograd_like.explanation.explain` is written
to PATH (Graphviz lays the graph out) and one line says where.
"""

from __future__ import annotations

import argparse

from .. import checks
from ..errors import DEFAULT_MAX_NODES, RANKDIRS
from .exit_codes import EXIT_OK
from .expressions import add_expression_arguments, parse_expression_arguments

__all__ = ["add_explain_command"]


def _positive_int(text: str) -> int:
    try:
        return checks.count(int(text), "--max-nodes")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected an int >= 1, got {text!r}") from exc


def _run_explain(args: argparse.Namespace) -> int:
    from ..explanation import explain, narrate

    if args.html is not None and not str(args.html).lower().endswith((".html", ".htm")):
        raise ValueError(f"--html expects a path ending in .html, got {args.html!r}")
    expression, values = parse_expression_arguments(args)
    out, _ = expression.evaluate(values)
    if args.html is None:
        for step in narrate(out, lang=args.lang):
            print(step.text)
        return EXIT_OK
    page = explain(
        out,
        lang=args.lang,
        max_nodes=args.max_nodes,
        rankdir=args.rankdir,
        title=expression.text,
    )
    path = page.save(args.html)
    print(f"{len(page.steps)} steps written to {path}")
    return EXIT_OK


def add_explain_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``micrograd-like explain``."""
    parser = subparsers.add_parser(
        "explain",
        help="walk through an expression's forward and backward pass, step by step",
        description=(
            "Prints each step of the forward pass (each value) and the backward pass (each "
            "gradient by the chain rule), one per line; with --html writes a page that plays "
            'them on the graph. Example: micrograd-like explain "tanh(x*w + b)" x=1 w=-2 '
            "b=0.5 --html backprop.html"
        ),
        epilog="exit codes: 0 ok, 2 usage error, 3 Graphviz missing (needed for --html)",
    )
    add_expression_arguments(parser)
    parser.add_argument("--html", metavar="PATH", help="write the step-by-step page to PATH")
    parser.add_argument(
        "--lang", choices=("en", "es"), default="en", help="language of the steps (default en)"
    )
    parser.add_argument(
        "--max-nodes",
        type=_positive_int,
        default=DEFAULT_MAX_NODES,
        metavar="N",
        help="refuse to draw graphs of more than N nodes, values and ops (default "
        "%(default)s, as for pictures)",
    )
    parser.add_argument(
        "--rankdir", choices=RANKDIRS, default="LR", help="direction of the graph (default LR)"
    )
    parser.set_defaults(run=_run_explain)
