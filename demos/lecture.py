"""The lecture, runnable: from one neuron to watching a network learn in TensorBoard.

Seven short sections, each a function that computes its numbers, prints them with a short
explanation and returns them (the tests check the returned numbers):

1. one neuron: inputs, weights, bias, activation, by hand and by the engine;
2. the squared error 1/2 * sum (y - t)^2 and its derivative y - t;
3. the chain rule for w3, w2 and w1 of a small chain, by hand, by the engine and by
   finite differences;
4. gradient descent in batch mode vs with minibatches, from the same initial model;
5. the SGD algorithm as a loop, with the PyTorch-style optimizer (demos/sgd_by_hand.py);
6. compile / fit / predict, Keras style, on the two moons;
7. TensorBoard: training and validation curves, how overfitting shows up, and early
   stopping that keeps the best epoch's weights (the stopping epoch marked in the picture
   and in TensorBoard).

    python demos/lecture.py                 # the whole lecture (a few seconds)
    python demos/lecture.py --quick         # fewer epochs
    python demos/lecture.py --section 3     # only section 3 (repeat for more)
    python demos/lecture.py --pause         # wait for Enter after each section
    python demos/lecture.py --out DIR       # where pictures and logs go (lecture-out/)
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import inspect
import math
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from micrograd_like import MLP, Neuron, Value, explain, grad, numerical_grad
from micrograd_like.callbacks import Callback, EarlyStopping
from micrograd_like.callbacks.tensorboard import TensorBoard
from micrograd_like.datasets import make_moons, train_test_split
from micrograd_like.errors import GraphvizNotFoundError
from micrograd_like.files import atomic_write
from micrograd_like.losses import squared_error
from micrograd_like.optim import SGD, Adam
from micrograd_like.plot import best_epoch, plot_decision_boundary, plot_history

SEED = 0
PLOT_EXTRA = "pip install 'micrograd_like[plot]'"

# Epochs of the training sections (4 to 7): the full lecture and --quick.
FULL_EPOCHS = {4: 20, 5: 30, 6: 40, 7: 100}
PATIENCE = 10
"""Section 7's EarlyStopping: epochs without a better val_loss before it stops."""
QUICK_EPOCHS = {4: 8, 5: 5, 6: 15, 7: 40}
WIDTH = 88  # of the printed paragraphs


# ---------------------------------------------------------------- printing


def say(text: str) -> None:
    """Print paragraphs (separated by blank lines) filled to WIDTH columns; a paragraph
    indented deeper than the rest (code, formulas) is printed as written."""
    for paragraph in textwrap.dedent(text).strip().split("\n\n"):
        if paragraph.startswith(" "):
            print(paragraph.rstrip("\n") + "\n")
        else:
            print(textwrap.fill(" ".join(paragraph.split()), WIDTH) + "\n")


def num(x: float, digits: int = 6) -> str:
    """A number for a written-out formula: negative numbers in parentheses."""
    text = f"{x:.{digits}g}"
    return f"({text})" if x < 0 else text


def product(factors: Sequence[float]) -> str:
    """'a · b · c' with each factor formatted by :func:`num`."""
    return " · ".join(num(f) for f in factors)


def table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a small right-aligned table; floats get 6 significant digits."""
    cells = [list(header)] + [
        [f"{c:.6g}" if isinstance(c, float) else str(c) for c in row] for row in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths)))
    print()


# ---------------------------------------------------------------- 1. one neuron


@dataclass(frozen=True)
class NeuronResult:
    """The weighted sum z = w . x + b and act(z) for each activation, by hand and engine."""

    inputs: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    z_by_hand: float
    z_by_engine: float
    by_hand: dict[str, float]  # activation name -> act(z) computed with math
    by_engine: dict[str, float]  # activation name -> Neuron(...)(x) with that activation


NEURON_INPUTS = (2.0, -1.0, 0.5)
NEURON_WEIGHTS = (0.5, -0.25, 1.5)
NEURON_BIAS = -0.75

# act(z) written from the definitions, independent of the engine's ops
HAND_ACTIVATIONS: dict[str, Callable[[float], float]] = {
    "relu": lambda z: max(0.0, z),
    "tanh": lambda z: (math.exp(2 * z) - 1) / (math.exp(2 * z) + 1),
    "sigmoid": lambda z: 1 / (1 + math.exp(-z)),
}


def neuron_with(activation: str) -> Neuron:
    """A 3-input Neuron whose weights and bias are the lecture's numbers."""
    neuron = Neuron(len(NEURON_WEIGHTS), activation=activation, seed=SEED)
    for w, value in zip(neuron.w, NEURON_WEIGHTS):
        w.data = value
    neuron.b.data = NEURON_BIAS
    return neuron


def one_neuron() -> NeuronResult:
    """Section 1: z = sum_i w_i x_i + b, then out = act(z)."""
    say(
        """
        A neuron multiplies each input x_i by its weight w_i, adds the products and a bias
        b, and passes the sum z through an activation function: out = act(z). The weights
        and the bias are what training will change; the activation makes the network more
        than a linear function.
        """
    )
    x, w, b = NEURON_INPUTS, NEURON_WEIGHTS, NEURON_BIAS
    z = sum(wi * xi for wi, xi in zip(w, x)) + b
    terms = " + ".join(f"{num(wi)}·{num(xi)}" for wi, xi in zip(w, x))
    print(f"inputs x = {x}, weights w = {w}, bias b = {b}")
    print(f"by hand:    z = {terms} + {num(b)} = {z:.6g}")
    z_engine = neuron_with("linear")(list(x)).data
    print(f"the engine: Neuron(3, activation='linear')(x) = {z_engine:.6g}\n")
    by_hand = {name: act(z) for name, act in HAND_ACTIVATIONS.items()}
    by_engine = {name: neuron_with(name)(list(x)).data for name in HAND_ACTIVATIONS}
    table(
        ["activation", "formula", "by hand", "engine"],
        [
            ("relu", "max(0, z)", by_hand["relu"], by_engine["relu"]),
            ("tanh", "(e^2z - 1)/(e^2z + 1)", by_hand["tanh"], by_engine["tanh"]),
            ("sigmoid", "1/(1 + e^-z)", by_hand["sigmoid"], by_engine["sigmoid"]),
        ],
    )
    say(
        """
        In the engine the weighted sum is a single node (op "linear"); the activation is
        one more node on top. relu would give 0 for any negative z.
        """
    )
    return NeuronResult(x, w, b, z, z_engine, by_hand, by_engine)


# ---------------------------------------------------------------- 2. the squared error


@dataclass(frozen=True)
class SquaredErrorResult:
    """J = 1/2 sum (y - t)^2 and dJ/dy_i, by hand (y_i - t_i) and by the engine."""

    predictions: tuple[float, ...]
    targets: tuple[float, ...]
    loss_by_hand: float
    loss_by_engine: float
    gradient_by_hand: tuple[float, ...]
    gradient_by_engine: tuple[float, ...]


PREDICTIONS = (0.8, -0.3, 0.5)
TARGETS = (1.0, 0.0, 1.0)


def squared_error_and_derivative() -> SquaredErrorResult:
    """Section 2: J = 1/2 sum_i (y_i - t_i)^2, so dJ/dy_i = y_i - t_i."""
    say(
        """
        To learn, the network needs a number that says how wrong it is: the loss. The
        lecture's loss is the squared error J = 1/2 · Σ_i (y_i - t_i)², for outputs y_i and
        targets t_i. The 1/2 is there to cancel the 2 of the derivative:
        dJ/dy_i = 1/2 · 2 · (y_i - t_i) = y_i - t_i. The error itself is the gradient.
        """
    )
    y, t = PREDICTIONS, TARGETS
    loss_by_hand = 0.5 * sum((yi - ti) ** 2 for yi, ti in zip(y, t))
    squares = " + ".join(f"{num(yi - ti)}²" for yi, ti in zip(y, t))
    print(f"by hand:    J = 1/2 · ({squares}) = {loss_by_hand:.6g}")
    outputs = [Value(yi) for yi in y]
    loss = squared_error(list(t), outputs)
    gradient = tuple(g.data for g in grad(loss, outputs))
    print(f"the engine: squared_error(t, y) = {loss.data:.6g}\n")
    by_hand = tuple(yi - ti for yi, ti in zip(y, t))
    table(
        ["i", "y_i", "t_i", "y_i - t_i", "engine dJ/dy_i"],
        [(i, yi, ti, d, g) for i, (yi, ti, d, g) in enumerate(zip(y, t, by_hand, gradient))],
    )
    return SquaredErrorResult(y, t, loss_by_hand, loss.data, by_hand, gradient)


# ---------------------------------------------------------------- 3. the chain rule


@dataclass(frozen=True)
class ChainRuleResult:
    """dL/dw_i of the chain, each by hand, by the engine and by finite differences."""

    loss: float
    by_hand: dict[str, float]
    by_engine: dict[str, float]
    by_finite_differences: dict[str, float]
    page: Path | None
    """The step-by-step backpropagation page (None without Graphviz's dot)."""


CHAIN = {"x": 1.5, "t": 0.5, "w1": 0.8, "w2": -1.2, "w3": 2.0}


def chain_loss(w1: Value | float, w2: Value | float, w3: Value | float) -> Value:
    """L = 1/2 (y - t)^2 with y = w3 h2, h2 = tanh(w2 h1), h1 = tanh(w1 x)."""
    h1 = (w1 * CHAIN["x"]).tanh()
    h2 = (w2 * h1).tanh()
    y = w3 * h2
    return 0.5 * (y - CHAIN["t"]) ** 2


def chain_rule(out: Path) -> ChainRuleResult:
    """Section 3: backpropagation through x -> h1 -> h2 -> y -> L, one weight at a time."""
    say(
        """
        Backpropagation is the chain rule applied from the loss backwards. Take a chain
        of three weights:

            h1 = tanh(w1·x)    h2 = tanh(w2·h1)    y = w3·h2    L = 1/2·(y - t)²

        Each step has a simple local derivative (tanh' = 1 - tanh²):

            dL/dy = y - t      dy/dw3 = h2               dy/dh2 = w3
            dh2/dw2 = (1 - h2²)·h1    dh2/dh1 = (1 - h2²)·w2    dh1/dw1 = (1 - h1²)·x

        The derivative for a weight is the product of the local derivatives on the way
        from L down to it: the further back the weight, the longer the product, and the
        factors already computed are reused.
        """
    )
    x, t, w1, w2, w3 = (CHAIN[k] for k in ("x", "t", "w1", "w2", "w3"))
    h1 = math.tanh(w1 * x)
    h2 = math.tanh(w2 * h1)
    y = w3 * h2
    error = y - t
    print(f"forward: x = {x}, h1 = {h1:.6g}, h2 = {h2:.6g}, y = {y:.6g}, t = {t}")
    print(f"         L = 1/2·(y - t)² = {0.5 * error**2:.6g}, dL/dy = y - t = {error:.6g}\n")
    factors = {
        "w3": ("(y - t) · h2", [error, h2]),
        "w2": ("(y - t) · w3 · (1 - h2²) · h1", [error, w3, 1 - h2 * h2, h1]),
        "w1": (
            "(y - t) · w3 · (1 - h2²) · w2 · (1 - h1²) · x",
            [error, w3, 1 - h2 * h2, w2, 1 - h1 * h1, x],
        ),
    }
    by_hand = {name: math.prod(values) for name, (_, values) in factors.items()}
    for name, (formula, values) in factors.items():
        print(f"dL/d{name} = {formula}")
        print(f"       = {product(values)} = {by_hand[name]:.10g}")
    print()

    weights = [Value(w1, label="w1"), Value(w2, label="w2"), Value(w3, label="w3")]
    loss = chain_loss(*weights)
    by_engine = {w.label: g.data for w, g in zip(weights, grad(loss, weights))}
    numeric = numerical_grad(chain_loss, [w1, w2, w3])
    by_finite = dict(zip(("w1", "w2", "w3"), numeric))
    names = ("w3", "w2", "w1")
    table(
        ["weight", "by hand", "engine", "finite difference"],
        [(n, f"{by_hand[n]:.10g}", f"{by_engine[n]:.10g}", f"{by_finite[n]:.10g}") for n in names],
    )
    say(
        """
        The finite difference (L(w + ε) - L(w - ε)) / 2ε, with ε = 1e-6, needs two forward
        passes per weight; backpropagation gets every gradient from one backward pass. That
        is why networks with millions of weights can be trained.
        """
    )
    page = _backprop_page(chain_loss(*weights), out / "chain_rule.html")
    return ChainRuleResult(loss.data, by_hand, by_engine, by_finite, page)


def _backprop_page(loss: Value, path: Path) -> Path | None:
    """Write the page that plays this backward pass step by step (``explain``), where the
    products above appear one factor at a time; without Graphviz, say how to get it."""
    try:
        written = explain(loss, title="L = 1/2·(w3·tanh(w2·tanh(w1·x)) - t)²").save(path)
    except GraphvizNotFoundError as err:
        print(f"(skipped the step-by-step page: {err})\n")
        return None
    print(f"Open {written} in a browser to watch the chain rule run, one step at a time.\n")
    return written


# ---------------------------------------------------------------- 4. batch vs minibatches


class LossAndSteps(Callback):
    """Counts the optimizer steps of every epoch and evaluates the loss on the whole
    training set before training and after every epoch (the same yardstick for any batch
    size)."""

    def __init__(self, X: np.ndarray, y: np.ndarray) -> None:
        super().__init__()
        self.X, self.y = X, y
        self.losses: list[float] = []
        self.steps: list[int] = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.losses.append(self.model.evaluate(self.X, self.y, return_dict=True, verbose=0)["loss"])

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self.steps.append(0)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.steps[-1] += 1

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.losses.append(self.model.evaluate(self.X, self.y, return_dict=True, verbose=0)["loss"])


@dataclass(frozen=True)
class BatchVsMinibatchResult:
    """Per mode ("batch", "minibatch"): the optimizer steps of each epoch and the loss on
    the whole data set before training (index 0) and after each epoch."""

    n_samples: int
    batch_size: int
    lr: float
    steps: dict[str, list[int]]
    losses: dict[str, list[float]]
    picture: Path | None


def moons_with_signed_targets(n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """The two moons (noise 0.1) with targets -1 / +1 for the squared error."""
    X, labels = make_moons(n, noise=0.1, random_state=SEED)
    return X, labels * 2.0 - 1.0


def train_one_mode(
    X: np.ndarray, y: np.ndarray, batch_size: int | None, epochs: int, lr: float
) -> LossAndSteps:
    """Plain SGD on the squared error from the lecture's fixed initial model."""
    model = MLP(2, [8, 8, 1], activation="tanh", seed=SEED)  # the same weights every time
    model.compile(SGD(lr=lr), "squared_error")
    record = LossAndSteps(X, y)
    model.fit(X, y, epochs=epochs, batch_size=batch_size, verbose=0, seed=SEED, callbacks=[record])
    return record


def batch_vs_minibatch(
    epochs: int = FULL_EPOCHS[4],
    out_dir: Path | None = None,
    batch_size: int = 10,
    lr: float = 0.005,
) -> BatchVsMinibatchResult:
    """Section 4: one step per epoch on all n samples vs ceil(n / k) steps of k samples."""
    X, y = moons_with_signed_targets()
    n = len(X)
    say(
        f"""
        Gradient descent moves every weight against its gradient: w <- w - lr · dJ/dw.
        Which J? In batch mode, J sums the error over the whole training set: one
        step per epoch (an epoch is one pass over the data). In incremental (minibatch)
        mode, J sums over a small batch of k samples, and the weights move after every
        batch: ceil(n / k) steps per epoch. Here: n = {n} moons points with targets ±1,
        an MLP 2 -> 8 -> 8 -> 1 (tanh), plain SGD with lr = {lr}, the same initial weights
        for both, and k = {batch_size}.
        """
    )
    records = {
        "batch": train_one_mode(X, y, None, epochs, lr),
        "minibatch": train_one_mode(X, y, batch_size, epochs, lr),
    }
    steps = {mode: r.steps for mode, r in records.items()}
    losses = {mode: r.losses for mode, r in records.items()}
    print(f"J = 1/2 Σ (y - t)² over all {n} points, after each epoch (0 = before training):")
    table(
        ["epoch", "batch mode", f"minibatches of {batch_size}"],
        [(e, losses["batch"][e], losses["minibatch"][e]) for e in range(epochs + 1)],
    )
    for mode, label in (("batch", "batch mode"), ("minibatch", f"minibatches of {batch_size}")):
        print(
            f"{label}: {steps[mode][0]} step(s) per epoch, {sum(steps[mode])} in all; "
            f"J {losses[mode][0]:.4g} -> {losses[mode][-1]:.4g}"
        )
    print()
    say(
        f"""
        With a summed loss, the batch gradient is the sum of the {math.ceil(n / batch_size)}
        minibatch gradients, so both modes move the weights about equally far per epoch.
        The difference: each minibatch step is taken from where the previous one arrived,
        with a fresh gradient, while the batch step uses one gradient for the whole
        distance and can overshoot when lr is large (look for a loss that goes up). Each
        minibatch step also costs only k/n of a batch step; the price is a noisier path.
        """
    )
    picture = None
    if out_dir is not None:
        picture = _plot_or_explain(
            lambda: plot_two_curves(losses, batch_size, out_dir / "batch_vs_minibatch.png"),
            "the two loss curves",
        )
    return BatchVsMinibatchResult(n, batch_size, lr, steps, losses, picture)


def plot_two_curves(losses: dict[str, list[float]], batch_size: int, path: Path) -> Path:
    """Both loss curves against the epoch in one PNG (matplotlib, no display needed)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ModuleNotFoundError(f"plotting needs matplotlib: {PLOT_EXTRA}") from err
    figure = Figure(figsize=(6, 4), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    epochs = range(len(losses["batch"]))
    axes.plot(epochs, losses["batch"], marker=".", label="batch mode (1 step / epoch)")
    axes.plot(epochs, losses["minibatch"], marker=".", label=f"minibatches of {batch_size}")
    axes.set(xlabel="epoch (0 = before training)", ylabel="J = 1/2 Σ (y - t)²")
    axes.set_title("batch vs minibatch SGD, same initial weights")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.grid(alpha=0.3)
    axes.legend()
    return atomic_write(path, lambda file: figure.savefig(file, format="png"), binary=True)


def _plot_or_explain(draw: Callable[[], Path], what: str) -> Path | None:
    """Run ``draw`` and report the file it wrote; without matplotlib, say what to install."""
    try:
        path = draw()
    except ModuleNotFoundError as err:
        print(f"(skipped {what}: {err})\n")
        return None
    print(f"{what} written to {path}\n")
    return path


# ---------------------------------------------------------------- 5. the SGD algorithm


@dataclass(frozen=True)
class SgdLoopResult:
    """The loop's source as printed, the loss of each epoch and the final accuracy."""

    loop_source: str
    losses: list[float]
    accuracy: float


def sibling_demo(name: str) -> ModuleType:
    """Another script of demos/ (not a package), imported from this file's directory."""
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"demos_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def first_loop(function: Callable) -> str:
    """The source of the first ``for`` statement of ``function``, with its body."""
    lines = inspect.getsource(function).splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("for "))
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines) and (
        not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent
    ):
        end += 1
    return textwrap.dedent("\n".join(lines[start:end])).strip()


def sgd_algorithm(epochs: int = FULL_EPOCHS[5]) -> SgdLoopResult:
    """Section 5: the loop of demos/sgd_by_hand.py, printed, then run."""
    demo = sibling_demo("sgd_by_hand")
    say(
        """
        The SGD algorithm: repeat for a number of epochs: shuffle the data; for each
        minibatch: forward pass, loss, zero the old gradients, backward pass, and a step
        w <- w - lr · dJ/dw. With the PyTorch-style optimizer, "zero", "backward" and
        "step" are three calls. This is the loop of demos/sgd_by_hand.py (its optimizer
        adds momentum 0.9, a running sum of recent gradients; momentum=0 would be exactly
        w -= lr * w.grad):
        """
    )
    source = first_loop(demo.train)
    print(textwrap.indent(source, "    ") + "\n")
    print(f"Running it for {epochs} epochs (minibatches of 10, lr 0.01):")
    _, losses, accuracy = demo.train(epochs=epochs, batch_size=10, lr=0.01, seed=SEED)
    print()
    return SgdLoopResult(source, losses, accuracy)


# ---------------------------------------------------------------- 6. compile / fit / predict


@dataclass(frozen=True)
class KerasStyleResult:
    """Accuracies of the compile/fit/predict run, and the predictions shown."""

    train_accuracy: float
    test_accuracy: float
    predictions: np.ndarray  # raw outputs (logits) of the first test points
    picture: Path | None


def compile_fit_predict(
    epochs: int = FULL_EPOCHS[6], out_dir: Path | None = None
) -> KerasStyleResult:
    """Section 6: the same algorithm behind Keras' three calls."""
    say(
        """
        Writing the loop by hand is good for understanding it; for everyday work the
        library runs it for you, with Keras' names: compile (choose the optimizer, the
        loss and the metrics), fit (the SGD loop over epochs and minibatches), evaluate
        and predict. We keep a quarter of the points aside as a test set, never trained
        on, to measure how well the network generalises.
        """
    )
    X, y = make_moons(300, noise=0.2, random_state=SEED)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=SEED)
    model = MLP(2, [16, 16, 1], seed=SEED)
    model.summary()
    print()
    code = f"""\
        model.compile(Adam(lr=0.02), "binary_crossentropy", metrics=["accuracy"])
        model.fit(X_train, y_train, epochs={epochs}, batch_size=16)
        loss, accuracy = model.evaluate(X_test, y_test)
        model.predict(X_test[:5])"""
    print(textwrap.indent(textwrap.dedent(code), "    ") + "\n")
    model.compile(Adam(lr=0.02), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(X_train, y_train, epochs=epochs, batch_size=16, verbose=0, seed=SEED)
    test = model.evaluate(X_test, y_test, return_dict=True, verbose=0)
    predictions = model.predict(X_test[:5], verbose=0)[:, 0]
    print(
        f"after {epochs} epochs: training accuracy {history.history['accuracy'][-1]:.1%}, "
        f"test accuracy {test['accuracy']:.1%}\n"
    )
    table(
        ["test point", "output (logit)", "predicted class", "true class"],
        [
            (f"({p[0]:.2f}, {p[1]:.2f})", float(out), int(out > 0), int(label))
            for p, out, label in zip(X_test, predictions, y_test)
        ],
    )
    say(
        """
        The last layer is linear, so an output is a logit: class 1 when it is > 0
        (binary_crossentropy applies the sigmoid inside the loss, which is more stable).
        """
    )
    picture = None
    if out_dir is not None:
        picture = _plot_or_explain(
            lambda: plot_decision_boundary(
                model, X, y, out_dir / "moons_boundary.png", title="moons: decision boundary"
            ),
            "the decision boundary",
        )
    return KerasStyleResult(history.history["accuracy"][-1], test["accuracy"], predictions, picture)


# ---------------------------------------------------------------- 7. TensorBoard


@dataclass(frozen=True)
class TensorBoardResult:
    """Where the logs went, the History, and the epoch (from 0) of the lowest val_loss; then
    the same training stopped early: its EarlyStopping, History, validation loss after the
    best weights were restored, logs and picture."""

    log_dir: Path
    history: dict[str, list[float]]
    best_epoch: int
    picture: Path | None
    stopper: EarlyStopping
    stopped_history: dict[str, list[float]]
    restored_val_loss: float
    stopped_log_dir: Path
    stopped_picture: Path | None


def new_run_dir(logs: Path) -> Path:
    """``logs/<date-time>``, with a -2, -3... suffix if that run directory exists."""
    stem = logs / time.strftime("%Y%m%d-%H%M%S")
    candidate, suffix = stem, 1
    while candidate.exists():
        suffix += 1
        candidate = stem.with_name(f"{stem.name}-{suffix}")
    return candidate


def watch_with_tensorboard(
    epochs: int = FULL_EPOCHS[7], out_dir: Path = Path("lecture-out")
) -> TensorBoardResult | None:
    """Section 7: log train and validation curves of a network that overfits."""
    X, y = make_moons(230, noise=0.3, random_state=1)
    X_train, y_train, X_val, y_val = X[:30], y[:30], X[30:], y[30:]
    model = MLP(2, [16, 16, 1], seed=SEED)
    say(
        f"""
        TensorBoard draws the curves of a training run while it happens. The question it
        answers: is the network still learning, has it converged, or is it overfitting?
        Overfitting means learning the training points by heart: the training loss keeps
        falling while the loss on data the network never trains on (validation) rises.
        To provoke it: only {len(X_train)} noisy training points, {len(X_val)} validation
        points, and a network with {len(model.parameters())} weights and biases.
        """
    )
    run_dir = new_run_dir(out_dir / "logs")
    try:
        board = TensorBoard(run_dir)
    except ModuleNotFoundError as err:
        print(f"(skipped: {err})\n")
        return None
    model.compile(Adam(lr=0.02), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(
        X_train,
        y_train,
        epochs=epochs,
        batch_size=10,
        validation_data=(X_val, y_val),
        callbacks=[board],
        verbose=0,
        seed=SEED,
    ).history
    best = best_epoch(history["val_loss"])
    table(
        ["epoch", "loss", "val_loss", "accuracy", "val_accuracy"],
        [
            (e + 1, *(history[k][e] for k in ("loss", "val_loss", "accuracy", "val_accuracy")))
            for e in sorted({0, best, epochs - 1})
        ],
    )
    say(
        f"""
        val_loss was lowest after epoch {best + 1} ({history["val_loss"][best]:.4g}); after
        epoch {epochs} it is {history["val_loss"][-1]:.4g}, while the training loss went from
        {history["loss"][0]:.4g} to {history["loss"][-1]:.4g}.

        Logs written to {run_dir} (runs train/ and validation/). To see them:

            tensorboard --logdir {out_dir / "logs"}

        then open http://localhost:6006 and look at epoch_loss: the two curves part ways
        where overfitting starts. Remedies: more data, a smaller network, an L2 penalty on
        the weights (model.compile(..., l2=1e-3)), or stopping at the best epoch.
        """
    )
    picture = _plot_or_explain(
        lambda: plot_history(history, out_dir / "overfitting.png", title="overfitting"),
        "the training curves",
    )
    stopped = stop_early(X_train, y_train, X_val, y_val, epochs, run_dir, out_dir)
    return TensorBoardResult(run_dir, history, best, picture, *stopped)


def stop_early(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_val: np.ndarray,
    y_val: np.ndarray,
    epochs: int,
    run_dir: Path,
    out_dir: Path,
) -> tuple[EarlyStopping, dict[str, list[float]], float, Path, Path | None]:
    """Section 7, continued: the same network and data, stopped by EarlyStopping."""
    model = MLP(2, [16, 16, 1], seed=SEED)
    model.compile(Adam(lr=0.02), "binary_crossentropy", metrics=["accuracy"])
    stopper = EarlyStopping("val_loss", patience=PATIENCE, restore_best_weights=True)
    log_dir = run_dir.with_name(run_dir.name + "-early-stopping")
    board = TensorBoard(log_dir)
    history = model.fit(
        X_train,
        y_train,
        epochs=epochs,
        batch_size=10,
        validation_data=(X_val, y_val),
        callbacks=[stopper, board],
        verbose=0,
        seed=SEED,
    ).history
    best = stopper.best_epoch
    restored = model.evaluate(X_val, y_val, return_dict=True, verbose=0)["loss"]
    marks = {}
    if stopper.stopped_epoch is not None:
        text = f"early stopping: weights of epoch {best + 1} restored"
        marks[stopper.stopped_epoch] = text
        board.mark(stopper.stopped_epoch, "early_stopping", text)
        ending = (
            f"EarlyStopping waited {PATIENCE} epochs for val_loss to beat its value after "
            f"epoch {best + 1}; it never did, so training stopped after epoch "
            f"{stopper.stopped_epoch + 1}"
        )
    else:
        ending = f"val_loss was still improving within {PATIENCE} epochs of the end"
    say(
        f"""
        The same network and data again, with

            model.fit(..., callbacks=[EarlyStopping("val_loss", patience={PATIENCE},
                                                    restore_best_weights=True)])

        {ending}, and the weights of epoch {best + 1} were put back: the model now has
        validation loss {restored:.4g}, the lowest it reached, not {history["val_loss"][-1]:.4g}.

        The picture early_stopping.png: the blue curve (training loss) keeps falling; the
        orange one (validation loss) falls, bottoms out at the dashed line (the best epoch,
        whose weights are kept) and climbs again: from there on the network learns the
        noise of its {len(X_train)} training points, which does not carry over to new ones.
        The dotted red line is where training stopped. TensorBoard shows the same run in
        {log_dir.name}: the scalar epoch_early_stopping is one dot at that epoch, and the
        Text tab says which weights were restored.
        """
    )
    picture = _plot_or_explain(
        lambda: plot_history(
            history, out_dir / "early_stopping.png", title="early stopping", marks=marks
        ),
        "the training curves",
    )
    return stopper, history, restored, log_dir, picture


# ---------------------------------------------------------------- main


# number -> (title, run(epochs by section, output directory) -> the section's result)
SECTIONS: dict[int, tuple[str, Callable[[dict[int, int], Path], Any]]] = {
    1: ("One neuron", lambda epochs, out: one_neuron()),
    2: ("The squared error and its derivative", lambda epochs, out: squared_error_and_derivative()),
    3: ("The chain rule", lambda epochs, out: chain_rule(out)),
    4: (
        "Batch vs incremental (minibatch) gradient descent",
        lambda epochs, out: batch_vs_minibatch(epochs[4], out),
    ),
    5: ("The SGD algorithm", lambda epochs, out: sgd_algorithm(epochs[5])),
    6: ("compile / fit / predict", lambda epochs, out: compile_fit_predict(epochs[6], out)),
    7: (
        "Watching training with TensorBoard",
        lambda epochs, out: watch_with_tensorboard(epochs[7], out),
    ),
}


def main(argv: Sequence[str] | None = None) -> dict[int, Any]:
    """Parse the arguments and run the chosen sections in order; returns their results
    by section number."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs (a few seconds)")
    parser.add_argument(
        "--out", type=Path, default=Path("lecture-out"), help="where files go (lecture-out)"
    )
    parser.add_argument(
        "--section",
        type=int,
        action="append",
        choices=sorted(SECTIONS),
        help="run only this section (repeatable); default: all",
    )
    parser.add_argument("--pause", action="store_true", help="wait for Enter after each section")
    args = parser.parse_args(argv)
    epochs = QUICK_EPOCHS if args.quick else FULL_EPOCHS
    chosen = sorted(set(args.section or SECTIONS))
    results = {}
    for number in chosen:
        title, run = SECTIONS[number]
        heading = f"{number}. {title}"
        print(f"{heading}\n{'=' * len(heading)}\n")
        results[number] = run(epochs, args.out)
        if args.pause and number != chosen[-1]:
            with contextlib.suppress(EOFError):  # no more input: go on without pausing
                input("(press Enter for the next section) ")
    return results


if __name__ == "__main__":
    main()
