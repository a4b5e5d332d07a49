"""One answer per input (issue 11, point 7): where the batched replay meets a non-finite
value, even an intermediate one that a later op hides (tanh(inf) = 1), the batch is redone
sample by sample, so predict, evaluate and fit agree with the per-sample engine."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from micrograd_like import MLP
from micrograd_like.tape import Tape

ROWS = np.array([[1.0, 2.0], [1.7e308, 1.7e308]])  # w1 * x1 + w2 * x2 overflows in row 1


def twins():
    """The same tanh MLP twice: replayed in batches, and forced sample by sample."""
    replayed, per_sample = (MLP(2, [4, 1], activation="tanh", seed=0) for _ in range(2))
    per_sample.static_graph = False
    for model in (replayed, per_sample):
        model.compile("sgd", "mse")
    return replayed, per_sample


def outcome(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = call()
        except (ArithmeticError, ValueError) as exc:
            return type(exc), str(exc)
    return result, [str(w.message) for w in caught]


def test_predict_gives_the_engine_s_error_for_an_intermediate_overflow():
    replayed, per_sample = twins()
    assert outcome(lambda: replayed.predict(ROWS)) == outcome(lambda: per_sample.predict(ROWS))
    error, message = outcome(lambda: replayed.predict(ROWS))
    assert error is OverflowError and message.startswith("linear overflowed")
    assert outcome(lambda: replayed.predict(ROWS[1:])) == (error, message)
    np.testing.assert_allclose(replayed.predict(ROWS[:1]), per_sample.predict(ROWS[:1]), rtol=1e-12)


def test_evaluate_and_fit_agree_with_the_per_sample_path():
    replayed, per_sample = twins()
    y = np.array([0.0, 1.0])
    evaluated = outcome(lambda: replayed.evaluate(ROWS, y, verbose=0))
    assert evaluated == outcome(lambda: per_sample.evaluate(ROWS, y, verbose=0))
    assert evaluated[0] == math.inf
    fitted = outcome(lambda: replayed.fit(ROWS, y, epochs=2, verbose=0, seed=0).history)
    assert fitted == outcome(lambda: per_sample.fit(ROWS, y, epochs=2, verbose=0, seed=0).history)
    assert replayed.state_dict() == per_sample.state_dict()


def test_the_tape_raises_on_a_hidden_non_finite_value():
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    tape = Tape.record(lambda leaves: [model(leaves)], model.parameters(), [1.0, 2.0])
    theta = np.array([p.data for p in model.parameters()])
    (out,) = tape.run([np.array([[1.0, 2.0]])], theta)
    assert math.isfinite(out[0])
    with pytest.raises(FloatingPointError):
        tape.run([ROWS], theta)
