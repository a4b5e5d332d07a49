"""The teaching demos: the runnable lecture (demos/lecture.py) and the 3-class spiral.

The lecture runs once in quick mode for the module; each test checks one section's returned
numbers against values derived here independently (plain math, finite differences written
out) and against what was printed."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from demo_loader import DEMOS, load_demo

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


def run_printing(function, *args):
    """function(*args) with stdout captured: (result, printed text)."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        result = function(*args)
    return result, buffer.getvalue()


NOT_GIVEN = object()


def assert_picture(expected: Path, returned: object = NOT_GIVEN) -> None:
    """``expected`` is a valid PNG, and so is the path a section returned (if given);
    without matplotlib the demos skip their pictures instead (and return None)."""
    if returned is not NOT_GIVEN:
        assert returned == (expected if HAVE_MATPLOTLIB else None)
    if HAVE_MATPLOTLIB:
        data = expected.read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 1000, expected
    else:
        assert not expected.exists()


@pytest.fixture(scope="module")
def lecture():
    return load_demo("lecture")


@pytest.fixture(scope="module")
def quick_run(lecture, tmp_path_factory):
    """The whole lecture with --quick: (results by section, printed text, output dir)."""
    out = tmp_path_factory.mktemp("lecture-out")
    results, text = run_printing(lecture.main, ["--quick", "--out", str(out)])
    return results, text, out


def test_all_seven_sections_run_in_order(quick_run, lecture) -> None:
    results, text, _ = quick_run
    assert sorted(results) == list(range(1, 8))
    titles = [f"{n}. {title}\n" for n, (title, _) in lecture.SECTIONS.items()]
    positions = [text.index(title) for title in titles]
    assert positions == sorted(positions)


# ---------------------------------------------------------------- sections 1 to 3


def test_one_neuron_by_hand_and_by_engine(quick_run) -> None:
    r = quick_run[0][1]
    z = float(np.dot(r.weights, r.inputs)) + r.bias
    assert r.z_by_hand == pytest.approx(z, rel=1e-15)
    assert r.z_by_engine == pytest.approx(z, rel=1e-15)
    expected = {"relu": max(z, 0.0), "tanh": math.tanh(z), "sigmoid": 1 / (1 + math.exp(-z))}
    for name, value in expected.items():
        assert r.by_hand[name] == pytest.approx(value, rel=1e-12), name
        assert r.by_engine[name] == pytest.approx(value, rel=1e-12), name
    text = quick_run[1]
    assert f"= {z:.6g}\n" in text  # the weighted sum written out with its result
    assert "0.5·2 + (-0.25)·(-1) + 1.5·0.5 + (-0.75)" in text


def test_squared_error_gradient_is_the_error(quick_run) -> None:
    r = quick_run[0][2]
    y, t = np.array(r.predictions), np.array(r.targets)
    assert r.loss_by_hand == pytest.approx(0.5 * np.sum((y - t) ** 2), rel=1e-15)
    assert r.loss_by_engine == pytest.approx(r.loss_by_hand, rel=1e-15)
    np.testing.assert_allclose(r.gradient_by_engine, y - t, rtol=0, atol=1e-15)
    np.testing.assert_allclose(r.gradient_by_hand, y - t, rtol=0, atol=1e-15)


def chain_loss_in_plain_math(c: dict[str, float], w1: float, w2: float, w3: float) -> float:
    return 0.5 * (w3 * math.tanh(w2 * math.tanh(w1 * c["x"])) - c["t"]) ** 2


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is missing")
def test_chain_rule_page_plays_the_engines_gradients(quick_run) -> None:
    r = quick_run[0][3]
    assert r.page == quick_run[2] / "chain_rule.html"
    page = r.page.read_text(encoding="utf-8")
    for name in ("w1", "w2", "w3"):  # each weight's last backward step, as the page says it
        shown = f"{r.by_engine[name]:.4f}".replace("-", "\u2212")
        assert re.search(rf"dL/d{name} = [^\"]* = \(?{re.escape(shown)}\)?\"", page), name


def test_chain_rule_hand_engine_and_finite_differences_agree(quick_run, lecture) -> None:
    r = quick_run[0][3]
    c = lecture.CHAIN
    weights = {"w1": c["w1"], "w2": c["w2"], "w3": c["w3"]}
    assert r.loss == pytest.approx(chain_loss_in_plain_math(c, **weights), rel=1e-14)
    h = 1e-5
    for name in weights:
        up, down = dict(weights), dict(weights)
        up[name] += h
        down[name] -= h
        slope = (chain_loss_in_plain_math(c, **up) - chain_loss_in_plain_math(c, **down)) / (2 * h)
        assert r.by_engine[name] == pytest.approx(r.by_hand[name], rel=1e-12), name
        assert r.by_finite_differences[name] == pytest.approx(r.by_hand[name], rel=1e-7), name
        assert r.by_hand[name] == pytest.approx(slope, rel=1e-8), name
        row = re.search(rf"^\s+{name}\s+(\S+)\s+(\S+)\s+(\S+)$", quick_run[1], re.MULTILINE)
        printed = [float(v) for v in row.groups()]
        assert printed[1] == pytest.approx(r.by_engine[name], rel=1e-9)
        assert printed[0] == printed[1]  # the printed hand and engine values are identical


# ---------------------------------------------------------------- sections 4 to 7


def test_batch_mode_one_step_per_epoch_minibatch_ceil_n_over_k(quick_run, lecture) -> None:
    r = quick_run[0][4]
    epochs = lecture.QUICK_EPOCHS[4]
    assert r.steps["batch"] == [1] * epochs
    assert r.steps["minibatch"] == [math.ceil(r.n_samples / r.batch_size)] * epochs == [10] * 8
    for mode in ("batch", "minibatch"):
        assert len(r.losses[mode]) == epochs + 1
        assert r.losses[mode][-1] < 0.5 * r.losses[mode][0], mode
    assert r.losses["batch"][0] == r.losses["minibatch"][0]  # the same initial model


def test_batch_vs_minibatch_initial_loss_is_half_sum_of_squares(quick_run, lecture) -> None:
    X, t = lecture.moons_with_signed_targets()
    from micrograd_like import MLP

    model = MLP(2, [8, 8, 1], activation="tanh", seed=lecture.SEED)
    outputs = np.array([model(row.tolist()).data for row in X])
    expected = 0.5 * np.sum((outputs - t) ** 2)
    assert quick_run[0][4].losses["batch"][0] == pytest.approx(expected, rel=1e-12)


def test_batch_vs_minibatch_picture(quick_run) -> None:
    r, out = quick_run[0][4], quick_run[2]
    assert_picture(out / "batch_vs_minibatch.png", r.picture)


def test_sgd_section_prints_and_runs_the_loop_of_sgd_by_hand(quick_run, lecture) -> None:
    r, text = quick_run[0][5], quick_run[1]
    for step in ("permutation", "optimizer.zero_grad()", "loss.backward()", "optimizer.step()"):
        assert step in r.loop_source
    assert r.loop_source.startswith("for epoch")
    assert r.loop_source.splitlines()[1] in text
    assert len(r.losses) == lecture.QUICK_EPOCHS[5]
    assert r.losses[-1] < 0.5 * r.losses[0]
    assert f"epoch   1  loss {r.losses[0]:.4f}" in text


def test_compile_fit_predict_section(quick_run) -> None:
    r, text, out = quick_run
    keras = r[6]
    assert keras.test_accuracy >= 0.9 and keras.train_accuracy >= 0.9
    assert keras.predictions.shape == (5,)
    assert f"test accuracy {keras.test_accuracy:.1%}" in text
    assert_picture(out / "moons_boundary.png", keras.picture)


def test_tensorboard_section_writes_train_and_validation_runs(quick_run, lecture) -> None:
    pytest.importorskip("tensorboardX")
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    r, text, out = quick_run
    board = r[7]
    assert board.log_dir.parent == out / "logs"
    assert f"tensorboard --logdir {out / 'logs'}" in text
    history = board.history
    for run, key in (("train", "loss"), ("validation", "val_loss")):
        assert list((board.log_dir / run).glob("events.out.tfevents.*")), run
        events = accumulator.EventAccumulator(str(board.log_dir / run))
        events.Reload()
        logged = [e.value for e in events.Scalars("epoch_loss")]
        np.testing.assert_allclose(logged, history[key], rtol=1e-6)
    epochs = lecture.QUICK_EPOCHS[7]
    assert len(history["loss"]) == epochs
    # what the section shows: the training loss falls while the validation loss, after its
    # lowest epoch, rises again (overfitting)
    assert history["loss"][-1] < 0.25 * history["loss"][0]
    best = board.best_epoch
    assert best == int(np.argmin(history["val_loss"]))
    assert best < epochs - 1 and history["val_loss"][-1] > history["val_loss"][best]
    assert_picture(out / "overfitting.png", board.picture)


def test_tensorboard_section_stops_early_and_marks_the_epoch(quick_run, lecture) -> None:
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    r, text, out = quick_run
    board = r[7]
    stopper, history = board.stopper, board.stopped_history
    best, stopped = stopper.best_epoch, stopper.stopped_epoch
    assert stopped == best + lecture.PATIENCE == len(history["loss"]) - 1
    assert best == int(np.argmin(history["val_loss"]))
    assert board.restored_val_loss == pytest.approx(history["val_loss"][best], rel=1e-12)
    assert f"training stopped after epoch {stopped + 1}" in text
    assert f"the weights of epoch {best + 1} were put back" in text
    events = accumulator.EventAccumulator(str(board.stopped_log_dir / "train"))
    events.Reload()
    assert [e.step for e in events.Scalars("epoch_early_stopping")] == [stopped]
    assert_picture(out / "early_stopping.png", board.stopped_picture)


def test_tensorboard_section_without_tensorboardx(lecture, tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import tensorboardX fails
    result, text = run_printing(lecture.watch_with_tensorboard, 1, tmp_path)
    assert result is None
    assert "skipped" in text and "micrograd_like[tensorboard]" in text
    assert not (tmp_path / "logs").exists()


def test_pictures_without_matplotlib_are_skipped_with_a_hint(lecture, tmp_path, monkeypatch):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    result, text = run_printing(lecture.batch_vs_minibatch, 1, tmp_path)
    assert result.picture is None and result.steps["batch"] == [1]
    assert "micrograd_like[plot]" in text
    assert list(tmp_path.iterdir()) == []


def test_section_option_runs_only_the_chosen_sections(lecture, tmp_path) -> None:
    argv = ["--section", "3", "--section", "2", "--out", str(tmp_path)]  # 3 writes a page
    results, text = run_printing(lecture.main, argv)
    assert sorted(results) == [2, 3]
    assert "1. One neuron" not in text and text.index("2. The") < text.index("3. The")
    with pytest.raises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
        lecture.main(["--section", "8"])


def test_new_run_dir_never_reuses_a_directory(lecture, tmp_path) -> None:
    first = lecture.new_run_dir(tmp_path)
    first.mkdir()
    second = lecture.new_run_dir(tmp_path)
    assert second != first and not second.exists() and second.parent == tmp_path


# ---------------------------------------------------------------- the spiral


@pytest.fixture(scope="module")
def spiral():
    return load_demo("spiral")


def test_spiral_quick_reaches_90_percent_validation_accuracy(spiral, tmp_path) -> None:
    accuracy, text = run_printing(spiral.main, ["--quick", "--out", str(tmp_path)])
    assert accuracy["validation"] >= 0.9 and accuracy["train"] >= 0.9
    lines = text.splitlines()
    epochs = spiral.QUICK_EPOCHS
    assert [line.split(" - ")[0] for line in lines[:epochs]] == [
        f"Epoch {e}/{epochs}" for e in range(1, epochs + 1)
    ]
    assert "val_accuracy" in lines[0]
    assert lines[-1] == (
        f"after {epochs} epochs: training accuracy {accuracy['train']:.1%}, "
        f"validation accuracy {accuracy['validation']:.1%}"
    )
    assert_picture(tmp_path / "spiral_boundary.png")


def test_spiral_model_has_one_output_per_class(spiral) -> None:
    model, history, accuracy = spiral.train(epochs=2, verbose=0)
    assert model.nout == 3 and model.loss.name == "sparse_categorical_crossentropy"
    assert len(history.history["val_accuracy"]) == 2
    assert accuracy["validation"] == history.history["val_accuracy"][-1]


def test_spiral_without_matplotlib_trains_and_says_what_to_install(spiral, tmp_path, monkeypatch):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    (_, _, accuracy), text = run_printing(spiral.train, 1, spiral.SEED, 0, tmp_path)
    assert 0 <= accuracy["validation"] <= 1
    assert "micrograd_like[plot]" in text and list(tmp_path.iterdir()) == []


def test_spiral_rejects_bad_arguments(spiral) -> None:
    for argv in (["--epochs", "0"], ["--quick", "--epochs", "5"], ["--seed", "-1"]):
        with pytest.raises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
            spiral.main(argv)


# ---------------------------------------------------------------- as scripts, no arguments


def run_script(name: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, str(DEMOS / f"{name}.py")],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_lecture_script_with_no_arguments(tmp_path) -> None:
    text = run_script("lecture", tmp_path)
    out = tmp_path / "lecture-out"
    for name in (
        "batch_vs_minibatch.png",
        "moons_boundary.png",
        "overfitting.png",
        "early_stopping.png",
    ):
        assert_picture(out / name)
    assert "7. Watching training with TensorBoard" in text
    if importlib.util.find_spec("tensorboardX") is not None:
        run, stopped = sorted((out / "logs").iterdir())  # the run stopped early: "-early-..."
        assert stopped.name == run.name + "-early-stopping"
        for path in (run, stopped):
            assert list((path / "validation").glob("events.out.tfevents.*"))


def test_spiral_script_with_no_arguments(tmp_path, spiral) -> None:
    text = run_script("spiral", tmp_path)
    last = text.splitlines()[-1]
    match = re.fullmatch(
        rf"after {spiral.EPOCHS} epochs: training accuracy ([\d.]+)%, "
        r"validation accuracy ([\d.]+)%",
        last,
    )
    assert match, last
    assert float(match.group(2)) >= 90.0
    assert list(tmp_path.iterdir()) == []  # no --out: no files
