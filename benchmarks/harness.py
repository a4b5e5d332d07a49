"""What the measurements share: a table row, timing, and control of the cyclic collector."""

from __future__ import annotations

import contextlib
import gc
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
