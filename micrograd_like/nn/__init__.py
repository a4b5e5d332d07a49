"""Neurons, layers and multi-layer perceptrons, compatible with micrograd's ``nn``.

A neuron computes ``act(sum_i w_i * x_i + b)``. The weighted sum is one n-ary ``linear``
node of the graph (one output, 2n + 1 local partials) instead of micrograd's chain of 2n
additions and multiplications: the same gradients with a far smaller graph.

Every :class:`Module` names its parameters after the attributes that hold them
(``layers.0.neurons.3.w.1``), which gives ``state_dict`` / ``load_state_dict``, and has
Keras' training methods (``compile``, ``fit``, ``evaluate``, ``predict``,
``train_on_batch``); those live in :mod:`micrograd_like.training` and are imported when
first called, so this module depends on the engine only. A :class:`Sequential` of layers
(an :class:`MLP` is one) also has ``summary()`` and ``save(path)``.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .engine import OPS, Value, finite_number

if TYPE_CHECKING:
    import numpy as np

    from .callbacks import History

__all__ = ["ACTIVATIONS", "Layer", "MLP", "Module", "Neuron", "Sequential"]

_LINEAR = OPS["linear"]

ACTIVATIONS = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "linear": None,
}
"""Activation name -> the Value method applied to a neuron's weighted sum."""


def _random_source(seed: int | random.Random | None) -> random.Random:
    """The generator for initial weights: the ``random`` module itself when seed is None
    (so ``random.seed(1337)`` reproduces micrograd's initialisation), else a private one."""
    if seed is None:
        return random  # type: ignore[return-value]
    if isinstance(seed, random.Random):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
    return random.Random(seed)


def _positive_int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")
    return value


class Module:
    """Anything with parameters.

    The parameters are found through the attributes: a Value attribute is a parameter, a
    Module attribute is descended into, a list or tuple numbers its items; attributes whose
    name starts with ``_`` are skipped. Subclasses only need to store their parts.
    """

    stop_training: bool = False
    """Set to True (by a callback) to end ``fit`` after the current batch."""

    static_graph: bool = False
    """True when every call builds the same graph (the same ops and constants) and only the
    values of the inputs and parameters differ: no Python branching on ``.data``, no other
    attribute that changes what is computed. ``fit`` then records the graph once and replays
    it over whole batches with numpy, recording again when the parameters, the modules or
    the number of inputs change. Neuron, Layer, Sequential and MLP set it."""

    def zero_grad(self) -> None:
        """Set the gradient of every parameter to 0."""
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self) -> list[Value]:
        """Every parameter, in a fixed order (the order of ``named_parameters``)."""
        return self.parameters_and_modules()[0]

    def parameters_and_modules(self) -> tuple[list[Value], list[Module]]:
        """``parameters()`` and every Module of the tree (this one first), in one walk."""
        found: list[Value] = []
        modules: list[Module] = []
        _collect_parameters(self, None, found, set(), modules)
        return found, modules

    def named_parameters(self) -> list[tuple[str, Value]]:
        """``(dotted name, parameter)`` pairs such as ``("layers.0.neurons.3.w.1", w)``."""
        found: list[tuple[str, Value]] = []
        _collect_parameters(self, "", found, set())
        return found

    def state_dict(self) -> dict[str, float]:
        """Parameter name -> value (a float), in ``named_parameters`` order."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        """Set every parameter from ``state`` (as made by ``state_dict``).

        Strict: the names must be exactly this module's, every value a finite real number;
        otherwise ValueError and no parameter is changed.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict expects a mapping, got {type(state).__name__}")
        named = dict(self.named_parameters())
        missing = [name for name in named if name not in state]
        unexpected = [name for name in state if name not in named]
        if missing or unexpected:
            raise ValueError(
                "the state does not match the module's parameters: "
                f"missing {_first_few(missing)}, unexpected {_first_few(unexpected)}"
            )
        values = {name: finite_number(state[name], f"parameter {name!r}") for name in named}
        for name, p in named.items():
            p.data = values[name]

    # -- Keras-style training; see micrograd_like.training for the details
    def compile(self, optimizer: Any, loss: Any, metrics: Sequence | None = None, **kwargs) -> None:
        """Choose the optimizer, the loss and the metrics for ``fit`` (``l2=`` too)."""
        from .training import compile

        compile(self, optimizer, loss, metrics, **kwargs)

    def fit(self, X: Any, y: Any, **kwargs) -> History:
        """Train by minibatch gradient descent; returns the History of per-epoch logs."""
        from .training import fit

        return fit(self, X, y, **kwargs)

    def evaluate(self, X: Any, y: Any) -> dict[str, float]:
        """The loss and the compiled metrics on ``(X, y)``, without training."""
        from .training import evaluate

        return evaluate(self, X, y)

    def predict(self, X: Any) -> np.ndarray:
        """The model's outputs for every row of ``X``, shape (n, outputs)."""
        from .training import predict

        return predict(self, X)

    def train_on_batch(self, X: Any, y: Any) -> float:
        """One optimizer step on the batch ``(X, y)``; returns its loss."""
        from .training import train_on_batch

        return train_on_batch(self, X, y)


def _collect_parameters(
    obj: object, name: str | None, found: list, seen: set[int], modules: list | None = None
) -> None:
    """Depth-first walk of Values, Modules and lists of them, appending (name, Value), or
    just the Value when ``name`` is None (the faster walk behind ``parameters()``); every
    Module met is appended to ``modules`` when it is given."""
    if type(obj) is Value:
        found.append(obj if name is None else (name, obj))
    elif isinstance(obj, Module):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if modules is not None:
            modules.append(obj)
        for attr, value in getattr(obj, "__dict__", {}).items():
            if not attr.startswith("_"):
                _collect_parameters(value, _child_name(name, attr), found, seen, modules)
    elif isinstance(obj, (list, tuple)):
        if name is None and all(type(item) is Value for item in obj):
            found.extend(obj)  # the common case, a list of weights, without a call per item
            return
        for i, item in enumerate(obj):
            _collect_parameters(item, _child_name(name, i), found, seen, modules)


def _child_name(name: str | None, key: str | int) -> str | None:
    if name is None:
        return None
    return f"{name}.{key}" if name else str(key)


def _first_few(names: list[str], limit: int = 5) -> str:
    if not names:
        return "none"
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(repr(n) for n in names[:limit]) + more


class Neuron(Module):
    """``act(w . x + b)`` with weights drawn from U(-1, 1) and bias 0 (as micrograd).

    ``nonlin=False`` makes it linear (micrograd's flag); ``activation`` picks the
    non-linearity by name: relu (default), tanh, sigmoid or linear.
    """

    static_graph = True

    def __init__(
        self,
        nin: int,
        nonlin: bool = True,
        activation: str = "relu",
        seed: int | random.Random | None = None,
    ) -> None:
        nin = _positive_int(nin, "Neuron nin")
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r}; expected one of {sorted(ACTIVATIONS)}"
            )
        rng = _random_source(seed)
        self.w = [Value(rng.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0.0)
        self._activation = activation if nonlin else "linear"
        self._act = ACTIVATIONS[self._activation]

    @property
    def activation(self) -> str:
        """The non-linearity's name, fixed at construction (it is part of the graph)."""
        return self._activation

    @property
    def nonlin(self) -> bool:
        return self.activation != "linear"

    @property
    def nin(self) -> int:
        return len(self.w)

    nout = 1

    def __call__(self, x: Sequence[Value | float] | Value | float) -> Value:
        inputs = as_inputs(x, len(self.w))
        out = _LINEAR(*self.w, *inputs, self.b)
        return self._act(out) if self._act is not None else out

    def __repr__(self) -> str:
        name = "ReLU" if self.activation == "relu" else self.activation.capitalize()
        return f"{name}Neuron({len(self.w)})"


def as_inputs(x: object, nin: int) -> list:
    """The ``nin`` inputs of a neuron as a list; a lone scalar is accepted when nin == 1."""
    if isinstance(x, (Value, int, float)) and not isinstance(x, bool):
        x = [x]
    try:
        inputs = list(x)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(f"expected a sequence of {nin} input(s), got {type(x).__name__}") from None
    if len(inputs) != nin:
        raise ValueError(f"expected {nin} input(s), got {len(inputs)}")
    return inputs


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs; keyword arguments go to Neuron."""

    static_graph = True

    def __init__(self, nin: int, nout: int, **kwargs) -> None:
        nout = _positive_int(nout, "Layer nout")
        if kwargs.get("seed") is not None:  # one generator shared by all the neurons
            kwargs["seed"] = _random_source(kwargs["seed"])
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def __call__(self, x) -> Value | list[Value]:
        out = self.forward(x)
        return out[0] if len(out) == 1 else out

    def forward(self, x) -> list[Value]:
        """The outputs as a list, even for a layer of one neuron."""
        inputs = as_inputs(x, len(self.neurons[0].w))
        return [n(inputs) for n in self.neurons]

    @property
    def nin(self) -> int:
        return self.neurons[0].nin

    @property
    def nout(self) -> int:
        return len(self.neurons)

    @property
    def activation(self) -> str | None:
        """The activation all the neurons share (None if they differ)."""
        names = {n.activation for n in self.neurons}
        return names.pop() if len(names) == 1 else None

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


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

    def save(self, path: str | os.PathLike) -> None:
        """Write the architecture and the parameters to a JSON file, atomically
        (format: :mod:`micrograd_like.serialization`); read it with ``load_model``."""
        from .serialization import save_model

        save_model(self, path)

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
        sizes = [_positive_int(nin, "MLP nin")] + nouts
        rng = None if seed is None else _random_source(seed)
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
