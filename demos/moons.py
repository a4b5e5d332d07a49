"""micrograd's demo with the Keras-style API: a 2-layer MLP separates the two moons.

The same setup as micrograd's ``demo.ipynb``: 100 moons points (noise 0.1, labels mapped
to -1/+1 by y*2 - 1), ``MLP(2, [16, 16, 1])`` with the random module seeded to 1337 (so
the initial weights are micrograd's), hinge loss ``mean(relu(1 - y*score))`` plus the L2
penalty ``1e-4 * sum(p^2)``, and 100 full-batch SGD steps with the learning rate
``1.0 - 0.9*k/100`` at step k. It prints one line per step and the final training
accuracy (100%).

    python demos/moons.py             # the full 100 steps
    python demos/moons.py --steps 10  # a quick run
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence

from micrograd_like import MLP
from micrograd_like.callbacks import History, LearningRateScheduler
from micrograd_like.datasets import make_moons
from micrograd_like.optim import SGD, LinearDecay

SEED = 1337
TOTAL_STEPS = 100


def build_model() -> MLP:
    """micrograd's initial model: random.seed(1337) then MLP(2, [16, 16, 1])."""
    random.seed(SEED)
    return MLP(2, [16, 16, 1])


def train(steps: int = TOTAL_STEPS, verbose: int = 2) -> tuple[MLP, History, float]:
    """Run the demo for ``steps`` steps; returns the model, its history and the training
    accuracy after the last step."""
    X, y = make_moons(n_samples=100, noise=0.1, random_state=SEED)
    y = y * 2 - 1  # labels -1 / +1, as in micrograd's demo
    model = build_model()
    model.compile(optimizer=SGD(lr=1.0), loss="hinge", metrics=["accuracy"], l2=1e-4)
    # lr at step k = 1.0 - 0.9 * k / 100, whatever the number of steps run
    schedule = LearningRateScheduler(LinearDecay(1.0, TOTAL_STEPS, 0.1))
    history = model.fit(
        X,
        y,
        epochs=steps,
        batch_size=None,  # batch mode: one step per epoch on all 100 points
        shuffle=False,
        callbacks=[schedule],
        verbose=verbose,
    )
    return model, history, model.evaluate(X, y, return_dict=True, verbose=0)["accuracy"]


def main(argv: Sequence[str] | None = None) -> float:
    """Parse the arguments, train, print the final accuracy and return it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=TOTAL_STEPS, help="SGD steps (100)")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    model, _, accuracy = train(args.steps)
    print(f"training accuracy after {args.steps} steps: {accuracy:.0%}")
    return accuracy


if __name__ == "__main__":
    main()
