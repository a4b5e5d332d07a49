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

__all__ = ["cyclic_collector_paused", "reverse_sweep", "sweep_into_grads", "topological_order"]

_data = operator.attrgetter("data")


def topological_order(root: Any) -> list[Any]:
    """Every node reachable from ``root``, inputs before the nodes that use them.

    Iterative depth-first search (no recursion limit): each node on the stack keeps an
    iterator over its parents, resumed where it stopped; parents are visited in order, so
    the result is deterministic.
    """
    order: list[Any] = []
    visited = {root}
    stack = [(root, iter(root._parents))]
    push, pop, emit, mark = stack.append, stack.pop, order.append, visited.add
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in visited:
                mark(parent)
                if parent._parents:
                    push((parent, iter(parent._parents)))
                    break
                emit(parent)  # a leaf: nothing to wait for
        else:
            pop()
            emit(node)
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


def sweep_into_grads(order: list[Any], seed: float) -> None:
    """``reverse_sweep`` on floats, for ``backward()``: the gradients are accumulated in the
    nodes' own ``.grad`` (an attribute update costs less than a dict update, and no copy is
    left to make), then every interior node keeps d(root)/d(node) and every leaf gets it
    added to the ``.grad`` it had. If a local partial fails, every ``.grad`` is restored
    before the error propagates, so a failed backward changes nothing."""
    saved = [node.grad for node in order]
    for node in order:
        node.grad = 0.0
    order[-1].grad = seed
    try:
        for node in reversed(order):
            parents = node._parents
            if not parents:
                continue
            g = node.grad
            rule = node._rule
            try:
                partials = rule.derivative(*map(_data, parents), node.data)
            except (ValueError, ZeroDivisionError, OverflowError):
                partials = None
            if partials is None or len(partials) != len(parents):
                partials = rule.local_partials([*map(_data, parents)], node.data)  # raises
            for parent, partial in zip(parents, partials):
                parent.grad += partial * g
    except BaseException:
        for node, grad in zip(order, saved):
            node.grad = grad
        raise
    for node, grad in zip(order, saved):
        if not node._parents:  # leaves accumulate, as in PyTorch
            node.grad = grad + node.grad


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
