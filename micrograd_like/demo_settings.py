"""What ``micrograd-like demo`` runs: its settings, checked, and its data sets by name.

Standard library only, so that the command line can offer the options (and ``--help``)
without importing numpy.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import checks
from .errors import DOT_TIMEOUT

__all__ = [
    "CHECKS",
    "DATASETS",
    "MIN_SAMPLES",
    "VALIDATION_FRACTION",
    "DemoDataset",
    "DemoSettings",
]

VALIDATION_FRACTION = 0.2
MIN_SAMPLES = 10
PER_CLASS = 5
"""An example data set's subset keeps at least this many rows per class, so that each class
has one in the validation part."""


@dataclass(frozen=True)
class DemoDataset:
    """A problem for the demo. A 2-D toy problem: ``micrograd_like.datasets.<generator>(
    n_samples, random_state=seed, **options)`` gives X and integer labels 0 .. classes - 1,
    and ``samples`` is how many the demo draws by default. An example data set
    (``features`` > 2): ``datasets.<generator>()`` loads all its ``samples`` rows, which the
    demo standardizes (fitted on the training rows)."""

    generator: str
    classes: int
    samples: int
    options: dict[str, Any] = field(default_factory=dict)
    features: int = 2
    epochs: int = 100
    lr: float = 0.05
    hidden: tuple[int, ...] = (16, 16)
    """The training settings used when the demo is not given others."""

    @property
    def loaded(self) -> bool:
        """An example data set of fixed size, not a generated 2-D one."""
        return self.features != 2

    @property
    def outputs(self) -> int:
        """One output (a logit) for two classes, else one output per class."""
        return 1 if self.classes == 2 else self.classes

    @property
    def loss(self) -> str:
        return "binary_crossentropy" if self.classes == 2 else "sparse_categorical_crossentropy"


DATASETS: dict[str, DemoDataset] = {
    "moons": DemoDataset("make_moons", 2, 200, {"noise": 0.1}),
    "circles": DemoDataset("make_circles", 2, 200, {"noise": 0.1, "factor": 0.5}),
    "blobs": DemoDataset("make_blobs", 3, 300, {"centers": 3}),
    "xor": DemoDataset("make_xor", 2, 200),
    "spiral": DemoDataset("make_spiral", 3, 300, {"n_classes": 3, "noise": 0.2}),
    "digits": DemoDataset("load_digits", 10, 1797, features=64, epochs=20, lr=0.002, hidden=(64,)),
}
"""The demo's data sets by name; every generator returns its rows in random order."""


def _optional(check: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``check``, letting None (the data set's own value) through."""
    return lambda value: None if value is None else check(value)


def check_hidden(value: object) -> tuple[int, ...]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or not value:
        raise ValueError(f"hidden must list at least one layer size, got {value!r}")
    return tuple(checks.count(size, "a hidden layer size") for size in value)


def check_dataset(value: object) -> str:
    if not isinstance(value, str) or value not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}, got {value!r}")
    return value


CHECKS: dict[str, Callable[[Any], Any]] = {  # setting -> its check
    "dataset": check_dataset,
    "samples": _optional(lambda value: checks.count(value, "samples", MIN_SAMPLES)),
    "epochs": _optional(lambda value: checks.count(value, "epochs")),
    "batch_size": lambda value: checks.count(value, "batch_size"),
    "lr": _optional(lambda value: checks.positive_number(value, "lr")),
    "hidden": _optional(check_hidden),
    "seed": checks.seed,
    "overfitting": lambda value: checks.flag(value, "overfitting"),
    "timeout": lambda value: checks.positive_number(value, "timeout"),
}


@dataclass(frozen=True)
class DemoSettings:
    """What ``micrograd-like demo`` runs; ``samples``, ``epochs``, ``lr`` and ``hidden`` left
    None take the data set's (100 epochs, lr 0.05, hidden (16, 16) for the 2-D toys; 20,
    0.002 and (64,) for the digits)."""

    dataset: str = "moons"
    samples: int | None = None
    # None (the default) is replaced by the data set's value in __post_init__
    epochs: int = None  # type: ignore[assignment]
    batch_size: int = 32
    lr: float = None  # type: ignore[assignment]
    hidden: tuple[int, ...] = None  # type: ignore[assignment]
    seed: int = 0
    out: str | Path = "demo-out"
    overfitting: bool = True
    """Also train a too-large network on a few noisy points until early stopping."""
    timeout: float = DOT_TIMEOUT
    """Seconds Graphviz's dot may take per picture."""

    def __post_init__(self) -> None:
        for name, check in CHECKS.items():
            object.__setattr__(self, name, check(getattr(self, name)))
        object.__setattr__(self, "out", Path(self.out))
        spec = DATASETS[self.dataset]
        for name in ("epochs", "lr", "hidden"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, getattr(spec, name))
        fewest = PER_CLASS * spec.classes
        if spec.loaded and self.samples is not None and not fewest <= self.samples <= spec.samples:
            raise ValueError(
                f"samples: {self.dataset} has {spec.samples} samples and the demo needs at "
                f"least {fewest} ({PER_CLASS} per class), got {self.samples}"
            )
