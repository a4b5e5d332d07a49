"""Graph pictures: DOT text, SVG content (parsed as XML), network diagrams, files."""

from __future__ import annotations

import importlib.util
import math
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import pytest

from micrograd_like import MLP, Layer, Neuron, Value
from micrograd_like.viz import (
    DEFAULT_MAX_NODES,
    GraphvizNotFoundError,
    draw_dot,
    draw_network,
    output_format,
    render,
    to_dot,
)

DEMO = Path(__file__).resolve().parent.parent / "demos" / "trace_graph.py"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is missing")
SVG = "{http://www.w3.org/2000/svg}"


def svg_root(graph: graphviz.Digraph) -> ET.Element:
    return ET.fromstring(graph.pipe(format="svg"))


def groups(root: ET.Element, kind: str) -> dict[str, list[ET.Element]]:
    """SVG <g class=kind> elements by their <title> (the DOT node id or 'a->b')."""
    found: dict[str, list[ET.Element]] = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == kind:
            found.setdefault(g.find(f"{SVG}title").text, []).append(g)
    return found


def texts(element: ET.Element) -> list[str]:
    return [t.text for t in element.iter(f"{SVG}text")]


def x_times_x_plus_one():
    x = Value(3.0, label="x")
    y = x * x + 1
    y.label = "y"
    y.backward()
    return x, y


@needs_dot
def test_values_show_label_data_and_grad_and_ops_are_nodes():
    x, y = x_times_x_plus_one()
    root = svg_root(draw_dot(y))
    nodes = groups(root, "node")
    # v0 = x (data 3, grad dy/dx = 2x = 6); the op nodes carry the op symbols
    assert texts(nodes["v0"][0]) == ["x", "data 3.0000", "grad 6.0000"]
    assert texts(nodes["v3"][0]) == ["y", "data 10.0000", "grad 1.0000"]
    assert texts(nodes["v1_op"][0]) == ["*"] and texts(nodes["v3_op"][0]) == ["+"]
    assert len(nodes) == 6  # 4 values + 2 ops


@needs_dot
def test_a_value_used_twice_is_drawn_once_with_two_edges():
    x, y = x_times_x_plus_one()
    root = svg_root(draw_dot(y))
    assert sum(texts(g[0]) and texts(g[0])[0] == "x" for g in groups(root, "node").values()) == 1
    edges = groups(root, "edge")
    assert len(edges["v0->v1_op"]) == 2
    # x -> * twice, * -> x*x, x*x -> +, 1 -> +, + -> y
    assert sum(len(e) for e in edges.values()) == 6


@needs_dot
def test_constants_parameters_and_inputs_are_styled_differently():
    x, w = Value(2.0, label="x"), Value(-1.0)
    y = (x * w + 1.5).tanh()
    y.backward()
    nodes = groups(svg_root(draw_dot(y, params=[w])), "node")
    shape = {name: g[0].find(f"{SVG}polygon") for name, g in nodes.items()}
    by_first_text = {texts(g[0])[0]: name for name, g in nodes.items()}
    constant = by_first_text["data 1.5000"]
    parameter = by_first_text["data -1.0000"]
    assert shape[constant].get("stroke-dasharray")  # dashed outline
    assert shape[constant].get("fill") == "none"
    assert shape[parameter].get("stroke-dasharray") is None
    assert shape[parameter].get("fill") == "#dbeafe"
    assert shape["v0"].get("fill") == "#fef9c3"  # the labelled input x
    # without params=, the unlabelled w counts as a constant
    w_line = next(line for line in to_dot(y).splitlines() if "data -1.0000" in line)
    assert "style=dashed" in w_line


def test_to_dot_is_deterministic_and_uses_graph_order_ids():
    def build():
        a, b = Value(1.5, label="a"), Value(-0.5, label="b")
        c = a * b + a
        d = (c.tanh() * c).relu() ** 2
        d.backward()
        return d

    first = to_dot(build())
    _garbage = [Value(float(i)) for i in range(1000)]  # shift id()s
    assert to_dot(build()) == first
    ids = set(re.findall(r"^\s*(v\d+(?:_op)?) \[", first, flags=re.M))
    assert "v0" in ids and all(len(i) < 8 for i in ids)
    assert not re.search(r"\d{7,}", first)  # no id()-like numbers


def test_op_symbols():
    n = Neuron(2, activation="tanh", seed=0)
    out = n([1.0, 2.0]) ** 2
    labels = [m.strip('"') for m in re.findall(r'v\d+_op \[label=("[^"]*"|\S+)', to_dot(out))]
    assert labels == ["Σ w·x + b", "tanh", "**2"]


def test_record_special_characters_are_escaped():
    v = Value(1.0, label='a|b{c}<d>"e"\\')
    assert '{ a\\|b\\{c\\}\\<d\\>\\"e\\"\\\\ | data 1.0000 | grad 0.0000 }' in to_dot(v)


@needs_dot
def test_escaped_label_renders_as_written():
    v = Value(1.0, label="a|b{c}")
    assert texts(groups(svg_root(draw_dot(v)), "node")["v0"][0])[0] == "a|b{c}"


def test_max_nodes_refuses_large_graphs_with_advice():
    x = Value(0.5, label="x")
    y = x
    for _ in range(DEFAULT_MAX_NODES):
        y = y * 1.0001  # each op adds a value, a constant and an op node
    with pytest.raises(ValueError, match="max_nodes=500") as info:
        draw_dot(y)
    assert "smaller" in str(info.value)
    assert to_dot(y, max_nodes=2000).count("_op [") == DEFAULT_MAX_NODES
    with pytest.raises(ValueError, match="max_nodes"):
        draw_dot(x, max_nodes=0)


def test_values_reused_far_along_a_long_graph_are_refused_before_graphviz_sees_them():
    # x + x + ... + x: each use of x is an edge skipping more ranks; dot would lay out
    # about n^2 points (minutes for n = 250), although the graph has only 2n + 1 nodes
    x = Value(1.0, label="x")
    y = x
    for _ in range(100):
        y = y + x
    with pytest.raises(ValueError, match="layout points") as info:
        draw_dot(y)  # 201 nodes, under max_nodes
    assert "max_nodes" in str(info.value)
    assert "digraph" in to_dot(y, max_nodes=2000)
    # a wide but shallow graph of the same size is fine
    leaves = [Value(float(i), label=f"a{i}") for i in range(64)]
    while len(leaves) > 1:
        leaves = [a * b for a, b in zip(leaves[::2], leaves[1::2])]
    assert to_dot(leaves[0]).count("_op [") == 63


def test_color_by_grad_shades_by_magnitude_and_nan_is_red():
    x = Value(3.0, label="x")
    y = x * 4.0  # grads: y 1, x 4, constant 4 -> x darkest
    y.backward()
    dot = to_dot(y, color_by_grad=True)
    x_line = next(line for line in dot.splitlines() if "{ x |" in line)
    y_line = next(line for line in dot.splitlines() if "penwidth=2" in line)
    assert "fillcolor=9" in x_line and "colorscheme=oranges9" in x_line
    assert "fillcolor=3" in y_line  # 1 + round(8 * 1/4)
    bad = Value(1.0, label="bad") * 2
    bad.data = bad.parents[0].data = math.nan  # as a diverged run could leave them
    nan_lines = [line for line in to_dot(bad).splitlines() if "nan" in line]
    assert len(nan_lines) == 2 and all("#dc2626" in line for line in nan_lines)


def test_bad_arguments():
    with pytest.raises(TypeError):
        draw_dot(3.0)
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(Value(1.0), rankdir="XY")
    with pytest.raises(TypeError):
        draw_network(object())


@needs_dot
def test_draw_network_columns_and_weighted_edges():
    model = MLP(3, [4, 4, 1], activation="tanh", seed=0)
    root = svg_root(draw_network(model))
    nodes, edges = groups(root, "node"), groups(root, "edge")
    assert len(nodes) == 3 + 4 + 4 + 1
    assert sum(len(e) for e in edges.values()) == 3 * 4 + 4 * 4 + 4 * 1
    # one column (same x) per layer, left to right
    columns = [["x0", "x1", "x2"], [f"l0n{j}" for j in range(4)], [f"l1n{j}" for j in range(4)]]
    columns.append(["l2n0"])
    xs = [{float(nodes[n][0].find(f"{SVG}ellipse").get("cx")) for n in col} for col in columns]
    assert all(len(column) == 1 for column in xs)
    lefts = [column.pop() for column in xs]
    assert lefts == sorted(lefts) and len(set(lefts)) == 4
    # colour by sign, width by |w|: the largest |w| gets the widest edge (4)
    weights = {
        (f"{'x' if k == 0 else f'l{k - 1}n'}{i}", f"l{k}n{j}"): w.data
        for k, layer in enumerate(model.layers)
        for j, neuron in enumerate(layer.neurons)
        for i, w in enumerate(neuron.w)
    }
    largest = max(abs(w) for w in weights.values())
    for (source, target), w in weights.items():
        path = edges[f"{source}->{target}"][0].find(f".//{SVG}path")
        assert path.get("stroke") == ("#2563eb" if w >= 0 else "#dc2626")
        width = float(path.get("stroke-width", "1"))
        assert width == pytest.approx(0.5 + 3.5 * abs(w) / largest, abs=0.01)
    assert "tanh" in texts(nodes["l0n0"][0]) and "linear" in texts(nodes["l2n0"][0])


def test_draw_network_accepts_layers_and_neurons_and_refuses_large_models():
    assert to_network_edges(Layer(3, 2, seed=0)) == 6
    assert to_network_edges(Neuron(5, seed=0)) == 5
    with pytest.raises(ValueError, match="max_nodes=10"):
        draw_network(MLP(8, [8]), max_nodes=10)
    with pytest.raises(ValueError, match="max_edges=10"):
        draw_network(MLP(8, [8]), max_edges=10)


def to_network_edges(model) -> int:
    return draw_network(model).source.count(" -> ")


@needs_dot
def test_render_writes_svg_png_and_dot_atomically(tmp_path):
    x, y = x_times_x_plus_one()
    svg = render(y, tmp_path / "graph.svg")
    assert "data 10.0000" in texts(ET.parse(svg).getroot())
    png = render(draw_network(MLP(2, [2, 1], seed=0)), tmp_path / "sub" / "net.PNG")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dot = render(y, tmp_path / "graph.gv")
    assert dot.read_text() == to_dot(y)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.gv", "graph.svg", "sub"]
    with pytest.raises(ValueError, match="expected a path ending in"):
        render(y, tmp_path / "graph.txt")


def test_missing_dot_writes_the_dot_text_and_says_how_to_install(tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    x, y = x_times_x_plus_one()
    with pytest.raises(GraphvizNotFoundError) as info:
        render(y, tmp_path / "graph.svg")
    message = str(info.value)
    assert isinstance(info.value, RuntimeError) and "\n" not in message
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install"):
        assert hint in message
    assert not (tmp_path / "graph.svg").exists()
    assert (tmp_path / "graph.dot").read_text() == to_dot(y)


def test_output_format():
    assert [output_format(p) for p in ("a.svg", "b.PNG", "c.pdf", "d.dot", "e.gv")] == [
        "svg",
        "png",
        "pdf",
        "dot",
        "dot",
    ]
    with pytest.raises(TypeError):
        output_format(3)


@needs_dot
def test_trace_graph_demo_writes_the_neuron_and_the_network(tmp_path):
    spec = importlib.util.spec_from_file_location("trace_graph", DEMO)
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)
    neuron, network = demo.main([str(tmp_path)])
    neuron_texts = texts(ET.parse(neuron).getroot())
    # the lecture's numbers: o = tanh(0.8814) = 0.7071; do/dn = 1 - o^2 = 0.5,
    # do/dx1 = w1 * 0.5 = -1.5, do/dw1 = x1 * 0.5 = 1.0
    for label in ("x1", "w1", "b", "n", "o", "tanh", "data 0.7071", "grad -1.5000"):
        assert label in neuron_texts
    w1 = neuron_texts.index("w1")
    assert neuron_texts[w1 + 1 : w1 + 3] == ["data -3.0000", "grad 1.0000"]
    network_nodes = groups(ET.parse(network).getroot(), "node")
    assert len(network_nodes) == 3 + 4 + 4 + 1
