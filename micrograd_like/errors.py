"""Errors and settings of the external tools the package drives (Graphviz's ``dot``).

Standard library only, so that the command line can name them without importing the tools.
"""

from __future__ import annotations

__all__ = [
    "DEFAULT_MAX_NODES",
    "DOT_TIMEOUT",
    "RANKDIRS",
    "GraphvizError",
    "GraphvizNotFoundError",
]

DOT_TIMEOUT = 60.0
"""Seconds Graphviz's ``dot`` may take to draw one picture before it is stopped (the
default of ``render(timeout=)`` and of the command line's ``--timeout``)."""

DEFAULT_MAX_NODES = 500
"""Graphs with more drawn nodes (values + ops, or neurons) are refused: Graphviz's layout
grows quickly with size and a picture of thousands of nodes cannot be read anyway."""

RANKDIRS = ("LR", "RL", "TB", "BT")
"""Graphviz's directions for a picture: left to right, right to left, top to bottom, bottom
to top."""


class GraphvizError(RuntimeError):
    """Graphviz's ``dot`` could not draw a picture: it failed, it ran past its time limit,
    or it is missing (:class:`GraphvizNotFoundError`). The message is one line."""


class GraphvizNotFoundError(GraphvizError):
    """Graphviz's ``dot`` program is not installed (the DOT text was written instead)."""
