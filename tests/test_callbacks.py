"""The callbacks: History, EarlyStopping, ModelCheckpoint, TerminateOnNaN, CSVLogger,
LearningRateScheduler, and stopping training from a callback."""

from __future__ import annotations

import csv
import math
import os
import warnings

import numpy as np
import pytest

from micrograd_like import MLP
from micrograd_like.callbacks import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    TerminateOnNaN,
)
from micrograd_like.nn import load_model
from micrograd_like.optim import SGD

rng = np.random.default_rng(0)
X = rng.normal(size=(12, 2))
Y = (X[:, 0] > X[:, 1]).astype(int)


def compiled(lr: float = 0.1) -> MLP:
    model = MLP(2, [3, 1], seed=0)
    model.compile(SGD(lr=lr), "hinge", metrics=["accuracy"])
    return model


class Scripted(Callback):
    """Replaces the logged ``key`` of epoch e by ``values[e]`` (it runs before the
    callbacks listed after it) and records the parameters at every epoch end."""

    def __init__(self, key: str, values: list[float]) -> None:
        super().__init__()
        self.key, self.values = key, values
        self.states: list[dict] = []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.states.append(self.model.state_dict())


def fit(model: MLP, callbacks: list, epochs: int = 10, **kwargs):
    return model.fit(
        X, Y, epochs=epochs, batch_size=4, callbacks=callbacks, verbose=0, seed=0, **kwargs
    )


# ---------------------------------------------------------------- EarlyStopping


def test_early_stopping_waits_patience_epochs_then_restores_the_best_weights() -> None:
    model = compiled()
    script = Scripted("val_loss", [1.0, 0.5, 0.6, 0.7, 0.4, 0.3])
    stopper = EarlyStopping(patience=2, restore_best_weights=True)
    history = fit(model, [script, stopper])
    # best at epoch 1; epochs 2 and 3 do not improve: stop after epoch 3
    assert history.epoch == [0, 1, 2, 3]
    assert (stopper.stopped_epoch, stopper.best_epoch, stopper.best) == (3, 1, 0.5)
    assert model.state_dict() == script.states[1]
    assert script.states[3] != script.states[1]


def test_early_stopping_without_restore_keeps_the_last_weights() -> None:
    model = compiled()
    script = Scripted("val_loss", [1.0, 2.0, 3.0])
    stopper = EarlyStopping(patience=1)
    history = fit(model, [script, stopper])
    assert history.epoch == [0, 1]
    assert model.state_dict() == script.states[-1]


def test_early_stopping_restores_the_best_weights_even_without_stopping() -> None:
    model = compiled()
    script = Scripted("val_loss", [1.0, 0.2, 0.9])
    fit(model, [script, EarlyStopping(patience=5, restore_best_weights=True)], epochs=3)
    assert model.state_dict() == script.states[1]


def test_early_stopping_min_delta_and_mode() -> None:
    model = compiled()
    # improvements of 0.05 are not more than min_delta=0.1
    script = Scripted("val_loss", [1.0, 0.95, 0.9, 0.5, 0.45])
    stopper = EarlyStopping(min_delta=0.1, patience=2)
    assert fit(model, [script, stopper]).epoch == [0, 1, 2]
    # "auto" maximises accuracies
    script = Scripted("val_accuracy", [0.5, 0.7, 0.6, 0.9])
    stopper = EarlyStopping(monitor="val_accuracy", patience=1)
    assert fit(compiled(), [script, stopper]).epoch == [0, 1, 2]
    assert stopper.best == 0.7
    script = Scripted("loss", [0.5, 0.7, 0.6])
    stopper = EarlyStopping(monitor="loss", mode="max", patience=1)
    assert fit(compiled(), [script, stopper]).epoch == [0, 1, 2]
    assert stopper.best == 0.7


def test_early_stopping_on_a_real_validation_loss(capsys) -> None:
    """A validation set with flipped labels: val_loss rises as training fits the rest."""
    model = compiled(lr=0.5)
    stopper = EarlyStopping(patience=2, restore_best_weights=True, verbose=1)
    history = model.fit(
        X, Y, epochs=30, validation_data=(X, 1 - Y), callbacks=[stopper], verbose=0, seed=0
    )
    val = history.history["val_loss"]
    assert len(val) < 30
    assert stopper.best == min(val)
    assert model.evaluate(X, 1 - Y, return_dict=True, verbose=0)["loss"] == pytest.approx(min(val))
    assert f"Epoch {stopper.stopped_epoch + 1}: early stopping" in capsys.readouterr().out


def test_early_stopping_warns_when_the_monitored_value_is_missing() -> None:
    model = compiled()
    with pytest.warns(RuntimeWarning, match="'val_loss' is not in the logs"):
        history = fit(model, [EarlyStopping()], epochs=2)
    assert history.epoch == [0, 1]


def test_bad_monitor_settings() -> None:
    with pytest.raises(ValueError, match="mode must be"):
        EarlyStopping(mode="lowest")
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match="mode must be"):
        ModelCheckpoint("m.json", mode="up")


# ---------------------------------------------------------------- ModelCheckpoint


def test_model_checkpoint_writes_a_loadable_file_every_epoch(tmp_path) -> None:
    model = compiled()
    checkpoint = ModelCheckpoint(tmp_path / "model-{epoch:02d}.json")
    script = Scripted("unused", [0.0] * 3)
    fit(model, [script, checkpoint], epochs=3)
    assert sorted(os.listdir(tmp_path)) == [f"model-0{e}.json" for e in (1, 2, 3)]
    for epoch in range(3):
        loaded = load_model(tmp_path / f"model-0{epoch + 1}.json")
        assert loaded.state_dict() == script.states[epoch]
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


def test_model_checkpoint_save_best_only(tmp_path) -> None:
    model = compiled()
    script = Scripted("val_loss", [1.0, 2.0, 0.5, 0.7])
    checkpoint = ModelCheckpoint(
        str(tmp_path / "m{epoch}-{val_loss:.1f}.json"), save_best_only=True
    )
    fit(model, [script, checkpoint], epochs=4)
    assert sorted(os.listdir(tmp_path)) == ["m1-1.0.json", "m3-0.5.json"]
    assert load_model(tmp_path / "m3-0.5.json").state_dict() == script.states[2]


def test_model_checkpoint_to_one_file_keeps_the_best(tmp_path) -> None:
    model = compiled()
    script = Scripted("val_loss", [1.0, 0.4, 0.9])
    fit(model, [script, ModelCheckpoint(tmp_path / "best.json", save_best_only=True)], epochs=3)
    assert load_model(tmp_path / "best.json").state_dict() == script.states[1]
    assert os.listdir(tmp_path) == ["best.json"]


def test_model_checkpoint_with_an_unknown_name_in_the_path(tmp_path) -> None:
    with pytest.raises(ValueError, match="cannot fill in filepath"):
        fit(compiled(), [ModelCheckpoint(tmp_path / "m-{val_auc}.json")], epochs=1)


# ---------------------------------------------------------------- TerminateOnNaN


def test_terminate_on_nan_unit() -> None:
    callback = TerminateOnNaN()
    model = compiled()
    callback.set_model(model)
    callback.on_train_batch_end(0, {"loss": 1.5})
    assert not model.stop_training
    callback.on_train_batch_end(3, {"loss": math.nan})
    assert model.stop_training


def test_terminate_on_nan_stops_a_diverging_fit(capsys) -> None:
    model = MLP(2, [4, 1], seed=0)
    model.compile(SGD(lr=1e6), "mse")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the callback stops training, so fit does not warn
        history = model.fit(
            X,
            1e3 * X[:, 0],
            epochs=50,
            batch_size=2,
            callbacks=[TerminateOnNaN()],
            verbose=0,
            seed=0,
        )
    assert len(history.epoch) < 50
    assert not math.isfinite(history.history["loss"][-1])
    assert "invalid loss" in capsys.readouterr().out


def test_a_callback_can_stop_training_mid_epoch() -> None:
    class StopAtBatch1(Callback):
        batches = 0

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1
            if batch == 1:
                self.model.stop_training = True

    stopper = StopAtBatch1()
    history = fit(compiled(), [stopper], epochs=5)
    assert history.epoch == [0]
    assert stopper.batches == 2


# ---------------------------------------------------------------- CSVLogger


def read_rows(path) -> list[dict]:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def test_csv_logger_writes_one_row_per_epoch(tmp_path) -> None:
    path = tmp_path / "log.csv"
    history = fit(compiled(), [CSVLogger(path)], epochs=3, validation_split=0.25)
    assert path.read_text().splitlines()[0] == "epoch,accuracy,loss,val_accuracy,val_loss"
    rows = read_rows(path)
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert [float(r[key]) for r in rows] == history.history[key]  # full precision
    assert os.listdir(tmp_path) == ["log.csv"]


def test_csv_logger_append_and_overwrite(tmp_path) -> None:
    path = tmp_path / "log.csv"
    fit(compiled(), [CSVLogger(path)], epochs=2)
    fit(compiled(), [CSVLogger(path, append=True)], epochs=3)
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,accuracy,loss"
    assert [line.split(",")[0] for line in lines[1:]] == ["0", "1", "0", "1", "2"]
    fit(compiled(), [CSVLogger(path, separator=";")], epochs=1)
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch;accuracy;loss" and len(lines) == 2


# ---------------------------------------------------------------- LearningRateScheduler


def test_learning_rate_scheduler_sets_and_logs_lr() -> None:
    model = compiled()
    seen = []

    class SeeLR(Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(self.model.optimizer.lr)

    schedule = LearningRateScheduler(lambda epoch: 0.1 * 0.5**epoch)
    history = model.fit(X, Y, epochs=3, batch_size=None, callbacks=[schedule, SeeLR()], verbose=0)
    assert history.history["lr"] == [0.1, 0.05, 0.025]
    assert seen == [0.1, 0.05, 0.025]
    assert model.optimizer.lr == 0.025


def test_learning_rate_scheduler_with_keras_two_argument_schedule() -> None:
    model = compiled(lr=0.2)
    schedule = LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else lr / 2)
    history = fit(model, [schedule], epochs=3)
    assert history.history["lr"] == [0.2, 0.1, 0.05]


def test_a_zero_learning_rate_freezes_the_model() -> None:
    model = compiled(lr=0.5)
    before = model.state_dict()
    fit(model, [LearningRateScheduler(lambda epoch: 0.0)], epochs=2)
    assert model.state_dict() == before


@pytest.mark.parametrize("bad", [math.nan, -0.1, math.inf, "0.1", None])
def test_a_schedule_returning_a_bad_lr(bad) -> None:
    with pytest.raises(ValueError, match="the schedule returned"):
        fit(compiled(), [LearningRateScheduler(lambda epoch: bad)], epochs=1)


def test_callbacks_must_be_callbacks() -> None:
    with pytest.raises(TypeError, match="Callback instances"):
        fit(compiled(), [lambda logs: None], epochs=1)
    with pytest.raises(TypeError, match="callable"):
        LearningRateScheduler(0.1)


def test_an_interrupted_fit_closes_the_callbacks_files() -> None:
    """Ctrl-C (or any error) inside fit closes what callbacks opened, such as TensorBoard's
    event writers, whose threads would otherwise block the interpreter's exit."""
    closed = []

    class Interrupting(Callback):
        def on_epoch_end(self, epoch, logs=None):
            raise KeyboardInterrupt

        def close(self):
            closed.append(True)

    model = MLP(2, [2, 1], seed=0)
    model.compile("sgd", "mse")
    with pytest.raises(KeyboardInterrupt):
        model.fit(np.zeros((4, 2)), np.zeros(4), epochs=3, verbose=0, callbacks=[Interrupting()])
    assert closed == [True]
