"""Walking a computation graph: topological order and the reverse (chain-rule) sweep.

Both work on any node with ``_parents`` (a tuple) and ``_rule`` (the op that made it, with
``local_partials``), so the same sweep serves ``Value.backward()`` and :func:`grad`.
"""

from __future__ import annotations

import contextlib
import gc
import operator
from collections.abc import Iterator
from typing import Any

__all__ = ["cyclic_collector_paused", "reverse_sweep", "topological_order"]

_data = operator.attrgetter("data")


def topological_order(root: Any) -> list[Any]:
    """Every node reachable from ``root``, inputs before the nodes that use them.

    Iterative depth-first search (no recursion limit); parents are visited in order, so
    the result is deterministic.
    """
    order: list[Any] = []
    visited: set[Any] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for parent in reversed(node._parents):
            if parent not in visited:
                stack.append((parent, False))
    return order


def reverse_sweep(order: list[Any], seed: Any, *, differentiable: bool = False) -> dict[Any, Any]:
    """d(root)/d(node) for every node of ``order`` (which ends with the root), as a dict.

    The chain rule, node by node from the root down::

        d(root)/d(parent) += d(root)/d(node) * d(node)/d(parent)

    ``seed`` is d(root)/d(root). With ``differentiable=True`` the local partials are
    evaluated on the nodes themselves, so the gradients are Values with graphs of their own;
    otherwise on floats. No ``.grad`` is touched: callers decide where the result goes.
    """
    grads: dict[Any, Any] = {order[-1]: seed}
    get = grads.get
    for node in reversed(order):
        parents = node._parents
        if not parents:
            continue
        g = grads[node]
        if differentiable:
            partials = node._rule.local_partials(parents, node)
        else:
            partials = node._rule.local_partials([*map(_data, parents)], node.data)
        for parent, partial in zip(parents, partials):
            previous = get(parent)
            grads[parent] = partial * g if previous is None else previous + partial * g
    return grads


@contextlib.contextmanager
def cyclic_collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during a backward pass.

    Graphs hold no reference cycles, so everything a backward pass allocates is freed by
    reference counting; left on, the collector would repeatedly walk every node of a large
    graph and make backward superlinear in the graph's size.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
