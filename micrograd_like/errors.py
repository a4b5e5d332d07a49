"""Errors of the external tools the package drives (Graphviz's ``dot``).

Standard library only, so that the command line can name them without importing the tools.
"""

from __future__ import annotations

__all__ = ["GraphvizNotFoundError"]


class GraphvizNotFoundError(RuntimeError):
    """Graphviz's ``dot`` program is not installed (the DOT text was written instead)."""
