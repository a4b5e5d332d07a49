"""The command line's exit codes."""

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
"""A gradient check failed."""
EXIT_USAGE = 2
"""A bad expression, assignment or option value."""
EXIT_NO_GRAPHVIZ = 3
"""Graphviz's ``dot`` is missing (the DOT text was written instead of the picture)."""
