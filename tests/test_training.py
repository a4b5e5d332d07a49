"""compile / fit / evaluate / predict / train_on_batch."""

from __future__ import annotations

import io
import math
import sys
import warnings

import numpy as np
import pytest

from micrograd_like import MLP, Value
from micrograd_like.callbacks import Callback
from micrograd_like.datasets import make_blobs, make_moons
from micrograd_like.optim import SGD, Adam


def tiny_data(n: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


def compiled(loss: str = "hinge", lr: float = 0.1, metrics=("accuracy",), **kwargs) -> MLP:
    model = MLP(2, [4, 1], seed=0)
    model.compile(SGD(lr=lr), loss, metrics=list(metrics), **kwargs)
    return model


class CountingSGD(SGD):
    """SGD that counts its steps."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.steps = 0

    def step(self) -> None:
        self.steps += 1
        super().step()


class Recorder(Callback):
    """Records the hooks called, with their arguments."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple] = []

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin",))

    def on_train_end(self, logs=None):
        self.calls.append(("train_end",))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch, dict(logs)))

    def on_train_batch_begin(self, batch, logs=None):
        self.calls.append(("batch_begin", batch, logs["size"]))

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(("batch_end", batch, dict(logs)))


# ---------------------------------------------------------------- learning real problems


def test_fit_on_moons_reaches_95_percent_validation_accuracy() -> None:
    X, y = make_moons(n_samples=200, noise=0.1, random_state=0)
    model = MLP(2, [16, 16, 1], seed=1)
    model.compile(Adam(lr=0.05), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(X, y, epochs=15, batch_size=32, validation_split=0.25, verbose=0, seed=0)
    assert history.history["val_accuracy"][-1] >= 0.95
    assert history.history["loss"][-1] < history.history["loss"][0] / 3
    assert (
        model.evaluate(X[150:], y[150:], return_dict=True, verbose=0)["accuracy"]
        == history.history["val_accuracy"][-1]
    )


def test_three_classes_with_sparse_categorical_crossentropy() -> None:
    X, y = make_blobs(n_samples=150, centers=3, cluster_std=1.0, random_state=3)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    model = MLP(2, [8, 3], seed=0)
    model.compile(Adam(lr=0.05), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(X, y, epochs=10, batch_size=16, validation_split=0.2, verbose=0, seed=0)
    assert history.history["val_accuracy"][-1] >= 0.9
    predicted = model.predict(X[120:]).argmax(axis=1)
    assert np.mean(predicted == y[120:]) == history.history["val_accuracy"][-1]


def test_minibatch_fit_matches_pytorch() -> None:
    """One epoch of fit (shuffle off, batches of 4, 4, 2, mse + l2) against the same
    steps in PyTorch; the epoch loss is the batch losses' mean weighted by batch size."""
    torch = pytest.importorskip("torch")
    X, _ = tiny_data(10)
    t = np.sin(X[:, 0]) + X[:, 1] ** 2
    alpha, lr = 0.01, 0.05
    model = MLP(2, [3, 1], activation="tanh", seed=4)
    weights = [
        (
            torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64),
            torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64),
        )
        for layer in model.layers
    ]
    params = [p.requires_grad_() for pair in weights for p in pair]
    batch_losses = []
    for start in range(0, 10, 4):
        xb = torch.tensor(X[start : start + 4])
        tb = torch.tensor(t[start : start + 4])
        hidden = torch.tanh(xb @ weights[0][0].T + weights[0][1])
        out = (hidden @ weights[1][0].T + weights[1][1])[:, 0]
        loss = torch.mean((out - tb) ** 2) + alpha * sum((p**2).sum() for p in params)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        batch_losses.append((loss.item(), len(xb)))

    model.compile(SGD(lr=lr), "mse", l2=alpha)
    history = model.fit(X, t, epochs=1, batch_size=4, shuffle=False, verbose=0)
    expected_loss = sum(value * size for value, size in batch_losses) / 10
    assert history.history["loss"][0] == pytest.approx(expected_loss, rel=1e-12)
    ours = [p.data for p in model.parameters()]
    theirs = [
        *np.column_stack([weights[0][0].detach(), weights[0][1].detach()]).ravel(),
        *np.append(weights[1][0].detach().ravel(), weights[1][1].detach()),
    ]
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- batch modes and logs


@pytest.mark.parametrize("batch_size, steps", [(None, 1), (1, 10), (3, 4), (5, 2), (32, 1)])
def test_steps_per_epoch_is_ceil_n_over_batch_size(batch_size, steps) -> None:
    X, y = tiny_data(10)
    model = MLP(2, [3, 1], seed=0)
    optimizer = CountingSGD(lr=0.01)
    model.compile(optimizer, "hinge")
    recorder = Recorder()
    model.fit(X, y, epochs=2, batch_size=batch_size, callbacks=[recorder], verbose=0, seed=0)
    assert optimizer.steps == 2 * steps
    sizes = [c[2] for c in recorder.calls if c[0] == "batch_begin"]
    assert sum(sizes) == 20
    assert sizes[: steps - 1] == [batch_size or 10] * (steps - 1)
    assert recorder.params["steps"] == steps


def test_history_keys_epochs_and_hook_order() -> None:
    X, y = tiny_data(12)
    model = compiled(metrics=["accuracy", "mse", "mae"])
    recorder = Recorder()
    history = model.fit(
        X, y, epochs=3, batch_size=4, validation_split=0.25, callbacks=[recorder], verbose=0
    )
    assert history is model.history
    assert history.epoch == [0, 1, 2]
    keys = ["loss", "accuracy", "mse", "mae", "val_loss", "val_accuracy", "val_mse", "val_mae"]
    assert list(history.history) == keys
    assert all(len(values) == 3 for values in history.history.values())
    assert recorder.params == {"epochs": 3, "steps": 3, "samples": 9, "verbose": 0}
    kinds = [c[0] for c in recorder.calls]
    epoch = ["epoch_begin", *["batch_begin", "batch_end"] * 3, "epoch_end"]
    assert kinds == ["train_begin", *epoch * 3, "train_end"]
    batch_logs = [c[2] for c in recorder.calls if c[0] == "batch_end"]
    assert all(set(logs) == {"loss", "accuracy", "mse", "mae"} for logs in batch_logs)
    # the last batch's running logs are the epoch's logs
    epoch_logs = [c[2] for c in recorder.calls if c[0] == "epoch_end"]
    assert batch_logs[2] == {k: v for k, v in epoch_logs[0].items() if not k.startswith("val")}


def test_epoch_metrics_in_batch_mode_are_those_of_the_initial_outputs() -> None:
    X, y = tiny_data(10)
    model = compiled(metrics=["accuracy", "mse", "mae"])
    before = model.predict(X)[:, 0]
    targets = 2.0 * y - 1  # hinge's targets
    history = model.fit(X, y, epochs=1, batch_size=None, verbose=0)
    assert history.history["mse"][0] == pytest.approx(np.mean((before - targets) ** 2))
    assert history.history["mae"][0] == pytest.approx(np.mean(np.abs(before - targets)))
    assert history.history["accuracy"][0] == np.mean(np.where(before > 0, 1, -1) == targets)
    hinge = np.mean(np.maximum(0.0, 1 - targets * before))
    assert history.history["loss"][0] == pytest.approx(hinge, rel=1e-12)


def test_squared_error_reports_the_sum_over_the_data() -> None:
    X, y = tiny_data(10)
    t = X[:, 0] - X[:, 1]
    model = compiled("squared_error", metrics=())
    before = model.predict(X)[:, 0]
    history = model.fit(X, t, epochs=1, batch_size=None, verbose=0)
    assert history.history["loss"][0] == pytest.approx(0.5 * np.sum((before - t) ** 2))


def test_validation_split_takes_the_last_rows_before_shuffling() -> None:
    X, y = tiny_data(10)
    model = compiled(lr=0.0)  # nothing changes, so every loss is that of the initial model
    history = model.fit(X, y, epochs=2, validation_split=0.3, verbose=0, seed=3)
    assert (
        history.history["val_loss"][0]
        == model.evaluate(X[7:], y[7:], return_dict=True, verbose=0)["loss"]
    )
    assert history.history["loss"][0] == pytest.approx(
        model.evaluate(X[:7], y[:7], return_dict=True, verbose=0)["loss"]
    )


def test_validation_data() -> None:
    X, y = tiny_data(10)
    model = compiled(lr=0.0)
    history = model.fit(X[:6], y[:6], validation_data=(X[6:], y[6:]), verbose=0)
    assert history.history["val_accuracy"] == [
        model.evaluate(X[6:], y[6:], return_dict=True, verbose=0)["accuracy"]
    ]


def test_same_seeds_same_history_and_weights() -> None:
    X, y = tiny_data(20)

    def run(data_seed: int) -> tuple[dict, dict]:
        model = MLP(2, [4, 1], seed=7)
        model.compile(Adam(lr=0.05), "binary_crossentropy", metrics=["accuracy"])
        history = model.fit(
            X, y, epochs=3, batch_size=4, validation_split=0.2, verbose=0, seed=data_seed
        )
        return history.history, model.state_dict()

    first, second, other = run(1), run(1), run(2)
    assert first == second
    assert first[0]["loss"] != other[0]["loss"]


def test_shuffle_false_is_deterministic_without_a_seed() -> None:
    X, y = tiny_data(12)
    histories = []
    for _ in range(2):
        model = compiled()
        histories.append(model.fit(X, y, epochs=2, batch_size=5, shuffle=False, verbose=0).history)
    assert histories[0] == histories[1]


# ---------------------------------------------------------------- evaluate, predict, train_on_batch


def test_evaluate_includes_the_l2_penalty() -> None:
    X, y = tiny_data(10)
    plain, penalised = compiled(), compiled(l2=0.01)
    penalty = 0.01 * sum(p.data**2 for p in plain.parameters())
    assert penalised.evaluate(X, y, return_dict=True, verbose=0)["loss"] == pytest.approx(
        plain.evaluate(X, y, return_dict=True, verbose=0)["loss"] + penalty
    )
    assert set(plain.evaluate(X, y, return_dict=True, verbose=0)) == {"loss", "accuracy"}


def test_predict_gives_the_model_outputs_without_touching_gradients() -> None:
    X, _ = tiny_data(5)
    model = MLP(2, [3, 2], seed=0)  # no compile needed
    for p in model.parameters():
        p.grad = 0.5
    outputs = model.predict(X)
    assert outputs.shape == (5, 2)
    expected = [[o.data for o in model(x.tolist())] for x in X]
    np.testing.assert_allclose(outputs, expected, rtol=1e-12)  # batched replay: same sums
    assert all(p.grad == 0.5 for p in model.parameters())
    assert MLP(1, [1], seed=0).predict([0.5, 1.5, 2.5]).shape == (3, 1)


def test_train_on_batch_is_one_gradient_step() -> None:
    X, y = tiny_data(8)
    model = compiled(lr=0.1)
    loss_before = model.evaluate(X, y, return_dict=True, verbose=0)["loss"]
    start = [p.data for p in model.parameters()]
    # the gradient of the mean hinge loss, by finite differences on evaluate
    expected = []
    for p, p0 in zip(model.parameters(), start):
        p.data = p0 + 1e-6
        up = model.evaluate(X, y, return_dict=True, verbose=0)["loss"]
        p.data = p0 - 1e-6
        down = model.evaluate(X, y, return_dict=True, verbose=0)["loss"]
        p.data = p0
        expected.append(p0 - 0.1 * (up - down) / 2e-6)
    assert model.train_on_batch(X, y) == loss_before
    np.testing.assert_allclose([p.data for p in model.parameters()], expected, atol=1e-7)


def test_a_custom_metric_function() -> None:
    X, y = tiny_data(10)
    model = MLP(2, [3, 1], seed=0)

    def max_error(y_true, y_pred):
        return float(np.max(np.abs(y_true - y_pred)))

    model.compile("sgd", "mse", metrics=[max_error])
    outputs = model.predict(X)
    result = model.evaluate(X, y, return_dict=True, verbose=0)
    assert result["max_error"] == pytest.approx(np.max(np.abs(y[:, None] - outputs)))


# ---------------------------------------------------------------- progress output


def test_verbose_levels(capsys) -> None:
    X, y = tiny_data(10)
    compiled().fit(X, y, epochs=2, verbose=0)
    assert capsys.readouterr() == ("", "")
    compiled().fit(X, y, epochs=2, verbose=2)
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/2", "Epoch 2/2"]
    assert "loss: " in lines[0] and "accuracy: " in lines[0]
    compiled().fit(X, y, epochs=2, batch_size=5, verbose=1)  # not on a terminal: lines
    out, err = capsys.readouterr()
    assert out == ""
    assert [line.split(" - ")[0] for line in err.splitlines()] == ["Epoch 1/2", "Epoch 2/2"]


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_per_epoch_on_a_terminal_and_a_line_per_epoch_in_a_log(
    monkeypatch,
) -> None:
    X, y = tiny_data(10)
    for verbose in (1, "auto"):
        terminal = FakeTerminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        compiled().fit(X, y, epochs=3, batch_size=5, verbose=verbose)
        bars = terminal.getvalue()
        for epoch in (1, 2, 3):  # one bar per epoch, each over its 2 batches
            assert f"Epoch {epoch}/3: 100%" in bars and "2/2" in bars
        assert "loss: " in bars and "loss=" not in bars
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    compiled().fit(X, y, epochs=100, batch_size=1, verbose=1)
    lines = log.getvalue().splitlines()
    assert len(lines) == 100 and lines[-1].startswith("Epoch 100/100 - loss: ")
    assert len(log.getvalue()) < 100 * 60  # a line per epoch, not every refresh of a bar


# ---------------------------------------------------------------- a diverging model


def test_a_nan_loss_stops_training_with_a_warning() -> None:
    X, _ = tiny_data(10)
    t = 1e3 * X[:, 0]
    model = MLP(2, [4, 1], seed=0)
    model.compile(SGD(lr=1e6), "mse")
    snapshots = []

    class Snapshot(Callback):
        def on_train_batch_begin(self, batch, logs=None):
            snapshots.append(model.state_dict())

    with pytest.warns(RuntimeWarning, match=r"the loss became (nan|inf) in epoch \d+, batch \d+"):
        history = model.fit(
            X, t, epochs=50, batch_size=2, callbacks=[Snapshot()], verbose=0, seed=0
        )
    assert len(history.epoch) < 50
    assert not math.isfinite(history.history["loss"][-1])
    assert model.state_dict() == snapshots[-1]  # the last batch's step was not taken


def test_train_on_batch_with_a_nan_loss_skips_the_step() -> None:
    model = MLP(1, [1], seed=0)
    model.compile(SGD(lr=0.1), "mse")
    model.layers[0].neurons[0].w[0].data = 1e300
    before = model.state_dict()
    with pytest.warns(RuntimeWarning, match="loss became inf in train_on_batch"):
        loss = model.train_on_batch([[1e10]], [0.0])
    assert loss == math.inf
    assert model.state_dict() == before


# ---------------------------------------------------------------- bad input


def test_fit_evaluate_train_on_batch_need_compile() -> None:
    X, y = tiny_data(4)
    model = MLP(2, [1], seed=0)
    for action in (model.fit, model.evaluate, model.train_on_batch):
        with pytest.raises(ValueError, match=r"call model\.compile\(optimizer, loss\) before"):
            action(X, y)


@pytest.mark.parametrize(
    "X, y, message",
    [
        (np.ones((4, 2)), [0, 1, 0], "X has 4 samples but y has 3"),
        (np.ones((4, 2)), 1, "y has a single value"),
        (np.ones((4, 3)), [0, 1, 0, 1], "takes 2 feature"),
        (np.ones(4), [0, 1, 0, 1], r"shape \(n_samples, 2\)"),
        (np.ones((0, 2)), [], "non-empty"),
        ([[1.0, 2.0], [3.0]], [0, 1], "array of numbers"),
        ([["a", "b"]], [0], "array of numbers"),
        ([[1.0, float("nan")], [0.0, 0.0]], [0, 1], "X contains nan at row 0, column 1"),
        ([[1.0, 0.0], [float("inf"), 0.0]], [0, 1], "X contains inf at row 1, column 0"),
    ],
)
def test_bad_data(X, y, message) -> None:
    model = compiled()
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, verbose=0)


@pytest.mark.parametrize(
    "loss, y",
    [
        ("hinge", [0, 1, 2, 1]),
        ("binary_crossentropy", [0, 1, float("nan"), 1]),
        ("sparse_categorical_crossentropy", [0, 1, 1, 7]),
    ],
)
def test_labels_the_loss_cannot_take(loss, y) -> None:
    model = MLP(2, [3, 1 if loss != "sparse_categorical_crossentropy" else 3], seed=0)
    model.compile("sgd", loss)
    with pytest.raises(ValueError):
        model.fit(np.ones((4, 2)), y, verbose=0)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"epochs": -1}, "epochs must be an int >= 0"),
        ({"epochs": 1.5}, "epochs must be an int"),
        ({"batch_size": 0}, "batch_size must be an int >= 1"),
        ({"batch_size": True}, "batch_size must be an int"),
        ({"validation_split": 1.0}, r"validation_split must be in \[0, 1\)"),
        ({"validation_split": 0.95}, "leaves 0 for training and 10 for validation"),
        ({"validation_split": "0.2"}, "validation_split must be a number"),
        ({"validation_data": ([[0.0, 0.0]],)}, "pair"),
        ({"validation_data": ([[0.0, 0.0, 0.0]], [1])}, "takes 2 feature"),
        ({"verbose": 3}, "verbose must be 0, 1, 2 or 'auto', got 3"),
    ],
)
def test_bad_fit_arguments(kwargs, message) -> None:
    X, y = tiny_data(10)
    model = compiled()
    with pytest.raises(ValueError, match=message):
        model.fit(X, y, **{"verbose": 0, **kwargs})


def test_bad_compile_arguments() -> None:
    model = MLP(2, [1], seed=0)
    with pytest.raises(ValueError, match="unknown metric 'f1'; known: acc, accuracy"):
        model.compile("sgd", "mse", metrics=["f1"])
    with pytest.raises(ValueError, match="distinct"):
        model.compile("sgd", "mse", metrics=["accuracy", "acc"])
    with pytest.raises(ValueError, match="l2 must be a finite number >= 0"):
        model.compile("sgd", "mse", l2=-1.0)
    with pytest.raises(ValueError):
        model.compile("rmsprop-ish", "mse")
    with pytest.raises(ValueError):
        model.compile("sgd", "not_a_loss")
    with pytest.raises(TypeError, match="a metric is a name or a function"):
        model.compile("sgd", "mse", metrics=[3])
    assert getattr(model, "optimizer", None) is None  # nothing was half-compiled


def test_compile_binds_the_optimizer_and_accepts_a_single_metric_name() -> None:
    model = MLP(2, [2, 1], seed=0)
    model.compile("adam", "mse", metrics="mae")
    assert model.optimizer.params == model.parameters()
    assert [m.name for m in model.metrics] == ["mae"]
    assert type(model.predict([[0.0, 1.0]])[0, 0]) is np.float64
    assert isinstance(model([0.0, 1.0]), Value)


def test_loss_names_and_aliases_are_accepted() -> None:
    X, y = tiny_data(6)
    model = MLP(2, [2, 1], seed=0)
    model.compile("sgd", "mse", metrics=["acc", "mean_absolute_error"])
    assert set(model.evaluate(X, y, return_dict=True, verbose=0)) == {"loss", "accuracy", "mae"}


def test_the_same_arguments_without_warnings() -> None:
    X, y = tiny_data(10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled().fit(X, y, epochs=2, validation_split=0.2, verbose=0)
