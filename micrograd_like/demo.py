"""``micrograd-like demo``: train a small network on a toy data set and write everything there
is to look at.

The demo generates a 2-D data set, holds out 20% of it for validation, trains
``MLP(2, [*hidden, outputs])`` (ReLU hidden layers, linear outputs) with Adam and a progress
bar, prints the final training and validation accuracy, and writes into the output directory:

- ``graph.svg``: the computation graph of one training sample's loss, after backward;
- ``network.svg``: the trained network, one edge per weight;
- ``backprop.html``: backpropagation through the first hidden neuron on one sample, step
  by step (:func:`micrograd_like.explanation.explain_neuron`; open it in a browser);
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

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import datasets, optim
from .callbacks import Callback, History, TensorBoard
from .demo_settings import DATASETS, VALIDATION_FRACTION, DemoSettings
from .engine import Value
from .explanation import explain_neuron
from .files import atomic_write
from .gradcheck import GradcheckReport, check_model
from .nn import MLP
from .plot import plot_decision_boundary, plot_history
from .viz import GraphvizNotFoundError, draw_dot, draw_network, render

__all__ = ["Artefact", "DemoResult", "run_demo"]

GRAPH_MAX_NODES = 1000
"""Node limit for the one-sample loss graph: a 16,16 MLP's graph has about 500 nodes (over
viz's default of 500 for three outputs) and dot lays out 1000 in well under a second. A larger
graph is replaced by the graph of the first hidden neuron."""
GRADCHECK_SAMPLES = 4
GRADCHECK_MAX_PARAMS = 500
"""The gradient check covers every parameter of models up to this size (a 16,16 MLP has 337
or 371), else a random subset of this many."""
TENSORBOARD_HISTOGRAM_FREQ = 10


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


def _write_backprop_page(result: DemoResult, path: Path, x: np.ndarray) -> None:
    """The step-by-step backpropagation page of the first hidden neuron on one sample."""
    try:
        page = explain_neuron(result.model, x.tolist())
    except GraphvizNotFoundError as exc:
        path.unlink(missing_ok=True)  # an earlier run's page of another model
        result.notes.append(f"skipped {path.name}: {exc}")
        return
    what = "backpropagation through the first hidden neuron, step by step (open in a browser)"
    result.artefacts.append(Artefact(page.save(path), what))


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
    make = getattr(datasets, spec.generator)
    X, y = make(settings.samples or spec.samples, random_state=settings.seed, **spec.options)
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
    _write_backprop_page(result, out / "backprop.html", X_train[0])
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
