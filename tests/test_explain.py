"""explain(): the steps of the forward and backward pass, their narration in English and
Spanish, the page, explain_neuron, and the ``explain`` command line."""

from __future__ import annotations

import json
import math
import re
import shutil

import pytest

from micrograd_like import cli
from micrograd_like.engine import OPS, Value, define_op, topological_order
from micrograd_like.explanation import Explanation, explain, explain_neuron, narrate
from micrograd_like.nn import MLP, Neuron
from micrograd_like.viz import GraphvizNotFoundError

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is missing")

# ---------------------------------------------------------------- the graphs


def neuron_graph() -> tuple[Value, dict[str, Value]]:
    """The lecture's neuron: o = tanh(x1·w1 + x2·w2 + b)."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "n": n}


def twice_graph() -> tuple[Value, dict[str, Value]]:
    """x·x + x: x is used three times (twice by one op)."""
    x = Value(3.0, label="x")
    return x * x + x, {"x": x}


def chain_graph() -> tuple[Value, dict[str, Value]]:
    """The lecture's chain: y = w3·relu(w2·relu(w1·x)), L = ½(y − t)²."""
    x, t = Value(2.0, label="x"), Value(1.0, label="t")
    w1, w2, w3 = Value(0.8, label="w1"), Value(1.5, label="w2"), Value(-0.7, label="w3")
    y = w3 * (w2 * (w1 * x).relu()).relu()
    y.label = "y"
    loss = 0.5 * (y - t) ** 2
    return loss, {"x": x, "t": t, "w1": w1, "w2": w2, "w3": w3, "y": y}


@pytest.fixture
def smoothmax():
    """A two-input op made with define_op, removed from OPS afterwards."""
    op = define_op(
        "explain_smoothmax",
        lambda a, b: math.log(math.exp(a) + math.exp(b)),
        lambda a, b, out: (math.e ** (a - out), math.e ** (b - out)),
    )
    yield op
    del OPS["explain_smoothmax"]


def engine_grads(build) -> dict[str, float]:
    """What backward() gives, on a fresh copy of the graph, by name."""
    root, named = build()
    root.backward()
    return {name: v.grad for name, v in named.items()} | {"root": root.grad}


def steps_by_name(steps) -> dict[tuple[str, str], object]:
    return {(s.kind, s.name): s for s in steps}


NUMBER = re.compile(r"[−-]?\d+(?:\.\d+)?")

# ---------------------------------------------------------------- the steps


def test_neuron_steps_forward_then_backward():
    o, named = neuron_graph()
    steps = narrate(o)
    order = topological_order(o)
    ops = [n for n in order if n.parents]
    assert [s.kind for s in steps] == ["forward"] * len(ops) + ["backward"] * len(order)
    # forward in topological order, backward in reverse, one step per node
    ids = {n: f"v{i}" for i, n in enumerate(order)}
    assert [s.node for s in steps[: len(ops)]] == [ids[n] for n in ops]
    assert [s.node for s in steps[len(ops) :]] == [ids[n] for n in reversed(order)]
    by_name = steps_by_name(steps)
    assert by_name["forward", "o"].text == "Forward: o = tanh(n) = tanh(0.8814) = 0.7071"
    assert by_name["forward", "n"].text == "Forward: n = n6 + b = −6 + 6.8814 = 0.8814"
    assert steps[len(ops)].text.startswith("Backward: start with do/do = 1")
    assert by_name["backward", "n"].text == (
        "Backward: do/dn = do/do · ∂o/∂n = 1.0000 × 0.5000 = 0.5000"
    )
    assert by_name["backward", "x1"].text == (
        "Backward: do/dx1 = do/dn2 · ∂n2/∂x1 = 0.5000 × (−3.0000) = −1.5000"
    )
    expected = engine_grads(neuron_graph)
    for name in named:
        assert by_name["backward", name].value == expected[name]  # exactly backward()'s


def test_forward_text_with_unlabelled_intermediates():
    x, w, b = Value(1.0, label="x"), Value(-2.0, label="w"), Value(0.5, label="b")
    t = x * w + b
    t.label = "t"
    texts = [s.text for s in narrate(t.tanh())]
    assert texts[0] == "Forward: n2 = x·w = 1·(−2) = −2"
    assert texts[1] == "Forward: t = n2 + b = −2 + 0.5 = −1.5"
    assert texts[2] == "Forward: L = tanh(t) = tanh(−1.5) = −0.9051"


def test_value_used_twice_sums_its_terms():
    root, named = twice_graph()
    steps = narrate(root)
    x_step = steps_by_name(steps)["backward", "x"]
    # x feeds the root (+) once and the product twice: 1·1 + 1·3 + 1·3
    assert x_step.terms == (1.0, 3.0, 3.0)
    assert x_step.value == 7.0 == engine_grads(twice_graph)["x"]
    assert x_step.text == (
        "Backward: x is used 3 times, so dL/dx is the sum of one term per use: "
        "dL/dx = dL/dL · ∂L/∂x + dL/dn1 · ∂n1/∂x + dL/dn1 · ∂n1/∂x "
        "= 1.0000 × 1.0000 + 1.0000 × 3.0000 + 1.0000 × 3.0000 "
        "= 1.0000 + 3.0000 + 3.0000 = 7.0000"
    )
    # every edge out of x is highlighted: into the product twice and into the sum once
    assert set(x_step.edges) >= {"v1_in0", "v1_in1", "v2_in1"}


def test_a_plus_a_and_a_value_feeding_two_ops():
    a = Value(1.5, label="a")
    s = narrate(a + a)
    assert steps_by_name(s)["backward", "a"].terms == (1.0, 1.0)
    a2 = Value(0.5, label="a")
    root = a2.exp() * a2.sin()
    step = steps_by_name(narrate(root))["backward", "a"]
    root.backward()
    assert len(step.terms) == 2 and step.value == a2.grad
    assert "a is used 2 times" in step.text


def test_chain_w3_w2_w1_matches_backward():
    loss, named = chain_graph()
    ex_steps = narrate(loss)
    by_name = steps_by_name(ex_steps)
    expected = engine_grads(chain_graph)
    for name in ("x", "t", "w1", "w2", "w3", "y"):
        assert by_name["backward", name].value == expected[name], name
    # the gradient runs back along the chain y -> relu -> w2·... -> relu -> w1·x: each
    # weight's step uses the gradient of the product it feeds, computed in an earlier step
    order = [s.name for s in ex_steps if s.kind == "backward"]
    for weight, product in (("w3", "y"), ("w2", "n7"), ("w1", "n5")):
        step = by_name["backward", weight]
        assert step.text.startswith(f"Backward: dL/d{weight} = dL/d{product} · ∂{product}/∂")
        assert order.index(product) < order.index(weight)
    assert order.index("y") < order.index("n8") < order.index("n7") < order.index("n5")
    n5 = by_name["backward", "n5"].value
    assert by_name["backward", "w1"].text.endswith(f"= {n5:.4f} × 2.0000 = {2 * n5:.4f}")
    forward = [s.text for s in ex_steps if s.kind == "forward"]
    assert "Forward: n6 = relu(n5) = relu(1.6) = 1.6" in forward
    assert any(t.startswith("Forward: y = w3·n8 = (−0.7)·2.4 = −1.68") for t in forward)
    assert any("**2" in t for t in forward)
    assert forward[-1].startswith("Forward: L = 0.5·n14 = 0.5·7.1824") and forward[-1].endswith(
        "= 3.5912"
    )


def test_define_op_shows_as_a_call(smoothmax):
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    root = smoothmax(a, b) * 2
    steps = narrate(root)
    assert (
        steps[0].text == "Forward: n2 = explain_smoothmax(a, b) = explain_smoothmax(1, 2) = 2.3133"
    )
    by_name = steps_by_name(steps)
    root.backward()
    assert by_name["backward", "a"].value == a.grad
    assert by_name["backward", "b"].value == b.grad


def test_every_op_has_a_readable_formula():
    x = Value(0.5, label="x")
    y = Value(2.0, label="y")
    cases = {
        "x + y": (x + y, "x + y"),
        "x*y": (x * y, "x·y"),
        "x**3": (x**3, "x**3"),
        "x**y": (x**y, "x**y"),
        "tanh": (x.tanh(), "tanh(x)"),
        "exp": (x.exp(), "exp(x)"),
        "log": (x.log(), "log(x)"),
        "relu": (x.relu(), "relu(x)"),
        "sigmoid": (x.sigmoid(), "sigmoid(x)"),
        "sin": (x.sin(), "sin(x)"),
        "cos": (x.cos(), "cos(x)"),
        "abs": (abs(x), "|x|"),
        "linear": (OPS["linear"](x, y, Value(1.0, label="b")), "x·y + b"),
        "logsumexp": (OPS["logsumexp"](x, y), "log(exp(x) + exp(y))"),
    }
    for what, (root, formula) in cases.items():
        text = narrate(root)[-len(topological_order(root)) - 1].text
        assert text.startswith(f"Forward: L = {formula} = "), (what, text)
    assert narrate(x**-1)[0].text == "Forward: L = x**(−1) = 0.5**(−1) = 2"
    assert narrate(x - 2)[0].text == "Forward: L = x + (−2) = 0.5 + (−2) = −1.5"


def test_spanish_narration_has_the_same_numbers():
    for build in (neuron_graph, twice_graph, chain_graph):
        english = narrate(build()[0], lang="en")
        spanish = narrate(build()[0], lang="es")
        assert len(english) == len(spanish)
        for en, es in zip(english, spanish):
            assert NUMBER.findall(en.text) == NUMBER.findall(es.text)
            assert en.value == es.value
            assert es.text.startswith("Hacia delante: " if es.kind == "forward" else "Hacia atrás:")
    steps = narrate(twice_graph()[0], lang="es")
    assert "se empieza con dL/dL = 1, la derivada de L respecto de sí misma" in steps[2].text
    assert "x se usa 3 veces" in steps[-1].text
    assert "," not in "".join(NUMBER.findall(" ".join(s.text for s in steps)))  # decimal point


def test_explain_does_not_touch_the_graph():
    loss, named = chain_graph()
    for i, v in enumerate(topological_order(loss)):
        v.grad = 100.0 + i
    before = [(v.data, v.grad, v.label) for v in topological_order(loss)]
    narrate(loss)
    assert [(v.data, v.grad, v.label) for v in topological_order(loss)] == before


def test_a_leaf_root_and_bad_arguments():
    steps = narrate(Value(2.0, label="z"))
    assert [s.text for s in steps] == [
        "Backward: start with dz/dz = 1, the gradient of z with respect to itself"
    ]
    with pytest.raises(ValueError, match="lang"):
        narrate(Value(1.0), lang="fr")
    with pytest.raises(TypeError, match="Value"):
        narrate(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="rankdir"):
        explain(Value(1.0), rankdir="XY")
    with pytest.raises(ValueError, match="max_nodes"):
        explain(Value(1.0), max_nodes=0)


# ---------------------------------------------------------------- the page


def long_sum(values: int) -> Value:
    """tanh(a0 + a1 + ...): ``values`` (an even number) Values, ``values / 2`` ops."""
    leaves = [Value(0.01 * i, label=f"a{i}") for i in range(values // 2)]
    total = leaves[0]
    for leaf in leaves[1:]:
        total = total + leaf
    return total.tanh()


@needs_dot
def test_neuron_page_is_self_contained(tmp_path):
    o, _ = neuron_graph()
    ex = explain(o, title="The lecture's neuron")
    assert isinstance(ex, Explanation) and len(ex) == len(ex.steps) == 15
    page = ex.html()
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    for forbidden in ("http:", "https:", "//cdn", "<link", "src=", "@import", "url("):
        assert forbidden not in page
    for element in ('id="narration"', 'id="prev"', 'id="next"', 'id="play"', 'id="counter"'):
        assert element in page
    assert ">Previous<" in page and ">Next<" in page and ">Play<" in page
    assert "Step 0 / 15" in page and "<h1>The lecture&#x27;s neuron</h1>" in page
    # every node, op and edge has a stable id; every value's texts too
    for i, node in enumerate(topological_order(o)):
        for suffix in ("", "_name", "_data", "_grad"):
            assert f'id="v{i}{suffix}"' in page
        if node.parents:
            assert f'id="v{i}_op"' in page and f'id="v{i}_out"' in page
            for j in range(len(node.parents)):
                assert f'id="v{i}_in{j}"' in page
    # before the first step: no gradient, and data only on the leaves
    assert ">grad 0.5000<" not in page and ">grad ?<" in page
    assert ">data 2.0000<" in page and ">data 0.7071<" not in page
    data = json.loads(re.search(r'id="explain-data">(.*?)</script>', page, re.S).group(1))
    assert len(data["steps"]) == 15 and data["steps"][0]["k"] == "f"
    grads = {n["id"]: n["grad"] for n in data["nodes"]}
    assert grads["v0"] == "−1.5000"  # x1, as backward() gives it
    path = ex.save(tmp_path / "sub" / "backprop.html")
    assert path.read_text(encoding="utf-8") == page
    assert [p.name for p in path.parent.iterdir()] == ["backprop.html"]  # no temporary left


@needs_dot
def test_spanish_page():
    page = explain(twice_graph()[0], lang="es").html()
    assert '<html lang="es">' in page
    for word in ("Paso 0 / 5", ">Anterior<", ">Siguiente<", ">Reproducir<", "Pausa"):
        assert word in page
    assert "valor calculado" in page and "gradiente calculado" in page


@needs_dot
def test_repr_html_is_an_iframe():
    ex = explain(twice_graph()[0])
    shown = ex._repr_html_()
    assert shown.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in shown
    assert "<script" not in shown  # the page is escaped inside the attribute
    assert "&lt;script&gt;" in shown


@needs_dot
def test_labels_cannot_break_the_page():
    x = Value(1.0, label='</script><b onclick="x">{a|b}')
    page = explain(x * 2).html()
    assert "</script><b" not in page and "<b onclick" not in page


@needs_dot
def test_page_for_a_100_node_graph_is_under_1_mb(record_property):
    root = long_sum(100)
    assert len(topological_order(root)) == 100
    page = explain(root).html()
    size = len(page.encode("utf-8"))
    record_property("page_bytes", size)
    print(f"page for 100 values (150 drawn nodes with the ops): {size} bytes")
    assert size < 1_000_000


def test_size_guard_as_draw_dot():
    root = long_sum(400)  # 400 values and 200 ops
    with pytest.raises(ValueError, match=r"more than max_nodes=500.*explain_neuron.*max_nodes="):
        explain(root)
    x = Value(1.0, label="x")
    total = x
    for _ in range(60):  # x reused far along the graph: many layout points
        total = total + x
    with pytest.raises(ValueError, match="layout points"):
        explain(total, max_nodes=150)  # 121 nodes, but about 3700 layout points


def test_graphviz_missing(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(GraphvizNotFoundError, match="install Graphviz"):
        explain(twice_graph()[0])


# ---------------------------------------------------------------- explain_neuron


@needs_dot
def test_explain_neuron_of_an_mlp():
    model = MLP(3, [4, 2], activation="tanh", seed=1)
    for p in model.parameters():
        p.grad = 0.25
    x = [0.5, -1.0, 2.0]
    ex = explain_neuron(model, x, layer=1, index=1)
    assert ex.title == "One neuron: layer 1, neuron 1 (linear)"  # the output layer is linear
    assert all(p.grad == 0.25 for p in model.parameters())  # the model is untouched
    names = {info.name: info for info in ex.nodes}
    assert {"h1", "h2", "h3", "h4", "w1", "w4", "b", "o"} <= set(names)
    # the same gradients as backward() through that neuron on the same inputs
    hidden = [v.data for v in model.layers[0].forward(x)]
    neuron = model.layers[1].neurons[1]
    model.zero_grad()
    out = neuron([Value(h) for h in hidden])
    out.backward()
    assert names["o"].data == out.data
    for i, w in enumerate(neuron.w):
        assert names[f"w{i + 1}"].grad == w.grad
    assert names["b"].grad == neuron.b.grad


@needs_dot
def test_explain_neuron_of_a_tanh_neuron_in_spanish():
    neuron = Neuron(2, activation="tanh", seed=3)
    ex = explain_neuron(neuron, [1.0, -2.0], lang="es")
    assert ex.title == "Una neurona: capa 0, neurona 0 (tanh)"
    texts = [s.text for s in ex.steps]
    assert texts[0].startswith("Hacia delante: n = w1·x1 + w2·x2 + b = ")
    assert texts[1].startswith("Hacia delante: o = tanh(n) = ")
    with pytest.raises(ValueError, match="layer=0"):
        explain_neuron(neuron, [1.0, 2.0], layer=1)
    with pytest.raises(ValueError, match="2 input"):
        explain_neuron(neuron, [1.0])
    with pytest.raises(ValueError, match="index"):
        explain_neuron(MLP(2, [3]), [1.0, 2.0], index=3)


# ---------------------------------------------------------------- the command line


def run_cli(argv: list[str]) -> int:
    return cli.main(["explain", *argv])


def test_cli_prints_the_steps(capsys):
    assert run_cli(["tanh(x*w + b)", "x=1", "w=-2", "b=0.5"]) == 0
    out = capsys.readouterr().out.splitlines()
    x, w, b = Value(1.0, label="x"), Value(-2.0, label="w"), Value(0.5, label="b")
    assert out == [s.text for s in narrate((x * w + b).tanh())]
    assert run_cli(["x*x + x", "x=3", "--lang", "es"]) == 0
    assert "x se usa 3 veces" in capsys.readouterr().out


@needs_dot
def test_cli_writes_the_page(tmp_path, capsys):
    path = tmp_path / "backprop.html"
    code = run_cli(["tanh(x*w + b)", "x=1", "w=-2", "b=0.5", "--html", str(path), "--lang", "es"])
    assert code == 0
    assert capsys.readouterr().out == f"9 steps written to {path}\n"
    page = path.read_text(encoding="utf-8")
    assert "<h1>tanh(x*w + b)</h1>" in page and "Paso 0 / 9" in page


def test_cli_errors(tmp_path, capsys, monkeypatch):
    for argv in (["tanh(x*w"], ["x + y", "x=1"], ["x", "x=nan"], ["x", "x=1", "--html", "a.svg"]):
        assert run_cli(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("micrograd-like explain: error: ") and err.count("\n") == 1
    assert run_cli(["x*x", "x=1", "--max-nodes", "2", "--html", str(tmp_path / "a.html")]) == 2
    assert "max_nodes" in capsys.readouterr().err
    monkeypatch.setenv("PATH", "/nonexistent")
    assert run_cli(["x*x", "x=1", "--html", str(tmp_path / "b.html")]) == 3
    assert "Graphviz" in capsys.readouterr().err
    assert not (tmp_path / "b.html").exists()
    assert run_cli(["x*x", "x=1"]) == 0  # the text needs no Graphviz
