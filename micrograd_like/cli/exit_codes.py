"""The command line's exit codes."""

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
"""A gradient check failed."""
EXIT_USAGE = 2
"""A bad expression, assignment or option value."""
EXIT_GRAPHVIZ = 3
"""Graphviz's ``dot`` is missing (the DOT text was written instead of the picture), failed,
or ran past its time limit."""
EXIT_NO_GRAPHVIZ = EXIT_GRAPHVIZ
"""The earlier name of :data:`EXIT_GRAPHVIZ`, from when a missing ``dot`` was its only cause."""
EXIT_INTERRUPTED = 130
"""Ctrl-C (128 + SIGINT, as shells report it)."""
