"""``micrograd-like demo``: train a small network on a toy data set and write everything there
is to look at.

The demo generates a 2-D data set, holds out 20% of it for validation, trains
``MLP(2, [*hidden, outputs])`` (ReLU hidden layers, linear outputs) with Adam and a progress
bar, prints the final training and validation accuracy, and writes into the output directory:

- ``graph.svg``: the computation graph of one training sample's loss, after backward;
- ``network.svg``: the trained network, one edge per weight;
- ``history.png``: the training curves, training vs validation;
- ``decision_boundary.png``: the plane coloured by the predicted class, with the data;
- ``logs/``: TensorBoard event files (``logs/train`` and ``logs/validation``);
- ``model.json``: the trained model (read it back with ``load_model``);
- ``gradcheck.txt``: the trained model's loss gradient checked against finite differences.

Two-class data sets use one output and ``binary_crossentropy`` on its logit; three-class ones
use three outputs and ``sparse_categorical_crossentropy``.

Missing tools never stop the demo: without Graphviz's ``dot`` the two graphs are written as
DOT text (``.dot``) instead, and without matplotlib or tensorboardX (optional extras) their
files are skipped; each case prints a one-line note and the exit code stays 0. Exit code 1
means the gradient check failed; 2 a bad option (one line on stderr).
"""

from __future__ import annotations

import argparse
import math
import numbers
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from . import datasets, optim
from .callbacks import Callback, History
from .engine import Value
from .files import atomic_write
from .gradcheck import GradcheckReport, check_model
from .nn import MLP
from .plot import plot_decision_boundary, plot_history
from .tensorboard import TensorBoard
from .viz import GraphvizNotFoundError, draw_dot, draw_network, render

__all__ = [
    "DATASETS",
    "Artefact",
    "DemoDataset",
    "DemoResult",
    "DemoSettings",
    "add_demo_command",
    "run_demo",
]

VALIDATION_FRACTION = 0.2
MIN_SAMPLES = 10
GRAPH_MAX_NODES = 1000
"""Node limit for the one-sample loss graph: a 16,16 MLP's graph has about 500 nodes (over
viz's default of 500 for three outputs) and dot lays out 1000 in well under a second. A larger
graph is replaced by the graph of the first hidden neuron."""
GRADCHECK_SAMPLES = 4
GRADCHECK_MAX_PARAMS = 500
"""The gradient check covers every parameter of models up to this size (a 16,16 MLP has 337
or 371), else a random subset of this many."""
TENSORBOARD_HISTOGRAM_FREQ = 10


# ---------------------------------------------------------------- data sets


@dataclass(frozen=True)
class DemoDataset:
    """A toy problem: ``make(n_samples, seed) -> (X, y)`` with 2-D X and integer labels
    0 .. classes - 1, and the number of samples the demo uses by default."""

    make: Callable[[int, int], tuple[np.ndarray, np.ndarray]]
    classes: int
    samples: int

    @property
    def outputs(self) -> int:
        """One output (a logit) for two classes, else one output per class."""
        return 1 if self.classes == 2 else self.classes

    @property
    def loss(self) -> str:
        return "binary_crossentropy" if self.classes == 2 else "sparse_categorical_crossentropy"


DATASETS: dict[str, DemoDataset] = {
    "moons": DemoDataset(
        lambda n, seed: datasets.make_moons(n, noise=0.1, random_state=seed), 2, 200
    ),
    "circles": DemoDataset(
        lambda n, seed: datasets.make_circles(n, noise=0.1, factor=0.5, random_state=seed), 2, 200
    ),
    "blobs": DemoDataset(
        lambda n, seed: datasets.make_blobs(n, centers=3, random_state=seed), 3, 300
    ),
    "xor": DemoDataset(lambda n, seed: datasets.make_xor(n, random_state=seed), 2, 200),
    "spiral": DemoDataset(
        lambda n, seed: datasets.make_spiral(n, 3, noise=0.2, random_state=seed), 3, 300
    ),
}
"""The demo's data sets by name; every generator returns its rows in random order."""


# ---------------------------------------------------------------- settings


def _int_at_least(value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"expected an int >= {minimum}, got {value!r}")
    return int(value)


def _check_samples(value: object) -> int:
    return _int_at_least(value, MIN_SAMPLES)


def _check_positive(value: object) -> int:
    return _int_at_least(value, 1)


def _check_seed(value: object) -> int:
    seed = _int_at_least(value, 0)
    if seed >= 2**32:
        raise ValueError(f"expected an int in [0, 2**32), got {value!r}")
    return seed


def _check_lr(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"expected a number > 0, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"expected a finite number > 0, got {value!r}")
    return float(value)


def _check_hidden(value: object) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
        raise ValueError(f"expected at least one hidden layer size, got {value!r}")
    for size in value:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
            raise ValueError(f"expected layer sizes that are ints >= 1, got {size!r}")
    return tuple(int(size) for size in value)


def _check_dataset(value: object) -> str:
    if not isinstance(value, str) or value not in DATASETS:
        raise ValueError(f"expected one of {', '.join(DATASETS)}, got {value!r}")
    return value  # type: ignore[return-value]


_CHECKS: dict[str, Callable[[Any], Any]] = {
    "dataset": _check_dataset,
    "samples": lambda value: None if value is None else _check_samples(value),
    "epochs": _check_positive,
    "batch_size": _check_positive,
    "lr": _check_lr,
    "hidden": _check_hidden,
    "seed": _check_seed,
}


@dataclass(frozen=True)
class DemoSettings:
    """What ``micrograd-like demo`` runs; ``samples=None`` takes the data set's default."""

    dataset: str = "moons"
    samples: int | None = None
    epochs: int = 100
    batch_size: int = 32
    lr: float = 0.05
    hidden: tuple[int, ...] = (16, 16)
    seed: int = 0
    out: str | Path = "demo-out"

    def __post_init__(self) -> None:
        for name, check in _CHECKS.items():
            try:
                object.__setattr__(self, name, check(getattr(self, name)))
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        object.__setattr__(self, "out", Path(self.out))


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Artefact:
    """A file or directory the demo wrote, and what it shows."""

    path: Path
    description: str


@dataclass
class DemoResult:
    """The trained model, its history and accuracies, the gradient check, what was written
    (``artefacts``), notes about what was skipped, and the data as split."""

    model: MLP
    history: History
    train_accuracy: float
    val_accuracy: float
    gradcheck: GradcheckReport
    training: tuple[np.ndarray, np.ndarray]
    validation: tuple[np.ndarray, np.ndarray]
    log_dir: Path | None = None
    artefacts: list[Artefact] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    graphs_rendered: bool = True


# ---------------------------------------------------------------- the run


def _prepare_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} exists and is not a directory (the demo writes into a directory)")
    out.mkdir(parents=True, exist_ok=True)


def _tensorboard_callback(log_dir: Path, notes: list[str]) -> TensorBoard | None:
    """A TensorBoard callback writing under ``log_dir`` (event files of an earlier run there
    are removed, so the curves are this run's only), or None with a note when tensorboardX
    is missing."""
    try:
        callback = TensorBoard(log_dir, histogram_freq=TENSORBOARD_HISTOGRAM_FREQ)
    except ModuleNotFoundError as exc:
        notes.append(f"skipped the TensorBoard logs: {exc}")
        return None
    for run in ("train", "validation"):
        for old in (log_dir / run).glob("events.out.tfevents.*"):
            old.unlink()
    return callback


def _one_sample_graph(model: MLP, x: np.ndarray, target: np.ndarray) -> tuple[Value, str]:
    """The loss of one sample (a graph from inputs x1, x2 and the parameters to the loss),
    after backward, and what it is."""
    inputs = [Value(float(v), label=f"x{i + 1}") for i, v in enumerate(x)]
    out = model(inputs)
    outputs = [out] if type(out) is Value else out
    for k, o in enumerate(outputs):
        o.label = "output" if len(outputs) == 1 else f"output {k + 1}"
    loss = model.loss.per_sample(target, outputs)
    loss.label = "loss"
    loss.backward()
    return loss, f"computation graph of one sample's {model.loss.name} loss"


def _first_neuron_graph(model: MLP, x: np.ndarray) -> tuple[Value, str]:
    inputs = [Value(float(v), label=f"x{i + 1}") for i, v in enumerate(x)]
    out = model.layers[0].neurons[0](inputs)
    out.label = "h1"
    out.backward()
    return out, "computation graph of the first hidden neuron for one sample"


def _computation_graph(
    model: MLP, x: np.ndarray, target: np.ndarray, notes: list[str]
) -> tuple[Any, str]:
    """draw_dot of one sample's loss, or of the first hidden neuron when that is too large;
    and what it shows."""
    params = model.parameters()
    root, what = _one_sample_graph(model, x, target)
    try:
        return draw_dot(root, params=params, max_nodes=GRAPH_MAX_NODES), what
    except ValueError as exc:
        notes.append(f"graph.svg shows the first hidden neuron only: {exc}")
    root, what = _first_neuron_graph(model, x)
    return draw_dot(root, params=params), what


def _write_graph(result: DemoResult, path: Path, draw: Callable[[], tuple[Any, str]]) -> None:
    """Render the Graphviz picture ``draw()`` returns (with its description); without
    ``dot``, keep its DOT text and note it."""
    try:
        picture, what = draw()
    except ValueError as exc:  # too large to draw (a very wide --hidden)
        result.notes.append(f"skipped {path.name}: {exc}")
        return
    dot_path = path.with_suffix(".dot")
    try:
        result.artefacts.append(Artefact(render(picture, path), what))
    except GraphvizNotFoundError as exc:
        path.unlink(missing_ok=True)  # an earlier run's picture of another model
        result.graphs_rendered = False
        result.artefacts.append(Artefact(dot_path, f"{what}, as DOT text"))
        result.notes.append(str(exc))
    else:
        dot_path.unlink(missing_ok=True)  # an earlier run's text, now drawn


def _write_plot(result: DemoResult, what: str, plot: Callable[[], Path]) -> None:
    """Draw a matplotlib picture; without matplotlib, note the extra to install."""
    try:
        result.artefacts.append(Artefact(plot(), what))
    except ModuleNotFoundError as exc:
        result.notes.append(f"skipped the {what}: {exc}")


def _check_gradients(model: MLP, X: np.ndarray, y: np.ndarray) -> GradcheckReport:
    """check_model on the mean loss of the first GRADCHECK_SAMPLES training samples."""
    rows = X[:GRADCHECK_SAMPLES].tolist()
    labels = y[:GRADCHECK_SAMPLES]
    return check_model(
        model,
        lambda m: m.loss(labels, [m(row) for row in rows]),
        max_params=GRADCHECK_MAX_PARAMS,
    )


def _write_gradcheck(result: DemoResult, path: Path) -> None:
    header = (
        f"d loss / d parameter of the trained model, loss = {result.model.loss.name} over "
        f"{GRADCHECK_SAMPLES} training samples, against central finite differences"
    )
    atomic_write(path, lambda file: file.write(f"{header}\n{result.gradcheck}\n"))
    result.artefacts.append(Artefact(path, "gradient check of the trained model"))


def run_demo(settings: DemoSettings | None = None, *, verbose: int = 1) -> DemoResult:
    """Generate the data, train, and write the pictures, logs, model and gradient check
    into ``settings.out`` (see the module doc). ``verbose`` is fit's: 1 a progress bar."""
    settings = settings or DemoSettings()
    out = Path(settings.out)
    _prepare_out(out)
    spec = DATASETS[settings.dataset]
    X, y = spec.make(settings.samples or spec.samples, settings.seed)
    X_train, X_val, y_train, y_val = datasets.train_test_split(
        X, y, test_size=VALIDATION_FRACTION, random_state=settings.seed
    )
    model = MLP(2, [*settings.hidden, spec.outputs], seed=settings.seed)
    model.compile(optim.Adam(lr=settings.lr), spec.loss, metrics=["accuracy"])
    notes: list[str] = []
    log_dir = out / "logs"
    tensorboard = _tensorboard_callback(log_dir, notes)
    callbacks: list[Callback] = [] if tensorboard is None else [tensorboard]
    history = model.fit(
        X_train,
        y_train,
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        validation_data=(X_val, y_val),
        callbacks=callbacks,
        verbose=verbose,
        seed=settings.seed,
    )
    result = DemoResult(
        model=model,
        history=history,
        train_accuracy=model.evaluate(X_train, y_train)["accuracy"],
        val_accuracy=model.evaluate(X_val, y_val)["accuracy"],
        gradcheck=_check_gradients(model, X_train, y_train),
        training=(X_train, y_train),
        validation=(X_val, y_val),
        log_dir=None if tensorboard is None else log_dir,
        notes=notes,
    )
    _write_artefacts(result, out, settings.dataset)
    return result


def _write_artefacts(result: DemoResult, out: Path, dataset: str) -> None:
    model = result.model
    X_train, y_train = result.training
    target = model.loss.prepare_targets(y_train[:1], model.nout)[0]
    _write_graph(
        result,
        out / "graph.svg",
        lambda: _computation_graph(model, X_train[0], target, result.notes),
    )
    _write_graph(result, out / "network.svg", lambda: (draw_network(model), "network diagram"))
    _write_plot(
        result,
        "training curves",
        lambda: plot_history(result.history, out / "history.png", title=dataset),
    )
    X = np.concatenate([X_train, result.validation[0]])
    y = np.concatenate([y_train, result.validation[1]])
    _write_plot(
        result,
        "decision boundary",
        lambda: plot_decision_boundary(
            model,
            X,
            y,
            out / "decision_boundary.png",
            title=f"{dataset}: validation accuracy {result.val_accuracy:.1%}",
        ),
    )
    if result.log_dir is not None:
        result.artefacts.append(Artefact(result.log_dir, "TensorBoard logs (train/, validation/)"))
    model.save(out / "model.json")
    result.artefacts.append(Artefact(out / "model.json", "the trained model (load_model)"))
    _write_gradcheck(result, out / "gradcheck.txt")


# ---------------------------------------------------------------- the command


def _option(parse: Callable[[str], Any], check: Callable[[Any], Any], expected: str):
    """An argparse ``type``: ``check(parse(text))``, either failure reported as the
    option's error."""

    def convert(text: str) -> Any:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        try:
            return check(value)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def _layer_sizes(text: str) -> tuple[int, ...]:
    """``"16,16"`` -> ``(16, 16)``."""
    return tuple(int(part) for part in text.split(","))


def _one_line_errors(parser: argparse.ArgumentParser) -> None:
    """Report a bad option on one line, ``<prog>: error: <message>`` with exit code 2, like
    the command line's other errors (argparse would print the long usage first)."""

    def error(message: str) -> NoReturn:
        from .cli import EXIT_USAGE  # cli lists this command, so it is imported by now

        parser.exit(EXIT_USAGE, f"{parser.prog}: error: {message}\n")

    parser.error = error  # type: ignore[method-assign]


def _settings(args: argparse.Namespace) -> DemoSettings:
    return DemoSettings(
        dataset=args.dataset,
        samples=args.samples,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        hidden=args.hidden,
        seed=args.seed,
        out=args.out,
    )


def _plan(settings: DemoSettings) -> str:
    spec = DATASETS[settings.dataset]
    sizes = " -> ".join(str(n) for n in (2, *settings.hidden, spec.outputs))
    return (
        f"Training an MLP {sizes} on {settings.samples or spec.samples} {settings.dataset} "
        f"samples ({VALIDATION_FRACTION:.0%} held out for validation): {spec.loss}, Adam with "
        f"lr {settings.lr:g}, {settings.epochs} epochs of batches of {settings.batch_size}"
    )


def _summary(result: DemoResult, settings: DemoSettings) -> str:
    """The accuracies, the gradient check, every file written, and how to open TensorBoard."""
    report = result.gradcheck
    worst = report.worst
    lines = [
        f"Final accuracy: training {result.train_accuracy:.1%} "
        f"({len(result.training[0])} samples), validation {result.val_accuracy:.1%} "
        f"({len(result.validation[0])} samples)",
        f"Gradient check of the trained model: {'passed' if report.ok else 'FAILED'}"
        + (f", worst relative error {worst.rel_error:.3g} ({worst.name})" if worst else ""),
        "",
        f"Wrote into {settings.out}:",
    ]
    width = max(len(str(a.path)) for a in result.artefacts)
    lines += [f"  {str(a.path).ljust(width)}  {a.description}" for a in result.artefacts]
    if not result.graphs_rendered:
        lines.append("The graphs were not rendered to SVG (Graphviz's dot is missing).")
    if result.log_dir is not None:
        lines.append(f"To watch the training curves: tensorboard --logdir {result.log_dir}")
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    from .cli import EXIT_CHECK_FAILED, EXIT_OK  # cli lists this command: imported by now

    settings = _settings(args)
    print(_plan(settings), flush=True)
    result = run_demo(settings, verbose=1)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(_summary(result, settings))
    return EXIT_OK if result.gradcheck.ok else EXIT_CHECK_FAILED


def add_demo_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``micrograd-like demo``."""
    defaults = DemoSettings()
    parser = subparsers.add_parser(
        "demo",
        help="train a small network on a toy data set and write its pictures, logs and model",
        description=(
            "Trains an MLP on a 2-D toy data set (80% training, 20% validation) with a "
            "progress bar, prints the final accuracies, and writes into DIR: graph.svg (one "
            "sample's computation graph), network.svg, history.png, decision_boundary.png, "
            "logs/ (TensorBoard), model.json and gradcheck.txt."
        ),
        epilog=(
            "Without Graphviz's dot the graphs are written as .dot text; without matplotlib "
            "or tensorboardX their files are skipped (a note says so, the exit code stays 0). "
            "Exit codes: 0 ok, 1 the gradient check failed, 2 a bad option."
        ),
    )
    _one_line_errors(parser)
    parser.add_argument("--dataset", choices=list(DATASETS), default=defaults.dataset)
    parser.add_argument(
        "--samples",
        type=_option(int, _check_samples, "an integer"),
        metavar="N",
        help=f"number of samples, at least {MIN_SAMPLES} (default: "
        + ", ".join(f"{name} {spec.samples}" for name, spec in DATASETS.items())
        + ")",
    )
    parser.add_argument(
        "--epochs",
        type=_option(int, _check_positive, "an integer"),
        default=defaults.epochs,
        metavar="N",
        help="passes over the training data (default: %(default)s)",
    )
    parser.add_argument(
        "--batch-size",
        type=_option(int, _check_positive, "an integer"),
        default=defaults.batch_size,
        metavar="K",
        help="samples per optimizer step (default: %(default)s)",
    )
    parser.add_argument(
        "--lr",
        type=_option(float, _check_lr, "a number"),
        default=defaults.lr,
        help="Adam's learning rate (default: %(default)s)",
    )
    parser.add_argument(
        "--hidden",
        type=_option(_layer_sizes, _check_hidden, "comma-separated layer sizes such as 16,16"),
        default=defaults.hidden,
        metavar="SIZES",
        help="hidden layer sizes, comma-separated (default: 16,16)",
    )
    parser.add_argument(
        "--seed",
        type=_option(int, _check_seed, "an integer"),
        default=defaults.seed,
        help="seed of the data, the initial weights and the shuffling (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        default=str(defaults.out),
        metavar="DIR",
        help="output directory, created if needed; files in it are replaced (default: %(default)s)",
    )
    parser.set_defaults(run=_run)
