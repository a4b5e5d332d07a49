"""Measurement 1: one step of micrograd's demo, in micrograd 0.1.0 and in micrograd_like.

The step is written the way a user writes it in micrograd's demo notebook: one scalar graph
per sample of 100 moons points, ``MLP(2, [16, 16, 1])``, the hinge loss
mean(max(0, 1 - y * score)) plus the L2 penalty 1e-4 * sum(p^2), backward, and the SGD update
p -= lr * p.grad with the demo's learning rate 1 - 0.9 k / 100 at step k. The same function
runs both engines (only the ``Value`` class and the model differ), from the same initial
parameters, so the losses must agree.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from harness import (
    CollectorClock,
    Row,
    collector,
    isolated,
    median,
    milliseconds,
    pooled,
    taking_turns,
    timed_steps,
    times_faster,
    with_memory,
)

import micrograd_like
from micrograd_like.datasets import make_moons

ALPHA = 1e-4
"""Weight of the L2 penalty, as in micrograd's demo."""
LAYER_SIZES = (16, 16, 1)
LOSS_TOLERANCE = 1e-9
SPEEDUP_TARGET = 50.0
"""With the cyclic collector on, as users have it."""
SPEEDUP_TARGET_GC_OFF = 6.0


def moons(n_samples: int) -> tuple[list, list]:
    """The demo's data: ``make_moons(n_samples, noise=0.1, random_state=0)`` as Python floats
    (so neither engine computes on numpy scalars), labels mapped to -1 and +1 for the hinge."""
    X, y = make_moons(n_samples, noise=0.1, random_state=0)
    return X.tolist(), (2.0 * y - 1.0).tolist()


def demo_loss(model: Any, value_type: type, X: list, y: list) -> tuple[Any, float]:
    """The demo's full-batch loss (a Value) and the accuracy, one graph per sample."""
    inputs = [list(map(value_type, row)) for row in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * score).relu() for yi, score in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = ALPHA * sum(p * p for p in model.parameters())
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (score.data > 0) for yi, score in zip(y, scores)]
    return total_loss, sum(accuracy) / len(accuracy)


def demo_step(model: Any, value_type: type, X: list, y: list, k: int) -> float:
    """Step ``k`` of the demo: loss, backward, SGD update; returns the loss before the update."""
    total_loss, _accuracy = demo_loss(model, value_type, X, y)
    model.zero_grad()
    total_loss.backward()
    lr = learning_rate(k)
    for p in model.parameters():
        p.data -= lr * p.grad
    return total_loss.data


def learning_rate(k: int) -> float:
    """The demo's linear decay: 1 - 0.9 k / 100 at step k."""
    return 1.0 - 0.9 * k / 100


def micrograd_engine() -> tuple[type, Callable[..., Any]]:
    """micrograd 0.1.0's Value and MLP (the benchmark-only extra)."""
    from micrograd.engine import Value
    from micrograd.nn import MLP

    return Value, MLP


def with_parameters(make_mlp: Callable[..., Any], values: Sequence[float]) -> Any:
    """A new ``MLP(2, LAYER_SIZES)`` whose parameters, in order, are ``values``."""
    model = make_mlp(2, list(LAYER_SIZES))
    parameters = model.parameters()
    if len(parameters) != len(values):
        raise ValueError(f"expected {len(parameters)} parameter values, got {len(values)}")
    for p, value in zip(parameters, values):
        p.data = value
    return model


def initial_parameters() -> list[float]:
    """The demo's starting point: micrograd's MLP initialised after ``random.seed(1337)``
    (as floats: micrograd's biases start as the int 0)."""
    _, micrograd_mlp = micrograd_engine()
    random.seed(1337)
    return [float(p.data) for p in micrograd_mlp(2, list(LAYER_SIZES)).parameters()]


@dataclass(frozen=True)
class Run:
    """Per-step wall-clock seconds, the losses, the collector's total seconds (None where
    it was not clocked) and the peak memory of the process that ran the steps (MB)."""

    seconds: list[float]
    losses: list[float]
    collector_seconds: float | None = None
    peak_mb: float | None = None


def run_steps(
    engine: tuple[type, Callable[..., Any]],
    parameters: Sequence[float],
    data: tuple[list, list],
    steps: int,
    gc_enabled: bool,
) -> Run:
    """``steps`` demo steps from ``parameters``, each timed on its own."""
    value_type, make_mlp = engine
    model = with_parameters(make_mlp, parameters)
    with collector(gc_enabled), CollectorClock() as clock:
        seconds, losses = timed_steps(lambda k: demo_step(model, value_type, *data, k), steps)
    return Run(seconds, losses, clock.seconds)


ENGINES = {
    "micrograd": micrograd_engine,
    "micrograd_like": lambda: (micrograd_like.Value, micrograd_like.MLP),
}


def job(
    engine: str, parameters: list[float], data: list[list], steps: int, gc_enabled: bool
) -> dict:
    """:func:`run_steps` for the engine named ``engine``, as JSON values (``isolated``)."""
    run = run_steps(ENGINES[engine](), parameters, (data[0], data[1]), steps, gc_enabled)
    return {
        "seconds": run.seconds,
        "losses": run.losses,
        "collector_seconds": run.collector_seconds,
    }


def turns(
    parameters: Sequence[float],
    data: tuple[list, list],
    micrograd_steps: int,
    our_steps: int,
    rounds: int,
    gc_enabled: bool,
) -> dict[str, Run]:
    """Both engines' runs with the collector on or off: each engine runs its steps in a
    process of its own, the two taking turns for ``rounds`` rounds (``taking_turns``); each
    run pools the rounds' step times and collector times, and its losses are the first
    round's (every round computes the same steps)."""
    jobs = {
        name: partial(
            isolated,
            "demo_step",
            "job",
            engine=engine,
            parameters=list(parameters),
            data=list(data),
            steps=steps,
            gc_enabled=gc_enabled,
        )
        for name, engine, steps in (
            ("micrograd", "micrograd", micrograd_steps),
            ("ours", "micrograd_like", our_steps),
        )
    }
    runs = {}
    for name, results in taking_turns(jobs, rounds).items():
        joined = pooled(results, ("seconds",))
        clocked = [r["collector_seconds"] for r in results if r["collector_seconds"] is not None]
        runs[name] = Run(
            joined["seconds"],
            results[0]["losses"],
            sum(clocked) if clocked else None,
            joined["peak_mb"],
        )
    return runs


def max_loss_difference(reference: Run, *runs: Run) -> float:
    """Largest |loss difference| at the same step between ``reference`` and the others."""
    return max(abs(a - b) for run in runs for a, b in zip(reference.losses, run.losses))


def measure(
    parameters: Sequence[float],
    data: tuple[list, list],
    micrograd_steps: int,
    our_steps: int,
    rounds: int,
) -> tuple[list[Row], Run]:
    """Rows for the demo step with the collector on and off, the collector's share and the
    loss agreement; also returns micrograd_like's run with the collector on."""
    runs = {
        (name, on): run
        for on in (True, False)
        for name, run in turns(parameters, data, micrograd_steps, our_steps, rounds, on).items()
    }
    rows = []
    for on in (True, False):
        mine, reference = median(runs["ours", on].seconds), median(runs["micrograd", on].seconds)
        target = SPEEDUP_TARGET if on else SPEEDUP_TARGET_GC_OFF
        rows.append(
            Row(
                f"Demo step, gc {'on' if on else 'off'} (ms; median of {our_steps} / "
                f"{micrograd_steps} steps x {rounds} alternating processes, "
                f"{len(data[0])} points)",
                with_memory(milliseconds(mine), vars(runs["ours", on])),
                with_memory(f"micrograd: {milliseconds(reference)}", vars(runs["micrograd", on])),
                times_faster(mine, reference),
                f">= {target:g}x faster",
                reference / mine >= target,
            )
        )
    rows.append(
        Row(
            "Time in the cyclic collector, gc on (% of all steps)",
            _collector_share(runs["ours", True]),
            f"micrograd: {_collector_share(runs['micrograd', True])}",
        )
    )
    difference = max_loss_difference(runs["micrograd", True], *runs.values())
    rows.append(
        Row(
            f"Demo losses, max abs difference over {micrograd_steps} steps",
            f"{difference:.2g}",
            "micrograd",
            target=f"<= {LOSS_TOLERANCE:g}",
            passed=difference <= LOSS_TOLERANCE,
        )
    )
    return rows, runs["ours", True]


def _collector_share(run: Run) -> str:
    return f"{100 * run.collector_seconds / sum(run.seconds):.3g}%"


def profile(parameters: Sequence[float], data: tuple[list, list], steps: int, top: int) -> str:
    """cProfile of ``steps`` micrograd_like demo steps (collector on): the ``top``
    functions by own time (tottime)."""
    model = with_parameters(micrograd_like.MLP, parameters)
    profiler = cProfile.Profile()
    with collector(True):
        profiler.enable()
        for k in range(steps):
            demo_step(model, micrograd_like.Value, *data, k)
        profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(top)
    return text.getvalue()
