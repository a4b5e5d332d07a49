"""model.save / load_model: JSON round trips, atomic writes, and refusal of bad files."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from micrograd_like import MLP, Layer, Neuron
from micrograd_like.files import atomic_write
from micrograd_like.nn import Sequential, load_model, save_model

# pickle.dumps({"layers.0.neurons.0.w.0": 0.5}, protocol=4), written out so that the
# tests never import pickle
PICKLE_BYTES = (
    b"\x80\x04\x95&\x00\x00\x00\x00\x00\x00\x00}\x94\x8c\x16layers.0.neurons.0.w.0"
    b"\x94G?\xe0\x00\x00\x00\x00\x00\x00s."
)
X = np.random.default_rng(0).normal(size=(20, 2))


@pytest.fixture
def saved(tmp_path):
    """A saved MLP(2, [4, 3, 1]): (model, path, parsed JSON document)."""
    model = MLP(2, [4, 3, 1], activation="tanh", seed=5)
    path = tmp_path / "model.json"
    model.save(path)
    return model, path, json.loads(path.read_text())


def test_round_trip_gives_identical_parameters_and_predictions(saved) -> None:
    model, path, _ = saved
    loaded = load_model(path)
    assert type(loaded) is MLP
    assert loaded.state_dict() == model.state_dict()  # bit-identical floats
    assert np.array_equal(loaded.predict(X), model.predict(X))
    tables: tuple[list[str], list[str]] = ([], [])
    loaded.summary(print_fn=tables[0].append)
    model.summary(print_fn=tables[1].append)
    assert tables[0] == tables[1] and len(tables[0]) == 9  # 3 layers and 6 lines around


def test_the_documented_format(saved) -> None:
    model, _, document = saved
    assert document["format"] == "micrograd_like.model"
    assert document["version"] == 1
    assert document["architecture"] == {
        "class": "MLP",
        "nin": 2,
        "layers": [
            {"nout": 4, "activation": "tanh"},
            {"nout": 3, "activation": "tanh"},
            {"nout": 1, "activation": "linear"},
        ],
    }
    assert document["parameters"] == model.state_dict()


def test_round_trip_of_a_sequential_with_different_activations(tmp_path) -> None:
    model = Sequential(
        Layer(2, 3, activation="sigmoid", seed=1),
        Layer(3, 2, activation="relu", seed=2),
        Layer(2, 2, nonlin=False, seed=3),
    )
    model.save(tmp_path / "seq.json")
    loaded = load_model(tmp_path / "seq.json")
    assert type(loaded) is Sequential
    assert [layer.activation for layer in loaded.layers] == ["sigmoid", "relu", "linear"]
    assert np.array_equal(loaded.predict(X), model.predict(X))


def test_save_accepts_str_paths_and_overwrites(tmp_path) -> None:
    path = str(tmp_path / "m.json")
    MLP(2, [1], seed=0).save(path)
    second = MLP(2, [1], seed=1)
    second.save(path)
    assert load_model(path).state_dict() == second.state_dict()
    assert os.listdir(tmp_path) == ["m.json"]


def test_only_sequential_models_can_be_saved(tmp_path) -> None:
    with pytest.raises(TypeError, match="MLP or a Sequential"):
        save_model(Neuron(2), tmp_path / "n.json")


def test_a_model_with_nan_parameters_is_not_saved(saved) -> None:
    model, path, _ = saved
    before = path.read_bytes()
    model.layers[1].neurons[2].b.data = float("nan")
    with pytest.raises(ValueError, match=r"layers\.1\.neurons\.2\.b.*nan"):
        model.save(path)
    assert path.read_bytes() == before


def test_an_interrupted_save_leaves_the_old_file_intact(saved, monkeypatch) -> None:
    model, path, _ = saved
    before = path.read_bytes()
    real_dump = json.dump

    def dump_half_then_fail(obj, file, **kwargs):
        text = json.dumps(obj, **kwargs)
        file.write(text[: len(text) // 2])
        raise OSError("disk full")

    monkeypatch.setattr(json, "dump", dump_half_then_fail)
    for p in model.parameters():
        p.data += 1.0
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    monkeypatch.setattr(json, "dump", real_dump)
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == ["model.json"]  # no temporary file left behind
    load_model(path)


def test_atomic_write_replaces_only_on_success(tmp_path) -> None:
    path = tmp_path / "notes.txt"
    atomic_write(path, lambda f: f.write("first\n"))
    with pytest.raises(RuntimeError):
        atomic_write(path, lambda f: (f.write("second"), (_ for _ in ()).throw(RuntimeError())))
    assert path.read_text() == "first\n"
    atomic_write(path, lambda f: f.write("third\n"))
    assert path.read_text() == "third\n"
    assert os.listdir(tmp_path) == ["notes.txt"]


def _edit(path, change) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(format="keras.model"), "unknown format 'keras.model'"),
        (lambda d: d.update(version=2), "unsupported version 2"),
        (lambda d: d.update(version="1"), "unsupported version '1'"),
        (lambda d: d.pop("parameters"), r"missing \['parameters'\]"),
        (lambda d: d.update(code="__import__('os')"), r"unexpected \['code'\]"),
        (lambda d: d["architecture"].update({"class": "Evil"}), 'expected "MLP"'),
        (lambda d: d["architecture"].update(nin=0), "nin must be an int >= 1"),
        (lambda d: d["architecture"].update(nin=2.0), "nin must be an int >= 1"),
        (lambda d: d["architecture"].update(layers=[]), "non-empty list"),
        (
            lambda d: d["architecture"]["layers"][0].update(nout=5),
            "has 37 parameters but the file holds 31",
        ),
        (lambda d: d["architecture"]["layers"][0].update(activation="gelu"), "'gelu'"),
        (lambda d: d["architecture"]["layers"][0].update(activation=["relu"]), "activation"),
        (lambda d: d["architecture"]["layers"][1].update(activation="relu"), "one activation"),
        (lambda d: d["architecture"]["layers"][2].update(activation="tanh"), "linear last"),
        (lambda d: d.update(parameters=[1.0, 2.0]), "must be an object"),
        (
            lambda d: d["parameters"].update(
                {"layers.9.x": d["parameters"].pop("layers.0.neurons.0.b")}
            ),
            "missing 'layers.0.neurons.0.b'",
        ),
        (lambda d: d["parameters"].update({"layers.0.neurons.0.b": "0.1"}), "real number"),
        (lambda d: d["parameters"].update({"layers.0.neurons.0.b": None}), "real number"),
    ],
)
def test_a_file_with_a_wrong_field_is_refused(saved, change, message) -> None:
    _, path, _ = saved
    _edit(path, change)
    with pytest.raises(ValueError, match=message):
        load_model(path)


def test_a_huge_architecture_is_refused_before_it_is_built(saved) -> None:
    _, path, _ = saved
    _edit(path, lambda d: d["architecture"]["layers"][0].update(nout=10**9))
    with pytest.raises(ValueError, match="parameters but the file holds 31"):
        load_model(path)


@pytest.mark.parametrize(
    "content, message",
    [
        (PICKLE_BYTES, "pickle"),
        (b"", "empty"),
        (b"hello", "not valid JSON"),
        (b"[1, 2, 3]", "must be a JSON object"),
        (np.random.default_rng(1).bytes(300), "binary|pickle|not valid JSON"),
        (b"\xff\xfe{\x00}\x00", "binary"),
    ],
)
def test_files_that_are_not_models_are_refused(tmp_path, content, message) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=message):
        load_model(path)


def test_a_truncated_file_is_refused(saved) -> None:
    _, path, _ = saved
    text = path.read_text()
    for cut in (len(text) // 3, len(text) // 2, len(text) - 2):
        path.write_text(text[:cut])
        with pytest.raises(ValueError, match="truncated"):
            load_model(path)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused(saved, constant) -> None:
    _, path, _ = saved
    text = path.read_text()
    name = '"layers.0.neurons.0.b": '
    start = text.index(name) + len(name)
    end = text.index(",", start)
    path.write_text(text[:start] + constant + text[end:])
    with pytest.raises(ValueError, match=constant):
        load_model(path)


def test_a_name_given_twice_is_refused(saved) -> None:
    _, path, _ = saved
    text = path.read_text()
    path.write_text(text.replace('"version": 1,', '"version": 1,\n "version": 1,', 1))
    with pytest.raises(ValueError, match="'version' appears twice"):
        load_model(path)


def test_deeply_nested_json_is_refused(tmp_path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ValueError, match="nested too deeply"):
        load_model(path)


def test_a_saved_file_gets_the_usual_permissions(tmp_path) -> None:
    ordinary = tmp_path / "ordinary.txt"
    ordinary.write_text("x")
    MLP(1, [1], seed=0).save(tmp_path / "m.json")
    assert (tmp_path / "m.json").stat().st_mode == ordinary.stat().st_mode


def test_a_parameter_beyond_the_float_range_is_a_value_error(tmp_path) -> None:
    path = tmp_path / "model.json"
    MLP(1, [1], seed=0).save(path)
    text = path.read_text(encoding="utf-8")
    document = json.loads(text)
    name = next(iter(document["parameters"]))
    path.write_text(text.replace(json.dumps(document["parameters"][name]), "1" + "0" * 400, 1))
    with pytest.raises(ValueError, match="too large for a float"):
        load_model(path)
