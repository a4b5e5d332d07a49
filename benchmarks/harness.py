"""What the measurements share: a table row, timing, control of the cyclic collector, and
running a measurement in a process of its own (which gives it its own peak memory)."""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Row:
    """One line of the results table; ``passed`` is None for rows that carry no target."""

    measurement: str
    ours: str
    reference: str = ""
    ratio: str = ""
    target: str = ""
    passed: bool | None = None


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    """Wall-clock seconds of one call (``time.perf_counter``) and what it returned."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def timed_steps(step: Callable[[int], float], steps: int) -> tuple[list[float], list[float]]:
    """Call ``step(k)`` for k = 0 .. steps - 1, timing each call: (seconds, returned losses)."""
    seconds, losses = [], []
    for k in range(steps):
        elapsed, loss = timed(lambda k=k: step(k))
        seconds.append(elapsed)
        losses.append(loss)
    return seconds, losses


def median(values: list[float]) -> float:
    """The median (a run's typical time, robust to a stray slow repetition)."""
    return statistics.median(values)


class CollectorClock:
    """Seconds the cyclic garbage collector runs while this clock is registered in
    ``gc.callbacks`` (the time between each collection's "start" and "stop")."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def _on_collection(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started

    def __enter__(self) -> CollectorClock:
        gc.callbacks.append(self._on_collection)
        return self

    def __exit__(self, *exc_info: object) -> None:
        gc.callbacks.remove(self._on_collection)


@contextlib.contextmanager
def collector(enabled: bool) -> Iterator[None]:
    """Run the block with the cyclic collector on or off. Garbage is collected before and
    after (outside the block), so one measurement never pays for another's garbage."""
    was_enabled = gc.isenabled()
    gc.collect()
    if enabled:
        gc.enable()
    else:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
        else:
            gc.disable()
        gc.collect()


def milliseconds(seconds: float) -> str:
    """A duration in ms: three significant digits, whole milliseconds from 100 ms up."""
    ms = seconds * 1e3
    return f"{ms:.0f}" if ms >= 100 else f"{ms:.3g}"


def times_faster(ours: float, reference: float) -> str:
    """reference / ours, as "12.3x faster" (or "0.5x" when slower)."""
    factor = reference / ours
    return f"{factor:.3g}x faster" if factor >= 1 else f"{factor:.3g}x"


JOB = Path(__file__).resolve().with_name("job.py")
IN_PROCESS = False
"""Run "isolated" measurements in this process instead (``bench.py --quick`` sets it: the
harness is checked, nothing is measured, and the smoke test stays quick)."""


def isolated(module: str, function: str, **kwargs: Any) -> dict[str, Any]:
    """``module.function(**kwargs)`` run in a new Python process (``benchmarks/job.py``);
    returns its result (a dict of JSON values) with ``peak_mb``, that process's peak
    resident memory (``resource.getrusage(RUSAGE_SELF).ru_maxrss``: interpreter, imported
    libraries and data included), added. Each measurement in its own process cannot pay
    for another's garbage, imports or heap."""
    if IN_PROCESS:
        result = json.loads(
            json.dumps(getattr(importlib.import_module(module), function)(**kwargs))
        )
        result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return result
    done = subprocess.run(
        [sys.executable, str(JOB), module, function, json.dumps(kwargs)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module}.{function} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def taking_turns(
    jobs: Mapping[str, Callable[[], dict[str, Any]]], rounds: int
) -> dict[str, list[dict[str, Any]]]:
    """Each job's results over ``rounds`` rounds in which the jobs take turns, each run an
    ``isolated`` process: a busy spell of a shared machine then hits every job alike,
    where one process per job would leave a job's whole measurement to the luck of when
    it ran."""
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in jobs}
    for _ in range(rounds):
        for name, job in jobs.items():
            results[name].append(job())
    return results


def pooled(runs: list[dict[str, Any]], keys: Sequence[str]) -> dict[str, Any]:
    """The results of several processes as one: their lists under ``keys`` joined in
    order, the largest peak memory."""
    joined: dict[str, Any] = {key: [x for run in runs for x in run[key]] for key in keys}
    joined["peak_mb"] = max(run["peak_mb"] for run in runs)
    return joined


def megabytes(result: dict[str, Any]) -> str:
    """The peak memory of an isolated measurement, as "123 MB"."""
    return f"{result['peak_mb']:.0f} MB"


def with_memory(time_text: str, result: dict[str, Any]) -> str:
    """A time and the peak memory of the process that measured it: "31.6 (48 MB)"."""
    return f"{time_text} ({megabytes(result)})"
