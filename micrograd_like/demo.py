"""``micrograd-like demo``: train a small network on a toy data set and write everything there
is to look at.

The demo generates a 2-D data set (or loads the digits), holds out 20% of it for
validation, trains ``MLP(features, [*hidden, outputs])`` (ReLU hidden layers, linear
outputs) with Adam and a progress bar, prints the final training and validation accuracy,
and writes into the output directory:

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

With ``--dataset digits`` (64 pixels per image, 10 classes) the split is stratified and the
pixels are standardized with a ``Standardizer`` fitted on the training images
(``standardizer.json``, apply it before ``predict``), the initial weights are
Glorot-uniform, and the defaults are one hidden layer of 64, lr 0.002 and 20 epochs.
What only makes sense in 2-D is
replaced: ``confusion_matrix.png`` and ``misclassified.png`` (validation digits the model
gets wrong) instead of the decision boundary, ``first_layer_weights.png`` (each first-layer
neuron's 64 weights as an 8x8 picture) instead of ``network.svg`` (about 1,400 edges, no
longer readable), and ``graph.svg`` shows the first hidden neuron (one sample's whole loss
graph has over a thousand nodes).

Unless ``overfitting=False`` (``--no-overfitting``), a second run shows overfitting: a
network far too large for its data (``MLP(2, [32, 32, 32, 1])``, 2,241 parameters) on 30
noisy moons points, validated on 300 others. Its validation loss falls, then turns up
while the training loss keeps falling; ``EarlyStopping(patience=40,
restore_best_weights=True)`` stops it and puts back the weights of the best epoch. It
writes ``overfitting/history.png`` (the stopping epoch marked with a dotted line, the best
one with a dashed line) and ``overfitting/logs/`` (TensorBoard, with the scalar
``epoch_early_stopping`` and a text at the stopping epoch).

Missing tools never stop the demo: without Graphviz's ``dot`` the two graphs are written as
DOT text (``.dot``) instead, and without matplotlib or tensorboardX (optional extras) their
files are skipped; each case prints a one-line note and the exit code stays 0. A ``dot``
that fails or runs past the time limit (``--timeout``) is noted the same way, its graph
kept as DOT text, and everything else is still written; the exit code is then 3. Exit code
1 means the gradient check failed; 2 a bad option (one line on stderr).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import datasets, optim
from .callbacks import Callback, EarlyStopping, History, TensorBoard
from .demo_settings import DATASETS, VALIDATION_FRACTION, DemoDataset, DemoSettings
from .engine import Value
from .explanation import explain_neuron
from .files import atomic_write
from .gradcheck import GradcheckReport, check_model
from .losses import Loss
from .metrics import confusion_matrix
from .nn import MLP
from .plot import plot_confusion_matrix, plot_decision_boundary, plot_history, plot_images
from .viz import GraphvizError, GraphvizNotFoundError, draw_dot, draw_network, render

__all__ = ["Artefact", "DemoResult", "OverfittingResult", "run_demo", "run_overfitting"]

GRAPH_MAX_NODES = 1000
"""Node limit for the one-sample loss graph: a 16,16 MLP's graph has about 500 nodes (over
viz's default of 500 for three outputs) and dot lays out 1000 in well under a second. A larger
graph is replaced by the graph of the first hidden neuron."""
GRADCHECK_SAMPLES = 4
GRADCHECK_MAX_PARAMS = 500
"""The gradient check covers every parameter of models up to this size (a 16,16 MLP has 337
or 371), else a random subset of this many."""
GRADCHECK_LOADED = (1, 64)
"""(samples, parameters) of the check for an example data set: one digit's graph has
thousands of edges, and each checked parameter costs two evaluations of it."""
TENSORBOARD_HISTOGRAM_FREQ = 10
IMAGE_SHAPE = (8, 8)
"""The digits' pictures: 64 pixels as 8 rows of 8."""
MISCLASSIFIED_SHOWN = 24


@dataclass(frozen=True)
class _Overfit:
    """The overfitting run's recipe (see the module docstring)."""

    noise: float = 0.35
    train: int = 30
    validation: int = 300
    hidden: tuple[int, ...] = (32, 32, 32)
    lr: float = 0.002
    batch_size: int = 10
    patience: int = 40
    max_epochs: int = 500


OVERFIT = _Overfit()


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Artefact:
    """A file or directory the demo wrote, and what it shows."""

    path: Path
    description: str


@dataclass
class DemoResult:
    """The trained model, its history and accuracies, the gradient check, what was written
    (``artefacts``), notes about what was skipped, and the data as split. ``graphs_rendered``
    is False when a graph is kept as DOT text, and ``graphviz_failed`` True when that is
    because ``dot`` failed or ran out of time (not because it is missing)."""

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
    gradcheck_samples: int = GRADCHECK_SAMPLES
    standardizer: datasets.Standardizer | None = None
    """Fitted on the training rows of an example data set (None for the 2-D toys)."""
    overfitting: OverfittingResult | None = None
    graphviz_failed: bool = False


@dataclass
class OverfittingResult:
    """The overfitting run: its History, the EarlyStopping that ended it, and the
    validation loss of the restored (best) weights."""

    history: History
    stopper: EarlyStopping
    restored_val_loss: float
    log_dir: Path | None = None

    @property
    def best_epoch(self) -> int:
        """The epoch (from 0) with the lowest validation loss: its weights were restored."""
        assert self.stopper.best_epoch is not None
        return self.stopper.best_epoch

    def summary(self) -> str:
        """What happened, in one sentence."""
        loss, val_loss = self.history.history["loss"], self.history.history["val_loss"]
        best, last = self.best_epoch, len(loss) - 1
        stopped = (
            f"early stopping after epoch {self.stopper.stopped_epoch + 1} restored"
            if self.stopper.stopped_epoch is not None
            else f"training ended after {last + 1} epochs without stopping early; restored"
        )
        return (
            f"validation loss lowest at epoch {best + 1} ({val_loss[best]:.3f}), then up to "
            f"{val_loss[last]:.3f} while the training loss fell from {loss[best]:.3f} to "
            f"{loss[last]:.3f}; {stopped} the weights of epoch {best + 1}"
        )


# ---------------------------------------------------------------- the run


def _prepare_out(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} exists and is not a directory (the demo writes into a directory)")
    out.mkdir(parents=True, exist_ok=True)


def _tensorboard_callback(
    log_dir: Path, notes: list[str], histogram_freq: int = TENSORBOARD_HISTOGRAM_FREQ
) -> TensorBoard | None:
    """A TensorBoard callback writing under ``log_dir`` (event files of an earlier run there
    are removed, so the curves are this run's only), or None with a note when tensorboardX
    is missing."""
    try:
        callback = TensorBoard(log_dir, histogram_freq=histogram_freq)
    except ModuleNotFoundError as exc:
        notes.append(f"skipped the TensorBoard logs: {exc}")
        return None
    for run in ("train", "validation"):
        for old in (log_dir / run).glob("events.out.tfevents.*"):
            old.unlink()
    return callback


def _compiled_loss(model: MLP) -> Loss:
    """The loss the demo compiled ``model`` with."""
    if model.loss is None:
        raise ValueError("the model is not compiled: it has no loss")
    return model.loss


def _one_sample_graph(model: MLP, x: np.ndarray, target: np.ndarray) -> tuple[Value, str]:
    """The loss of one sample (a graph from inputs x1, x2, ... and the parameters to the
    loss), after backward, and what it is."""
    inputs = [Value(float(v), label=f"x{i + 1}") for i, v in enumerate(x)]
    out = model(inputs)
    outputs = [out] if isinstance(out, Value) else out
    for k, o in enumerate(outputs):
        o.label = "output" if len(outputs) == 1 else f"output {k + 1}"
    compiled_loss = _compiled_loss(model)
    loss = compiled_loss.per_sample(target, outputs)
    loss.label = "loss"
    loss.backward()
    return loss, f"computation graph of one sample's {compiled_loss.name} loss"


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


def _write_graph(
    result: DemoResult, path: Path, draw: Callable[[], tuple[Any, str]], timeout: float
) -> None:
    """Render the Graphviz picture ``draw()`` returns (with its description); when ``dot``
    is missing, fails or runs out of time, keep its DOT text and note why."""
    try:
        picture, what = draw()
    except ValueError as exc:  # too large to draw (a very wide --hidden)
        result.notes.append(f"skipped {path.name}: {exc}")
        return
    dot_path = path.with_suffix(".dot")
    try:
        result.artefacts.append(Artefact(render(picture, path, timeout=timeout), what))
    except GraphvizError as exc:
        if not isinstance(exc, GraphvizNotFoundError):  # missing dot writes the text itself
            render(picture, dot_path)
            result.graphviz_failed = True
        path.unlink(missing_ok=True)  # an earlier run's picture of another model
        result.graphs_rendered = False
        result.artefacts.append(Artefact(dot_path, f"{what}, as DOT text"))
        result.notes.append(str(exc))
    else:
        dot_path.unlink(missing_ok=True)  # an earlier run's text, now drawn


def _write_backprop_page(result: DemoResult, path: Path, x: np.ndarray, timeout: float) -> None:
    """The step-by-step backpropagation page of the first hidden neuron on one sample; when
    ``dot`` is missing or fails, a note says why (a failure also sets graphviz_failed)."""
    try:
        page = explain_neuron(result.model, x.tolist(), timeout=timeout)
    except GraphvizError as exc:
        result.graphviz_failed |= not isinstance(exc, GraphvizNotFoundError)
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


def _check_gradients(
    model: MLP, X: np.ndarray, y: np.ndarray, size: tuple[int, int]
) -> GradcheckReport:
    """check_model on the mean loss of the first ``size[0]`` training samples, for at most
    ``size[1]`` parameters."""
    samples, max_params = size
    rows = X[:samples].tolist()
    labels = y[:samples]
    loss = _compiled_loss(model)
    return check_model(
        model, lambda _: loss(labels, [model(row) for row in rows]), max_params=max_params
    )


def _write_gradcheck(result: DemoResult, path: Path) -> None:
    loss_name = _compiled_loss(result.model).name
    header = (
        f"d loss / d parameter of the trained model, loss = {loss_name} over "
        f"{result.gradcheck_samples} training sample(s), against central finite differences"
    )
    atomic_write(path, lambda file: file.write(f"{header}\n{result.gradcheck}\n"))
    result.artefacts.append(Artefact(path, "gradient check of the trained model"))


def _split(
    settings: DemoSettings, spec: DemoDataset
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, datasets.Standardizer | None]:
    """(X_train, X_val, y_train, y_val, standardizer): a 2-D toy set generated and split at
    random; an example data set loaded (``samples`` of its rows at random when given), split
    with each class in proportion and standardized with statistics of the training rows."""
    if not spec.loaded:
        make = getattr(datasets, spec.generator)
        X, y = make(settings.samples or spec.samples, random_state=settings.seed, **spec.options)
        parts = datasets.train_test_split(
            X, y, test_size=VALIDATION_FRACTION, random_state=settings.seed
        )
        return (*parts, None)  # type: ignore[return-value]
    X, y = getattr(datasets, spec.generator)()
    if settings.samples is not None and settings.samples < len(X):  # each class in proportion
        _, X, _, y = datasets.train_test_split(
            X, y, test_size=settings.samples, random_state=settings.seed, stratify=y
        )
    X_train, X_val, y_train, y_val = datasets.train_test_split(
        X, y, test_size=VALIDATION_FRACTION, random_state=settings.seed, stratify=y
    )
    standardizer = datasets.Standardizer().fit(X_train)
    return (
        standardizer.transform(X_train),
        standardizer.transform(X_val),
        y_train,
        y_val,
        standardizer,
    )


def run_demo(settings: DemoSettings | None = None, *, verbose: int = 1) -> DemoResult:
    """Generate the data, train, and write the pictures, logs, model and gradient check
    into ``settings.out`` (see the module doc); then, unless ``settings.overfitting`` is
    False, the overfitting run into ``settings.out / "overfitting"``. ``verbose`` is fit's:
    1 a progress bar."""
    settings = settings or DemoSettings()
    out = Path(settings.out)
    _prepare_out(out)
    spec = DATASETS[settings.dataset]
    X_train, X_val, y_train, y_val, standardizer = _split(settings, spec)
    # many inputs: micrograd's uniform(-1, 1) weights would start far too large
    initializer = "glorot_uniform" if spec.loaded else "uniform"
    model = MLP(
        spec.features,
        [*settings.hidden, spec.outputs],
        seed=settings.seed,
        kernel_initializer=initializer,
    )
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
    gradcheck_size = GRADCHECK_LOADED if spec.loaded else (GRADCHECK_SAMPLES, GRADCHECK_MAX_PARAMS)
    result = DemoResult(
        model=model,
        history=history,
        train_accuracy=model.evaluate(X_train, y_train, return_dict=True, verbose=0)["accuracy"],
        val_accuracy=model.evaluate(X_val, y_val, return_dict=True, verbose=0)["accuracy"],
        gradcheck=_check_gradients(model, X_train, y_train, gradcheck_size),
        gradcheck_samples=gradcheck_size[0],
        training=(X_train, y_train),
        validation=(X_val, y_val),
        log_dir=None if tensorboard is None else log_dir,
        notes=notes,
        standardizer=standardizer,
    )
    _write_artefacts(result, out, settings.dataset, settings.timeout)
    if settings.overfitting:
        result.overfitting = run_overfitting(out / "overfitting", settings.seed, result)
    return result


def run_overfitting(out: Path, seed: int = 0, into: DemoResult | None = None) -> OverfittingResult:
    """The overfitting run (see the module docstring), written into ``out``; its files and
    notes are added to ``into`` when given."""
    _prepare_out(out)
    recipe = OVERFIT
    X, y = datasets.make_moons(
        recipe.train + recipe.validation, noise=recipe.noise, random_state=seed
    )
    X_train, X_val = X[: recipe.train], X[recipe.train :]  # make_moons shuffles its rows
    y_train, y_val = y[: recipe.train], y[recipe.train :]
    # Glorot's range keeps the first epochs' loss moderate: the curves show the overfitting
    model = MLP(2, [*recipe.hidden, 1], seed=seed, kernel_initializer="glorot_uniform")
    model.compile(optim.Adam(lr=recipe.lr), "binary_crossentropy", metrics=["accuracy"])
    stopper = EarlyStopping(patience=recipe.patience, restore_best_weights=True)
    notes = into.notes if into is not None else []
    tensorboard = _tensorboard_callback(out / "logs", notes, histogram_freq=0)
    history = model.fit(
        X_train,
        y_train,
        epochs=recipe.max_epochs,
        batch_size=recipe.batch_size,
        validation_data=(X_val, y_val),
        callbacks=[stopper] if tensorboard is None else [stopper, tensorboard],
        verbose=0,
        seed=seed,
    )
    result = OverfittingResult(
        history,
        stopper,
        model.evaluate(X_val, y_val, return_dict=True, verbose=0)["loss"],
        None if tensorboard is None else out / "logs",
    )
    best = result.best_epoch
    marks = {}
    if stopper.stopped_epoch is not None:
        text = f"early stopping: weights of epoch {best + 1} restored"
        marks[stopper.stopped_epoch] = text
        if tensorboard is not None:
            tensorboard.mark(stopper.stopped_epoch, "early_stopping", text)
    if into is not None:
        title = (
            f"overfitting: MLP 2-{'-'.join(map(str, recipe.hidden))}-1 on {recipe.train} "
            f"noisy points (validation: {recipe.validation})"
        )
        _write_plot(
            into,
            "overfitting run's curves, the early-stopping epoch marked",
            lambda: plot_history(history, out / "history.png", title=title, marks=marks),
        )
        if result.log_dir is not None:
            into.artefacts.append(
                Artefact(result.log_dir, "overfitting run's TensorBoard logs, stop marked")
            )
    return result


def _write_artefacts(result: DemoResult, out: Path, dataset: str, timeout: float) -> None:
    model = result.model
    X_train, y_train = result.training
    loaded = DATASETS[dataset].loaded
    nout = model.nout
    if nout is None:
        raise ValueError("the model is not built: its number of outputs is unknown")
    target = _compiled_loss(model).prepare_targets(y_train[:1], nout)[0]
    _write_graph(
        result,
        out / "graph.svg",
        lambda: _computation_graph(model, X_train[0], target, result.notes),
        timeout,
    )
    if loaded:
        _forget(out / "network.svg", out / "network.dot", out / "decision_boundary.png")
        result.notes.append(
            f"network.svg: skipped for {model.nin} inputs (too many edges to read); "
            "first_layer_weights.png shows the first layer instead"
        )
        _write_plot(result, "first layer's weights", lambda: _plot_first_layer(result, out))
    else:
        _write_graph(
            result, out / "network.svg", lambda: (draw_network(model), "network diagram"), timeout
        )
    _write_backprop_page(result, out / "backprop.html", X_train[0], timeout)
    _write_plot(
        result,
        "training curves",
        lambda: plot_history(result.history, out / "history.png", title=dataset),
    )
    if loaded:
        _write_classification_pictures(result, out, dataset)
    else:
        _forget(
            *(out / name for name in ("confusion_matrix.png", "misclassified.png")),
            *(out / name for name in ("first_layer_weights.png", "standardizer.json")),
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
    if result.standardizer is not None:
        result.standardizer.save(out / "standardizer.json")
        what = "the Standardizer fitted on the training rows: apply it before predict"
        result.artefacts.append(Artefact(out / "standardizer.json", what))
    _write_gradcheck(result, out / "gradcheck.txt")


def _forget(*paths: Path) -> None:
    """Remove an earlier run's files that this run does not write."""
    for path in paths:
        path.unlink(missing_ok=True)


def _plot_first_layer(result: DemoResult, out: Path) -> Path:
    layer = result.model.layers[0]
    weights = np.array([[w.data for w in neuron.w] for neuron in layer.neurons])
    return plot_images(
        weights,
        out / "first_layer_weights.png",
        captions=[f"neuron {i + 1}" for i in range(len(weights))],
        shape=IMAGE_SHAPE,
        title="first layer: each neuron's weights on the 8x8 pixels (dark: large)",
    )


def _write_classification_pictures(result: DemoResult, out: Path, dataset: str) -> None:
    """The confusion matrix on the validation rows, and the misclassified ones as pictures
    (their raw pixels, from the standardized rows)."""
    X_val, y_val = result.validation
    predicted = result.model.predict(X_val).argmax(axis=1)
    matrix = confusion_matrix(y_val, predicted, n_classes=result.model.nout)
    title = f"{dataset}: validation accuracy {result.val_accuracy:.1%} ({len(y_val)} images)"
    _write_plot(
        result,
        "confusion matrix (validation)",
        lambda: plot_confusion_matrix(matrix, out / "confusion_matrix.png", title=title),
    )
    wrong = np.flatnonzero(predicted != y_val)[:MISCLASSIFIED_SHOWN]
    if not len(wrong):
        _forget(out / "misclassified.png")
        return
    assert result.standardizer is not None
    pixels = result.standardizer.inverse_transform(X_val[wrong])
    _write_plot(
        result,
        "misclassified validation images",
        lambda: plot_images(
            pixels,
            out / "misclassified.png",
            captions=[f"{y_val[i]} read as {predicted[i]}" for i in wrong],
            shape=IMAGE_SHAPE,
            title="misclassified: true label, prediction",
        ),
    )
