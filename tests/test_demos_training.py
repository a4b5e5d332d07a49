"""The training demos: micrograd's moons demo and the hand-written SGD loop."""

from __future__ import annotations

import random

import numpy as np
import pytest
from demo_loader import load_demo


@pytest.fixture(scope="module")
def moons():
    return load_demo("moons")


@pytest.fixture
def keep_global_random():
    state = random.getstate()
    yield
    random.setstate(state)


def test_moons_demo_reaches_100_percent_training_accuracy(moons, capsys, keep_global_random):
    accuracy = moons.main([])
    out = capsys.readouterr().out.splitlines()
    assert accuracy == 1.0
    assert out[-1] == "training accuracy after 100 steps: 100%"
    assert len(out) == 101 and out[0].startswith("Epoch 1/100 - loss: ")


def test_moons_demo_quick_mode(moons, capsys, keep_global_random) -> None:
    moons.main(["--steps", "3"])
    out = capsys.readouterr().out.splitlines()
    assert [line.split(" - ")[0] for line in out[:3]] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert "lr: 0.9910" in out[1]  # 1.0 - 0.9 * 1 / 100
    assert out[-1].startswith("training accuracy after 3 steps: ")


def test_moons_demo_matches_micrograd_step_by_step(moons, keep_global_random) -> None:
    """The same data, initial weights, loss and updates written with micrograd itself."""
    micrograd_engine = pytest.importorskip("micrograd.engine")
    micrograd_nn = pytest.importorskip("micrograd.nn")
    from micrograd_like.datasets import make_moons

    steps = 2  # micrograd's own engine takes about a second per step
    X, y = make_moons(n_samples=100, noise=0.1, random_state=1337)
    y = y * 2 - 1
    random.seed(1337)
    model = micrograd_nn.MLP(2, [16, 16, 1])
    expected = []
    for k in range(steps):
        scores = [model([micrograd_engine.Value(float(v)) for v in row]) for row in X]
        losses = [(1 + -float(yi) * score).relu() for yi, score in zip(y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        total = data_loss + 1e-4 * sum(p * p for p in model.parameters())
        accuracy = np.mean([(yi > 0) == (score.data > 0) for yi, score in zip(y, scores)])
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= (1.0 - 0.9 * k / 100) * p.grad
        expected.append((total.data, accuracy))

    ours, history, _ = moons.train(steps, verbose=0)
    np.testing.assert_allclose(history.history["loss"], [e[0] for e in expected], rtol=1e-12)
    assert history.history["accuracy"] == [e[1] for e in expected]
    np.testing.assert_allclose(
        [p.data for p in ours.parameters()], [p.data for p in model.parameters()], rtol=1e-10
    )


def test_sgd_by_hand_demo(capsys) -> None:
    demo = load_demo("sgd_by_hand")
    losses = demo.main(["--epochs", "12"])
    out = capsys.readouterr().out.splitlines()
    assert len(losses) == 12 and len(out) == 13
    assert out[0] == f"epoch   1  loss {losses[0]:.4f}"
    assert losses[-1] < 0.6 * losses[0]
    accuracy = float(out[-1].split()[-1].rstrip("%")) / 100
    assert accuracy >= 0.8


def test_sgd_by_hand_loss_is_half_the_sum_of_squared_errors() -> None:
    """One epoch in one batch with lr 0 leaves the model as it was: the printed loss is
    1/2 * sum (y - t)^2 of the initial model."""
    demo = load_demo("sgd_by_hand")
    model, losses, _ = demo.train(epochs=1, batch_size=100, lr=1e-300, seed=0)
    from micrograd_like.datasets import make_moons

    X, labels = make_moons(n_samples=100, noise=0.1, random_state=0)
    outputs = model.predict(X)[:, 0]
    assert losses[0] == pytest.approx(0.5 * np.sum((outputs - (2.0 * labels - 1)) ** 2))
