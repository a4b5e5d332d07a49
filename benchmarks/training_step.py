"""Measurement 2: one training step, ``train_on_batch`` vs the same step in PyTorch eager.

Same data, network, initial parameters, loss (hinge + 1e-4 L2) and learning rates as the
demo step, and the same step without the L2 term. PyTorch runs in float64 (Python floats
are doubles) on one thread, with the MLP written as ``nn.Linear`` layers and ReLUs; it is
imported only here (benchmark extra). Each run has a process of its own, and the two sides
take turns for several rounds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
from demo_step import ALPHA, Run, learning_rate, max_loss_difference, with_parameters
from harness import (
    Row,
    collector,
    isolated,
    median,
    milliseconds,
    pooled,
    taking_turns,
    timed_steps,
    with_memory,
)

import micrograd_like
from micrograd_like.optim import SGD

TIME_RATIO_TARGET = 1.0


def layer_weights(model: micrograd_like.MLP) -> list[tuple[list[list[float]], list[float]]]:
    """Each layer's weight matrix (one row per neuron) and bias vector, as floats."""
    return [
        (
            [[w.data for w in neuron.w] for neuron in layer.neurons],
            [n.b.data for n in layer.neurons],
        )
        for layer in model.layers
    ]


def torch_mlp(weights: Sequence[tuple[list[list[float]], list[float]]]) -> Any:
    """``nn.Sequential`` of float64 ``nn.Linear`` layers holding ``weights``, ReLU between."""
    import torch

    layers = []
    for matrix, bias in weights:
        linear = torch.nn.Linear(len(matrix[0]), len(matrix), dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(matrix, dtype=torch.float64))
            linear.bias.copy_(torch.tensor(bias, dtype=torch.float64))
        layers += [linear, torch.nn.ReLU()]
    return torch.nn.Sequential(*layers[:-1])


def torch_run(weights: Sequence, data: tuple[list, list], steps: int, alpha: float) -> Run:
    """``steps`` timed PyTorch steps: hinge + ``alpha`` L2 loss, backward, SGD with the
    demo's rates."""
    import torch

    torch.set_num_threads(1)
    net = torch_mlp(weights)
    optimizer = torch.optim.SGD(net.parameters(), lr=learning_rate(0))
    X = torch.tensor(data[0], dtype=torch.float64)
    y = torch.tensor(data[1], dtype=torch.float64)

    def step(k: int) -> float:
        scores = net(X).squeeze(1)
        total_loss = torch.relu(1 - y * scores).mean()
        if alpha:
            total_loss = total_loss + alpha * sum((p * p).sum() for p in net.parameters())
        optimizer.zero_grad()
        total_loss.backward()
        optimizer.param_groups[0]["lr"] = learning_rate(k)
        optimizer.step()
        return total_loss.item()

    return _run(step, steps)


def our_run(parameters: Sequence[float], data: tuple[list, list], steps: int, alpha: float) -> Run:
    """``steps`` timed ``train_on_batch`` calls after ``compile(SGD, "hinge", l2=alpha)``."""
    model = with_parameters(micrograd_like.MLP, parameters)
    model.compile(SGD(lr=learning_rate(0)), "hinge", l2=alpha)
    X, y = np.array(data[0]), np.array(data[1])

    def step(k: int) -> float:
        model.optimizer.lr = learning_rate(k)
        return model.train_on_batch(X, y)

    return _run(step, steps)


def _run(step: Callable[[int], float], steps: int) -> Run:
    """The timed steps, with the collector on and the garbage of earlier runs collected."""
    with collector(True):
        return Run(*timed_steps(step, steps))


def job(side: str, parameters: list[float], data: list[list], steps: int, alpha: float) -> dict:
    """One run of ``side`` ("torch" or "ours") as JSON values (``harness.isolated``)."""
    pair = (data[0], data[1])
    if side == "torch":
        weights = layer_weights(with_parameters(micrograd_like.MLP, parameters))
        run = torch_run(weights, pair, steps, alpha)
    else:
        run = our_run(parameters, pair, steps, alpha)
    return {"seconds": run.seconds, "losses": run.losses}


def measure(
    parameters: Sequence[float], data: tuple[list, list], steps: int, demo: Run, rounds: int = 1
) -> list[Row]:
    """Rows for the step time against PyTorch, with and without the L2 term, and for the
    losses against the demo step's (with L2) and against each other (without). Each side
    runs ``steps`` steps in a process, the sides taking turns for ``rounds`` rounds; the
    time is the median of all their steps, the losses those of the first round (every
    round computes the same steps)."""
    rows = []
    runs = {}
    for alpha in (ALPHA, 0.0):
        jobs = {
            side: partial(
                isolated,
                "training_step",
                "job",
                side=side,
                parameters=list(parameters),
                data=list(data),
                steps=steps,
                alpha=alpha,
            )
            for side in ("torch", "ours")
        }
        for side, results in taking_turns(jobs, rounds).items():
            result = pooled(results, ("seconds",))
            runs[side, alpha] = (Run(result["seconds"], results[0]["losses"]), result)
        (ours, our_result), (theirs, their_result) = runs["ours", alpha], runs["torch", alpha]
        mine, reference = median(ours.seconds), median(theirs.seconds)
        term = f"hinge + {alpha:g} L2" if alpha else "hinge, no L2"
        rows.append(
            Row(
                f"train_on_batch vs PyTorch eager step, {term} (ms; median of {steps} x "
                f"{rounds} alternating processes, float64, 1 thread)",
                with_memory(milliseconds(mine), our_result),
                with_memory(f"PyTorch: {milliseconds(reference)}", their_result),
                f"{mine / reference:.3g}x PyTorch's time",
                f"<= {TIME_RATIO_TARGET:g}x PyTorch's time",
                mine / reference <= TIME_RATIO_TARGET,
            )
        )
    rows.append(
        Row(
            "Training step losses vs the demo step's, max abs difference",
            f"{max_loss_difference(demo, runs['ours', ALPHA][0]):.2g}",
            f"PyTorch: {max_loss_difference(demo, runs['torch', ALPHA][0]):.2g}",
        )
    )
    rows.append(
        Row(
            "Training step losses without L2, ours vs PyTorch's, max abs difference",
            f"{max_loss_difference(runs['torch', 0.0][0], runs['ours', 0.0][0]):.2g}",
        )
    )
    return rows
