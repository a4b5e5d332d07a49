"""Three classes at once: an MLP with one output per class learns the 3-arm spiral.

The data are ``make_spiral(300, 3)`` (cs231n's spiral arms, angle noise 0.2), a quarter
held out for validation. The model ``MLP(2, [16, 16, 3])`` gives 3 outputs, one score
(logit) per class; the loss is ``sparse_categorical_crossentropy`` on integer labels
(-log softmax(z)[label]), the prediction is the class with the largest score. Adam
(lr 0.05) trains it in minibatches of 32; one line per epoch, then the final training and
validation accuracy (about 99% with the defaults, in about a second).

    python demos/spiral.py                # 100 epochs
    python demos/spiral.py --quick        # 30 epochs
    python demos/spiral.py --out DIR      # also draw the decision boundary to DIR
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from micrograd_like import MLP
from micrograd_like.callbacks import History
from micrograd_like.datasets import make_spiral, train_test_split
from micrograd_like.optim import Adam
from micrograd_like.plot import plot_decision_boundary

SEED = 0
EPOCHS = 100
QUICK_EPOCHS = 30
N_CLASSES = 3


def train(
    epochs: int = EPOCHS, seed: int = SEED, verbose: int = 2, out_dir: Path | None = None
) -> tuple[MLP, History, dict[str, float]]:
    """Train on the spiral; returns the model, its History and the final accuracies
    (``train`` and ``validation``). With ``out_dir``, also writes
    ``out_dir/spiral_boundary.png`` (when matplotlib is installed)."""
    X, y = make_spiral(300, N_CLASSES, noise=0.2, random_state=seed)
    X_train, X_val, y_train, y_val = train_test_split(X, y, test_size=0.25, random_state=seed)
    model = MLP(2, [16, 16, N_CLASSES], seed=seed)
    model.compile(Adam(lr=0.05), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(
        X_train,
        y_train,
        epochs=epochs,
        batch_size=32,
        validation_data=(X_val, y_val),
        verbose=verbose,
        seed=seed,
    )
    accuracy = {
        "train": model.evaluate(X_train, y_train, return_dict=True, verbose=0)["accuracy"],
        "validation": model.evaluate(X_val, y_val, return_dict=True, verbose=0)["accuracy"],
    }
    if out_dir is not None:
        write_boundary(model, X, y, Path(out_dir) / "spiral_boundary.png")
    return model, history, accuracy


def write_boundary(model: MLP, X: np.ndarray, y: np.ndarray, path: Path) -> None:
    """Draw the decision boundary to ``path``; without matplotlib, say what to install."""
    try:
        written = plot_decision_boundary(model, X, y, path, title="spiral: 3 classes")
    except ModuleNotFoundError as err:
        print(f"(no decision boundary: {err})")
        return
    print(f"decision boundary written to {written}")


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    """Parse the arguments, train and print the final accuracies; returns them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--epochs", type=int, default=EPOCHS, help=f"epochs ({EPOCHS})")
    length.add_argument("--quick", action="store_true", help=f"{QUICK_EPOCHS} epochs")
    parser.add_argument("--seed", type=int, default=SEED, help=f"data and weights ({SEED})")
    parser.add_argument("--out", type=Path, help="write the decision boundary PNG here")
    args = parser.parse_args(argv)
    epochs = QUICK_EPOCHS if args.quick else args.epochs
    if epochs < 1:
        parser.error("--epochs must be at least 1")
    if not 0 <= args.seed < 2**32:
        parser.error("--seed must be in [0, 2**32 - 1]")
    _, _, accuracy = train(epochs, args.seed, out_dir=args.out)
    print(
        f"after {epochs} epochs: training accuracy {accuracy['train']:.1%}, "
        f"validation accuracy {accuracy['validation']:.1%}"
    )
    return accuracy


if __name__ == "__main__":
    main()
