"""Measurement 4: backward time per node as the graph grows from 10^4 to 10^6 nodes.

The graphs are chains (see :func:`memory.chain`), as deep as they are long, so the
traversal must not recurse. A linear-time backward keeps the time per node flat; the
cyclic collector walking a growing heap is what would bend it. micrograd is not run here:
its recursive topological sort exceeds Python's recursion limit on such chains.
"""

from __future__ import annotations

from harness import Row, collector, isolated, median, megabytes, timed
from memory import NODES_PER_LINK, chain, count_nodes

import micrograd_like

LINEARITY_TARGET = 2.0


def backward_seconds_per_node(nodes: int, repeats: int, gc_enabled: bool = True) -> float:
    """Median seconds of ``backward()`` on a chain of about ``nodes`` nodes, per node."""
    with collector(gc_enabled):
        root = chain(micrograd_like.Value, nodes // NODES_PER_LINK)
        count = count_nodes(root, lambda node: node.parents)
        return median([timed(root.backward)[0] for _ in range(repeats)]) / count


def job(nodes: int, repeats: int, gc_enabled: bool) -> dict:
    """:func:`backward_seconds_per_node` as JSON values (for ``harness.isolated``)."""
    return {"per_node": backward_seconds_per_node(nodes, repeats, gc_enabled)}


def _isolated(nodes: int, repeats: int, gc_enabled: bool = True) -> dict:
    return isolated("scaling", "job", nodes=nodes, repeats=repeats, gc_enabled=gc_enabled)


def measure(sizes: tuple[int, ...], repeats: tuple[int, ...]) -> list[Row]:
    """One row per size (microseconds per node, the collector on as users have it), the
    largest with its ratio to the smallest; then, for context, the same two sizes with the
    collector off. Each size runs in a process of its own, whose peak memory is shown."""
    results = [_isolated(n, r) for n, r in zip(sizes, repeats)]
    per_node = [result["per_node"] for result in results]
    rows = [
        Row(
            f"Backward per node, {_power_of_ten(n)} nodes (us)",
            f"{t * 1e6:.3g} ({megabytes(result)})",
        )
        for n, t, result in zip(sizes[:-1], per_node[:-1], results)
    ]
    ratio = per_node[-1] / per_node[0]
    rows.append(
        Row(
            f"Backward per node, {_power_of_ten(sizes[-1])} nodes (us)",
            f"{per_node[-1] * 1e6:.3g} ({megabytes(results[-1])})",
            ratio=_versus(ratio, sizes[0]),
            target=f"<= {LINEARITY_TARGET:g}",
            passed=ratio <= LINEARITY_TARGET,
        )
    )
    smallest, largest = (_isolated(sizes[i], repeats[i], gc_enabled=False) for i in (0, -1))
    rows.append(
        Row(
            f"Backward per node, {_power_of_ten(sizes[-1])} nodes, gc off (us)",
            f"{largest['per_node'] * 1e6:.3g} ({megabytes(largest)})",
            ratio=_versus(largest["per_node"] / smallest["per_node"], sizes[0]),
        )
    )
    return rows


def _versus(ratio: float, size: int) -> str:
    return f"{ratio:.2f} (vs {_power_of_ten(size)})"


def _power_of_ten(n: int) -> str:
    """10^k for exact powers of ten, else the number itself."""
    k = len(str(n)) - 1
    return f"10^{k}" if n == 10**k else str(n)
