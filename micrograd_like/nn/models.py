"""Models made of layers: :class:`Sequential` and :class:`MLP`, saved and loaded as files."""

from __future__ import annotations

import os
import random
from collections.abc import Sequence

from ..checks import count
from ..engine import Value
from ..files import DEFAULT_MAX_BYTES
from ..serialization import ModelDescription, read_model_file, write_model_file
from .layers import ACTIVATIONS, Layer, random_source
from .module import Module

__all__ = ["MLP", "Sequential", "load_model", "save_model"]


class Sequential(Module):
    """Layers applied one after the other: ``Sequential(Layer(2, 16), Layer(16, 1, nonlin=False))``
    (a list of layers works too). Returns a Value for one output, else a list."""

    static_graph = True

    def __init__(self, *layers: Layer | Sequence[Layer]) -> None:
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        if not layers:
            raise ValueError("Sequential needs at least one Layer")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"Sequential takes Layer objects; item {i} is a {type(layer).__name__}"
                )
        for i in range(1, len(layers)):
            if layers[i].nin != layers[i - 1].nout:
                raise ValueError(
                    f"layer {i} reads {layers[i].nin} input(s) but layer {i - 1} gives "
                    f"{layers[i - 1].nout} output(s)"
                )
        self.layers = list(layers)

    def __call__(self, x) -> Value | list[Value]:
        for layer in self.layers:
            x = layer.forward(x)
        return x[0] if len(x) == 1 else x

    @property
    def nin(self) -> int:
        return self.layers[0].nin

    @property
    def nout(self) -> int:
        return self.layers[-1].nout

    def summary(self) -> str:
        """A table of the layers (output size, activation, parameter count) and the total;
        ``print(model.summary())`` shows it."""
        rows = [("Layer (type)", "Output size", "Activation", "Params")]
        for i, layer in enumerate(self.layers):
            rows.append(
                (
                    f"layers.{i} (Layer)",
                    str(layer.nout),
                    layer.activation or "mixed",
                    str(len(layer.parameters())),
                )
            )
        widths = [max(len(row[c]) for row in rows) + 3 for c in range(4)]
        lines = ["".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        rule = "-" * sum(widths)
        total = len(self.parameters())
        return "\n".join(
            [
                f'Model: "{type(self).__name__}" ({self.nin} inputs)',
                rule,
                lines[0],
                "=" * len(rule),
                *lines[1:],
                "=" * len(rule),
                f"Total params: {total}",
            ]
        )

    def describe(self) -> ModelDescription:
        """The architecture and the parameters as plain data (what ``save`` writes)."""
        layers = []
        for i, layer in enumerate(self.layers):
            if layer.activation is None:
                raise ValueError(
                    f"layer {i} mixes activations; the file format needs one per layer"
                )
            layers.append((layer.nout, layer.activation))
        kind = "MLP" if isinstance(self, MLP) else "Sequential"
        return ModelDescription(kind, self.nin, tuple(layers), self.state_dict())

    def save(self, path: str | os.PathLike) -> None:
        """Write the architecture and the parameters to a JSON file, atomically
        (format: :mod:`micrograd_like.serialization`); read it with ``load_model``."""
        write_model_file(path, self.describe())

    def __repr__(self) -> str:
        return f"{type(self).__name__} of [{', '.join(str(layer) for layer in self.layers)}]"


class MLP(Sequential):
    """Layers of sizes ``nouts`` after ``nin`` inputs; hidden layers use ``activation``,
    the last layer is linear. Returns a Value for one output, else a list."""

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        seed: int | random.Random | None = None,
    ) -> None:
        nouts = list(nouts)
        if not nouts:
            raise ValueError("MLP needs at least one layer size in nouts")
        sizes = [count(nin, "MLP nin")] + nouts
        rng = None if seed is None else random_source(seed)
        super().__init__(
            *(
                Layer(
                    sizes[i],
                    sizes[i + 1],
                    nonlin=i != len(nouts) - 1,
                    activation=activation,
                    seed=rng,
                )
                for i in range(len(nouts))
            )
        )


def save_model(model: Sequential, path: str | os.PathLike) -> None:
    """``model.save(path)`` for an MLP or a Sequential of Layers."""
    if not isinstance(model, Sequential):
        raise TypeError(
            f"only an MLP or a Sequential of Layers can be saved, got {type(model).__name__}; "
            "for other modules save model.state_dict() yourself"
        )
    model.save(path)


def load_model(path: str | os.PathLike, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Sequential:
    """Read a model written by ``model.save(path)``; ValueError if the file is anything else,
    including a file larger than ``max_bytes`` (64 MB unless raised)."""
    description = read_model_file(path, ACTIVATIONS, max_bytes=max_bytes)
    model = _build(description)
    model.load_state_dict(description.parameters)
    return model


def _build(description: ModelDescription) -> Sequential:
    sizes = [description.nin, *(nout for nout, _ in description.layers)]
    activations = [activation for _, activation in description.layers]
    if description.kind == "MLP":
        hidden = set(activations[:-1])
        if activations[-1] != "linear" or len(hidden) > 1:
            raise ValueError(
                "an MLP has one activation on all hidden layers and a linear last layer; "
                f"the file says {activations}"
            )
        return MLP(sizes[0], sizes[1:], activation=hidden.pop() if hidden else "relu", seed=0)
    return Sequential(
        *(
            Layer(sizes[i], sizes[i + 1], activation=activations[i], seed=0)
            for i in range(len(activations))
        )
    )
