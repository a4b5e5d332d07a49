"""``micrograd-like demo``: the options of :func:`micrograd_like.demo.run_demo`, and its
report on the terminal."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

from ..demo_settings import CHECKS, DATASETS, MIN_SAMPLES, VALIDATION_FRACTION, DemoSettings
from .exit_codes import EXIT_CHECK_FAILED, EXIT_GRAPHVIZ, EXIT_OK, EXIT_USAGE

if TYPE_CHECKING:
    from ..demo import DemoResult

__all__ = ["add_demo_command"]


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
        overfitting=args.overfitting,
        timeout=args.timeout,
    )


def _plan(settings: DemoSettings) -> str:
    spec = DATASETS[settings.dataset]
    sizes = " -> ".join(str(n) for n in (spec.features, *settings.hidden, spec.outputs))
    scaled = ", standardized" if spec.loaded else ""
    return (
        f"Training an MLP {sizes} on {settings.samples or spec.samples} {settings.dataset} "
        f"samples ({VALIDATION_FRACTION:.0%} held out for validation{scaled}): {spec.loss}, "
        f"Adam with lr {settings.lr:g}, {settings.epochs} epochs of batches of "
        f"{settings.batch_size}"
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
        + (f", worst relative error {worst.rel_error:.3g} ({worst.name})" if worst else "")
        + (
            f", {report.inconclusive} inconclusive (float resolution)"
            if report.inconclusive
            else ""
        ),
        "",
        f"Wrote into {settings.out}:",
    ]
    width = max(len(str(a.path)) for a in result.artefacts)
    lines += [f"  {str(a.path).ljust(width)}  {a.description}" for a in result.artefacts]
    if not result.graphs_rendered:
        why = "failed" if result.graphviz_failed else "is missing"
        lines.append(f"The graphs were not rendered to SVG (Graphviz's dot {why}).")
    if result.log_dir is not None:
        lines.append(f"To watch the training curves: tensorboard --logdir {result.log_dir}")
    if result.overfitting is not None:
        lines.append(f"Overfitting run: {result.overfitting.summary()}.")
        if result.overfitting.log_dir is not None:
            lines.append(f"  tensorboard --logdir {result.overfitting.log_dir}")
    return "\n".join(lines)


def _run(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    settings = _settings(args)
    print(_plan(settings), flush=True)
    result = run_demo(settings, verbose=1)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(_summary(result, settings))
    if not result.gradcheck.ok:
        return EXIT_CHECK_FAILED
    return EXIT_GRAPHVIZ if result.graphviz_failed else EXIT_OK


def _per_dataset(setting: str) -> str:
    """The data sets' defaults for ``setting``: "100; digits 20"."""

    def shown(value: Any) -> str:
        return ",".join(map(str, value)) if isinstance(value, tuple) else f"{value:g}"

    first = next(iter(DATASETS.values()))
    special = [
        f"{name} {shown(getattr(spec, setting))}"
        for name, spec in DATASETS.items()
        if getattr(spec, setting) != getattr(first, setting)
    ]
    return "; ".join([shown(getattr(first, setting)), *special])


def add_demo_command(subparsers: argparse._SubParsersAction) -> None:
    """Register ``micrograd-like demo``."""
    defaults = DemoSettings()
    parser = subparsers.add_parser(
        "demo",
        help="train a small network on a toy data set and write its pictures, logs and model",
        description=(
            "Trains an MLP on a 2-D toy data set or the digits (80% training, 20% "
            "validation) with a progress bar, prints the final accuracies, and writes into "
            "DIR: graph.svg (one sample's computation graph), network.svg, backprop.html "
            "(backpropagation step by step), history.png, decision_boundary.png, logs/ "
            "(TensorBoard), model.json and gradcheck.txt. For the digits: "
            "confusion_matrix.png, misclassified.png, first_layer_weights.png and "
            "standardizer.json instead of the 2-D pictures. Then trains a too-large "
            "network on 30 noisy points until early stopping: DIR/overfitting/history.png "
            "and DIR/overfitting/logs/ mark the epoch."
        ),
        epilog=(
            "Without Graphviz's dot the graphs are written as .dot text (and backprop.html is "
            "skipped); without matplotlib or tensorboardX their files are skipped (a note says "
            "so, the exit code stays 0); a dot that fails or runs past --timeout is noted too, "
            "with exit code 3. Exit codes: 0 ok, 1 the gradient check failed, 2 a bad option, "
            "3 dot failed, 130 interrupted."
        ),
    )
    _one_line_errors(parser)
    parser.add_argument("--dataset", choices=list(DATASETS), default=defaults.dataset)
    parser.add_argument(
        "--samples",
        type=_option(int, CHECKS["samples"], "an integer"),
        metavar="N",
        help=f"number of samples, at least {MIN_SAMPLES} (default: "
        + ", ".join(f"{name} {spec.samples}" for name, spec in DATASETS.items())
        + ")",
    )
    parser.add_argument(
        "--epochs",
        type=_option(int, CHECKS["epochs"], "an integer"),
        metavar="N",
        help=f"passes over the training data (default: {_per_dataset('epochs')})",
    )
    parser.add_argument(
        "--batch-size",
        type=_option(int, CHECKS["batch_size"], "an integer"),
        default=defaults.batch_size,
        metavar="K",
        help="samples per optimizer step (default: %(default)s)",
    )
    parser.add_argument(
        "--lr",
        type=_option(float, CHECKS["lr"], "a number"),
        help=f"Adam's learning rate (default: {_per_dataset('lr')})",
    )
    parser.add_argument(
        "--hidden",
        type=_option(_layer_sizes, CHECKS["hidden"], "comma-separated layer sizes such as 16,16"),
        metavar="SIZES",
        help=f"hidden layer sizes, comma-separated (default: {_per_dataset('hidden')})",
    )
    parser.add_argument(
        "--seed",
        type=_option(int, CHECKS["seed"], "an integer"),
        default=defaults.seed,
        help="seed of the data, the initial weights and the shuffling (default: %(default)s)",
    )
    parser.add_argument(
        "--no-overfitting",
        dest="overfitting",
        action="store_false",
        help="skip the second run, which shows overfitting and early stopping",
    )
    parser.add_argument(
        "--timeout",
        type=_option(float, CHECKS["timeout"], "a number of seconds"),
        default=defaults.timeout,
        metavar="SECONDS",
        help="time Graphviz's dot may take per picture (default: %(default)g)",
    )
    parser.add_argument(
        "--out",
        default=str(defaults.out),
        metavar="DIR",
        help="output directory, created if needed; files in it are replaced (default: %(default)s)",
    )
    parser.set_defaults(run=_run)
