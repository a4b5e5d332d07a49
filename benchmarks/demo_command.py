"""Measurement 5: ``micrograd-like demo`` end to end, as a user runs it.

Each repeat is a fresh ``python -m micrograd_like demo --out <empty temporary directory>``
with every default (moons, 100 epochs, MLP 2-16-16-1, the pictures, TensorBoard logs,
the saved model and the gradient check), timed from launch to exit: interpreter start-up
and imports included. Its output goes to /dev/null so the progress bar stays out of the
table. Its peak memory is the child's ``ru_maxrss`` (from ``os.wait4``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from harness import Row, median

COMMAND = (sys.executable, "-m", "micrograd_like", "demo")


def run_once() -> tuple[float, float]:
    """Seconds and peak memory (MB) of one default demo writing into a new temporary
    directory."""
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        child = subprocess.Popen(
            [*COMMAND, "--out", out], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"the demo command failed with exit code {child.returncode}")
    return seconds, usage.ru_maxrss / 1024


def measure(repeats: int) -> list[Row]:
    """One row: the median wall-clock seconds over ``repeats`` runs and the largest peak
    memory among them (no target)."""
    runs = [run_once() for _ in range(repeats)]
    seconds = median([s for s, _ in runs])
    peak = max(mb for _, mb in runs)
    return [Row("`micrograd-like demo` end to end (s)", f"{seconds:.2f} ({peak:.0f} MB)")]
