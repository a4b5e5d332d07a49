"""Neurons, layers and multi-layer perceptrons, compatible with micrograd's ``nn``.

A neuron computes ``act(sum_i w_i * x_i + b)``. The weighted sum is one n-ary ``linear``
node of the graph (one output, n + 1 local partials) instead of micrograd's chain of 2n
additions and multiplications: the same gradients with a far smaller graph.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from .engine import OPS, Value

__all__ = ["ACTIVATIONS", "Layer", "MLP", "Module", "Neuron"]

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
    """Anything with parameters."""

    def zero_grad(self) -> None:
        """Set the gradient of every parameter to 0."""
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self) -> list[Value]:
        return []


class Neuron(Module):
    """``act(w . x + b)`` with weights drawn from U(-1, 1) and bias 0 (as micrograd).

    ``nonlin=False`` makes it linear (micrograd's flag); ``activation`` picks the
    non-linearity by name: relu (default), tanh, sigmoid or linear.
    """

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
        self.activation = activation if nonlin else "linear"
        self._act = ACTIVATIONS[self.activation]

    @property
    def nonlin(self) -> bool:
        return self.activation != "linear"

    def __call__(self, x: Sequence[Value | float] | Value | float) -> Value:
        inputs = as_inputs(x, len(self.w))
        out = _LINEAR(*self.w, *inputs, self.b)
        return self._act(out) if self._act is not None else out

    def parameters(self) -> list[Value]:
        return self.w + [self.b]

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

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
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
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                nonlin=i != len(nouts) - 1,
                activation=activation,
                seed=rng,
            )
            for i in range(len(nouts))
        ]

    def __call__(self, x) -> Value | list[Value]:
        for layer in self.layers:
            x = layer.forward(x)
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"
