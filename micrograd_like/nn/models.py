"""Models made of layers: :class:`Sequential` and :class:`MLP`, saved and loaded as files."""

from __future__ import annotations

import os
import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..checks import count
from ..engine import Value
from ..files import DEFAULT_MAX_BYTES
from .layers import ACTIVATIONS, InitializerSpec, Layer, input_width, random_source
from .module import Module

if TYPE_CHECKING:
    import numpy as np
    import torch

    from ..serialization import ModelDescription

__all__ = ["MLP", "Sequential", "load_model", "save_model"]


class Sequential(Module):
    """Layers applied one after the other: ``Sequential([Dense(16, activation="relu"),
    Dense(1)])`` as in Keras, or ``Sequential(Layer(2, 16), Layer(16, 1, nonlin=False))``;
    ``add(layer)`` appends one. Returns a Value for one output, else a list.

    A layer whose number of inputs is unknown (a ``Dense``) is built as soon as the layer
    before it is; the first one when the model is first called or fitted (or by
    ``build(n_inputs)``)."""

    static_graph = True

    def __init__(self, *layers: Layer | Sequence[Layer]) -> None:
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        self.layers: list[Layer] = []
        for layer in layers:
            self.add(layer)  # type: ignore[arg-type]

    def add(self, layer: Layer) -> None:
        """Append ``layer``; it reads the outputs of the last layer."""
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Sequential takes Layer objects (Layer, Dense); item {len(self.layers)} is "
                f"a {type(layer).__name__}"
            )
        if self.layers and self.layers[-1].built:
            previous = self.layers[-1]
            if layer.built and layer.nin != previous.nout:
                raise ValueError(
                    f"layer {len(self.layers)} reads {layer.nin} input(s) but layer "
                    f"{len(self.layers) - 1} gives {previous.nout} output(s)"
                )
            layer.build(previous.nout)
        self.layers.append(layer)

    @property
    def built(self) -> bool:
        """True once every layer has its weights."""
        return bool(self.layers) and all(layer.built for layer in self.layers)

    def build(self, input_shape: int | Sequence[int | None]) -> None:
        """Build every layer for ``input_shape`` inputs (an int, or a Keras shape such as
        ``(None, 2)``)."""
        width = input_width(input_shape)
        for layer in self._checked_layers():
            layer.build(width)
            width = layer.nout

    def _checked_layers(self) -> list[Layer]:
        if not self.layers:
            raise ValueError("the Sequential model has no layers yet: add(layer) first")
        return self.layers

    def __call__(self, x) -> Value | list[Value]:
        for layer in self._checked_layers():
            x = layer.forward(x)
        return x[0] if len(x) == 1 else x

    @property
    def nin(self) -> int | None:
        """The number of inputs (None until the model is built)."""
        return self.layers[0].nin if self.layers else None

    @property
    def nout(self) -> int | None:
        return self.layers[-1].nout if self.layers else None

    # -- Keras' summary and weights
    def _built_width(self) -> int:
        """The number of inputs of a built model; ValueError with what to do otherwise."""
        nin = self.nin
        if nin is None or not self.built:
            raise ValueError(
                "the model is not built yet (its number of inputs is unknown): call it on an "
                "input, fit it, or call model.build(n_inputs)"
            )
        return nin

    def _summary_table(self) -> tuple[str, list[tuple[str, str, str, str]], int]:
        """(title, rows with a header row first, total parameters)."""
        nin = self._built_width()
        rows = [("Layer (type)", "Output size", "Activation", "Params")]
        for i, layer in enumerate(self.layers):
            rows.append(
                (
                    f"layers.{i} ({type(layer).__name__})",
                    str(layer.nout),
                    layer.activation or "mixed",
                    str(len(layer.parameters())),
                )
            )
        title = f'Model: "{type(self).__name__}" ({nin} inputs)'
        return title, rows, len(self.parameters())

    def summary(self, print_fn: Callable[[str], Any] | None = None) -> None:
        """Print a table of the layers (output size, activation, parameter count) and the
        total, one line at a time with ``print_fn`` (``print`` by default), as Keras does."""
        title, rows, total = self._summary_table()
        widths = [max(len(row[c]) for row in rows) + 3 for c in range(4)]
        lines = ["".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        rule = "-" * sum(widths)
        for line in (
            title,
            rule,
            lines[0],
            "=" * len(rule),
            *lines[1:],
            "=" * len(rule),
            f"Total params: {total}",
        ):
            (print_fn or print)(line)

    def _repr_html_(self) -> str:
        """The summary as an HTML table (how Jupyter shows a model)."""
        import html

        try:
            title, rows, total = self._summary_table()
        except ValueError as exc:
            return f"<p>{html.escape(type(self).__name__)}: {html.escape(str(exc))}</p>"
        head = "".join(f"<th>{html.escape(cell)}</th>" for cell in rows[0])
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
            for row in rows[1:]
        )
        return (
            f"<p><b>{html.escape(title)}</b></p><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table><p>Total params: {total}</p>"
        )

    def get_weights(self) -> list[np.ndarray]:
        """Every layer's ``[kernel (nin, nout), bias (nout,)]``, in order, in one list."""
        return [array for layer in self._checked_layers() for array in layer.get_weights()]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Set every layer from a list as ``get_weights`` gives it; nothing is changed unless
        all of it fits."""
        layers = self._checked_layers()
        if not isinstance(weights, (list, tuple)) or len(weights) != 2 * len(layers):
            got = len(weights) if isinstance(weights, (list, tuple)) else type(weights).__name__
            raise ValueError(
                f"set_weights expects {2 * len(layers)} arrays (a kernel and a bias per "
                f"layer), got {got}"
            )
        checked = []
        for i, layer in enumerate(layers):
            try:
                checked.append(layer._checked_weights(weights[2 * i : 2 * i + 2]))
            except ValueError as exc:
                raise ValueError(f"layer {i}: {exc}") from None
        for layer, arrays in zip(layers, checked):
            layer._assign(*arrays)

    # -- files and PyTorch
    def describe(self) -> ModelDescription:
        """The architecture and the parameters as plain data (what ``save`` writes)."""
        from ..serialization import ModelDescription  # the file code, when files are used

        nin = self._built_width()
        layers = []
        for i, layer in enumerate(self._checked_layers()):
            if layer.activation is None:
                raise ValueError(
                    f"layer {i} mixes activations; the file format needs one per layer"
                )
            layers.append((layer.nout, layer.activation))
        kind = "MLP" if isinstance(self, MLP) else "Sequential"
        return ModelDescription(kind, nin, tuple(layers), self.state_dict())

    def save(self, path: str | os.PathLike) -> None:
        """Write the architecture and the parameters to a JSON file, atomically
        (format: :mod:`micrograd_like.serialization`); read it with ``load_model``."""
        from ..serialization import write_model_file

        write_model_file(path, self.describe())

    def to_torch(self) -> torch.nn.Sequential:
        """The same network as a ``torch.nn.Sequential`` of float64 ``Linear`` layers and
        activations, with the same weights (needs PyTorch)."""
        from .torch_bridge import to_torch

        return to_torch(self._checked_layers())

    @staticmethod
    def from_torch(module: torch.nn.Module) -> Sequential:
        """A Sequential with the layers and weights of a ``torch.nn.Sequential`` of
        ``Linear`` layers, each optionally followed by ReLU, Tanh, Sigmoid or Softmax."""
        from .torch_bridge import from_torch

        return Sequential(from_torch(module))

    def __repr__(self) -> str:
        return f"{type(self).__name__} of [{', '.join(str(layer) for layer in self.layers)}]"


class MLP(Sequential):
    """Layers of sizes ``nouts`` after ``nin`` inputs; hidden layers use ``activation``,
    the last layer is linear. Returns a Value for one output, else a list. The initial
    weights are micrograd's U(-1, 1) unless ``kernel_initializer`` says otherwise (for many
    inputs, ``"glorot_uniform"`` or ``"he_uniform"``: see :mod:`.initializers`)."""

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        seed: int | random.Random | None = None,
        *,
        kernel_initializer: InitializerSpec = "uniform",
        bias_initializer: InitializerSpec = "zeros",
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
                    kernel_initializer=kernel_initializer,
                    bias_initializer=bias_initializer,
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
    from ..serialization import read_model_file

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
