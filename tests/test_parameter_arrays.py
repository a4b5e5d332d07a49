"""fit and train_on_batch keep the parameters in numpy arrays; whoever looks at the Values
(a callback, the user between two calls, the code after an exception) sees them as the
per-sample path, which updates the Values at every step, has them."""

from __future__ import annotations

import numpy as np
import pytest

from micrograd_like import MLP, Layer, Module, Value, datasets
from micrograd_like.callbacks import Callback, LambdaCallback
from micrograd_like.nn.module import Structure
from micrograd_like.optim import SGD, Adam


def data(n: int = 40):
    X, y = datasets.make_moons(n, noise=0.2, random_state=1)
    return X, y


def values(model) -> np.ndarray:
    return np.array([p.data for p in model.parameters()])


def grads(model) -> np.ndarray:
    return np.array([p.grad for p in model.parameters()])


def new_model(optimizer=None):
    model = MLP(2, [6, 1], seed=5)
    model.compile(optimizer or SGD(lr=0.1, momentum=0.9), "binary_crossentropy", l2=1e-3)
    return model


class BatchWatcher(Callback):
    """Records the parameters (and gradients) the Values hold at every batch end."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[np.ndarray] = []
        self.grads: list[np.ndarray] = []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(values(self.model))
        self.grads.append(grads(self.model))


class LogsOnly(Callback):
    """Reads only the logs at batch ends, and says so."""

    batch_hooks_read_logs_only = True

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[np.ndarray] = []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append(values(self.model))


def per_sample(monkeypatch, run):
    """``run()`` with the replay switched off: every step goes through the Values."""
    with monkeypatch.context() as patch:
        patch.setattr(MLP, "static_graph", False)
        return run()


def test_a_callback_reading_weights_at_batch_ends_sees_every_step(monkeypatch):
    X, y = data()

    def run():
        model, watcher = new_model(), BatchWatcher()
        start = values(model)
        model.fit(X, y, epochs=2, batch_size=8, callbacks=[watcher], verbose=0, seed=0)
        assert not np.allclose(watcher.seen[0], start)  # the first step is already seen
        np.testing.assert_array_equal(watcher.seen[-1], values(model))
        return watcher

    replayed, reference = run(), per_sample(monkeypatch, run)
    assert len(replayed.seen) == len(reference.seen) == 10
    np.testing.assert_allclose(replayed.seen, reference.seen, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(replayed.grads, reference.grads, rtol=1e-10, atol=1e-14)
    assert not np.allclose(replayed.seen[0], replayed.seen[1])  # the weights did move


class OlderNameWatcher(Callback):
    """BatchWatcher written with Keras' older hook name."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[np.ndarray] = []

    def on_batch_end(self, batch, logs=None):
        self.seen.append(values(self.model))


def _lambda_watcher() -> Callback:
    seen: list[np.ndarray] = []
    callback = LambdaCallback(on_batch_end=lambda batch, logs: seen.append(values(callback.model)))
    callback.seen = seen  # type: ignore[attr-defined]
    return callback


@pytest.mark.parametrize("make", [OlderNameWatcher, _lambda_watcher], ids=["subclass", "lambda"])
def test_a_callback_on_keras_older_batch_hook_sees_every_step(make):
    X, y = data()
    model, watcher = new_model(), make()
    model.fit(X, y, epochs=1, batch_size=8, callbacks=[watcher], verbose=0, seed=0)
    assert len(watcher.seen) == 5
    assert len({tuple(seen) for seen in watcher.seen}) == 5  # a new step at every batch
    np.testing.assert_array_equal(watcher.seen[-1], values(model))


def test_a_logs_only_callback_leaves_the_values_untouched_during_an_epoch():
    X, y = data()
    model, watcher = new_model(), LogsOnly()
    start = values(model)
    model.fit(X, y, epochs=1, batch_size=8, callbacks=[watcher], verbose=0, seed=0)
    assert len(watcher.seen) == 5
    for seen in watcher.seen:  # the steps happened in the arrays only
        np.testing.assert_array_equal(seen, start)
    assert not np.allclose(values(model), start)  # ... and reached the Values at the end


def test_epoch_hooks_see_the_weights_and_their_changes_are_kept(monkeypatch):
    X, y = data()

    class HalveAtEpochEnd(Callback):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[np.ndarray] = []

        def on_epoch_end(self, epoch, logs=None):
            self.seen.append(values(self.model))
            for p in self.model.parameters():
                p.data *= 0.5

    def run():
        model, halve = new_model(), HalveAtEpochEnd()
        history = model.fit(X, y, epochs=3, batch_size=16, callbacks=[halve], verbose=0, seed=2)
        return halve.seen, values(model), history.history["loss"]

    seen, final, loss = run()
    seen_ref, final_ref, loss_ref = per_sample(monkeypatch, run)
    np.testing.assert_allclose(seen, seen_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(final, final_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(final, seen[-1] * 0.5, rtol=1e-15)
    np.testing.assert_allclose(loss, loss_ref, rtol=1e-12)


def test_an_exception_in_a_callback_leaves_the_last_step_in_the_values(monkeypatch):
    X, y = data()

    class Boom(Callback):
        batch_hooks_read_logs_only = True

        def on_train_batch_end(self, batch, logs=None):
            if batch == 2:
                raise KeyboardInterrupt

    def run():
        model = new_model(Adam(lr=0.05))
        with pytest.raises(KeyboardInterrupt):
            model.fit(X, y, epochs=1, batch_size=8, callbacks=[Boom()], verbose=0, seed=0)
        return values(model), grads(model)

    (data_after, grad_after), (data_ref, grad_ref) = run(), per_sample(monkeypatch, run)
    np.testing.assert_allclose(data_after, data_ref, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad_after, grad_ref, rtol=1e-10, atol=1e-14)


def three_train_on_batch_calls(between=lambda model: None):
    """(loss, values, gradients) after each of three ``train_on_batch`` calls on a new
    model, ``between(model)`` called after the second."""
    X, y = data(24)
    model = new_model()
    seen = []
    for start in range(0, 24, 8):
        loss = model.train_on_batch(X[start : start + 8], y[start : start + 8])
        seen.append((loss, values(model), grads(model)))
        if start == 8:
            between(model)
    return seen


def test_train_on_batch_leaves_values_and_gradients_readable_after_each_call(monkeypatch):
    run = three_train_on_batch_calls
    for (loss, v, g), (loss_ref, v_ref, g_ref) in zip(run(), per_sample(monkeypatch, run)):
        assert loss == pytest.approx(loss_ref, rel=1e-12)
        np.testing.assert_allclose(v, v_ref, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(g, g_ref, rtol=1e-10, atol=1e-14)


def test_a_weight_changed_by_hand_between_train_on_batch_calls_is_used(monkeypatch):
    X, y = data(16)

    def run():
        model = new_model()
        model.train_on_batch(X[:8], y[:8])
        model.layers[0].neurons[2].w[1].data = 3.0  # by hand, between two calls
        model.parameters()[-1].data -= 0.25
        loss = model.train_on_batch(X[8:], y[8:])
        return loss, values(model)

    (loss, after), (loss_ref, after_ref) = run(), per_sample(monkeypatch, run)
    assert loss == pytest.approx(loss_ref, rel=1e-12)
    np.testing.assert_allclose(after, after_ref, rtol=1e-12, atol=1e-14)


def test_evaluate_and_predict_read_the_values_as_they_are_now():
    X, y = data(10)
    model = new_model()
    model.fit(X, y, epochs=1, batch_size=5, verbose=0, seed=0)
    model.layers[1].neurons[0].b.data += 1.0
    expected = [model(list(x)).data for x in X]
    np.testing.assert_allclose(model.predict(X)[:, 0], expected, rtol=1e-12)
    assert model.evaluate(X, y, verbose=0) == pytest.approx(
        model.loss([float(t) for t in y], [model(list(x)) for x in X]).data
        + 1e-3 * sum(p.data**2 for p in model.parameters()),
        rel=1e-12,
    )


def test_predict_inside_a_batch_hook_sees_the_current_weights_and_loses_no_step():
    X, y = data()

    class PredictsAnyway(Callback):
        """Declares logs only, yet predicts: the arrays must not be overwritten."""

        batch_hooks_read_logs_only = True

        def __init__(self) -> None:
            super().__init__()
            self.outputs: list[np.ndarray] = []

        def on_train_batch_end(self, batch, logs=None):
            self.outputs.append(self.model.predict(X[:4]))

    model, hook = new_model(), PredictsAnyway()
    model.fit(X, y, epochs=2, batch_size=8, callbacks=[hook], verbose=0, seed=0)
    reference, watcher = new_model(), BatchWatcher()  # the weights after every step
    reference.fit(X, y, epochs=2, batch_size=8, callbacks=[watcher], verbose=0, seed=0)
    np.testing.assert_array_equal(values(model), values(reference))
    probe = new_model()
    for outputs, weights in zip(hook.outputs, watcher.seen, strict=True):
        for p, w in zip(probe.parameters(), weights):
            p.data = float(w)
        np.testing.assert_allclose(outputs, probe.predict(X[:4]), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- the walk kept between calls


def _replace_a_weight(model) -> None:
    model.layers[0].neurons[2].w[1] = Value(0.75)


def _replace_a_bias(model) -> None:
    model.layers[1].neurons[0].b = Value(-0.5)


def _append_a_layer(model) -> None:
    model.add(Layer(1, 1, nonlin=False, seed=9))


def _set_values_and_zero_grads(model) -> None:
    for p in model.parameters()[::3]:
        p.data = -p.data
    model.zero_grad()


def _compile_again(model) -> None:
    model.compile(Adam(lr=0.05), "hinge", l2=1e-2)


@pytest.mark.parametrize(
    "change",
    [
        _replace_a_weight,
        _replace_a_bias,
        _append_a_layer,
        _set_values_and_zero_grads,
        _compile_again,
    ],
)
def test_train_on_batch_after_a_change_gives_what_a_new_walk_gives(monkeypatch, change):
    """Each call walks the model only when it changed: the results are those of walking it
    at every call, bit for bit."""
    kept = three_train_on_batch_calls(change)
    with monkeypatch.context() as patch:
        patch.setattr(Structure, "describes", lambda self, root: False)
        walked = three_train_on_batch_calls(change)
    for (loss, v, g), (loss_ref, v_ref, g_ref) in zip(kept, walked, strict=True):
        assert loss == loss_ref
        np.testing.assert_array_equal(v, v_ref)
        np.testing.assert_array_equal(g, g_ref)


def test_train_on_batch_walks_an_unchanged_model_once(monkeypatch):
    X, y = data(16)
    model = new_model()
    walks = []
    original = Module._parameter_structure
    monkeypatch.setattr(
        Module, "_parameter_structure", lambda self: walks.append(self) or original(self)
    )
    for _ in range(4):
        model.train_on_batch(X, y)
    assert walks == [model]
    model.layers[0].neurons[0].b = Value(0.0)
    model.train_on_batch(X, y)
    assert walks == [model, model]
