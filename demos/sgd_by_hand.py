"""The lecture's SGD algorithm written out by hand, with the PyTorch-style optimizer.

Until the epochs run out: shuffle the data; for each minibatch: forward pass, the squared
error L = 1/2 * sum (y - t)^2 (whose derivative with respect to an output y is y - t),
zero the gradients, backward pass, and one step w -= lr * dL/dw. The data are the two
moons with targets -1/+1; the loss of each epoch is printed, then the accuracy.

    python demos/sgd_by_hand.py [--epochs 30] [--batch-size 10] [--lr 0.01]
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

from micrograd_like import MLP
from micrograd_like.datasets import make_moons
from micrograd_like.optim import SGD


def train(
    epochs: int = 30, batch_size: int = 10, lr: float = 0.01, seed: int = 0
) -> tuple[MLP, list[float], float]:
    """Train by hand; returns the model, the loss of each epoch and the final accuracy."""
    X, labels = make_moons(n_samples=100, noise=0.1, random_state=seed)
    targets = labels * 2.0 - 1.0
    model = MLP(2, [8, 8, 1], activation="tanh", seed=seed)
    optimizer = SGD(model.parameters(), lr=lr, momentum=0.9)
    rng = np.random.default_rng(seed)
    epoch_losses = []
    for epoch in range(epochs):
        order = rng.permutation(len(X))  # shuffle
        epoch_loss = 0.0
        for start in range(0, len(X), batch_size):
            batch = order[start : start + batch_size]
            outputs = [model(X[i].tolist()) for i in batch]  # forward pass
            loss = 0.5 * sum((y - targets[i]) ** 2 for y, i in zip(outputs, batch))
            optimizer.zero_grad()
            loss.backward()  # dL/dy = y - t, then the chain rule back to every weight
            optimizer.step()  # w -= lr * dL/dw (with momentum)
            epoch_loss += loss.data
        epoch_losses.append(epoch_loss)
        print(f"epoch {epoch + 1:3d}  loss {epoch_loss:.4f}")
    predictions = np.array([model(x.tolist()).data for x in X])
    accuracy = float(np.mean(np.sign(predictions) == targets))
    print(f"training accuracy: {accuracy:.0%}")
    return model, epoch_losses, accuracy


def main(argv: Sequence[str] | None = None) -> list[float]:
    """Parse the arguments and train; returns the loss of each epoch."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.batch_size < 1 or not args.lr > 0:
        parser.error("--epochs and --batch-size must be >= 1 and --lr > 0")
    return train(args.epochs, args.batch_size, args.lr, args.seed)[1]


if __name__ == "__main__":
    main()
