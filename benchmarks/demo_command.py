"""Measurement 5: ``micrograd-like demo`` end to end, as a user runs it.

Each repeat is a fresh ``python -m micrograd_like demo --out <empty temporary directory>``
with every default (moons, 100 epochs, MLP 2-16-16-1, the pictures, TensorBoard logs,
the saved model and the gradient check), timed from launch to exit: interpreter start-up
and imports included. Its output is captured so the progress bar stays out of the table.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile

from harness import Row, median, timed

COMMAND = (sys.executable, "-m", "micrograd_like", "demo")


def run_once() -> float:
    """Seconds of one default demo writing into a new temporary directory."""
    with tempfile.TemporaryDirectory() as out:
        seconds, _ = timed(
            lambda: subprocess.run([*COMMAND, "--out", out], check=True, capture_output=True)
        )
    return seconds


def measure(repeats: int) -> list[Row]:
    """One row: the median wall-clock seconds over ``repeats`` runs (no target)."""
    seconds = [run_once() for _ in range(repeats)]
    return [Row("`micrograd-like demo` end to end (s)", f"{median(seconds):.2f}")]
