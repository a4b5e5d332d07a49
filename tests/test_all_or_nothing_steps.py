"""Optimizer steps are all or nothing, Adam's state survives a huge gradient, and fit stops
on a refused step keeping the last finite weights (issue 11, point 2)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from micrograd_like import MLP, Value, load_model
from micrograd_like.optim import SGD, Adam, Optimizer, StepOverflowError


def test_a_step_that_would_make_a_parameter_infinite_changes_nothing():
    v, w = Value(1.0), Value(2.0)
    v.grad, w.grad = 10.0, 0.0
    with pytest.raises(StepOverflowError, match=r"parameter 0 -inf .*lr 1e\+308.*nothing|no"):
        SGD([w, v][::-1], lr=1e308).step()
    assert (v.data, w.data) == (1.0, 2.0)


def test_a_refused_step_does_not_advance_the_momentum_buffer():
    p = Value(1.0)
    opt = SGD([p], lr=1e-300, momentum=0.9)
    p.grad = 1e308
    opt.step()
    buffer, data = opt._buffer.copy(), p.data
    with pytest.raises(StepOverflowError, match="parameter 0 -inf"):
        opt.step()  # b = 0.9 * 1e308 + 1e308 overflows
    assert p.data == data and np.array_equal(opt._buffer, buffer)


class Doubling(Optimizer):
    """A custom optimizer whose state doubles at each step (the documented protocol)."""

    def _reset_state(self) -> None:
        self.scale = np.ones(len(self.params))

    def _update(self, data, grads):
        return data - self.lr * grads, {"scale": self.scale * 1e300}


def test_a_step_that_would_make_the_state_non_finite_changes_nothing():
    p = Value(1.0)
    p.grad = 1.0
    opt = Doubling([p], lr=0.5)
    opt.step()
    assert p.data == 0.5 and opt.scale[0] == 1e300
    with pytest.raises(StepOverflowError, match="state scale non-finite"):
        opt.step()
    assert p.data == 0.5 and opt.scale[0] == 1e300


def test_one_huge_gradient_does_not_freeze_adam():
    """v = g^2 overflows for |g| > 1e154; Adam keeps sqrt(v), which does not."""
    params = [Value(0.0) for _ in range(4)]
    opt = Adam(params, lr=0.01)
    for p, g in zip(params, [1e200, -1e300, 1.0, 1e-3]):
        p.grad = g
    opt.step()
    assert all(math.isfinite(p.data) for p in params)
    before = [p.data for p in params]
    for _ in range(20):
        for p in params:
            p.grad = 1.0
        opt.step()
    assert all(abs(p.data - b) > 1e-4 for p, b in zip(params, before))  # none is frozen
    assert np.isfinite(opt._m).all() and np.isfinite(opt._r).all()


def test_adam_keeps_the_root_of_the_textbook_second_moment():
    p = Value(0.0)
    opt = Adam([p], betas=(0.9, 0.99))
    v = 0.0
    for g in (3.0, -1.0, 0.5):
        p.grad = g
        opt.step()
        v = 0.99 * v + 0.01 * g * g
    assert opt._r[0] == pytest.approx(math.sqrt(v), rel=1e-15)


def data() -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(0).normal(size=(40, 2))
    return X, 100.0 * X[:, 0]


def test_fit_stops_on_a_refused_step_with_the_last_finite_weights(tmp_path):
    X, y = data()
    model = MLP(2, [4, 1], seed=0)
    model.compile(SGD(lr=1e-3), "mse")
    model.fit(X, y, epochs=1, batch_size=8, verbose=0)  # some ordinary steps first
    before = model.state_dict()
    model.optimizer.lr = 1e308  # every step now overflows
    with pytest.warns(RuntimeWarning, match=r"in epoch 1, batch 0: SGD\.step\(\).*last finite"):
        history = model.fit(X, y, epochs=3, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 1 and math.isfinite(history.history["loss"][0])
    assert model.state_dict() == before
    model.save(tmp_path / "model.json")
    assert load_model(tmp_path / "model.json").state_dict() == before


def test_train_on_batch_skips_a_refused_step_with_a_warning():
    X, y = data()
    model = MLP(2, [4, 1], seed=0)
    model.compile(SGD(lr=1e308), "mse")
    before = model.state_dict()
    with pytest.warns(RuntimeWarning, match="in train_on_batch: SGD.step.*weights are unchanged"):
        loss = model.train_on_batch(X, y)
    assert math.isfinite(loss) and model.state_dict() == before
