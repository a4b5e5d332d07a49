"""Gradients as values: :func:`grad`, the functional form of ``backward()``."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from .graph import cyclic_collector_paused, reverse_sweep, topological_order
from .recording import enable_grad
from .value import Value

__all__ = ["grad"]


def grad(output: Value, inputs: Sequence[Value], create_graph: bool = False) -> list[Value]:
    """d(output)/d(input) for each input, without touching any ``.grad``.

    With ``create_graph=True`` the gradients are built from Value operations, so they
    can be differentiated again (second and higher derivatives), even inside no_grad.
    """
    if not isinstance(output, Value):
        raise TypeError(f"grad: output must be a Value, got {type(output).__name__}")
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"grad: inputs[{i}] must be a Value, got {type(x).__name__}")
    recording = enable_grad() if create_graph else contextlib.nullcontext()
    with cyclic_collector_paused(), recording:
        seed = Value(1.0) if create_graph else 1.0
        grads = reverse_sweep(topological_order(output), seed, differentiable=create_graph)
    result = []
    for x in inputs:
        g = grads.get(x, 0.0)
        result.append(g if isinstance(g, Value) else Value(g))
    return result
