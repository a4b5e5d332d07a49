"""Code written the way a Keras tutorial writes it runs, and never gives a silently wrong
answer: written as a Keras user would write it. Expected numbers come from numpy formulas
or from the model's own predictions."""

from __future__ import annotations

import math
import random
import warnings

import numpy as np
import pytest

from micrograd_like import MLP, Dense, Layer, Sequential, Value, datasets, losses, optim
from micrograd_like.callbacks import (
    Callback,
    EarlyStopping,
    LambdaCallback,
    ReduceLROnPlateau,
)

X, Y = datasets.make_moons(200, noise=0.1, random_state=0)


def sigmoid_classifier(seed: int = 0) -> Sequential:
    """The issue's model: relu layers and a sigmoid output layer of one neuron."""
    return Sequential(
        [Layer(2, 16, seed=seed), Layer(16, 16, seed=seed + 1), Layer(16, 1, activation="sigmoid")]
    )


# ---------------------------------------------------------------- crossentropy and accuracy


def test_a_sigmoid_output_with_binary_crossentropy_learns_and_reports_its_accuracy() -> None:
    model = sigmoid_classifier()
    model.compile(optim.Adam(learning_rate=0.02), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(X, Y, epochs=40, batch_size=32, validation_split=0.25, verbose=0, seed=0)
    X_val, y_val = X[150:], Y[150:]
    probabilities = model.predict(X_val, verbose=0)[:, 0]
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    by_hand = float(((probabilities > 0.5) == y_val).mean())
    assert history.history["val_accuracy"][-1] == by_hand >= 0.95
    loss, accuracy = model.evaluate(X, Y, verbose=0)
    assert accuracy == float(((model.predict(X, verbose=0)[:, 0] > 0.5) == Y).mean())
    p = np.clip(model.predict(X, verbose=0)[:, 0], 1e-12, 1 - 1e-12)
    assert loss == pytest.approx(-np.mean(Y * np.log(p) + (1 - Y) * np.log(1 - p)), rel=1e-9)


def test_any_model_ending_in_a_sigmoid_is_read_as_probabilities() -> None:
    class Probabilities(MLP):  # the output is read from the graph, not from the class
        def __call__(self, x):
            return super().__call__(x).sigmoid()

    model = Probabilities(2, [8, 1], seed=0)
    model.compile(optim.Adam(learning_rate=0.05), "binary_crossentropy", metrics=["accuracy"])
    model.fit(X, Y, epochs=3, verbose=0, seed=0)
    p = model.predict(X, verbose=0)[:, 0]
    loss, accuracy = model.evaluate(X, Y, verbose=0)
    assert accuracy == float(((p > 0.5) == Y).mean()) > 0.8
    assert loss == pytest.approx(-np.mean(Y * np.log(p) + (1 - Y) * np.log(1 - p)), rel=1e-9)


def test_linear_outputs_are_read_as_logits() -> None:
    model = MLP(2, [8, 1], seed=0)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    model.fit(X, Y, epochs=3, verbose=0, seed=0)
    z = model.predict(X, verbose=0)[:, 0]
    loss, accuracy = model.evaluate(X, Y, verbose=0)
    assert accuracy == float(((z > 0) == Y).mean())
    assert loss == pytest.approx(np.mean(np.logaddexp(0, z) - Y * z), rel=1e-12)


def test_a_contradicting_from_logits_warns_as_keras_3_does() -> None:
    model = sigmoid_classifier()
    model.compile("adam", losses.BinaryCrossentropy(from_logits=True), metrics=["accuracy"])
    with pytest.warns(UserWarning, match="from_logits=True, but the model's output is a sigmoid"):
        model.fit(X, Y, epochs=1, verbose=0)
    with pytest.warns(UserWarning, match="from_logits=False, but the model's output is linear"):
        linear = MLP(2, [3], seed=0)
        linear.compile("sgd", losses.CategoricalCrossentropy())
        linear.evaluate(X[:4], np.eye(3)[[0, 1, 2, 0]], verbose=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        agreeing = MLP(2, [4, 1], seed=0)
        agreeing.compile("sgd", losses.BinaryCrossentropy(from_logits=True))
        agreeing.fit(X, Y, epochs=1, verbose=0)


def test_softmax_with_sparse_categorical_crossentropy() -> None:
    X3, y3 = datasets.make_blobs(150, centers=3, random_state=0)
    random.seed(0)
    model = Sequential([Dense(16, activation="relu"), Dense(3, activation="softmax")])
    model.compile(
        optim.Adam(learning_rate=0.05), "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    model.fit(X3, y3, epochs=10, verbose=0, seed=0)
    p = model.predict(X3, verbose=0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    loss, accuracy = model.evaluate(X3, y3, verbose=0)
    assert loss == pytest.approx(-np.mean(np.log(p[np.arange(len(y3)), y3])), rel=1e-9)
    assert accuracy == float((p.argmax(axis=1) == y3).mean()) >= 0.9


def test_the_loss_reads_the_logits_behind_a_softmax_even_when_a_probability_underflows() -> None:
    z = [Value(0.0), Value(-800.0)]
    from micrograd_like.activations import softmax

    p = softmax(z)
    assert p[1].data == 0.0  # exp(-800) underflows: log(p) would be -inf
    loss = losses.categorical_crossentropy([[0.0, 1.0]], [p])
    assert loss.data == pytest.approx(800.0, rel=1e-12)
    loss.backward()
    assert z[1].grad == pytest.approx(-1.0, rel=1e-12)


# ---------------------------------------------------------------- evaluate and friends


def test_evaluate_returns_what_keras_returns(capsys) -> None:
    model = MLP(2, [4, 1], seed=0)
    model.compile("sgd", "mse")
    loss = model.evaluate(X, Y, verbose=0)
    assert isinstance(loss, float)
    model.compile("sgd", "mse", metrics=["mae", "accuracy"])
    result = model.evaluate(x=X, y=Y, verbose=0)
    z = model.predict(X, verbose=0)[:, 0]
    assert result == [loss, pytest.approx(np.mean(np.abs(z - Y))), float(((z > 0.5) == Y).mean())]
    assert model.evaluate(X, Y, verbose=0, return_dict=True) == dict(
        zip(["loss", "mae", "accuracy"], result)
    )
    assert capsys.readouterr().out == ""
    model.evaluate(X, Y)  # verbose="auto": one line, as Keras ends its progress bar
    assert (
        capsys.readouterr().out
        == f"loss: {loss:.4f} - mae: {result[1]:.4f} - accuracy: {result[2]:.4f}\n"
    )


def test_keras_spellings() -> None:
    model = MLP(2, [8, 1], seed=0)
    model.compile(optimizer=optim.Adam(learning_rate=0.01), loss="mae")
    history = model.fit(x=X, y=Y, epochs=2, batch_size=50, verbose=0)
    assert model.optimizer.learning_rate == 0.01 and model.loss.name == "mae"
    assert len(history.history["loss"]) == 2
    whole = model.predict(X, verbose=0)
    np.testing.assert_allclose(model.predict(X, batch_size=7, verbose=0), whole, rtol=1e-12)
    assert model.count_params() == 33
    with pytest.raises(ValueError, match="verbose must be 0, 1, 2 or 'auto'"):
        model.predict(X, verbose="loud")
    with pytest.raises(ValueError, match="fit needs y"):
        model.fit(x=X)


def test_dense_layers_in_a_list_with_the_input_width_found_on_fit() -> None:
    model = Sequential([Dense(16, activation="relu", seed=0), Dense(1, seed=1)])
    assert not model.built and model.nin is None
    with pytest.raises(ValueError, match="not built yet"):
        model.summary()
    model.compile(optim.Adam(learning_rate=0.05), "binary_crossentropy", metrics=["accuracy"])
    model.fit(X, Y, epochs=2, verbose=0, seed=0)  # built from X, the optimizer bound then
    assert model.built and model.nin == 2
    assert model.optimizer.params == model.parameters() and len(model.parameters()) == 65
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    assert [line.split()[:2] for line in lines if line.startswith("layers.")] == [
        ["layers.0", "(Dense)"],
        ["layers.1", "(Dense)"],
    ]


def test_add_and_call_build_a_model() -> None:
    model = Sequential()
    model.add(Dense(4, activation="tanh", seed=0))
    model.add(Dense(2, activation="softmax", seed=0))
    out = model([0.5, -1.0, 2.0])
    assert model.nin == 3 and sum(o.data for o in out) == pytest.approx(1.0, rel=1e-15)
    model.add(Dense(1))
    assert model.layers[-1].nin == 2  # built at once: the width before it is known
    with pytest.raises(TypeError, match="Sequential takes Layer objects"):
        model.add("Dense(1)")


def test_fit_trains_the_layers_added_after_compile() -> None:
    model = Sequential([Dense(4, activation="relu", seed=0, input_dim=2)])
    model.compile(optim.SGD(learning_rate=0.1), "mse")
    model.add(Dense(1, seed=1))
    last = [p.data for p in model.layers[1].parameters()]
    model.fit(X, Y, epochs=1, verbose=0)
    assert model.optimizer.params == model.parameters()
    assert [p.data for p in model.layers[1].parameters()] != last


def test_get_and_set_weights_in_keras_layout() -> None:
    model = MLP(3, [4, 2], seed=0)
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(3, 4), (4,), (4, 2), (2,)]
    x = np.array([0.1, -0.2, 0.3])
    by_numpy = np.maximum(x @ weights[0] + weights[1], 0) @ weights[2] + weights[3]
    np.testing.assert_allclose([o.data for o in model(list(x))], by_numpy, rtol=1e-12)
    other = MLP(3, [4, 2], seed=1)
    other.set_weights(weights)
    assert other.state_dict() == model.state_dict()
    before = other.state_dict()
    broken = [*weights[:3], np.zeros(3)]
    with pytest.raises(ValueError, match=r"layer 1: set_weights: the bias must have shape \(2,\)"):
        other.set_weights(broken)
    with pytest.raises(ValueError, match="expects 4 arrays"):
        other.set_weights(weights[:2])
    assert other.state_dict() == before  # all or nothing


def test_single_sample_losses_as_the_lecture_writes_them() -> None:
    y_hat = Value(0.25)
    loss = losses.squared_error(1.0, y_hat)
    loss.backward()
    assert loss.data == 0.5 * 0.75**2 and y_hat.grad == -0.75
    assert losses.mse(2, Value(1.0)).data == 1.0
    assert losses.binary_crossentropy(1.0, Value(0.0)).data == pytest.approx(math.log(2))
    with pytest.raises(ValueError, match=r"expects targets in \[0, 1\]"):
        losses.binary_crossentropy(2.0, Value(0.0))


# ---------------------------------------------------------------- optimizer and callbacks


def test_compile_keeps_a_bound_optimizer_so_frozen_layers_stay_frozen() -> None:
    model = MLP(2, [8, 1], seed=0)
    first, last = model.layers
    frozen = [p.data for p in first.parameters()]
    model.compile(optim.SGD(last.parameters(), lr=0.1), "mse")
    assert model.optimizer.params == last.parameters()
    before = [p.data for p in last.parameters()]
    model.fit(X, Y, epochs=2, verbose=0)
    assert [p.data for p in first.parameters()] == frozen
    assert [p.data for p in last.parameters()] != before
    with pytest.raises(ValueError, match="bound to 9 parameter.s. that are not this model's"):
        MLP(2, [1], seed=0).compile(optim.SGD(last.parameters()), "mse")


def test_early_stopping_restores_a_module_that_lists_its_own_parameters() -> None:
    from micrograd_like import Module

    class Logistic(Module):
        def __init__(self):
            self._w = [Value(0.0), Value(0.0)]  # private names: found only through parameters()
            self._b = Value(0.0)

        def parameters(self):
            return [*self._w, self._b]

        def forward(self, x):
            return (self._w[0] * x[0] + self._w[1] * x[1] + self._b).sigmoid()

    model = Logistic()
    assert list(model.state_dict()) == ["parameters.0", "parameters.1", "parameters.2"]
    model.compile(optim.SGD(learning_rate=0.5), "binary_crossentropy")
    snapshots = {}
    remember = LambdaCallback(
        on_epoch_end=lambda epoch, logs: snapshots.update({epoch: model.state_dict()})
    )
    stopper = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    flipped = 1 - Y[150:]  # validation labels flipped: it gets worse as training goes on
    model.fit(
        X[:150],
        Y[:150],
        epochs=20,
        validation_data=(X[150:], flipped),
        callbacks=[remember, stopper],
        verbose=0,
    )
    assert stopper.stopped_epoch is not None
    assert model.state_dict() == snapshots[stopper.best_epoch] != snapshots[stopper.stopped_epoch]


def test_keras_batch_hooks_are_called() -> None:
    class Counting(Callback):
        def __init__(self):
            super().__init__()
            self.begun, self.ended = [], []

        def on_batch_begin(self, batch, logs=None):
            self.begun.append(batch)

        def on_batch_end(self, batch, logs=None):
            self.ended.append(logs["loss"])

    counting = Counting()
    seen = []
    model = MLP(2, [4, 1], seed=0)
    model.compile("sgd", "mse")
    model.fit(
        X,
        Y,
        epochs=2,
        batch_size=50,
        verbose=0,
        callbacks=[
            counting,
            LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch)),
        ],
    )
    assert counting.begun == seen == [0, 1, 2, 3] * 2 and len(counting.ended) == 8
    with pytest.raises(TypeError, match="unknown hook 'on_epoch_finish'"):
        LambdaCallback(on_epoch_finish=print)


def test_reduce_lr_on_plateau() -> None:
    model = MLP(2, [4, 1], seed=0)
    model.compile(optim.SGD(learning_rate=0.0), "mse")  # nothing changes: a plateau
    model.optimizer.lr = 1e-12
    reduce = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, cooldown=1, min_lr=2e-13)
    history = model.fit(X, Y, epochs=10, batch_size=None, verbose=0, callbacks=[reduce])
    # Keras' rule: epoch 0 sets the best; after 2 epochs without improvement (by more than
    # min_delta) the rate is halved (logged from the next epoch on); the epoch after a cut
    # is the cooldown, which counts as one epoch of waiting; min_lr is a floor
    assert history.history["learning_rate"] == [
        1e-12,
        1e-12,
        1e-12,
        5e-13,
        5e-13,
        2.5e-13,
        2.5e-13,
        2e-13,
        2e-13,
        2e-13,
    ]
    with pytest.raises(ValueError, match="factor must be a number in"):
        ReduceLROnPlateau(factor=1.5)


def test_progress_lines_in_a_log(capsys) -> None:
    model = MLP(2, [4, 1], seed=0)
    model.compile("sgd", "mse")
    model.fit(X, Y, epochs=3, verbose="auto")  # stderr is captured: not a terminal
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 3 and err.startswith("Epoch 1/3 - loss: ")


def test_only_a_softmax_is_read_as_one() -> None:
    from micrograd_like.activations import output_activation, softmax

    z = [Value(0.3), Value(-1.2), Value(2.0)]
    assert output_activation(softmax(z)) == "softmax"
    assert output_activation([x.sigmoid() for x in z]) == "sigmoid"
    assert output_activation(z) == "linear"
    from micrograd_like.engine import OPS

    half = OPS["logsumexp"](*z) * -0.5  # exp(z_i - lse / 2): not probabilities
    assert output_activation([(x + half).exp() for x in z]) == "linear"
