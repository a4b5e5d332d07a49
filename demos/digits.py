"""A real classifier: handwritten digits (8x8 pixels, 10 classes) to 97% test accuracy.

The data are scikit-learn's 1,797 digits, shipped with the package (``load_digits``): 64
pixel intensities 0..16 per image. A stratified quarter is held out as the test set (each
digit in proportion), a :class:`Standardizer` fitted on the training images only scales
every pixel to mean 0 and standard deviation 1, and ``MLP(64, [128, 10])`` (ReLU, then one
logit per digit) learns them with ``sparse_categorical_crossentropy`` and Adam (lr 0.002),
minibatches of 32, 15 epochs: about half a second of ``fit``, 97-98% on the test images.

The initial weights are Glorot-uniform (``kernel_initializer="glorot_uniform"``), U(-l, l)
with l = sqrt(6 / (fan_in + fan_out)): with 64 inputs, micrograd's uniform(-1, 1) makes
the first layer's sums far too large (variance 64/3 per unit of input variance) and the
same recipe stops near 94%.

    python demos/digits.py                # train, print the confusion matrix
    python demos/digits.py --out DIR      # also DIR/digits_confusion.png and
                                          # DIR/digits_misclassified.png (matplotlib)
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from micrograd_like import MLP
from micrograd_like.datasets import Standardizer, load_digits, train_test_split
from micrograd_like.metrics import confusion_matrix
from micrograd_like.optim import Adam

SEED = 0
EPOCHS = 15
HIDDEN = 128
LEARNING_RATE = 0.002
BATCH_SIZE = 32
TEST_FRACTION = 0.25
MISCLASSIFIED_SHOWN = 24


@dataclass
class DigitsRun:
    """The trained model, the standardizer, the test set and what the model says on it."""

    model: MLP
    standardizer: Standardizer
    X_test: np.ndarray  # raw pixels 0..16
    y_test: np.ndarray
    predicted: np.ndarray
    seconds: float  # of fit

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.predicted == self.y_test))

    @property
    def confusion(self) -> np.ndarray:
        return confusion_matrix(self.y_test, self.predicted, n_classes=10)


def split(seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, X_test, y_train, y_test): the digits, a stratified quarter held out."""
    X, y = load_digits()
    return train_test_split(X, y, test_size=TEST_FRACTION, random_state=seed, stratify=y)


def new_model(seed: int = SEED) -> MLP:
    """The recipe's network, compiled: MLP(64, [128, 10]) with Glorot-uniform weights, Adam,
    crossentropy on the logits."""
    model = MLP(64, [HIDDEN, 10], seed=seed, kernel_initializer="glorot_uniform")
    model.compile(Adam(lr=LEARNING_RATE), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def train(epochs: int = EPOCHS, seed: int = SEED, verbose: int = 0) -> DigitsRun:
    """Split, standardize (fitted on the training images only), train, predict the test set."""
    import time

    X_train, X_test, y_train, y_test = split(seed)
    standardizer = Standardizer().fit(X_train)
    model = new_model(seed)
    start = time.perf_counter()
    model.fit(
        standardizer.transform(X_train),
        y_train,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        verbose=verbose,
        seed=seed,
    )
    seconds = time.perf_counter() - start
    predicted = model.predict(standardizer.transform(X_test)).argmax(axis=1)
    return DigitsRun(model, standardizer, X_test, y_test, predicted, seconds)


def confusion_text(matrix: np.ndarray) -> str:
    """The confusion matrix as a table: a row per true digit, a column per prediction."""
    width = max(3, len(str(matrix.max())) + 1)
    header = "true\\pred" + "".join(str(j).rjust(width) for j in range(len(matrix)))
    rows = [f"{i:>9}" + "".join(str(n).rjust(width) for n in row) for i, row in enumerate(matrix)]
    return "\n".join([header, *rows])


def write_pictures(run: DigitsRun, out: Path) -> list[Path]:
    """The confusion matrix and the misclassified test digits as PNGs in ``out``."""
    from micrograd_like.plot import plot_confusion_matrix, plot_images

    out.mkdir(parents=True, exist_ok=True)
    wrong = np.flatnonzero(run.predicted != run.y_test)[:MISCLASSIFIED_SHOWN]
    written = [
        plot_confusion_matrix(
            run.confusion,
            out / "digits_confusion.png",
            title=f"digits: test accuracy {run.accuracy:.1%} ({len(run.y_test)} images)",
        )
    ]
    if len(wrong):
        written.append(
            plot_images(
                run.X_test[wrong],
                out / "digits_misclassified.png",
                captions=[f"{run.y_test[i]} read as {run.predicted[i]}" for i in wrong],
                title="misclassified test digits: true label, prediction",
            )
        )
    return written


def main(argv: Sequence[str] | None = None) -> DigitsRun:
    """Parse the arguments, train, print the accuracy and the confusion matrix."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS, help=f"epochs ({EPOCHS})")
    parser.add_argument("--seed", type=int, default=SEED, help=f"split, weights ({SEED})")
    parser.add_argument("--out", type=Path, help="write the pictures into this directory")
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be at least 1")
    if not 0 <= args.seed < 2**32:
        parser.error("--seed must be in [0, 2**32 - 1]")
    run = train(args.epochs, args.seed, verbose=2)
    errors = int(np.sum(run.predicted != run.y_test))
    print(
        f"test accuracy {run.accuracy:.1%} ({errors} of {len(run.y_test)} test digits wrong), "
        f"fit took {run.seconds:.2f} s"
    )
    print(confusion_text(run.confusion))
    if args.out is not None:
        try:
            for path in write_pictures(run, args.out):
                print(f"wrote {path}")
        except ModuleNotFoundError as err:
            print(f"(no pictures: {err})")
    return run


if __name__ == "__main__":
    main()
