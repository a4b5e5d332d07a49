"""Draw a single neuron's computation graph and a small network's diagram to SVG.

The neuron is the lecture's: o = tanh(x1*w1 + x2*w2 + b) with x1 = 2, x2 = 0, w1 = -3,
w2 = 1 and b = 6.8813735870195432, chosen so that n = 0.8814 and o = tanh(n) = 0.7071.
Usage: python demos/trace_graph.py [OUTPUT_DIR]   (default: demo-out)
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from micrograd_like import MLP, Value
from micrograd_like.viz import draw_dot, draw_network, render


def neuron_graph() -> tuple[Value, list[Value]]:
    """The lecture's neuron after backward(), every node labelled, and its parameters."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    total = x1w1 + x2w2
    total.label = "x1*w1 + x2*w2"
    n = total + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o, [w1, w2, b]


def main(argv: Sequence[str] | None = None) -> list[Path]:
    """Write neuron.svg and network.svg into the output directory; returns their paths."""
    parser = argparse.ArgumentParser(description="Draw a neuron's graph and a network to SVG.")
    parser.add_argument("out_dir", nargs="?", default="demo-out", type=Path)
    out_dir = parser.parse_args(argv).out_dir
    o, params = neuron_graph()
    neuron = render(draw_dot(o, params=params), out_dir / "neuron.svg")
    model = MLP(3, [4, 4, 1], activation="tanh", seed=0)
    network = render(draw_network(model), out_dir / "network.svg")
    print(f"o = tanh(x1*w1 + x2*w2 + b) = {o.data:.4f}; graph written to {neuron}")
    print(f"MLP(3, [4, 4, 1]) diagram written to {network}")
    return [neuron, network]


if __name__ == "__main__":
    main()
