"""``python -m micrograd_like`` runs the command line."""

from .cli import main

raise SystemExit(main())
