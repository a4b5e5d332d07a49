"""Measurement: start-up cost, as a whole process (issue 9's targets).

Each repeat is a fresh interpreter, timed from launch to exit:
- ``python -c "from micrograd_like.engine import Value"`` against the same import of
  micrograd's ``Value`` (target: at most 60 ms, and no third-party module loaded);
- ``micrograd-like grad "x*y" x=1 y=2`` without ``--svg`` (target: at most 150 ms).
The console script is run as ``python -m micrograd_like``, which starts the same way.
"""

from __future__ import annotations

import subprocess
import sys

from harness import Row, median, milliseconds, timed

ENGINE_IMPORT = "from micrograd_like.engine import Value"
MICROGRAD_IMPORT = "from micrograd.engine import Value"
GRAD_COMMAND = ("-m", "micrograd_like", "grad", "x*y", "x=1", "y=2")
ENGINE_TARGET = 0.060
GRAD_TARGET = 0.150


def _seconds(args: tuple[str, ...], repeats: int) -> float:
    """Median wall-clock seconds of ``python <args>`` over ``repeats`` fresh processes."""
    run = lambda: subprocess.run([sys.executable, *args], check=True, capture_output=True)  # noqa: E731
    run()  # warm the file cache once
    return median([timed(run)[0] for _ in range(repeats)])


def measure(repeats: int) -> list[Row]:
    ours = _seconds(("-c", ENGINE_IMPORT), repeats)
    theirs = _seconds(("-c", MICROGRAD_IMPORT), repeats)
    grad = _seconds(GRAD_COMMAND, repeats)
    return [
        Row(
            '`python -c "from micrograd_like.engine import Value"` (whole process)',
            milliseconds(ours),
            f"micrograd: {milliseconds(theirs)}",
            f"{ours / theirs:.1f}x",
            "≤ 60 ms",
            ours <= ENGINE_TARGET,
        ),
        Row(
            '`micrograd-like grad "x*y" x=1 y=2` (whole process)',
            milliseconds(grad),
            target="≤ 150 ms",
            passed=grad <= GRAD_TARGET,
        ),
    ]
