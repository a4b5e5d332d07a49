"""`micrograd-like demo`: every artefact is written and valid, the defaults learn the moons,
each data set runs, bad options are one-line errors, missing tools are skipped with a note.

The command is registered here the way cli.py registers it (``COMMANDS``), so the tests run
through ``cli.main`` whether or not cli.py lists it yet; one test runs the real
``python -m micrograd_like demo`` in a subprocess."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from micrograd_like import cli, load_model
from micrograd_like.cli.demo_command import add_demo_command
from micrograd_like.demo import run_demo
from micrograd_like.demo_settings import DATASETS, DemoSettings
from micrograd_like.engine import OPS, Op, Value, grad
from micrograd_like.engine import value as value_module

SVG = "{http://www.w3.org/2000/svg}"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
REPO = Path(__file__).resolve().parent.parent
SMALL = ("--epochs", "1", "--samples", "30", "--hidden", "4", "--no-overfitting")
FILES = (
    "graph.svg",
    "network.svg",
    "history.png",
    "decision_boundary.png",
    "model.json",
    "gradcheck.txt",
)
HAVE_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAVE_DOT, reason="Graphviz's dot is missing")
# what the demo writes on this machine: without dot, the graphs' DOT text
WRITTEN = tuple(name if HAVE_DOT else name.replace(".svg", ".dot") for name in FILES)


@pytest.fixture
def demo(monkeypatch, capsys):
    """run(*options) -> (exit code, stdout, stderr) of ``micrograd-like demo *options``."""
    if add_demo_command not in cli.COMMANDS:
        monkeypatch.setattr(cli, "COMMANDS", [*cli.COMMANDS, add_demo_command])

    def run(*options: str) -> tuple[int, str, str]:
        try:
            code = cli.main(["demo", *options])
        except SystemExit as exc:  # argparse's errors and --help
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    """The demo with every default (moons, 100 epochs, 16,16), run once."""
    out = tmp_path_factory.mktemp("demo-out")
    return run_demo(DemoSettings(out=out), verbose=0), out


def svg_nodes(path: Path) -> list[list[str]]:
    """The texts of each node of a Graphviz SVG (a record's fields are separate texts)."""
    root = ET.parse(path).getroot()
    return [
        [t.text for t in group.iter(f"{SVG}text")]
        for group in root.iter(f"{SVG}g")
        if group.get("class") == "node"
    ]


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# ---------------------------------------------------------------- the default run


def test_defaults_learn_the_moons_and_the_saved_model_predicts_the_same(default_run):
    result, out = default_run
    X_val, y_val = result.validation
    assert len(X_val) == 40 and len(result.training[0]) == 160  # 200 samples, 20% held out
    loaded = load_model(out / "model.json")
    np.testing.assert_array_equal(loaded.predict(X_val), result.model.predict(X_val))
    # one logit per sample: class 1 where it is positive
    by_hand = np.mean((loaded.predict(X_val)[:, 0] > 0) == y_val)
    assert result.val_accuracy == by_hand >= 0.95
    assert result.train_accuracy >= 0.95
    assert result.history.history["val_accuracy"][-1] == result.val_accuracy
    assert len(result.history.history["loss"]) == 100
    assert result.graphs_rendered == HAVE_DOT
    # one per graph and one for the backpropagation page: "install Graphviz"
    assert len(result.notes) == (0 if HAVE_DOT else 3)


@needs_dot
def test_graph_svg_is_one_samples_loss(default_run):
    result, out = default_run
    nodes = svg_nodes(out / "graph.svg")
    ops = [texts[0] for texts in nodes if len(texts) == 1]
    assert ops.count("Σ w·x + b") == 16 + 16 + 1  # one linear node per neuron
    assert ops.count("relu") == 16 + 16
    records = {texts[0]: texts[1:] for texts in nodes if len(texts) == 3}
    assert {"x1", "x2", "output", "loss"} <= set(records)
    x, y = result.training[0][0], result.training[1][0]
    assert records["x1"][0] == f"data {x[0]:.4f}" and records["x2"][0] == f"data {x[1]:.4f}"
    z = float(result.model.predict(x[None, :])[0, 0])
    # binary cross-entropy on the logit z: log(1 + e^z) - y z, and dL/dz = sigmoid(z) - y
    assert records["output"] == [f"data {z:.4f}", f"grad {sigmoid(z) - y:.4f}"]
    assert records["loss"] == [f"data {math.log1p(math.exp(z)) - y * z:.4f}", "grad 1.0000"]


@needs_dot
def test_backprop_page_steps_through_the_first_hidden_neuron(default_run):
    result, out = default_run
    page = (out / "backprop.html").read_text(encoding="utf-8")
    assert "<script>" in page and "http://" not in page.replace("http://www.w3.org", "")
    neuron = result.model.layers[0].neurons[0]
    x = [Value(float(v)) for v in result.training[0][0]]
    grads = grad(neuron(x), neuron.w)  # the weights' .grad hold training's last step
    for i, g in enumerate(grads, start=1):  # the page's last word on each weight's grad
        shown = f"{g.data:.4f}".replace("-", "\u2212")
        assert re.search(rf"do/dw{i} = [^\"]* = \(?{re.escape(shown)}\)?\"", page), i


@needs_dot
def test_network_svg_shows_every_neuron(default_run):
    _, out = default_run
    texts = [t for node in svg_nodes(out / "network.svg") for t in node]
    assert texts.count("relu") == 32 and texts.count("linear") == 1
    assert {"x1", "x2"} <= set(texts)
    assert sum(t.startswith("b=") for t in texts) == 33


def test_pictures_are_png_files(default_run):
    _, out = default_run
    for name in ("history.png", "decision_boundary.png"):
        data = (out / name).read_bytes()
        assert data[:8] == PNG_MAGIC
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width > 200 and height > 200


def test_tensorboard_logs_hold_the_history(default_run):
    reader = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    result, out = default_run
    for run, prefix in (("train", ""), ("validation", "val_")):
        assert len(list((out / "logs" / run).glob("events.out.tfevents.*"))) == 1
        accumulator = reader.EventAccumulator(str(out / "logs" / run))
        accumulator.Reload()
        events = accumulator.Scalars("epoch_accuracy")
        assert [e.step for e in events] == list(range(100))
        expected = result.history.history[f"{prefix}accuracy"]
        np.testing.assert_allclose([e.value for e in events], expected, rtol=1e-6)  # float32


def test_gradcheck_report_covers_every_parameter(default_run):
    result, out = default_run
    text = (out / "gradcheck.txt").read_text(encoding="utf-8")
    assert "binary_crossentropy over 4 training sample(s)" in text
    assert "model gradient check: passed" in text
    n_params = len(result.model.parameters())
    assert n_params == (2 + 1) * 16 + (16 + 1) * 16 + (16 + 1) * 1
    rows = [line for line in text.splitlines() if line.startswith("layers.")]
    assert len(rows) == n_params and "random subset" not in text
    worst = result.gradcheck.worst
    assert f"worst relative error: {worst.rel_error:.3g} ({worst.name})" in text
    assert worst.rel_error < 1e-3


# ---------------------------------------------------------------- the command


def test_summary_lists_every_path_and_the_tensorboard_command(demo, tmp_path):
    out = tmp_path / "d"
    code, stdout, stderr = demo("--epochs", "2", "--samples", "40", "--out", str(out))
    assert code == 0
    assert "Epoch 2/2" in stderr and "Traceback" not in stderr  # the progress bar
    assert stdout.startswith("Training an MLP 2 -> 16 -> 16 -> 1 on 40 moons samples")
    for name in WRITTEN:
        assert (out / name).is_file()
        assert str(out / name) in stdout
    assert str(out / "logs") in stdout
    assert f"tensorboard --logdir {out / 'logs'}" in stdout
    line = next(line for line in stdout.splitlines() if line.startswith("Final accuracy"))
    assert "training" in line and "validation" in line and line.count("%") == 2
    assert "Gradient check of the trained model: passed, worst relative error" in stdout
    # the overfitting run, after the main one
    line = next(line for line in stdout.splitlines() if line.startswith("Overfitting run: "))
    assert "early stopping after epoch" in line and "restored the weights of epoch" in line
    assert f"tensorboard --logdir {out / 'overfitting' / 'logs'}" in stdout
    assert str(out / "overfitting" / "history.png") in stdout


@pytest.mark.parametrize("dataset", [name for name, spec in DATASETS.items() if not spec.loaded])
def test_each_dataset_runs(demo, tmp_path, dataset):
    code, stdout, _ = demo("--dataset", dataset, *SMALL, "--out", str(tmp_path))
    assert code == 0 and "Final accuracy" in stdout
    model = load_model(tmp_path / "model.json")
    assert model.nout == (3 if dataset in ("blobs", "spiral") else 1)
    assert [layer.nout for layer in model.layers[:-1]] == [4]
    assert (tmp_path / "decision_boundary.png").read_bytes()[:8] == PNG_MAGIC


@pytest.mark.parametrize(
    "options, fragment",
    [
        (["--epochs", "0"], "argument --epochs: epochs must be an int >= 1"),
        (["--epochs", "x"], "argument --epochs: expected an integer"),
        (["--batch-size", "0"], "argument --batch-size: batch_size must be an int >= 1"),
        (["--hidden", "16,x"], "argument --hidden: expected comma-separated layer sizes"),
        (["--hidden", "0"], "argument --hidden: a hidden layer size must be an int >= 1"),
        (["--hidden", ""], "argument --hidden: expected comma-separated layer sizes"),
        (["--dataset", "iris"], "argument --dataset: invalid choice: 'iris'"),
        (["--lr", "0"], "argument --lr: lr must be a finite number > 0"),
        (["--lr", "-0.1"], "argument --lr: lr must be a finite number > 0"),
        (["--lr", "nan"], "argument --lr: lr must be a finite number > 0"),
        (["--samples", "5"], "argument --samples: samples must be an int >= 10"),
        (["--dataset", "digits", "--samples", "40"], "the demo needs at least 50 (5 per class)"),
        (["--dataset", "digits", "--samples", "1800"], "digits has 1797 samples"),
        (["--seed", "-1"], "argument --seed: seed must be an int in [0, 2**32)"),
    ],
)
def test_bad_options_are_one_line_errors_with_exit_2(demo, tmp_path, options, fragment):
    out = tmp_path / "never"
    code, stdout, stderr = demo(*options, "--out", str(out))
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert stderr.startswith("micrograd-like demo: error: ") and fragment in stderr
    assert not out.exists()


def test_out_that_is_a_file_is_a_one_line_error(demo, tmp_path):
    path = tmp_path / "file"
    path.write_text("keep me")
    code, stdout, stderr = demo(*SMALL, "--out", str(path))
    assert code == 2 and stderr.count("\n") == 1 and "is not a directory" in stderr
    assert path.read_text() == "keep me"


def test_help_lists_the_options_and_the_data_sets(demo):
    code, stdout, _ = demo("--help")
    assert code == 0
    for option in ("--dataset", "--epochs", "--batch-size", "--lr", "--hidden", "--seed", "--out"):
        assert option in stdout
    assert all(name in stdout for name in DATASETS)


def test_settings_refuse_bad_values():
    with pytest.raises(ValueError, match="epochs must be an int >= 1"):
        DemoSettings(epochs=0)
    with pytest.raises(ValueError, match="hidden must list at least one layer size"):
        DemoSettings(hidden=())
    with pytest.raises(ValueError, match="dataset must be one of moons"):
        DemoSettings(dataset="iris")
    assert DemoSettings(hidden=[8]).hidden == (8,)


# ---------------------------------------------------------------- missing tools, reruns


@needs_dot
def test_missing_dot_writes_dot_text_and_carries_on(demo, tmp_path, monkeypatch):
    out = tmp_path / "d"
    assert demo(*SMALL, "--out", str(out))[0] == 0  # pictures drawn with dot
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    code, stdout, stderr = demo(*SMALL, "--out", str(out))
    assert code == 0
    assert stderr.count("apt-get install graphviz") == 3 and "Traceback" not in stderr
    assert not (out / "backprop.html").exists()  # the first run's page is removed
    assert "not rendered" in stdout
    for name in ("graph", "network"):
        assert not (out / f"{name}.svg").exists()  # the first run's picture is removed
        assert (out / f"{name}.dot").read_text().startswith("digraph")
        assert str(out / f"{name}.dot") in stdout
    for name in FILES[2:]:
        assert (out / name).is_file()


def test_missing_optional_extras_are_skipped_with_a_note(demo, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    code, stdout, stderr = demo(*SMALL, "--out", str(tmp_path))
    assert code == 0
    notes = [line for line in stderr.splitlines() if line.startswith("note: ")]
    assert len(notes) == 3  # the TensorBoard logs and the two plots
    assert sum("micrograd_like[plot]" in note for note in notes) == 2
    assert sum("micrograd_like[tensorboard]" in note for note in notes) == 1
    assert not list(tmp_path.glob("*.png")) and not (tmp_path / "logs").exists()
    assert "tensorboard --logdir" not in stdout
    assert (tmp_path / "model.json").is_file() and (tmp_path / "gradcheck.txt").is_file()


def test_a_second_run_replaces_the_first(demo, tmp_path):
    assert demo(*SMALL, "--seed", "1", "--out", str(tmp_path))[0] == 0
    first = (tmp_path / "model.json").read_text()
    assert demo(*SMALL, "--seed", "2", "--out", str(tmp_path))[0] == 0
    assert (tmp_path / "model.json").read_text() != first
    for run in ("train", "validation"):  # the old event files are gone
        assert len(list((tmp_path / "logs" / run).glob("events.out.tfevents.*"))) == 1
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


@needs_dot
def test_a_graph_too_large_to_draw_shows_the_first_neuron(demo, tmp_path):
    code, stdout, stderr = demo(
        "--epochs", "1", "--samples", "20", "--hidden", "40,20", "--out", str(tmp_path)
    )
    assert code == 0
    assert "note: graph.svg shows the first hidden neuron only" in stderr
    assert "first hidden neuron" in stdout
    ops = [t[0] for t in svg_nodes(tmp_path / "graph.svg") if len(t) == 1]
    assert ops == ["Σ w·x + b", "relu"]


def test_a_wrong_derivative_fails_the_check_with_exit_1(demo, tmp_path, monkeypatch):
    relu = OPS["relu"]
    # twice the true derivative of relu: the check must catch it and name the op
    wrong = Op(
        relu.name,
        relu.forward,
        lambda x, out: (2.0 * (x > 0),),
        relu.arity,
        relu.domain,
        relu.kinks,
    )
    monkeypatch.setitem(OPS, "relu", wrong)
    monkeypatch.setattr(value_module, "_RELU", wrong)  # what Value.relu calls
    code, stdout, _ = demo(*SMALL, "--out", str(tmp_path))
    assert code == 1
    assert "Gradient check of the trained model: FAILED" in stdout
    report = (tmp_path / "gradcheck.txt").read_text()
    assert "model gradient check: FAILED" in report and "op 'relu' has a wrong derivative" in report


def test_python_m_micrograd_like_demo(tmp_path):
    out = tmp_path / "d"
    done = subprocess.run(
        [sys.executable, "-m", "micrograd_like", "demo", *SMALL, "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"tensorboard --logdir {out / 'logs'}" in done.stdout
    assert all((out / name).is_file() for name in WRITTEN)


# ---------------------------------------------------------------- the overfitting run


def test_the_overfitting_run_stops_early_where_validation_loss_turned_up(default_run):
    result, out = default_run
    run = result.overfitting
    loss, val_loss = run.history.history["loss"], run.history.history["val_loss"]
    best, stopped = run.best_epoch, run.stopper.stopped_epoch
    assert stopped == len(loss) - 1 == best + run.stopper.patience  # stopped by patience
    assert best == int(np.argmin(val_loss)) and best >= 5  # it fell before it rose
    assert val_loss[stopped] > 1.2 * val_loss[best]  # validation loss turned up ...
    assert loss[stopped] < 0.6 * loss[best]  # ... while the training loss kept falling
    assert all(b < a for a, b in zip(loss[best::10], loss[best + 10 :: 10]))
    # the best epoch's weights are back: the same validation loss as at that epoch
    assert run.restored_val_loss == pytest.approx(val_loss[best], rel=1e-12)
    assert (out / "overfitting" / "history.png").read_bytes()[:8] == PNG_MAGIC


def test_the_overfitting_runs_tensorboard_logs_mark_the_stopping_epoch(default_run):
    accumulator_module = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator"
    )
    result, out = default_run
    train = accumulator_module.EventAccumulator(
        str(out / "overfitting" / "logs" / "train"),
        size_guidance={accumulator_module.TENSORS: 0, accumulator_module.SCALARS: 0},
    )
    train.Reload()
    stopped = result.overfitting.stopper.stopped_epoch
    assert [e.step for e in train.Scalars("epoch_early_stopping")] == [stopped]
    assert len(train.Scalars("epoch_loss")) == stopped + 1
    (tag,) = [t for t in train.Tags()["tensors"] if t.startswith("early_stopping")]
    (text,) = train.Tensors(tag)
    best = result.overfitting.best_epoch
    assert text.tensor_proto.string_val == [
        f"early stopping: weights of epoch {best + 1} restored".encode()
    ]


def test_no_overfitting_skips_the_second_run(demo, tmp_path):
    code, stdout, _ = demo(*SMALL, "--out", str(tmp_path))
    assert code == 0 and "Overfitting run" not in stdout
    assert not (tmp_path / "overfitting").exists()


# ---------------------------------------------------------------- the digits


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("digits")
    settings = DemoSettings(dataset="digits", samples=300, epochs=3, overfitting=False, out=out)
    return run_demo(settings, verbose=0), out


def test_the_digits_get_their_own_defaults_and_a_stratified_standardized_split():
    settings = DemoSettings(dataset="digits")
    assert (settings.epochs, settings.lr, settings.hidden) == (20, 0.002, (64,))
    assert DemoSettings().hidden == (16, 16)


def test_the_digits_demo_writes_what_makes_sense_for_64_inputs(digits_run):
    result, out = digits_run
    X_val, y_val = result.validation
    assert len(X_val) == 60 and len(result.training[0]) == 240  # 300 rows, 20% held out
    assert np.bincount(y_val, minlength=10).min() >= 5  # every digit in proportion
    np.testing.assert_allclose(result.training[0].mean(axis=0), 0.0, atol=1e-12)
    for name in ("confusion_matrix.png", "misclassified.png", "first_layer_weights.png"):
        assert (out / name).read_bytes()[:8] == PNG_MAGIC
    assert not (out / "decision_boundary.png").exists() and not (out / "network.svg").exists()
    assert any(note.startswith("network.svg: skipped for 64 inputs") for note in result.notes)
    assert "1 training sample(s)" in (out / "gradcheck.txt").read_text(encoding="utf-8")
    assert result.gradcheck.ok


def test_the_saved_model_and_standardizer_classify_raw_digits(digits_run):
    from micrograd_like.datasets import Standardizer

    result, out = digits_run
    model = load_model(out / "model.json")
    standardizer = Standardizer.load(out / "standardizer.json")
    raw = result.standardizer.inverse_transform(result.validation[0])
    predicted = model.predict(standardizer.transform(raw)).argmax(axis=1)
    assert np.mean(predicted == result.validation[1]) == pytest.approx(result.val_accuracy)
    assert result.val_accuracy > 0.6  # three epochs on 240 images (chance: 0.1)
