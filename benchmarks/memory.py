"""Measurement 3: bytes per graph node, traced with tracemalloc, micrograd vs micrograd_like.

Two graphs: a chain that both engines build from the same elementary ops (so both have the
same nodes and bytes per node compare like for like), and one step of the demo, where
micrograd_like's neuron is a single ``linear`` node instead of a chain of adds and
multiplies (fewer, larger nodes: the total is what matters there).
"""

from __future__ import annotations

import gc
import operator
import tracemalloc
from collections.abc import Callable
from typing import Any

from demo_step import demo_loss, micrograd_engine, with_parameters
from harness import Row

import micrograd_like

NODES_PER_LINK = 5
"""A chain link ``relu(x * c + d)`` adds five nodes: c, the product, d, the sum, the relu."""
BYTES_RATIO_TARGET = 0.25

_micrograd_parents = operator.attrgetter("_prev")
_our_parents = operator.attrgetter("parents")


def chain(value_type: type, links: int) -> Any:
    """relu(x * 0.999 + 0.001) applied ``links`` times to x = 0.5: a graph as deep as it is
    long, made of ops every engine has."""
    x = value_type(0.5)
    for _ in range(links):
        x = (x * 0.999 + 0.001).relu()
    return x


def count_nodes(root: Any, parents_of: Callable[[Any], Any]) -> int:
    """Number of distinct nodes reachable from ``root`` (iterative, any depth)."""
    seen = {id(root)}
    stack = [root]
    while stack:
        for parent in parents_of(stack.pop()):
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen)


def traced_bytes(build: Callable[[], Any]) -> tuple[int, Any]:
    """Bytes allocated by ``build()`` and still alive when it returns, and its result."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = build()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return after - before, result


def bytes_per_chain_node(value_type: type, parents_of: Callable, links: int) -> float:
    """Traced bytes of a chain of ``links`` links divided by its node count."""
    size, root = traced_bytes(lambda: chain(value_type, links))
    return size / count_nodes(root, parents_of)


def demo_graph(
    engine: tuple[type, Callable], parameters: list[float], data: tuple[list, list]
) -> tuple[int, int]:
    """Bytes and node count of one demo step's graph (the parameters already exist, so
    their bytes are not counted; their nodes are)."""
    value_type, make_mlp = engine
    model = with_parameters(make_mlp, parameters)
    size, (loss, _accuracy) = traced_bytes(lambda: demo_loss(model, value_type, *data))
    parents_of = _our_parents if value_type is micrograd_like.Value else _micrograd_parents
    return size, count_nodes(loss, parents_of)


def measure(chain_nodes: int, parameters: list[float], data: tuple[list, list]) -> list[Row]:
    """Rows for bytes per node on a chain and for the size of one demo step's graph."""
    micrograd_value, _ = micrograd_engine()
    links = chain_nodes // NODES_PER_LINK
    ours = bytes_per_chain_node(micrograd_like.Value, _our_parents, links)
    theirs = bytes_per_chain_node(micrograd_value, _micrograd_parents, links)
    ours_engine = (micrograd_like.Value, micrograd_like.MLP)
    our_bytes, our_nodes = demo_graph(ours_engine, parameters, data)
    their_bytes, their_nodes = demo_graph(micrograd_engine(), parameters, data)
    return [
        Row(
            f"Memory per node, chain of {NODES_PER_LINK * links + 1} nodes (bytes)",
            f"{ours:.0f}",
            f"micrograd: {theirs:.0f}",
            f"{ours / theirs:.2f}",
            f"<= {BYTES_RATIO_TARGET:g}",
            ours / theirs <= BYTES_RATIO_TARGET,
        ),
        Row(
            f"Memory of one demo step's graph ({len(data[0])} points)",
            f"{our_bytes / 1e6:.3g} MB, {our_nodes} nodes",
            f"micrograd: {their_bytes / 1e6:.3g} MB, {their_nodes} nodes",
            f"{our_bytes / their_bytes:.2f}",
        ),
    ]
