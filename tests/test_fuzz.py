"""Fuzz tests (issue 11): model-file documents and command-line expressions.

Model files: every valid document round-trips bit for bit; a mutated one (bytes flipped,
cut or inserted; any JSON node replaced, removed or added) loads as a model or fails with a
ValueError, never any other exception. Expressions: any text given to ``grad`` and
``gradcheck`` exits 0, 1 or 2, with exactly one line on stderr when it is an error.
The example counts below are the ones the README's reliability section reports.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from micrograd_like import cli, load_model
from micrograd_like.nn import ACTIVATIONS
from micrograd_like.serialization import ModelDescription, to_document, write_model_file

MODEL_EXAMPLES = 150
MUTATION_EXAMPLES = 300
EXPRESSION_EXAMPLES = 300

finite = st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def descriptions(draw) -> ModelDescription:
    """Any valid model: an MLP (one hidden activation, a linear last layer) or a Sequential
    (any activation per layer, softmax on layers of two or more), with any finite
    parameters."""
    kind = draw(st.sampled_from(["MLP", "Sequential"]))
    nin = draw(st.integers(1, 3))
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    names = sorted(set(ACTIVATIONS) - {"softmax"})
    if kind == "MLP":
        hidden = draw(st.sampled_from(names))
        activations = [hidden] * (len(sizes) - 1) + ["linear"]
    else:
        activations = [draw(st.sampled_from(names + ["softmax"] * (n > 1))) for n in sizes]
    widths = [nin, *sizes]
    parameters = {}
    for i in range(len(sizes)):
        for j in range(widths[i + 1]):
            for k in range(widths[i]):
                parameters[f"layers.{i}.neurons.{j}.w.{k}"] = draw(finite)
            parameters[f"layers.{i}.neurons.{j}.b"] = draw(finite)
    return ModelDescription(kind, nin, tuple(zip(sizes, activations)), parameters)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz") / "model.json"


@settings(max_examples=MODEL_EXAMPLES, deadline=None)
@given(description=descriptions())
def test_every_valid_document_round_trips(scratch, description):
    write_model_file(scratch, description)
    model = load_model(scratch)
    loaded = model.state_dict()
    assert list(loaded) == list(description.parameters)
    assert all(
        math.copysign(1, a) == math.copysign(1, b) and a == b
        for a, b in zip(loaded.values(), description.parameters.values())
    )  # bit for bit, the sign of zero included
    assert [(layer.nout, layer.activation) for layer in model.layers] == list(description.layers)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats()
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


def _paths(node, path=()):
    """Every path to a node of a JSON document (the root's is ())."""
    yield path
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, (*path, key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from _paths(child, (*path, i))


def _replaced(document, path, value):
    if not path:
        return value
    copy = dict(document) if isinstance(document, dict) else list(document)
    copy[path[0]] = _replaced(document[path[0]], path[1:], value)
    return copy


def _removed(document, path):
    copy = dict(document) if isinstance(document, dict) else list(document)
    if len(path) == 1:
        del copy[path[0]]
    else:
        copy[path[0]] = _removed(document[path[0]], path[1:])
    return copy


@st.composite
def mutated_files(draw) -> bytes:
    """The bytes of a valid model file after one random mutation."""
    document = to_document(draw(descriptions()))
    text = json.dumps(document, indent=1)
    kind = draw(st.sampled_from(["replace", "remove", "add", "bytes", "cut", "insert"]))
    paths = list(_paths(document))
    pick = draw(st.randoms(use_true_random=False)).choice  # any node, not mostly the first
    if kind == "replace":
        path = pick(paths[1:])
        text = json.dumps(_replaced(document, path, draw(json_values)))  # NaN, Infinity too
    elif kind == "remove":
        text = json.dumps(_removed(document, pick(paths[1:])))
    elif kind == "add":
        path = pick([p for p in paths if isinstance(_at(document, p), dict)])
        extra = {**_at(document, path), draw(st.text(max_size=6)): draw(json_values)}
        text = json.dumps(_replaced(document, path, extra))
    data = text.encode("utf-8")
    if kind == "bytes":
        i = draw(st.integers(0, len(data) - 1))
        data = data[:i] + bytes([draw(st.integers(0, 255))]) + data[i + 1 :]
    elif kind == "cut":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif kind == "insert":
        i = draw(st.integers(0, len(data)))
        data = data[:i] + draw(st.binary(min_size=1, max_size=4)) + data[i:]
    return data


def _at(document, path):
    for key in path:
        document = document[key]
    return document


@settings(max_examples=MUTATION_EXAMPLES, deadline=None)
@given(data=mutated_files())
def test_a_mutated_document_loads_or_is_a_value_error(scratch, data):
    scratch.write_bytes(data)
    try:
        model = load_model(scratch)
    except ValueError:
        return
    assert all(math.isfinite(v) for v in model.state_dict().values())


# ---------------------------------------------------------------- command-line expressions

TOKENS = [
    "x",
    "y",
    "z",
    "1",
    "2.5",
    "0",
    "1e308",
    "1e-320",
    "(",
    ")",
    "+",
    "-",
    "*",
    "/",
    "**",
    ",",
    " ",
    "tanh",
    "exp",
    "log",
    "relu",
    "sigmoid",
    "sqrt",
    "abs",
    "sin",
    "pow",
    "logsumexp",
    "linear",
    "__import__",
    "'",
    ".",
    "[",
    "]",
    "lambda",
    ":",
    "=",
    "\\",
]
UNARY = ["tanh", "exp", "log", "relu", "sigmoid", "sqrt", "abs", "sin", "cos", "-", ""]
numbers = st.sampled_from(["0", "1", "2.5", "1e-300", "1e25", "1e308", "3", "0.5", "-1"])
well_formed = st.recursive(
    st.sampled_from(["x", "y"]) | numbers,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
        st.tuples(st.sampled_from(UNARY), inner).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"pow({t[0]}, {t[1]})"),
        st.lists(inner, min_size=1, max_size=3).map(lambda a: f"logsumexp({', '.join(a)})"),
    ),
    max_leaves=8,
)
expressions = st.one_of(
    well_formed,  # mostly valid: values, overflows, domain errors, kinks
    st.text(max_size=40),  # anything at all
    st.lists(st.sampled_from(TOKENS), max_size=25).map("".join),  # almost expressions
)


def run_cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(list(argv))
        except SystemExit as exc:  # argparse
            code = exc.code
    return code, out.getvalue(), err.getvalue()


@settings(
    max_examples=EXPRESSION_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(text=expressions, x=finite, y=st.sampled_from([0.0, -2.0, 1e-300, 3.5, 1e300]))
def test_any_expression_exits_0_1_or_2_with_one_line_on_error(text, x, y):
    for command in ("grad", "gradcheck"):
        code, out, err = run_cli(command, "--", text, f"x={x!r}", f"y={y!r}")
        assert code in (0, 1, 2), (command, text, code, err)
        if code == 2:
            assert err.count("\n") == 1 and err.startswith(f"micrograd-like {command}: error: ")
        else:
            assert err == "" and out
        if code == 1:
            assert command == "gradcheck" and "FAILED" in out


# ---------------------------------------------------------------- what the guides report


@pytest.mark.parametrize("guide", ["README.md", "README.es.md"])
def test_the_guides_report_the_counts_these_tests_use(guide):
    from test_finite_gradients import RULE_EXAMPLES
    from test_kill_during_save import ARCHITECTURE, SAVES

    text = (Path(__file__).resolve().parent.parent / guide).read_text(encoding="utf-8")
    section = re.search(r"^## (Reliability|Fiabilidad)\n(.*?)^## ", text, re.S | re.M).group(2)
    nin, (hidden, nout) = ARCHITECTURE
    parameters = (nin + 1) * hidden + (hidden + 1) * nout
    separator = "," if guide == "README.md" else "."
    counts = [MODEL_EXAMPLES, MUTATION_EXAMPLES, EXPRESSION_EXAMPLES, RULE_EXAMPLES, SAVES]
    for count in [*map(str, counts), f"{parameters:,}".replace(",", separator)]:
        assert re.search(rf"(?<![\d.,]){re.escape(count)}(?![\d.,]\d)", section), count
