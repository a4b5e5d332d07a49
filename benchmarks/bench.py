"""Benchmark micrograd_like side by side with micrograd 0.1.0 and PyTorch (issue 6).

Run from the repository root: ``python benchmarks/bench.py`` prints the machine it ran on
and a markdown table of medians, ratios and the issue's targets (PASS/FAIL);
``--out FILE`` also writes it to FILE (atomically), ``--quick`` uses tiny sizes (a smoke
test, not a measurement) and ``--profile`` adds a cProfile of micrograd_like's demo step.
See benchmarks/README.md for what each row measures.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version

import demo_command
import demo_step
import digits_race
import harness
import memory
import mnist_epoch
import scaling
import startup
import training_step
from harness import Row

from micrograd_like.files import atomic_write


@dataclass(frozen=True)
class Settings:
    """Sizes and repetitions of every measurement."""

    samples: int
    micrograd_steps: int
    our_steps: int
    demo_step_rounds: int
    training_rounds: int
    chain_nodes: int
    scaling_sizes: tuple[int, ...]
    scaling_repeats: tuple[int, ...]
    demo_repeats: int
    mnist_samples: int
    mnist_repeats: int
    mnist_rounds: int
    digits_repeats: int
    digits_rounds: int
    startup_repeats: int


FULL = Settings(
    samples=100,
    micrograd_steps=5,
    our_steps=20,
    demo_step_rounds=3,
    training_rounds=5,
    chain_nodes=10**5,
    scaling_sizes=(10**4, 10**5, 10**6),
    scaling_repeats=(20, 5, 3),
    demo_repeats=3,
    mnist_samples=60_000,
    mnist_repeats=3,
    mnist_rounds=2,
    digits_repeats=3,
    digits_rounds=4,
    startup_repeats=15,
)
QUICK = Settings(
    samples=10,
    micrograd_steps=2,
    our_steps=3,
    demo_step_rounds=1,
    training_rounds=1,
    chain_nodes=2000,
    scaling_sizes=(10**2, 10**3, 10**4),
    scaling_repeats=(3, 3, 3),
    demo_repeats=1,
    mnist_samples=256,
    mnist_repeats=1,
    mnist_rounds=1,
    digits_repeats=1,
    digits_rounds=1,
    startup_repeats=2,
)
COLUMNS = ("Measurement", "micrograd_like", "Reference", "Ratio", "Target", "Result")
QUICK_CAVEAT = "**--quick: tiny sizes to check the harness; these numbers measure nothing.**"
PROFILE_TOP = 15


def run(settings: Settings) -> list[Row]:
    """Every measurement, as table rows. The timed ones run one after the other, each in a
    process of its own (``harness.isolated``), so each has its own peak memory and none
    pays for another's imports or garbage; the bytes per node are traced in this one."""
    data = demo_step.moons(settings.samples)
    parameters = demo_step.initial_parameters()
    demo_rows, demo_run = demo_step.measure(
        parameters, data, settings.micrograd_steps, settings.our_steps, settings.demo_step_rounds
    )
    training_rows = training_step.measure(
        parameters, data, settings.our_steps, demo_run, settings.training_rounds
    )
    mnist_rows = mnist_epoch.measure(
        settings.mnist_samples, settings.mnist_repeats, settings.mnist_rounds
    )
    digits_rows = digits_race.measure(settings.digits_repeats, settings.digits_rounds)
    memory_rows = memory.measure(settings.chain_nodes, parameters, data)
    scaling_rows = scaling.measure(settings.scaling_sizes, settings.scaling_repeats)
    command_rows = demo_command.measure(settings.demo_repeats)
    startup_rows = startup.measure(settings.startup_repeats)
    return (
        demo_rows
        + training_rows
        + mnist_rows
        + digits_rows
        + memory_rows
        + scaling_rows
        + command_rows
        + startup_rows
    )


def machine_info() -> list[str]:
    """CPU model, core count, and the versions of Python and the compared libraries."""
    versions = ", ".join(
        f"{name} {_version(name)}" for name in ("micrograd_like", "micrograd", "numpy", "torch")
    )
    return [
        f"- CPU: {_cpu_model()}, {os.cpu_count()} cores",
        f"- Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{platform.system()}",
        f"- {versions}",
        f"- {_blas()}; every timed measurement runs on one thread, each in its own process",
        "- Times are wall-clock medians; memory in parentheses is the peak resident set of "
        "the process that measured it (resource.getrusage ru_maxrss: interpreter, libraries "
        "and data included)",
    ]


def _blas() -> str:
    """numpy's BLAS, the kernel it runs, and the OpenBLAS variables that choose it."""
    import numpy  # noqa: F401  (threadpoolctl lists only loaded libraries)
    from threadpoolctl import threadpool_info

    blas = [
        f"{info.get('internal_api')} {info.get('version')} ({info.get('architecture')} kernel)"
        for info in threadpool_info()
        if info.get("user_api") == "blas" and "numpy" in info.get("filepath", "")
    ]
    variables = ", ".join(
        f"{name}={os.environ.get(name, 'unset')}"
        for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
    )
    return f"numpy BLAS: {', '.join(blas) or 'unknown'}; {variables}"


def _cpu_model() -> str:
    """The "model name" line of /proc/cpuinfo (Linux), else what platform reports."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"


def markdown_table(rows: Sequence[Row]) -> str:
    """The rows as a GitHub markdown table, columns padded to line up."""
    cells = [COLUMNS] + [
        (
            row.measurement,
            row.ours,
            row.reference,
            row.ratio,
            row.target,
            "" if row.passed is None else "PASS" if row.passed else "FAIL",
        )
        for row in rows
    ]
    widths = [max(len(line[c]) for line in cells) for c in range(len(COLUMNS))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(line, widths)) + " |" for line in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def report(rows: Sequence[Row], settings: Settings) -> str:
    """The machine description followed by the table."""
    caveat = ["", QUICK_CAVEAT] if settings is QUICK else []
    return "\n".join(["Machine:", *machine_info(), *caveat, "", markdown_table(rows)]) + "\n"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark micrograd_like against micrograd 0.1.0 and PyTorch eager."
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: checks the harness, measures nothing"
    )
    parser.add_argument("--out", metavar="FILE", help="also write the report to FILE")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print a cProfile of micrograd_like's demo step (top functions by tottime)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = QUICK if args.quick else FULL
    harness.IN_PROCESS = args.quick
    text = report(run(settings), settings)
    print(text, end="")
    if args.out:
        atomic_write(args.out, lambda file: file.write(text))
    if args.profile:
        data = demo_step.moons(settings.samples)
        parameters = demo_step.initial_parameters()
        print(demo_step.profile(parameters, data, settings.our_steps, PROFILE_TOP))
    return 0


if __name__ == "__main__":
    sys.exit(main())
