"""Pictures of computation graphs and of networks, drawn with Graphviz.

:func:`draw_dot` draws every Value as a record ``label | data | grad`` (4 decimals) and every
op as its own oval node labelled with its symbol (``+``, ``*``, ``**2``, ``tanh``,
``Σ w·x + b`` for a neuron's weighted sum); edges run input -> op -> result. A Value used
twice is drawn once with two edges (``x*x`` shows two arrows from ``x`` into ``*``). Node ids
follow the topological order (``v0``, ``v1``, ...), so the same graph always gives the same
DOT text (:func:`to_dot`).

Leaves are drawn by kind:

* parameter: a leaf listed in ``params=`` (e.g. ``model.parameters()``): filled blue;
* input: any other leaf with a label (``Value(2.0, label="x")``): filled yellow;
* constant: a leaf with no label and not in ``params`` — what the engine makes from a plain
  number in ``x * 2`` or ``x + 1``: dashed and grey. (An unlabelled ``Value`` you made
  yourself is drawn as a constant too, unless it is in ``params``: label it or list it.)

The root has a bold border. Optionally (``color_by_grad=True``) fills shade with |grad|
relative to the largest |grad|; a nan or inf data or grad is always drawn in red.
"""

from __future__ import annotations

import math
import os
import signal
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

import graphviz

from .checks import count, positive_number
from .engine import Value, topological_order
from .errors import (
    DEFAULT_MAX_NODES,
    DOT_TIMEOUT,
    RANKDIRS,
    GraphvizError,
    GraphvizNotFoundError,
)
from .files import atomic_write

__all__ = [
    "DEFAULT_MAX_NODES",
    "DOT_TIMEOUT",
    "GraphvizError",
    "GraphvizNotFoundError",
    "draw_dot",
    "LAYOUT_LIMITS",
    "OP_SYMBOLS",
    "RANKDIRS",
    "check_graph_size",
    "checked_label",
    "checked_rankdir",
    "draw_network",
    "output_format",
    "pipe",
    "record_label",
    "render",
    "to_dot",
]

_MAX_LABEL_BYTES = 16_000
"""dot reads at most 16 KB in one quoted string: a Value's label, escaped, must leave room
in its record for the data and grad fields."""

# Caps on Graphviz's network-simplex iterations (per node) for ranking and placement: small
# graphs converge well before them (their pictures are unchanged); large ones cannot run away.
LAYOUT_LIMITS = {"nslimit": "2", "nslimit1": "2"}
# dot lays out one extra point per rank an edge skips, so a value reused far along the graph
# (x in x + x + ... + x) costs quadratically: 250 such additions (499 nodes) make 124,000
# points and minutes of layout. Graphs needing more than this many points per max_nodes
# are refused; at the limit dot takes about a second.
_LAYOUT_POINTS_PER_NODE = 10
_PICTURE_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}
_DOT_SUFFIXES = (".dot", ".gv")
OP_SYMBOLS = {"add": "+", "mul": "*", "pow": "**", "linear": "Σ w·x + b", "logsumexp": "log Σ exp"}
"""How pictures draw the built-in ops whose label is not their symbol."""

_STYLE = {
    "parameter": {"style": "filled", "fillcolor": "#dbeafe", "color": "#1d4ed8"},
    "input": {"style": "filled", "fillcolor": "#fef9c3", "color": "#a16207"},
    "constant": {"style": "dashed", "color": "#6b7280", "fontcolor": "#6b7280"},
    "intermediate": {},
}
_NON_FINITE = {"style": "filled", "fillcolor": "#fecaca", "color": "#dc2626", "penwidth": "2"}
_GRAD_SCHEME = "oranges9"  # Graphviz's Brewer scheme; fill index 1 (pale) .. 9 (dark)
_POSITIVE, _NEGATIVE, _BAD_WEIGHT = "#2563eb", "#dc2626", "#9ca3af"


# ---------------------------------------------------------------- argument checks


def checked_rankdir(rankdir: object) -> str:
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    return str(rankdir)


def _too_large(count: str, limit: str, knob: str, advice: str) -> ValueError:
    return ValueError(
        f"the graph has {count}, more than {limit}; {advice}, or pass a larger {knob}= "
        "(Graphviz's layout becomes very slow on large graphs)"
    )


# ---------------------------------------------------------------- computation graphs


def _record_text(text: str) -> str:
    """Escape the characters that structure a Graphviz record label."""
    for char in '\\{}|<>"':
        text = text.replace(char, "\\" + char)
    return text


def checked_label(label: str) -> str:
    """``label`` escaped for a record; a ValueError for what dot cannot read (a NUL, text
    that is not valid Unicode, more than its 16 KB), which it would report as a raw error."""
    shown = f"{label[:40]!r}{'...' if len(label) > 40 else ''}"
    if "\x00" in label:
        raise ValueError(f"the label {shown} holds a NUL character, which Graphviz cannot draw")
    text = _record_text(label)
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValueError(f"the label {shown} is not valid Unicode text") from None
    if size > _MAX_LABEL_BYTES:
        raise ValueError(
            f"the label {shown} takes {size} bytes once escaped; Graphviz draws labels of at "
            f"most {_MAX_LABEL_BYTES}"
        )
    return text


def _number(x: float) -> str:
    return f"{x:.4f}"


def _kind(node: Value, params: set[Value]) -> str:
    if node.parents:
        return "intermediate"
    if node in params:
        return "parameter"
    return "input" if node.label else "constant"


def _op_symbol(node: Value) -> str:
    """How the op that made ``node`` (a node with parents) is drawn."""
    rule = node.rule
    if rule is None:
        return ""
    return OP_SYMBOLS.get(rule.name, rule.label)


def _grad_fill(grad: float, largest: float) -> dict[str, str]:
    """Fill shade 1..9 of the Brewer 'oranges9' scheme for |grad| / largest |grad|."""
    share = abs(grad) / largest if largest > 0 else 0.0
    return {"colorscheme": _GRAD_SCHEME, "fillcolor": str(1 + round(8 * share))}


def _value_attrs(node: Value, kind: str, is_root: bool, largest_grad: float | None) -> dict:
    """Graphviz attributes of one value node: kind style, grad shading, red if not finite."""
    attrs = dict(_STYLE[kind])
    if largest_grad is not None:
        if math.isfinite(node.grad):
            attrs.update(_grad_fill(node.grad, largest_grad))
        attrs["style"] = "filled,dashed" if kind == "constant" else "filled"
    if is_root:
        attrs["penwidth"] = "2"
    if not (math.isfinite(node.data) and math.isfinite(node.grad)):
        attrs.update(_NON_FINITE)
    return attrs


def _value_label(node: Value, rankdir: str) -> str:
    fields = [f"data {_number(node.data)}", f"grad {_number(node.grad)}"]
    if node.label:
        fields.insert(0, checked_label(node.label))
    return record_label(fields, rankdir)


def record_label(fields: Sequence[str], rankdir: str) -> str:
    """A value's box as a Graphviz record label: its fields side by side across the graph's
    direction (stacked in a graph that runs left to right)."""
    row = " | ".join(fields)
    return "{ " + row + " }" if rankdir in ("LR", "RL") else row


def _skipped_ranks(order: Sequence[Value]) -> int:
    """How many ranks the drawn graph's edges skip in total (dot's extra layout points).

    Ranks are counted back from the root (each value two ranks after its op's inputs, as
    late as possible): a feasible ranking, so this bounds the count of dot's optimal one."""
    depth = {order[-1]: 0}
    for node in reversed(order):
        for parent in node.parents:
            depth[parent] = max(depth.get(parent, 0), depth[node] + 2)
    # the edge parent -> op of node spans depth[parent] - depth[node] - 1 ranks
    return sum(depth[p] - depth[node] - 2 for node in order for p in node.parents)


def check_graph_size(order: Sequence[Value], max_nodes: int, advice: str) -> None:
    """Refuse (ValueError, ending with ``advice``) a graph of more than ``max_nodes`` drawn
    nodes (values + ops), or whose long edges would make Graphviz's layout as costly as ten
    times that many nodes (a value reused far along a long graph)."""
    ops = sum(1 for node in order if node.parents)
    drawn = len(order) + ops
    if drawn > max_nodes:
        raise _too_large(
            f"{drawn} nodes ({len(order)} values and {ops} ops)",
            f"max_nodes={max_nodes}",
            "max_nodes",
            advice,
        )
    points = drawn + _skipped_ranks(order)
    if points > _LAYOUT_POINTS_PER_NODE * max_nodes:
        raise _too_large(
            f"{drawn} nodes but {points} layout points (edges from values reused far along "
            "the graph add one point per rank they skip)",
            f"{_LAYOUT_POINTS_PER_NODE} * max_nodes = {_LAYOUT_POINTS_PER_NODE * max_nodes}",
            "max_nodes",
            advice,
        )


def draw_dot(
    root: Value,
    format: str = "svg",
    rankdir: str = "LR",
    *,
    max_nodes: int = DEFAULT_MAX_NODES,
    color_by_grad: bool = False,
    params: Iterable[Value] | None = None,
) -> graphviz.Digraph:
    """The computation graph that produced ``root``, as a ``graphviz.Digraph`` (shown inline
    in Jupyter; ``.pipe()`` gives the picture's bytes; :func:`render` writes a file).

    ``params`` marks leaves as parameters (see the module doc for the node styles);
    ``color_by_grad`` shades value nodes by |grad|. A graph with more than ``max_nodes``
    drawn nodes (values + ops), or whose long edges would make Graphviz's layout as costly as
    ten times that many nodes (a value reused far along a long graph), is refused with a
    ValueError.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_dot expects a Value, got {type(root).__name__}")
    rankdir = checked_rankdir(rankdir)
    max_nodes = count(max_nodes, "max_nodes")
    order = topological_order(root)
    check_graph_size(
        order,
        max_nodes,
        "draw a smaller part of it (draw_dot of an intermediate Value, one sample's loss, "
        "or a smaller model)",
    )
    param_set = set(params) if params is not None else set()
    finite_grads = [abs(n.grad) for n in order if math.isfinite(n.grad)]
    largest = max(finite_grads, default=0.0) if color_by_grad else None
    ids = {node: f"v{i}" for i, node in enumerate(order)}
    dot = graphviz.Digraph(format=format, graph_attr={"rankdir": rankdir, **LAYOUT_LIMITS})
    dot.attr("node", fontsize="11")
    for node in order:
        attrs = _value_attrs(node, _kind(node, param_set), node is root, largest)
        dot.node(ids[node], _value_label(node, rankdir), shape="record", **attrs)
        if node.parents:
            op_id = ids[node] + "_op"
            dot.node(op_id, _op_symbol(node).replace("\\", "\\\\"), shape="ellipse")
            for parent in node.parents:
                dot.edge(ids[parent], op_id)
            dot.edge(op_id, ids[node])
    return dot


def to_dot(
    root: Value,
    rankdir: str = "LR",
    *,
    max_nodes: int = DEFAULT_MAX_NODES,
    color_by_grad: bool = False,
    params: Iterable[Value] | None = None,
) -> str:
    """The DOT text of :func:`draw_dot`'s graph; the same graph always gives the same text."""
    graph = draw_dot(
        root,
        rankdir=rankdir,
        max_nodes=max_nodes,
        color_by_grad=color_by_grad,
        params=params,
    )
    return graph.source


# ---------------------------------------------------------------- network diagrams


def _layers_of(model: object) -> list[list]:
    """The neurons of a Sequential/MLP (``layers``), a Layer (``neurons``) or a Neuron."""
    if hasattr(model, "layers"):
        return [list(layer.neurons) for layer in model.layers]
    if hasattr(model, "neurons"):
        return [list(model.neurons)]
    if hasattr(model, "w") and hasattr(model, "b"):
        return [[model]]
    raise TypeError(
        f"draw_network expects an MLP, Sequential, Layer or Neuron, got {type(model).__name__}"
    )


def _edge_attrs(weight: float, largest: float) -> dict[str, str]:
    """Blue for a positive weight, red for a negative one; width grows with |weight|."""
    tooltip = f"w = {weight:.4f}"
    if not math.isfinite(weight):
        return {"color": _BAD_WEIGHT, "style": "dashed", "tooltip": tooltip}
    width = 0.5 + 3.5 * abs(weight) / largest if largest > 0 else 0.5
    color = _POSITIVE if weight >= 0 else _NEGATIVE
    return {"color": color, "penwidth": f"{width:.2f}", "tooltip": tooltip}


def _column(dot: graphviz.Digraph, nodes: Sequence[tuple[str, str, dict]]) -> None:
    """Nodes drawn in one column (one rank)."""
    with dot.subgraph() as column:
        column.attr(rank="same")
        for node_id, label, attrs in nodes:
            column.node(node_id, label, **attrs)


def draw_network(
    model: object,
    format: str = "svg",
    rankdir: str = "LR",
    *,
    max_nodes: int = DEFAULT_MAX_NODES,
    max_edges: int = 5000,
) -> graphviz.Digraph:
    """The structure of a network: inputs, hidden and output neurons in columns, one edge per
    weight, blue for positive and red for negative, wider for larger |weight|. Each neuron
    shows its activation and bias. Refuses more than ``max_nodes`` neurons (inputs included)
    or ``max_edges`` weights with a ValueError."""
    layers = _layers_of(model)
    rankdir = checked_rankdir(rankdir)
    nin = len(layers[0][0].w)
    neurons = nin + sum(len(layer) for layer in layers)
    if neurons > count(max_nodes, "max_nodes"):
        raise _too_large(
            f"{neurons} neurons", f"max_nodes={max_nodes}", "max_nodes", "draw a smaller model"
        )
    edges = sum(len(neuron.w) for layer in layers for neuron in layer)
    if edges > count(max_edges, "max_edges"):
        raise _too_large(
            f"{edges} weights", f"max_edges={max_edges}", "max_edges", "draw a smaller model"
        )
    weights = [w.data for layer in layers for neuron in layer for w in neuron.w]
    largest = max((abs(w) for w in weights if math.isfinite(w)), default=0.0)
    dot = graphviz.Digraph(
        format=format, graph_attr={"rankdir": rankdir, "ranksep": "1.2", **LAYOUT_LIMITS}
    )
    dot.attr("node", shape="circle", fontsize="10", style="filled")
    _column(dot, [(f"x{i}", f"x{i + 1}", {"fillcolor": "#fef9c3"}) for i in range(nin)])
    previous = [f"x{i}" for i in range(nin)]
    for depth, layer in enumerate(layers):
        fill = "#dcfce7" if depth == len(layers) - 1 else "#dbeafe"
        ids = [f"l{depth}n{j}" for j in range(len(layer))]
        labels = [f"{neuron.activation}\nb={neuron.b.data:.4f}" for neuron in layer]
        _column(dot, [(i, lab, {"fillcolor": fill}) for i, lab in zip(ids, labels)])
        for node_id, neuron in zip(ids, layer):
            if len(neuron.w) != len(previous):
                raise ValueError(
                    f"layer {depth} neurons read {len(neuron.w)} inputs but the previous column "
                    f"has {len(previous)}"
                )
            for source, w in zip(previous, neuron.w):
                dot.edge(source, node_id, **_edge_attrs(w.data, largest))
        previous = ids
    return dot


# ---------------------------------------------------------------- files


def _as_graph(obj: object) -> graphviz.Digraph | graphviz.Graph | graphviz.Source:
    if isinstance(obj, Value):
        return draw_dot(obj)
    if isinstance(obj, (graphviz.Graph, graphviz.Digraph, graphviz.Source)):
        return obj
    return draw_network(obj)


def _write_atomically(path: Path, data: bytes) -> None:
    atomic_write(path, lambda out: out.write(data), binary=True)


def _install_hint() -> str:
    return (
        "install Graphviz: `apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` "
        "(macOS) or `conda install -c conda-forge graphviz`"
    )


def output_format(path: str | os.PathLike[str]) -> str:
    """The file format a path's extension asks for: "svg", "png", "pdf" or "dot" (.dot/.gv);
    ValueError for any other extension."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    suffix = Path(path).suffix.lower()
    if suffix in _DOT_SUFFIXES:
        return "dot"
    if suffix not in _PICTURE_FORMATS:
        known = ", ".join([*_PICTURE_FORMATS, *_DOT_SUFFIXES])
        raise ValueError(
            f"cannot tell the format of {str(path)!r}: expected a path ending in {known}"
        )
    return _PICTURE_FORMATS[suffix]


def render(obj: object, path: str | os.PathLike[str], *, timeout: float = DOT_TIMEOUT) -> Path:
    """Write ``obj`` (a Value, a network, or a graph from :func:`draw_dot`/:func:`draw_network`)
    to ``path`` atomically; the extension picks the format (:func:`output_format`).

    Graphviz's ``dot`` draws the picture, and is stopped after ``timeout`` seconds. When it
    is missing, the DOT text goes to ``path`` with a .dot suffix and
    :class:`GraphvizNotFoundError` says how to install Graphviz; when it fails or runs out
    of time, :class:`GraphvizError` says why, in one line. Either way ``path`` is untouched.
    """
    file_format = output_format(path)
    timeout = positive_number(timeout, "timeout")
    path = Path(path)
    graph = _as_graph(obj)
    source = _source_bytes(graph)
    if file_format == "dot":
        _write_atomically(path, source)
        return path
    try:
        picture = _run_dot(graph.engine, file_format, source, timeout, str(path))
    except GraphvizNotFoundError:
        dot_path = path.with_suffix(".dot")
        _write_atomically(dot_path, source)
        raise GraphvizNotFoundError(
            f"Graphviz's `dot` program was not found on PATH, so {path} was not drawn; its DOT "
            f"text is in {dot_path}. To draw it, {_install_hint()}"
        ) from None
    _write_atomically(path, picture)
    return path


def pipe(
    graph: graphviz.Digraph, file_format: str, what: str, *, timeout: float = DOT_TIMEOUT
) -> bytes:
    """The picture of ``graph`` in ``file_format`` (bytes), drawn by ``dot`` as
    :func:`render` draws it (stopped after ``timeout`` seconds; :class:`GraphvizError` or
    :class:`GraphvizNotFoundError` in one line naming ``what``)."""
    timeout = positive_number(timeout, "timeout")
    try:
        return _run_dot(graph.engine, file_format, _source_bytes(graph), timeout, what)
    except GraphvizNotFoundError:
        raise GraphvizNotFoundError(
            f"Graphviz's `dot` program was not found on PATH, so {what} cannot be drawn; to "
            f"draw it, {_install_hint()}"
        ) from None


def _source_bytes(graph: graphviz.Digraph | graphviz.Graph | graphviz.Source) -> bytes:
    """The graph's DOT text as UTF-8, refusing what dot cannot read."""
    source = graph.source
    if "\x00" in source:
        raise ValueError("the graph's DOT text holds a NUL character, which Graphviz cannot draw")
    try:
        return source.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"the graph's DOT text is not valid Unicode ({exc.reason})") from None


def _run_dot(engine: str, file_format: str, source: bytes, timeout: float, what: str) -> bytes:
    """The picture ``dot`` draws from ``source``. It runs in a session of its own, so that
    on a timeout or Ctrl-C it is killed with anything it started."""
    command = ["dot", f"-K{engine}", f"-T{file_format}"]
    try:
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=os.name == "posix",
        )
    except FileNotFoundError:
        raise GraphvizNotFoundError("dot was not found") from None
    with process:
        try:
            picture, errors = process.communicate(source, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(process)
            raise GraphvizError(
                f"Graphviz's `dot` did not finish drawing {what} within {timeout:g} s and was "
                "stopped; draw a smaller graph or pass a longer timeout"
            ) from None
        except BaseException:  # Ctrl-C: do not leave dot running
            _kill(process)
            raise
    if process.returncode != 0:
        lines = [line.strip() for line in errors.decode("utf-8", "replace").splitlines()]
        detail = next((line for line in reversed(lines) if line), "no message")
        raise GraphvizError(
            f"Graphviz's `dot` failed to draw {what} (exit code {process.returncode}): "
            f"{detail[:300]}"
        )
    return picture


def _kill(process: subprocess.Popen) -> None:
    """Kill ``process`` and its session (what it started), and reap it."""
    try:
        if os.name == "posix":
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
    except ProcessLookupError:
        pass
    process.communicate()
