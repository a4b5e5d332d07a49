"""The ``micrograd-like`` command line: the only part of the package that knows about a
terminal (argparse, exit codes, one-line errors).

Each subcommand is one ``add_*_command(subparsers)`` function listed in :data:`COMMANDS`; it
adds its parser and sets ``run=handler``, a function ``handler(args) -> exit code``. Adding
a subcommand means writing one such function and listing it. The subcommands import what
they need when they run, so ``--help`` and ``grad`` load the standard library only.

Exit codes (:mod:`.exit_codes`): 0 success; 1 a gradient check failed; 2 a usage error (bad
expression, bad assignment, bad option value); 3 Graphviz's ``dot`` is missing (the DOT text
was written instead of the picture), failed or ran past ``--timeout``; 130 Ctrl-C. Errors
are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from ..errors import GraphvizError
from .demo_command import add_demo_command
from .exit_codes import (
    EXIT_CHECK_FAILED,
    EXIT_GRAPHVIZ,
    EXIT_INTERRUPTED,
    EXIT_NO_GRAPHVIZ,
    EXIT_OK,
    EXIT_USAGE,
)
from .explain_command import add_explain_command
from .expressions import add_grad_command, add_gradcheck_command

__all__ = [
    "COMMANDS",
    "EXIT_CHECK_FAILED",
    "EXIT_GRAPHVIZ",
    "EXIT_INTERRUPTED",
    "EXIT_NO_GRAPHVIZ",
    "EXIT_OK",
    "EXIT_USAGE",
    "build_parser",
    "main",
]


class _VersionAction(argparse.Action):
    """``--version``: the installed version, read only when asked for (importlib.metadata
    takes 50 ms to import, more than the rest of ``grad``)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        from .. import __version__  # the package reads it on first use

        print(f"{parser.prog} {__version__}")
        parser.exit()


COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = [
    add_grad_command,
    add_gradcheck_command,
    add_explain_command,
    add_demo_command,
]
"""The subcommands, in the order ``--help`` lists them."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="micrograd-like",
        description="A scalar autodiff engine: gradients, graphs and small networks.",
        epilog=(
            "exit codes: 0 ok, 1 gradient check failed, 2 usage error, 3 Graphviz missing, "
            "failed or timed out, 130 interrupted (Ctrl-C)"
        ),
    )
    parser.add_argument("--version", action=_VersionAction)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add_command in COMMANDS:
        add_command(subparsers)
    return parser


def _fail(command: str | None, message: object, code: int) -> int:
    prog = f"micrograd-like {command}" if command else "micrograd-like"
    print(f"{prog}: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    command = None
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        command = args.command
        if command is None:
            parser.print_help()
            return EXIT_OK
        return args.run(args)
    except KeyboardInterrupt:
        return _fail(command, "interrupted", EXIT_INTERRUPTED)
    except GraphvizError as exc:
        return _fail(command, f"error: {exc}", EXIT_GRAPHVIZ)
    except (ValueError, OSError) as exc:
        return _fail(command, f"error: {exc}", EXIT_USAGE)
