"""Watch backpropagation happen: a step-by-step page of one computation graph.

:func:`explain` takes any :class:`~micrograd_like.engine.Value` and returns an
:class:`Explanation`: the graph, laid out once by Graphviz, and the list of :class:`Step`\\ s
that a teacher would say aloud:

* the forward pass, one op at a time in topological order: the node's value appears with the
  op and its inputs' values, ``t = x·w + b = 1·(−2) + 0.5 = −1.5``;
* the backward pass, one node at a time in reverse topological order, starting with
  ``dL/dL = 1``: the node's gradient appears with the chain-rule product that made it, in
  symbols and in numbers, ``dL/dw = dL/dt · ∂t/∂w = 0.4200 × 1.0000 = 0.4200``. A value used
  more than once (``x·x``, ``a + a``, a value feeding two ops) gets one term per use, then
  their sum. ``∂t/∂w`` is the local derivative of one op; ``dL/dw`` is the gradient of the
  root.

Names: a node's ``label`` when it has one, else ``L`` for the root and ``n<i>`` for the
others, where ``i`` is its place in the topological order (and its SVG id is ``v<i>``). A
constant (an unlabelled leaf, what ``x * 2`` makes of the 2) is written as its number in
formulas. The gradients are computed here, with the ops' local partials, in the order
``Value.backward()`` uses, so they are exactly its results; no ``.grad`` is touched.

:meth:`Explanation.save` writes one self-contained HTML page (inline SVG, CSS and a little
plain JavaScript; nothing is fetched from the network): Previous / Next / Play buttons, the
keys ← → Home End, a step counter and a narration line, in English or Spanish
(``lang="es"``). In Jupyter the explanation shows itself inline. :func:`explain_neuron`
explains one neuron of a model on one input, and :func:`narrate` gives the steps alone,
without Graphviz.
"""

from __future__ import annotations

import html as html_escape
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.dom import minidom

import graphviz

from .checks import count
from .engine import OPS, Rule, Value, enable_grad, no_grad, topological_order
from .errors import DOT_TIMEOUT
from .files import atomic_write
from .nn.layers import as_inputs
from .viz import (
    DEFAULT_MAX_NODES,
    LAYOUT_LIMITS,
    OP_SYMBOLS,
    check_graph_size,
    checked_label,
    checked_rankdir,
    pipe,
    record_label,
)

__all__ = [
    "LANGUAGES",
    "Explanation",
    "NodeInfo",
    "Step",
    "explain",
    "explain_neuron",
    "narrate",
]

MINUS = "\u2212"
# A sum with more terms than this is shown as its first terms, "…", and its last one.
_MAX_TERMS_SHOWN = 8
# Graphviz font size of the values' texts; on a narrow screen the picture keeps at least the
# width where this text is _LEGIBLE_PX pixels high (the figure then scrolls sideways).
_FONT_SIZE = 14
_LEGIBLE_PX = 10
_FUNCTIONS = ("tanh", "exp", "log", "relu", "sigmoid", "sin", "cos")
_OP_SYMBOLS = {**OP_SYMBOLS, "mul": "×"}  # the page shows products as × (viz: *)

# ---------------------------------------------------------------- the words, per language

_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Backpropagation, step by step",
        "forward": "Forward: {formula}",
        "start": "Backward: start with {grad} = 1, the gradient of {root} with respect to itself",
        "one": "Backward: {chain}",
        "many": "Backward: {name} is used {count} times, so {grad} is the sum of one term per "
        "use: {chain}",
        "intro": "First the forward pass computes each value from its inputs; then the backward "
        "pass computes each gradient with the chain rule. Press Next or →.",
        "step": "Step",
        "previous": "Previous",
        "next": "Next",
        "play": "Play",
        "pause": "Pause",
        "larger": "Larger text",
        "keys": "Keys: ← → Home End",
        "legend": "Legend",
        "value": "value computed",
        "gradient": "gradient computed",
        "current": "current node",
        "carry_value": "edges carrying the value (forward)",
        "carry_grad": "edges carrying the gradient (backward)",
        "constant": "dashed border: a constant",
        "notation": "∂t/∂w: local derivative of one op; dL/dw: gradient of the root L",
        "graph": "Computation graph",
        "neuron": "One neuron: layer {layer}, neuron {index} ({activation})",
    },
    "es": {
        "title": "Retropropagación, paso a paso",
        "forward": "Hacia delante: {formula}",
        "start": "Hacia atrás: se empieza con {grad} = 1, la derivada de {root} respecto de sí "
        "misma",
        "one": "Hacia atrás: {chain}",
        "many": "Hacia atrás: {name} se usa {count} veces, así que {grad} es la suma de un "
        "término por cada uso: {chain}",
        "intro": "Primero el pase hacia delante calcula cada valor a partir de sus entradas; "
        "después el pase hacia atrás calcula cada gradiente con la regla de la cadena. Pulsa "
        "Siguiente o →.",
        "step": "Paso",
        "previous": "Anterior",
        "next": "Siguiente",
        "play": "Reproducir",
        "pause": "Pausa",
        "larger": "Texto más grande",
        "keys": "Teclas: ← → Inicio Fin",
        "legend": "Leyenda",
        "value": "valor calculado",
        "gradient": "gradiente calculado",
        "current": "nodo actual",
        "carry_value": "aristas que llevan el valor (hacia delante)",
        "carry_grad": "aristas que llevan el gradiente (hacia atrás)",
        "constant": "borde discontinuo: una constante",
        "notation": "∂t/∂w: derivada local de una operación; dL/dw: gradiente de la raíz L",
        "graph": "Grafo de cómputo",
        "neuron": "Una neurona: capa {layer}, neurona {index} ({activation})",
    },
}

LANGUAGES = tuple(_WORDS)
"""The languages of the narration and the page: English and Spanish."""


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Step:
    """One step of the walk-through.

    ``kind`` is ``"forward"`` (the node's value is computed) or ``"backward"`` (its gradient
    is); ``node`` is the node's SVG id (``"v3"``) and ``name`` its name in the narration;
    ``value`` is the number that appears (the data, or d(root)/d(node)); ``text`` is the
    narration. ``terms`` are a backward step's contributions, one per use of the node, in the
    order they are summed (empty for the root and for forward steps); ``edges`` and ``ops``
    are the SVG ids of the edges and op nodes that carried the value or the gradient.
    """

    kind: str
    node: str
    name: str
    value: float
    text: str
    terms: tuple[float, ...] = ()
    edges: tuple[str, ...] = ()
    ops: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeInfo:
    """One value of the graph: SVG id, name, op label ('' for a leaf), data, and gradient
    d(root)/d(node) (what ``root.backward()`` gives on a fresh graph)."""

    id: str
    name: str
    op: str
    data: float
    grad: float


# ---------------------------------------------------------------- numbers and names


def _fixed(x: float) -> str:
    """Four decimals (data and gradients): ``0.4200``, ``−1.5000``."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else MINUS + "inf"
    text = f"{x:.4f}" if abs(x) < 1e9 else f"{x:.4e}"
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    return text.replace("-", MINUS)


def _short(x: float) -> str:
    """At most four decimals, trailing zeros dropped (forward formulas): ``1``, ``−1.5``."""
    if not math.isfinite(x) or abs(x) >= 1e9:
        return _fixed(x)
    if x != 0 and abs(x) < 1e-4:
        text = f"{x:.4g}"
    else:
        text = f"{x:.4f}".rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.replace("-", MINUS)


def _paren(text: str) -> str:
    """Parenthesise a negative operand that does not start an expression: ``1·(−2)``."""
    return f"({text})" if text.startswith(MINUS) else text


def _d(name: str) -> str:
    """A name as it stands after d or ∂: bare when simple, else in parentheses."""
    return name if name.replace("_", "a").isalnum() else f"({name})"


def _sum(parts: Sequence[str]) -> str:
    """``a + b + (−c)``, shortened to its first and last terms when very long."""
    parts = list(parts)
    if len(parts) > _MAX_TERMS_SHOWN:
        parts = [*parts[:3], "…", parts[-1]]
    return " + ".join([parts[0], *(p if p == "…" else _paren(p) for p in parts[1:])])


def _formula(rule: Rule, xs: Sequence[str]) -> str:
    """The op applied to operands written as ``xs`` (names or numbers)."""
    name = rule.name
    if rule.constant is not None:  # x ** c for a constant c
        return f"{_paren(xs[0])}**{_paren(_short(rule.constant))}"
    if OPS.get(name) is rule:  # the built-ins (a user's op cannot take their names)
        if name == "add":
            return _sum(xs)
        if name == "mul":
            return f"{_paren(xs[0])}·{_paren(xs[1])}"
        if name == "pow":
            return f"{_paren(xs[0])}**{_paren(xs[1])}"
        if name == "abs":
            return f"|{xs[0]}|"
        if name in _FUNCTIONS:
            return f"{name}({xs[0]})"
        if name == "linear":  # args: w_1..w_n, x_1..x_n, b
            n = len(xs) // 2
            products = [f"{_paren(xs[i])}·{_paren(xs[n + i])}" for i in range(n)]
            return _sum([*products, xs[-1]])
        if name == "logsumexp":
            return f"log({_sum([f'exp({x})' for x in xs])})"
    return f"{name}({', '.join(xs)})"


def _rule_of(node: Value) -> Rule:
    """The op that made ``node``, a node with parents (only a leaf has no op)."""
    rule = node.rule
    if rule is None:
        raise ValueError(f"node {node!r} has parents but no op")
    return rule


def _op_symbol(rule: Rule) -> str:
    return _OP_SYMBOLS.get(rule.name, rule.label) if OPS.get(rule.name) is rule else rule.label


def _checked_lang(lang: object) -> str:
    if lang not in _WORDS:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    return lang


# ---------------------------------------------------------------- the walk


@dataclass(frozen=True)
class _Walk:
    order: list[Value]
    ids: dict[Value, str]
    names: dict[Value, str]
    constants: set[Value]
    grads: dict[Value, float]
    steps: list[Step]


def _node_names(
    order: Sequence[Value], root: Value, names: Mapping[Value, str]
) -> tuple[dict[Value, str], set[Value]]:
    result: dict[Value, str] = {}
    constants: set[Value] = set()
    for i, node in enumerate(order):
        given = names.get(node, node.label)
        if str(given).strip():
            result[node] = " ".join(str(given).split())  # one line
        elif node is root:
            result[node] = "L"
        else:
            result[node] = f"n{i}"
            if not node.parents:
                constants.add(node)
    return result, constants


def _walk(
    root: Value,
    lang: str,
    names: Mapping[Value, str] | None,
    order: list[Value] | None = None,
) -> _Walk:
    """The steps below ``root``; ``order`` is its topological order, if the caller has it."""
    if type(root) is not Value:
        raise TypeError(f"explain expects a Value, got {type(root).__name__}")
    words = _WORDS[_checked_lang(lang)]
    if names is not None and not isinstance(names, Mapping):
        raise TypeError(f"names must be a mapping from Value to str, got {type(names).__name__}")
    if order is None:
        order = topological_order(root)
    ids = {node: f"v{i}" for i, node in enumerate(order)}
    name_of, constants = _node_names(order, root, names or {})

    def operand(node: Value) -> str:
        return _short(node.data) if node in constants else name_of[node]

    steps: list[Step] = []
    for node in order:
        if not node.parents:
            continue
        nid = ids[node]
        rule = _rule_of(node)
        symbols = _formula(rule, [operand(p) for p in node.parents])
        numbers = _formula(rule, [_short(p.data) for p in node.parents])
        formula = f"{name_of[node]} = {symbols}"
        if numbers != symbols:
            formula += f" = {numbers}"
        formula += f" = {_short(node.data)}"
        edges = tuple(f"{nid}_in{j}" for j in range(len(node.parents))) + (f"{nid}_out",)
        text = words["forward"].format(formula=formula)
        steps.append(
            Step("forward", nid, name_of[node], node.data, text, (), edges, (nid + "_op",))
        )

    # The backward sweep, as Value.backward() does it (same order, same sums): every use
    # of a node adds upstream * local to its gradient; a node's gradient is complete when the
    # sweep reaches it, because every node using it comes later in the topological order.
    top = _d(name_of[root])
    grads: dict[Value, float] = {root: 1.0}
    # per node, its uses: (consumer, input position, upstream gradient, local partial)
    uses: dict[Value, list[tuple[Value, int, float, float]]] = {}
    for node in reversed(order):
        nid = ids[node]
        d_node = f"d{top}/d{_d(name_of[node])}"
        g = grads[node]
        if node is root:
            text = words["start"].format(grad=d_node, root=name_of[root])
            steps.append(Step("backward", nid, name_of[node], g, text))
        else:
            steps.append(_backward_step(node, g, uses[node], d_node, top, name_of, ids, words))
        if not node.parents:
            continue
        partials = _rule_of(node).local_partials([p.data for p in node.parents], node.data)
        for j, (parent, partial) in enumerate(zip(node.parents, partials)):
            term = partial * g
            previous = grads.get(parent)
            grads[parent] = term if previous is None else previous + term
            uses.setdefault(parent, []).append((node, j, g, partial))
    return _Walk(order, ids, name_of, constants, grads, steps)


def _backward_step(
    node: Value,
    grad: float,
    node_uses: list[tuple[Value, int, float, float]],
    d_node: str,
    top: str,
    name_of: dict[Value, str],
    ids: dict[Value, str],
    words: dict[str, str],
) -> Step:
    """The step where ``node``'s gradient ``grad`` appears: one chain-rule term per use (in
    the order the sweep added them), summed."""
    symbols, products, values, edges, ops = [], [], [], [], []
    for consumer, j, upstream, partial in node_uses:
        c = _d(name_of[consumer])
        symbols.append(f"d{top}/d{c} · ∂{c}/∂{_d(name_of[node])}")
        products.append(f"{_fixed(upstream)} × {_paren(_fixed(partial))}")
        term = partial * upstream
        values.append(term)
        cid = ids[consumer]
        edges += [f"{cid}_out", f"{cid}_in{j}"]
        ops.append(cid + "_op")
    chain = f"{d_node} = {_sum(symbols)} = {_sum(products)}"
    if len(values) > 1:
        chain += f" = {_sum([_fixed(v) for v in values])}"
    chain += f" = {_fixed(grad)}"
    if len(node_uses) == 1:
        text = words["one"].format(chain=chain)
    else:
        text = words["many"].format(
            name=name_of[node], count=len(node_uses), grad=d_node, chain=chain
        )
    return Step(
        "backward",
        ids[node],
        name_of[node],
        grad,
        text,
        tuple(values),
        tuple(dict.fromkeys(edges)),
        tuple(dict.fromkeys(ops)),
    )


def narrate(
    root: Value, *, lang: str = "en", names: Mapping[Value, str] | None = None
) -> list[Step]:
    """The steps of :func:`explain` alone (no picture, so no Graphviz needed)."""
    return _walk(root, lang, names).steps


# ---------------------------------------------------------------- the picture


def _dot_graph(walk: _Walk, rankdir: str) -> graphviz.Digraph:
    dot = graphviz.Digraph(graph_attr={"rankdir": rankdir, **LAYOUT_LIMITS})
    dot.attr("node", fontsize=str(_FONT_SIZE), fontname="Courier")
    for node in walk.order:
        nid = walk.ids[node]
        fields = [
            checked_label(walk.names[node]),
            f"data {_fixed(node.data)}",
            f"grad {_fixed(walk.grads[node])}",
        ]
        label = record_label(fields, rankdir)
        style = {"style": "dashed"} if node in walk.constants else {}
        dot.node(nid, label, shape="record", id=nid, **style)
        if node.parents:
            symbol = _op_symbol(_rule_of(node)).replace("\\", "\\\\")
            dot.node(nid + "_op", symbol, shape="ellipse", id=nid + "_op", fontsize="18")
            for j, parent in enumerate(node.parents):
                dot.edge(walk.ids[parent], nid + "_op", id=f"{nid}_in{j}")
            dot.edge(nid + "_op", nid, id=f"{nid}_out")
    return dot


def _layout(walk: _Walk, rankdir: str, timeout: float) -> str:
    """Graphviz's SVG of the graph, prepared for the page (see :func:`_prepare_svg`)."""
    graph = _dot_graph(walk, rankdir)
    svg = pipe(graph, "svg", "the backpropagation page's graph", timeout=timeout)
    return _prepare_svg(svg.decode("utf-8"), walk)


def _prepare_svg(svg: str, walk: _Walk) -> str:
    """Give each value node's texts ids (``v3_name``, ``v3_data``, ``v3_grad``) and their
    contents before the first step; classes ``value``/``op``; tooltips with the names; no
    fixed size (the page scales it) and no namespace URLs (inline SVG needs none)."""
    doc = minidom.parseString(svg[svg.index("<svg") :])
    root = doc.documentElement
    if root is None:
        raise RuntimeError("unexpected SVG from Graphviz: no root element")
    for attr in ("width", "height", "xmlns", "xmlns:xlink"):
        if root.hasAttribute(attr):
            root.removeAttribute(attr)
    root.setAttribute("role", "img")
    _, _, width, _ = (float(v) for v in root.getAttribute("viewBox").split())
    root.setAttribute("style", f"--legible: {width * _LEGIBLE_PX / _FONT_SIZE:.0f}px")
    nodes = {walk.ids[node]: node for node in walk.order}
    for group in root.getElementsByTagName("g"):
        gid = group.getAttribute("id")
        if "node" not in group.getAttribute("class").split():
            continue
        if gid in nodes:
            node = nodes[gid]
            group.setAttribute("class", "node value")
            texts = group.getElementsByTagName("text")  # the name (maybe several lines),
            if len(texts) < 3:  # the data and the grad
                raise RuntimeError(f"unexpected SVG from Graphviz for node {gid}")
            data = f"data {_fixed(node.data)}" if not node.parents else "data ?"
            parts = zip(
                (texts[0], texts[-2], texts[-1]), ("name", "data", "grad"), (None, data, "grad ?")
            )
            for text, part, content in parts:
                text.setAttribute("id", f"{gid}_{part}")
                if content is not None:
                    for child in list(text.childNodes):
                        text.removeChild(child)
                    text.appendChild(doc.createTextNode(content))
            _set_title(doc, group, walk.names[node])
        elif gid.endswith("_op"):
            group.setAttribute("class", "node op")
            _set_title(doc, group, _rule_of(nodes[gid[:-3]]).name)
    for title in root.getElementsByTagName("title"):  # the graph's and the edges' titles
        parent = title.parentNode
        if isinstance(parent, minidom.Element) and parent.getAttribute("class") in (
            "graph",
            "edge",
        ):
            parent.removeChild(title)
    return root.toxml()


def _set_title(doc: minidom.Document, group: minidom.Element, text: str) -> None:
    for title in group.getElementsByTagName("title"):
        for child in list(title.childNodes):
            title.removeChild(child)
        title.appendChild(doc.createTextNode(text))


# ---------------------------------------------------------------- the page

_CSS = """
:root { --value: #dbeafe; --grad: #fed7aa; --current: #7c3aed; --fwd: #2563eb; --bwd: #dc2626; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; color: #111827; background: #fff;
  font: 400 clamp(15px, 0.75rem + 0.5vw, 26px)/1.45 system-ui, -apple-system, "Segoe UI",
  Roboto, "Helvetica Neue", Arial, sans-serif; }
body.large { font-size: clamp(22px, 1rem + 1.1vw, 44px); }
main { max-width: 1800px; margin: 0 auto; padding: 0.5em 0.9em 1em; }
h1 { font-size: 1.15em; margin: 0 0 0.4em; }
.controls { display: flex; flex-wrap: wrap; gap: 0.4em; align-items: center; }
button { font: inherit; min-height: 2.3em; padding: 0.25em 0.9em; border: 1px solid #9ca3af;
  border-radius: 0.4em; background: #f9fafb; color: inherit; cursor: pointer; }
button:hover:not(:disabled) { background: #eef2ff; }
button:focus-visible { outline: 3px solid var(--current); outline-offset: 1px; }
button:disabled { opacity: 0.45; cursor: default; }
#counter { font-weight: 600; font-variant-numeric: tabular-nums; margin: 0 0.4em; }
.keys { color: #4b5563; font-size: 0.85em; }
#narration { margin: 0.5em 0; padding: 0.45em 0.75em; min-height: 3.2em;
  background: #f3f4f6; border-left: 0.3em solid var(--current); overflow-wrap: anywhere;
  font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
#graph { margin: 0; overflow-x: auto; }
#graph svg { display: block; width: 100%; height: auto; max-height: 78vh; }
#graph text { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; }
#graph .value.has-data > polygon { fill: var(--value); }
#graph .value.has-grad > polygon { fill: var(--grad); }
#graph .current > polygon { stroke: var(--current); stroke-width: 4; }
#graph .op.fwd > ellipse { stroke: var(--fwd); stroke-width: 2.5; fill: #eff6ff; }
#graph .op.bwd > ellipse { stroke: var(--bwd); stroke-width: 2.5; fill: #fef2f2; }
#graph .edge.fwd > path { stroke: var(--fwd); stroke-width: 3; }
#graph .edge.fwd > polygon { stroke: var(--fwd); fill: var(--fwd); }
#graph .edge.bwd > path { stroke: var(--bwd); stroke-width: 3; stroke-dasharray: 6 3; }
#graph .edge.bwd > polygon { stroke: var(--bwd); fill: var(--bwd); }
.legend { display: flex; flex-wrap: wrap; gap: 0.3em 1.3em; margin: 0.6em 0 0; padding: 0;
  list-style: none; font-size: 0.85em; color: #374151; }
.legend li { display: flex; align-items: center; gap: 0.4em; }
.sw { display: inline-block; width: 1.6em; height: 1em; border: 1px solid #374151; }
.sw.value { background: var(--value); }
.sw.grad { background: var(--grad); }
.sw.current { border: 0.22em solid var(--current); }
.sw.line { height: 0; border: 0; border-top: 0.2em solid var(--fwd); }
.sw.line.bwd { border-top: 0.2em dashed var(--bwd); }
.sw.constant { border: 1px dashed #374151; }
@media (max-width: 700px) {
  main { padding: 0.4em; }
  .keys { display: none; }
  #graph svg { min-width: var(--legible); max-height: none; }
}
"""

_JS = """
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("explain-data").textContent);
  var steps = D.steps, T = D.words, k = 0, timer = null, lit = [];
  function $(id) { return document.getElementById(id); }
  var nodes = D.nodes.map(function (n) {
    return { n: n, g: $(n.id), data: $(n.id + "_data"), grad: $(n.id + "_grad") };
  });
  function show(i) {
    k = Math.max(0, Math.min(steps.length, i));
    var cur = k > 0 ? steps[k - 1] : null;
    nodes.forEach(function (e) {
      var hasData = e.n.f < k, hasGrad = e.n.b < k;
      e.data.textContent = "data " + (hasData ? e.n.data : "?");
      e.grad.textContent = "grad " + (hasGrad ? e.n.grad : "?");
      e.g.classList.toggle("has-data", hasData && !hasGrad);
      e.g.classList.toggle("has-grad", hasGrad);
      e.g.classList.toggle("current", cur !== null && cur.n === e.n.id);
    });
    lit.forEach(function (el) { el.classList.remove("fwd", "bwd"); });
    lit = [];
    if (cur) {
      cur.e.concat(cur.o).forEach(function (id) {
        var el = $(id);
        if (el) { el.classList.add(cur.k === "f" ? "fwd" : "bwd"); lit.push(el); }
      });
    }
    if (cur) { follow($(cur.n)); }
    $("narration").textContent = cur ? cur.t : T.intro;
    $("counter").textContent = T.step + " " + k + " / " + steps.length;
    $("prev").disabled = k === 0;
    $("next").disabled = k === steps.length;
  }
  function follow(g) {  // keep the current node in view when the picture scrolls sideways
    var fig = $("graph");
    if (!g || fig.scrollWidth <= fig.clientWidth) return;
    var r = g.getBoundingClientRect(), f = fig.getBoundingClientRect();
    fig.scrollLeft += r.left + r.width / 2 - (f.left + f.width / 2);
  }
  function stop() {
    if (timer !== null) { clearInterval(timer); timer = null; }
    $("play").textContent = T.play;
    $("play").setAttribute("aria-pressed", "false");
  }
  function play() {
    if (timer !== null) { stop(); return; }
    if (k === steps.length) { show(0); }
    $("play").textContent = T.pause;
    $("play").setAttribute("aria-pressed", "true");
    timer = setInterval(function () {
      if (k >= steps.length) { stop(); } else { show(k + 1); if (k === steps.length) stop(); }
    }, 1100);
  }
  function go(i) { stop(); show(i); }
  $("prev").addEventListener("click", function () { go(k - 1); });
  $("next").addEventListener("click", function () { go(k + 1); });
  $("play").addEventListener("click", play);
  $("larger").addEventListener("click", function () {
    var on = document.body.classList.toggle("large");
    $("larger").setAttribute("aria-pressed", on ? "true" : "false");
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    var to = { ArrowRight: k + 1, ArrowLeft: k - 1, Home: 0, End: steps.length }[ev.key];
    if (to === undefined) return;
    ev.preventDefault();
    go(to);
  });
  show(0);
})();
"""


def _json_for_script(data: object) -> str:
    """JSON safe inside a <script> element (no "</script>", no "<!--")."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")


class Explanation:
    """A computation graph laid out once, and the steps that walk through it.

    ``steps`` (a list of :class:`Step`), ``nodes`` (a :class:`NodeInfo` per value, in
    topological order), ``svg`` (the picture), ``lang`` and ``title``. ``html()`` is the
    self-contained page; ``save(path)`` writes it; in Jupyter it displays itself inline.
    """

    def __init__(
        self, steps: list[Step], nodes: list[NodeInfo], svg: str, lang: str, title: str
    ) -> None:
        self.steps = steps
        self.nodes = nodes
        self.svg = svg
        self.lang = lang
        self.title = title

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f"Explanation({len(self.nodes)} values, {len(self.steps)} steps, lang={self.lang!r})"

    def _data(self) -> dict:
        words = _WORDS[self.lang]
        index = {(step.kind, step.node): i for i, step in enumerate(self.steps)}
        return {
            "words": {key: words[key] for key in ("intro", "step", "play", "pause")},
            "nodes": [
                {
                    "id": info.id,
                    "data": _fixed(info.data),
                    "grad": _fixed(info.grad),
                    "f": index.get(("forward", info.id), -1),
                    "b": index.get(("backward", info.id), len(self.steps)),
                }
                for info in self.nodes
            ],
            "steps": [
                {
                    "k": step.kind[0],
                    "n": step.node,
                    "t": step.text,
                    "e": list(step.edges),
                    "o": list(step.ops),
                }
                for step in self.steps
            ],
        }

    def html(self) -> str:
        """The page: one self-contained HTML document (no network requests)."""
        w = _WORDS[self.lang]
        e = html_escape.escape
        legend = "".join(
            f'<li><span class="sw {cls}"></span>{e(w[key])}</li>'
            for cls, key in (
                ("value", "value"),
                ("grad", "gradient"),
                ("current", "current"),
                ("line", "carry_value"),
                ("line bwd", "carry_grad"),
                ("constant", "constant"),
            )
        )
        return (
            f'<!DOCTYPE html>\n<html lang="{self.lang}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{e(self.title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
            f"<h1>{e(self.title)}</h1>\n"
            '<div class="controls">'
            f'<button type="button" id="prev">{e(w["previous"])}</button>'
            f'<button type="button" id="play" aria-pressed="false">{e(w["play"])}</button>'
            f'<button type="button" id="next">{e(w["next"])}</button>'
            f'<span id="counter">{e(w["step"])} 0 / {len(self.steps)}</span>'
            f'<button type="button" id="larger" aria-pressed="false">{e(w["larger"])}</button>'
            f'<span class="keys">{e(w["keys"])}</span></div>\n'
            f'<p id="narration" aria-live="polite">{e(w["intro"])}</p>\n'
            f'<figure id="graph" aria-label="{e(w["graph"])}">{self.svg}'
            "</figure>\n"
            f'<ul class="legend" aria-label="{e(w["legend"])}">{legend}'
            f"<li>{e(w['notation'])}</li></ul>\n</main>\n"
            '<script type="application/json" id="explain-data">'
            f"{_json_for_script(self._data())}</script>\n<script>{_JS}</script>\n"
            "</body>\n</html>\n"
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the page to ``path`` (UTF-8, atomically); returns the path."""
        page = self.html()
        return atomic_write(path, lambda out: out.write(page))

    def _repr_html_(self) -> str:
        """The page in an iframe (``srcdoc``), so its ids and script stay its own."""
        height = 300 + min(560, 900 * self._aspect())
        return (
            f'<iframe srcdoc="{html_escape.escape(self.html(), quote=True)}" '
            f'title="{html_escape.escape(self.title, quote=True)}" sandbox="allow-scripts" '
            f'style="width:100%;height:{height:.0f}px;border:1px solid #d1d5db;resize:vertical"'
            "></iframe>"
        )

    def _aspect(self) -> float:
        """Height / width of the picture, from its viewBox."""
        try:
            start = self.svg.index('viewBox="') + len('viewBox="')
            _, _, width, height = map(float, self.svg[start : self.svg.index('"', start)].split())
            return height / width if width > 0 else 0.5
        except ValueError:
            return 0.5


# ---------------------------------------------------------------- entry points


def explain(
    root: Value,
    *,
    lang: str = "en",
    max_nodes: int = DEFAULT_MAX_NODES,
    rankdir: str = "LR",
    title: str | None = None,
    names: Mapping[Value, str] | None = None,
    timeout: float = DOT_TIMEOUT,
) -> Explanation:
    """Explain how ``root`` was computed and how backpropagation finds its gradients.

    Lays the graph out once with Graphviz (GraphvizNotFoundError when ``dot`` is missing,
    GraphvizError when it fails or runs past ``timeout`` seconds) and computes the steps
    (see the module doc). ``lang`` is ``"en"`` or ``"es"``;
    ``rankdir`` one of LR, RL, TB, BT; ``title`` heads the page; ``names`` gives display
    names to some Values (e.g. ``{w: "w1"}``) without changing them. A graph with more than
    ``max_nodes`` drawn nodes (values + ops) is refused with a ValueError, as in
    :func:`~micrograd_like.viz.draw_dot`. The Values and their ``.grad`` are not changed.
    """
    lang = _checked_lang(lang)
    rankdir = checked_rankdir(rankdir)
    max_nodes = count(max_nodes, "max_nodes")
    if type(root) is not Value:
        raise TypeError(f"explain expects a Value, got {type(root).__name__}")
    order = topological_order(root)
    check_graph_size(
        order,
        max_nodes,
        "explain a smaller part of it (an intermediate Value, one sample's loss, or one "
        "neuron with explain_neuron)",
    )
    walk = _walk(root, lang, names, order)
    nodes = [NodeInfo(walk.ids[n], walk.names[n], n.op, n.data, walk.grads[n]) for n in walk.order]
    svg = _layout(walk, rankdir, timeout)
    return Explanation(
        walk.steps, nodes, svg, lang, _WORDS[lang]["title"] if title is None else title
    )


# ---------------------------------------------------------------- one neuron of a model


def _neuron_and_inputs(model: object, x: object, layer: int, index: int) -> tuple[object, list]:
    """The neuron ``index`` of layer ``layer`` of ``model``, and its inputs (floats) on x."""
    for what, value in (("layer", layer), ("index", index)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{what} must be an int, got {type(value).__name__}")
    if hasattr(model, "layers"):
        layers = list(model.layers)
    elif hasattr(model, "neurons"):
        layers = [model]
    elif hasattr(model, "w") and hasattr(model, "b"):
        if layer != 0 or index != 0:
            raise ValueError("a single Neuron has only layer=0, index=0")
        return model, _floats(x, len(model.w))
    else:
        raise TypeError(
            "explain_neuron expects an MLP, Sequential, Layer or Neuron, "
            f"got {type(model).__name__}"
        )
    if not 0 <= layer < len(layers):
        raise ValueError(f"layer must be in 0..{len(layers) - 1}, got {layer}")
    neurons = list(layers[layer].neurons)
    if not 0 <= index < len(neurons):
        raise ValueError(f"index must be in 0..{len(neurons) - 1} for layer {layer}, got {index}")
    inputs: list = _floats(x, len(layers[0].neurons[0].w))
    with no_grad():
        for previous in layers[:layer]:
            inputs = [v.data for v in previous.forward(inputs)]
    return neurons[index], inputs


def _floats(x: object, nin: int) -> list[float]:
    try:
        items = as_inputs(x, None)
    except TypeError:
        raise TypeError(
            f"x must be a sequence of {nin} number(s), got {type(x).__name__}"
        ) from None
    if len(items) != nin:
        raise ValueError(f"the model reads {nin} input(s), x has {len(items)}")
    return [float(v.data) for v in items]  # as_inputs made them Values


def explain_neuron(
    model_or_neuron: object,
    x: object,
    layer: int = 0,
    index: int = 0,
    *,
    lang: str = "en",
    max_nodes: int = DEFAULT_MAX_NODES,
    rankdir: str = "LR",
    timeout: float = DOT_TIMEOUT,
) -> Explanation:
    """Explain one neuron of a model on input ``x``: its weighted sum and activation only.

    ``model_or_neuron`` is an MLP or Sequential (pick ``layer`` and ``index``), a Layer
    (pick ``index``) or a Neuron. For a hidden layer the neuron's inputs are the previous
    layers' outputs on ``x``, shown as leaves ``h1, h2, ...`` (``x1, x2, ...`` for layer 0);
    the weights are named ``w1, w2, ...``, the bias ``b``, the weighted sum ``n`` and the
    output ``o``. The model is not changed (no ``.grad`` or label is written).
    """
    lang = _checked_lang(lang)
    neuron, inputs = _neuron_and_inputs(model_or_neuron, x, layer, index)
    prefix = "x" if layer == 0 else "h"
    leaves = [Value(v, label=f"{prefix}{i + 1}") for i, v in enumerate(inputs)]
    with enable_grad():
        out = neuron(leaves)  # type: ignore[operator]
    names: dict[Value, str] = {w: f"w{i + 1}" for i, w in enumerate(neuron.w)}  # type: ignore[attr-defined]
    names[neuron.b] = "b"  # type: ignore[attr-defined]
    if out.parents and out.rule is not None and out.rule.name != "linear":
        names[out.parents[0]] = "n"
    names[out] = "o"
    activation = getattr(neuron, "activation", "") or "linear"
    title = _WORDS[lang]["neuron"].format(layer=layer, index=index, activation=activation)
    return explain(
        out,
        lang=lang,
        max_nodes=max_nodes,
        rankdir=rankdir,
        title=title,
        names=names,
        timeout=timeout,
    )
