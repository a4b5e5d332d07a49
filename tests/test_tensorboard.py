"""Tests for the TensorBoard callback: the event files are read back with TensorBoard's own
event reader and compared with the History of the same run."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("tensorboardX")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

from micrograd_like import MLP  # noqa: E402
from micrograd_like.callbacks import LearningRateScheduler  # noqa: E402
from micrograd_like.callbacks.tensorboard import TensorBoard, parameter_group, parameter_groups  # noqa: E402
from micrograd_like.datasets import make_moons  # noqa: E402
from micrograd_like.engine import Value  # noqa: E402

EPOCHS = 3
# MLP(2, [4, 1]): 2*4 weights and 4 biases in layer 0, 4 weights and 1 bias in layer 1
SIZES = {"layers.0.w": 8, "layers.0.b": 4, "layers.1.w": 4, "layers.1.b": 1}


def read_run(path):
    """Every scalar and histogram event of one run directory, as TensorBoard loads them."""
    accumulator = event_accumulator.EventAccumulator(
        str(path),
        size_guidance={event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0},
    )
    accumulator.Reload()
    return accumulator


def scalars(run, tag):
    """(steps, values) of one scalar tag."""
    events = run.Scalars(tag)
    return [e.step for e in events], [e.value for e in events]


def halving(epoch):
    return 0.1 * 0.5**epoch


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny real fit with validation, a learning-rate schedule and histograms each epoch."""
    log_dir = tmp_path_factory.mktemp("logs")
    X, y = make_moons(40, noise=0.1, random_state=0)
    model = MLP(2, [4, 1], seed=0)
    model.compile("sgd", "hinge", metrics=["accuracy"])
    board = TensorBoard(log_dir, histogram_freq=1)
    history = model.fit(
        X,
        y,
        epochs=EPOCHS,
        batch_size=10,
        validation_split=0.25,
        callbacks=[LearningRateScheduler(halving), board],
        verbose=0,
        seed=0,
    )
    return log_dir, model, history.history, board


def test_keras_layout_with_train_and_validation_runs(trained):
    log_dir, _, _, board = trained
    assert sorted(p.name for p in log_dir.iterdir()) == ["train", "validation"]
    for run in ("train", "validation"):
        assert list((log_dir / run).glob("events.out.tfevents.*")), run
    assert board._writers == {}  # closed at the end of training


def test_scalars_equal_the_history_per_epoch(trained):
    log_dir, _, history, _ = trained
    train, validation = read_run(log_dir / "train"), read_run(log_dir / "validation")
    assert set(train.Tags()["scalars"]) == {
        "epoch_loss",
        "epoch_accuracy",
        "epoch_learning_rate",
    }
    assert set(validation.Tags()["scalars"]) == {"epoch_loss", "epoch_accuracy"}
    for run, prefix in ((train, ""), (validation, "val_")):
        for metric in ("loss", "accuracy"):
            steps, values = scalars(run, f"epoch_{metric}")
            assert steps == list(range(EPOCHS))
            # event files store float32
            np.testing.assert_allclose(values, history[prefix + metric], rtol=1e-6)


def test_learning_rate_is_the_optimizers_at_each_epoch(trained):
    log_dir, _, _, _ = trained
    steps, values = scalars(read_run(log_dir / "train"), "epoch_learning_rate")
    assert steps == list(range(EPOCHS))
    np.testing.assert_allclose(values, [0.1, 0.05, 0.025], rtol=1e-6)


def test_histograms_of_parameters_and_gradients_per_layer(trained):
    log_dir, model, _, _ = trained
    train = read_run(log_dir / "train")
    groups = list(SIZES)
    expected_tags = {f"{kind}/{g}" for kind in ("parameters", "gradients") for g in groups}
    assert set(train.Tags()["histograms"]) == expected_tags
    named = dict(model.named_parameters())
    # After the last epoch nothing changed the model: the last histograms describe its
    # parameters and the gradients of the last batch (what .grad still holds).
    for group in groups:
        params = [p for name, p in named.items() if parameter_group(name) == group]
        for kind, numbers in (
            ("parameters", np.array([p.data for p in params])),
            ("gradients", np.array([p.grad for p in params])),
        ):
            events = train.Histograms(f"{kind}/{group}")
            assert [e.step for e in events] == list(range(EPOCHS))
            last = events[-1].histogram_value
            assert last.num == len(params) == SIZES[group]
            assert last.min == pytest.approx(numbers.min())
            assert last.max == pytest.approx(numbers.max())
            assert last.sum == pytest.approx(numbers.sum(), abs=1e-9)
            assert last.sum_squares == pytest.approx((numbers**2).sum())
    gradients = train.Histograms("gradients/layers.0.w")[-1].histogram_value
    assert gradients.sum_squares > 0  # a real gradient, not zeros


# --- driven by hand, with a fake model ----------------------------------------------------


class FakeOptimizer:
    lr = 0.5


class FakeModel:
    def __init__(self, optimizer=None):
        self.optimizer = optimizer
        self.a, self.b = Value(1.0), Value(-2.0)
        self.a.grad, self.b.grad = 0.25, 0.5

    def named_parameters(self):
        return [("a", self.a), ("b", self.b)]


def run_by_hand(board, model, epoch_logs):
    board.set_model(model)
    board.on_train_begin({})
    for epoch, logs in enumerate(epoch_logs):
        board.on_epoch_begin(epoch, {})
        board.on_epoch_end(epoch, dict(logs))
    board.on_train_end({})


def test_every_logged_metric_is_written_and_val_goes_to_validation(tmp_path):
    logs = [{"loss": 1.0, "mae": 0.5, "val_loss": 1.5, "val_mae": 0.75}, {"loss": 0.5, "mae": 0.25}]
    run_by_hand(TensorBoard(tmp_path, write_lr=True), FakeModel(), logs)
    train, validation = read_run(tmp_path / "train"), read_run(tmp_path / "validation")
    # no optimizer on this model: no learning rate, and no error
    assert set(train.Tags()["scalars"]) == {"epoch_loss", "epoch_mae"}
    assert scalars(train, "epoch_mae") == ([0, 1], [0.5, 0.25])
    assert scalars(validation, "epoch_loss") == ([0], [1.5])
    assert scalars(validation, "epoch_mae") == ([0], [0.75])


def test_logged_lr_without_write_lr_and_no_validation_run(tmp_path):
    run_by_hand(TensorBoard(tmp_path, write_lr=False), FakeModel(FakeOptimizer()), [{"lr": 0.5}])
    assert [p.name for p in tmp_path.iterdir()] == ["train"]  # no empty validation run
    train = read_run(tmp_path / "train")
    assert set(train.Tags()["scalars"]) == {"epoch_lr"}  # the log entry, as any other


def test_learning_rate_from_the_optimizer_replaces_the_lr_log(tmp_path):
    run_by_hand(TensorBoard(tmp_path), FakeModel(FakeOptimizer()), [{"loss": 2.0, "lr": 0.5}])
    train = read_run(tmp_path / "train")
    assert set(train.Tags()["scalars"]) == {"epoch_loss", "epoch_learning_rate"}
    assert scalars(train, "epoch_learning_rate") == ([0], [0.5])


@pytest.mark.parametrize("freq, steps", [(0, []), (1, [0, 1, 2, 3, 4]), (2, [0, 2, 4])])
def test_histogram_frequency(tmp_path, freq, steps):
    run_by_hand(TensorBoard(tmp_path, histogram_freq=freq), FakeModel(), [{"loss": 1.0}] * 5)
    histograms = read_run(tmp_path / "train").Tags()["histograms"]
    if not steps:
        assert histograms == []
        return
    assert set(histograms) == {"parameters/a", "parameters/b", "gradients/a", "gradients/b"}
    run = read_run(tmp_path / "train")
    assert [e.step for e in run.Histograms("gradients/b")] == steps
    assert run.Histograms("gradients/b")[0].histogram_value.sum == 0.5


def test_non_numeric_log_is_a_type_error(tmp_path):
    board = TensorBoard(tmp_path)
    board.set_model(FakeModel())
    board.on_train_begin({})
    with pytest.raises(TypeError, match="'note'"):
        board.on_epoch_end(0, {"note": "hello"})
    board.close()


@pytest.mark.parametrize(
    "freq, error", [(-1, ValueError), (1.5, TypeError), (True, TypeError), ("2", TypeError)]
)
def test_bad_histogram_freq(tmp_path, freq, error):
    with pytest.raises(error, match="histogram_freq"):
        TensorBoard(tmp_path, histogram_freq=freq)


def test_missing_tensorboardx_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # "import tensorboardX" now fails
    with pytest.raises(ImportError, match=r"pip install 'micrograd_like\[tensorboard\]'"):
        TensorBoard(tmp_path)
    assert list(tmp_path.iterdir()) == []


# --- parameter groups --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, group",
    [
        ("layers.0.neurons.3.w.1", "layers.0.w"),
        ("layers.12.neurons.0.b", "layers.12.b"),
        ("neurons.2.w.0", "w"),  # a Layer
        ("w.0", "w"),  # a Neuron
        ("b", "b"),
        ("net.layers.1.neurons.0.b", "net.layers.1.b"),
        ("scale", "scale"),
    ],
)
def test_parameter_group(name, group):
    assert parameter_group(name) == group


def test_parameter_groups_of_an_mlp_are_its_weights_and_biases():
    model = MLP(2, [3, 2], seed=0)
    groups = parameter_groups(model.named_parameters())
    assert {g: len(ps) for g, ps in groups.items()} == {
        "layers.0.w": 2 * 3,
        "layers.0.b": 3,
        "layers.1.w": 3 * 2,
        "layers.1.b": 2,
    }
    layer = model.layers[1]
    assert groups["layers.1.w"] == [w for n in layer.neurons for w in n.w]
    assert groups["layers.1.b"] == [n.b for n in layer.neurons]


def test_importing_the_module_does_not_import_tensorboardx():
    code = "import sys, micrograd_like.callbacks.tensorboard; print('tensorboardX' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_an_epoch_marked_after_training_is_a_scalar_and_a_text(tmp_path):
    X, y = make_moons(30, noise=0.1, random_state=0)
    model = MLP(2, [3, 1], seed=0)
    model.compile("sgd", "hinge")
    board = TensorBoard(tmp_path)
    model.fit(X, y, epochs=3, batch_size=10, callbacks=[board], verbose=0, seed=0)
    board.mark(1, "early_stopping", "stopped after epoch 2")
    accumulator = event_accumulator.EventAccumulator(
        str(tmp_path / "train"), size_guidance={event_accumulator.TENSORS: 0}
    )
    accumulator.Reload()
    assert scalars(accumulator, "epoch_early_stopping") == ([1], [1.0])
    assert scalars(accumulator, "epoch_loss")[0] == [0, 1, 2]  # the training's file is intact
    (tag,) = [t for t in accumulator.Tags()["tensors"] if t.startswith("early_stopping")]
    (event,) = accumulator.Tensors(tag)
    assert event.step == 1
    assert event.tensor_proto.string_val == [b"stopped after epoch 2"]
    with pytest.raises(ValueError, match="epoch must be an int >= 0"):
        board.mark(-1, "early_stopping", "no")
    with pytest.raises(ValueError, match="name must be an identifier"):
        board.mark(0, "early stopping", "no")
