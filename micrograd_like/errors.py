"""Errors of the external tools the package drives (Graphviz's ``dot``).

Standard library only, so that the command line can name them without importing the tools.
"""

from __future__ import annotations

__all__ = ["DOT_TIMEOUT", "GraphvizError", "GraphvizNotFoundError"]

DOT_TIMEOUT = 60.0
"""Seconds Graphviz's ``dot`` may take to draw one picture before it is stopped (the
default of ``render(timeout=)`` and of the command line's ``--timeout``)."""


class GraphvizError(RuntimeError):
    """Graphviz's ``dot`` could not draw a picture: it failed, it ran past its time limit,
    or it is missing (:class:`GraphvizNotFoundError`). The message is one line."""


class GraphvizNotFoundError(GraphvizError):
    """Graphviz's ``dot`` program is not installed (the DOT text was written instead)."""
