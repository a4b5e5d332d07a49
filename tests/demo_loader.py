"""Import a script of demos/ (not a package) the way the tests need it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

DEMOS = Path(__file__).resolve().parent.parent / "demos"


def load_demo(name: str) -> ModuleType:
    """Import demos/<name>.py, registered in sys.modules as an import would be (dataclasses
    look their module up there)."""
    spec = importlib.util.spec_from_file_location(f"demo_{name}", DEMOS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
