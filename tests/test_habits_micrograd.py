"""Code written the way micrograd and its lecture write it runs unchanged.

Each test is written as a user of micrograd's lecture would write the code: a graph
drawing that walks ``_prev`` and ``_op``, an op added by hand with a ``_backward`` closure,
backpropagation node by node, a subclass of Value, a notebook cell run twice, a graph or a
model pickled and copied. Expected gradients are derived by hand with the math module.
"""

from __future__ import annotations

import copy
import math
import multiprocessing
import pickle
import sys
import warnings

import graphviz
import numpy as np
import pytest

import micrograd_like
from micrograd_like import MLP, Value, datasets, define_op, grad
from micrograd_like.engine import OPS, topological_order
from micrograd_like.numpy_forms import define_numpy_form, numpy_form

# ---------------------------------------------------------------- the lecture's neuron


def lecture_tanh(self):
    """The lecture's tanh, added by hand: forward from exp, backward as a closure."""
    x = self.data
    t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
    out = Value(t, (self,), "tanh")

    def _backward():
        self.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


def lecture_neuron(tanh=lecture_tanh):
    """o = tanh(x1*w1 + x2*w2 + b), with every intermediate labelled as in the lecture."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = tanh(n)
    o.label = "o"
    return {v.label: v for v in (x1, x2, w1, w2, b, x1w1, x2w2, x1w1x2w2, n, o)}


def expected_lecture_gradients() -> dict[str, float]:
    """do/dv for the lecture's neuron, by the chain rule written out."""
    n = 2.0 * -3.0 + 0.0 * 1.0 + 6.8813735870195432
    dn = 1 - math.tanh(n) ** 2
    return {
        "o": 1.0,
        "n": dn,
        "b": dn,
        "x1*w1 + x2*w2": dn,
        "x1*w1": dn,
        "x2*w2": dn,
        "x1": -3.0 * dn,
        "w1": 2.0 * dn,
        "x2": 1.0 * dn,
        "w2": 0.0 * dn,
    }


def trace(root):
    """The lecture's trace: every node and edge reachable through ``_prev``."""
    nodes, edges = set(), set()

    def build(v):
        if v not in nodes:
            nodes.add(v)
            for child in v._prev:
                edges.add((child, v))
                build(child)

    build(root)
    return nodes, edges


def lecture_draw_dot(root):
    """A drawing written the lecture's way: records for values, an oval per ``_op``."""
    dot = graphviz.Digraph(format="svg", graph_attr={"rankdir": "LR"})
    nodes, edges = trace(root)
    for n in nodes:
        uid = str(id(n))
        dot.node(uid, f"{{ {n.label} | data {n.data:.4f} | grad {n.grad:.4f} }}", shape="record")
        if n._op:
            dot.node(uid + n._op, n._op)
            dot.edge(uid + n._op, uid)
    for n1, n2 in edges:
        dot.edge(str(id(n1)), str(id(n2)) + n2._op)
    return dot


def test_a_lecture_style_draw_dot_over_prev_and_op_runs_unchanged() -> None:
    values = lecture_neuron(tanh=Value.tanh)
    values["o"].backward()
    nodes, edges = trace(values["o"])
    assert nodes == set(values.values())
    assert {n._op for n in nodes} == {"", "+", "*", "tanh"}
    assert (values["n"], values["o"]) in edges and (values["b"], values["n"]) in edges
    assert len(edges) == 9  # two inputs for each of the four binary ops, one for tanh
    svg = lecture_draw_dot(values["o"]).pipe(format="svg").decode()
    assert "grad 0.5000" in svg and "&#45;3.0000" in svg  # w1, and the 1 - tanh(n)^2 grads


def test_op_strings_are_micrograds() -> None:
    a, b = Value(2.0), Value(3.0)
    assert [(a + b)._op, (a * b)._op, (a**2)._op, a.relu()._op] == ["+", "*", "**2", "ReLU"]
    assert [a.tanh()._op, a.exp()._op, (a**-1)._op, (a**b)._op] == ["tanh", "exp", "**-1", "**"]
    assert a._op == ""
    assert (a / b)._op == "*" and (a - b)._op == "+"  # micrograd derives them the same way


def test_prev_is_a_set_of_the_inputs() -> None:
    a, b = Value(2.0), Value(3.0)
    c = a * b
    assert c._prev == {a, b} and set(c._prev) == {a, b} and len(c._prev) == 2
    assert a in c._prev and Value(2.0) not in c._prev
    assert (a * a)._prev == {a} and a._prev == set()
    with pytest.raises(AttributeError):
        c._prev = {a}


def test_an_op_added_by_hand_with_a_backward_closure_is_honoured_by_backward() -> None:
    by_hand, built_in = lecture_neuron(), lecture_neuron(tanh=Value.tanh)
    by_hand["o"].backward()
    built_in["o"].backward()
    expected = expected_lecture_gradients()
    for name, value in by_hand.items():
        assert value.grad == pytest.approx(expected[name], abs=1e-12), name
        assert value.grad == pytest.approx(built_in[name].grad, abs=1e-12), name
    assert by_hand["o"]._op == "tanh" and by_hand["o"].op == "tanh"


def test_manual_backpropagation_node_by_node() -> None:
    """The lecture sets o.grad = 1 and calls each node's _backward() from the top."""
    for tanh in (lecture_tanh, Value.tanh):
        values = lecture_neuron(tanh)
        values["o"].grad = 1.0
        for name in ("o", "n", "x1*w1 + x2*w2", "x2*w2", "x1*w1"):
            values[name]._backward()
        expected = expected_lecture_gradients()
        for name, value in values.items():
            assert value.grad == pytest.approx(expected[name], abs=1e-12), (tanh, name)


def test_the_lectures_own_backward_over_a_topological_sort() -> None:
    values = lecture_neuron()
    topo, visited = [], set()

    def build_topo(v):
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build_topo(child)
            topo.append(v)

    build_topo(values["o"])
    values["o"].grad = 1.0
    for node in reversed(topo):
        node._backward()
    expected = expected_lecture_gradients()
    assert {name: pytest.approx(expected[name], abs=1e-12) for name in values} == {
        name: v.grad for name, v in values.items()
    }


def test_a_hand_made_op_with_a_repeated_child_and_a_value_used_twice() -> None:
    """micrograd's ``self * self`` passes the same child twice and adds to it twice."""

    def square(self):
        out = Value(self.data * self.data, (self, self), "*")

        def _backward():
            self.grad += self.data * out.grad
            self.grad += self.data * out.grad

        out._backward = _backward
        return out

    x = Value(3.0)
    y = square(x) + square(x) * 2  # d/dx (3 x^2) = 6 x
    y.backward()
    assert x.grad == 18.0 and square(x)._prev == {x}
    (dx,) = grad(y, [x])  # grad() runs the same closures, without touching .grad
    assert dx.data == 18.0 and x.grad == 18.0


def test_a_closure_sees_its_node_and_children_only_while_it_runs() -> None:
    x = Value(0.5)
    y = lecture_tanh(x)
    z = y * 3
    z.backward()
    assert x.grad == pytest.approx(3 * (1 - math.tanh(0.5) ** 2), rel=1e-12)
    assert y.grad == 3.0 and z.grad == 1.0  # every .grad holds its final value


def test_a_hand_made_node_without_backward_is_an_error_naming_it() -> None:
    x = Value(2.0, label="x")
    out = Value(x.data**3, (x,), "cube", label="y")
    with pytest.raises(RuntimeError, match=r"node 'cube' \(label 'y', data 8.0\).*no _backward"):
        out.backward()
    with pytest.raises(RuntimeError, match="no _backward"):
        out._backward()
    assert x.grad == 0.0 and out.grad == 0.0


def test_second_derivatives_refuse_a_closure_and_point_to_define_op() -> None:
    x = Value(0.3)
    y = lecture_tanh(x) * x
    (dy,) = grad(y, [x])
    assert dy.data == pytest.approx(math.tanh(0.3) + 0.3 * (1 - math.tanh(0.3) ** 2), rel=1e-12)
    with pytest.raises(RuntimeError, match="closure.*define_op"):
        grad(y, [x], create_graph=True)


def test_backward_assigned_to_an_op_made_node_replaces_its_rule() -> None:
    x = Value(2.0)
    y = x * 3
    y._backward = lambda: setattr(x, "grad", x.grad + 5 * y.grad)  # a different derivative
    (y * 2).backward()
    assert x.grad == 10.0 and y._op == "*"
    with pytest.raises(ValueError, match="leaf"):
        x._backward = lambda: None
    with pytest.raises(TypeError, match="function of no arguments"):
        y._backward = 3.0


def test_hand_made_nodes_check_their_children() -> None:
    with pytest.raises(TypeError, match=r"_children\[1\] must be a Value, got float"):
        Value(1.0, (Value(1.0), 2.0), "+")
    with pytest.raises(TypeError, match="_children must be an iterable of Values"):
        Value(1.0, 5, "+")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="_op must be a str"):
        Value(1.0, (Value(1.0),), 3)  # type: ignore[arg-type]
    for label in (3, 0, None):
        with pytest.raises(TypeError, match="label must be a str"):
            Value(1.0, label=label)  # type: ignore[arg-type]


# ---------------------------------------------------------------- subclasses


class MyValue(Value):
    """A user's subclass adding a method the lecture's way."""

    def cube(self):
        out = Value(self.data**3, (self,), "**3")

        def _backward():
            self.grad += 3 * self.data**2 * out.grad

        out._backward = _backward
        return out


def test_a_subclass_of_value_works_everywhere() -> None:
    a, b = MyValue(2.0), MyValue(-1.0)
    assert (a * 3).data == 6.0 and (3 - a).data == 1.0 and (a / b).data == -2.0
    assert (a**b).data == 0.5 and (2**a).data == 4.0 and (a - b).data == 3.0
    assert a > b and max(a, b) is a and (a + b).relu().data == 1.0
    out = (a.cube() + a * b).tanh()
    out.backward()
    t = math.tanh(8.0 - 2.0)
    assert a.grad == pytest.approx((1 - t * t) * (12.0 - 1.0), rel=1e-12)
    assert b.grad == pytest.approx((1 - t * t) * 2.0, rel=1e-12)
    (da,) = grad(a * a, [a], create_graph=True)
    assert da.data == 4.0 and grad(da, [a])[0].data == 2.0
    assert type(a * 3) is Value  # results are plain Values, as in micrograd


def test_subclass_values_as_parameters_train() -> None:
    class Line(micrograd_like.Module):
        def __init__(self):
            self.w, self.b = MyValue(0.0), MyValue(0.0)

        def forward(self, x):
            return self.w * x[0] + self.b

    model = Line()
    assert model.parameters() == [model.w, model.b]
    X = np.linspace(-1, 1, 20)[:, None]
    model.compile(micrograd_like.optim.SGD(lr=0.1), "mse")
    model.fit(X, 3 * X[:, 0] - 1, epochs=200, batch_size=None, verbose=0)
    assert model.w.data == pytest.approx(3.0, abs=1e-6)
    assert model.b.data == pytest.approx(-1.0, abs=1e-6)


# ---------------------------------------------------------------- notebooks


def test_running_a_define_op_cell_again_replaces_the_op(scratch_ops) -> None:
    cell = 'softplus = define_op("softplus", lambda x: math.log1p(math.exp(x)), lambda x, out: (1 - math.e**-out,))'  # noqa: E501
    namespace = {"define_op": define_op, "math": math}
    exec(cell, namespace)
    first = namespace["softplus"]
    define_numpy_form("softplus", lambda x: np.log1p(np.exp(x)))
    with pytest.warns(UserWarning, match="replacing the op 'softplus'"):
        exec(cell, namespace)
    assert OPS["softplus"] is namespace["softplus"] is not first
    assert numpy_form(first) is not None and numpy_form(namespace["softplus"]) is None
    x = Value(1.0)
    namespace["softplus"](x).backward()
    assert x.grad == pytest.approx(1 / (1 + math.exp(-1.0)), rel=1e-12)


def test_value_item_and_enable_grad_at_the_top_level() -> None:
    assert Value(2.5).item() == 2.5 and type(Value(2).item()) is float
    with micrograd_like.no_grad(), micrograd_like.enable_grad():
        assert (Value(1.0) * 2).parents


# ---------------------------------------------------------------- pickle and copy


def test_graphs_pickle_and_deep_copy_at_any_depth() -> None:
    x = Value(0.25, label="x")
    y = x
    for _ in range(5 * sys.getrecursionlimit()):  # 10 nodes deep per frame of the limit
        y = (y * 1.0).relu()
    y.backward()
    for restored in (pickle.loads(pickle.dumps(y)), copy.deepcopy(y)):
        order = topological_order(restored)
        assert len(order) == len(topological_order(y))
        leaf = order[0]
        assert (leaf.label, leaf.data, leaf.grad) == ("x", 0.25, 1.0)
        assert restored.data == y.data and restored._op == "ReLU"
        restored.backward()
        assert leaf.grad == 2.0 and x.grad == 1.0


def test_pickling_keeps_shared_nodes_shared() -> None:
    a, b = Value(2.0, label="a"), Value(3.0)
    c = a * b
    d = (c + a).tanh() + c
    a2, b2, c2, d2 = pickle.loads(pickle.dumps([a, b, c, d]))
    assert (
        c2.parents == (a2, b2) and d2.parents[1] is c2 and d2.parents[0].parents[0].parents[1] is a2
    )
    d2.backward()
    d.backward()
    assert (a2.grad, b2.grad) == (a.grad, b.grad)
    assert copy.copy(c).parents == (a, b) and copy.copy(c) is not c


def test_ops_pickle_by_name_and_closures_are_refused(scratch_ops) -> None:
    cube = define_op("cube", lambda x: x**3, lambda x, out: (3 * x * x,))
    x = Value(2.0)
    y = pickle.loads(pickle.dumps(cube(x) + x**2))
    assert y.parents[0].rule is cube and y.parents[1].rule is (x**2).rule
    y.backward()
    assert y.parents[0].parents[0].grad == 12.0 + 4.0
    hand_made = Value(1.0, (x,), "custom")
    assert pickle.loads(pickle.dumps(hand_made))._op == "custom"
    with pytest.raises(TypeError, match="closure.*define_op"):
        pickle.dumps(lecture_tanh(x))
    with pytest.raises(TypeError, match="closure"):
        copy.deepcopy(lecture_tanh(x))


def test_a_subclass_with_its_own_attributes_pickles() -> None:
    a = MyValue(2.0, label="a")
    a.note = "weight"
    b = pickle.loads(pickle.dumps(a * 1))
    assert type(b.parents[0]) is MyValue and b.parents[0].note == "weight"


def _predict(model, X):
    return model.predict(X, verbose=0)


def test_a_trained_model_pickles_deep_copies_and_goes_to_a_process_pool() -> None:
    X, y = datasets.make_moons(60, noise=0.1, random_state=0)
    model = MLP(2, [8, 1], seed=0)
    model.compile(micrograd_like.optim.Adam(learning_rate=0.05), "binary_crossentropy")
    model.fit(X, y, epochs=3, verbose=0, seed=0)
    expected = model.predict(X, verbose=0)
    for twin in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        np.testing.assert_array_equal(twin.predict(X, verbose=0), expected)
        assert twin.optimizer.params == twin.parameters()  # the optimizer follows its model
        twin.fit(X, y, epochs=1, verbose=0, seed=0)
        model_after = copy.deepcopy(model)
        model_after.fit(X, y, epochs=1, verbose=0, seed=0)
        np.testing.assert_array_equal(twin.predict(X, verbose=0), model_after.predict(X, verbose=0))
    with warnings.catch_warnings():  # fork in a process that has threads (tqdm, numpy)
        warnings.simplefilter("ignore", DeprecationWarning)
        with multiprocessing.get_context("fork").Pool(1) as pool:
            (remote,) = pool.starmap(_predict, [(model, X)])
    np.testing.assert_array_equal(remote, expected)
