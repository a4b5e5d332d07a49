"""Neurons and layers, compatible with micrograd's ``nn``.

A neuron computes ``act(sum_i w_i * x_i + b)``. The weighted sum is one n-ary ``linear``
node of the graph (one output, 2n + 1 local partials) instead of micrograd's chain of 2n
additions and multiplications: the same gradients with a far smaller graph.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from ..checks import count, lookup
from ..engine import OPS, Value
from .module import Module

__all__ = ["ACTIVATIONS", "Layer", "Neuron", "as_inputs", "random_source"]

_LINEAR = OPS["linear"]

ACTIVATIONS = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "linear": None,
}
"""Activation name -> the Value method applied to a neuron's weighted sum."""


def random_source(seed: int | random.Random | None) -> random.Random:
    """The generator for initial weights: the ``random`` module itself when seed is None
    (so ``random.seed(1337)`` reproduces micrograd's initialisation), else a private one."""
    if seed is None:
        return random  # type: ignore[return-value]
    if isinstance(seed, random.Random):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
    return random.Random(seed)


def _activation_name(activation: object) -> str:
    """The activation's name as ACTIVATIONS spells it (any case is accepted)."""
    lookup(activation, ACTIVATIONS, "activation")
    return str(activation).lower()


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
        nin = count(nin, "Neuron nin")
        activation = _activation_name(activation)
        rng = random_source(seed)
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
        nout = count(nout, "Layer nout")
        if kwargs.get("seed") is not None:  # one generator shared by all the neurons
            kwargs["seed"] = random_source(kwargs["seed"])
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
