"""Neurons and layers, compatible with micrograd's ``nn``, and Keras' ``Dense``.

A neuron computes ``act(sum_i w_i * x_i + b)``. The weighted sum is one n-ary ``linear``
node of the graph (one output, 2n + 1 local partials) instead of micrograd's chain of 2n
additions and multiplications: the same gradients with a far smaller graph. A layer is
``nout`` neurons reading the same inputs; its ``softmax`` activation applies to all of
their sums at once. A layer may be built later, when its number of inputs is known
(``Dense(16)``: on its first call, or when a model is fitted).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..activations import softmax
from ..checks import count, lookup
from ..engine import Value
from ..engine.value import weighted_sum
from . import initializers
from .module import Module

if TYPE_CHECKING:
    import numpy as np

__all__ = ["ACTIVATIONS", "Dense", "Layer", "Neuron", "as_inputs", "random_source"]

ACTIVATIONS: dict[str, Callable[..., Any] | None] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "linear": None,
    "softmax": softmax,
}
"""Activation name -> the Value method applied to a neuron's weighted sum (``softmax``: the
function applied to the list of a layer's sums)."""

LAYER_ACTIVATIONS = frozenset({"softmax"})
"""The activations of a whole layer, not of one neuron."""

InitializerSpec = str | Callable[[int, int, Any], Any]
"""A name from :mod:`.initializers` or a function ``f(nin, nout, rng)``."""


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
    """``act(w . x + b)``, by default with weights drawn from U(-1, 1) and bias 0 (as
    micrograd); ``kernel_initializer`` and ``bias_initializer`` choose others
    (:mod:`.initializers`).

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
        kernel_initializer: InitializerSpec = "uniform",
        bias_initializer: InitializerSpec = "zeros",
    ) -> None:
        nin = count(nin, "Neuron nin")
        activation = _activation_name(activation)
        if activation in LAYER_ACTIVATIONS:
            raise ValueError(
                f"{activation} is the activation of a whole layer (Layer or Dense), not of "
                "one neuron"
            )
        rng = random_source(seed)
        kernel = initializers.get(kernel_initializer, "kernel_initializer").kernel(nin, 1, rng)
        bias = initializers.get(bias_initializer, "bias_initializer").bias(nin, 1, rng)
        self._set(kernel[0], bias[0], activation if nonlin else "linear")

    @classmethod
    def _made(cls, weights: list[float], bias: float, activation: str) -> Neuron:
        """A neuron with the given parameters (how a layer makes its neurons)."""
        neuron = cls.__new__(cls)
        neuron._set(weights, bias, activation)
        return neuron

    def _set(self, weights: list[float], bias: float, activation: str) -> None:
        self.w = [Value(x) for x in weights]
        self.b = Value(bias)
        self._activation = activation
        self._act = ACTIVATIONS[activation]

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
        return self._fire(inputs, [v.data for v in inputs])

    def _fire(self, inputs: list[Value], input_data: list[float]) -> Value:
        """act(sum_i w_i * x_i + b) for the Values :func:`as_inputs` made and their data."""
        out = weighted_sum(self.w, inputs, self.b, input_data)
        return self._act(out) if self._act is not None else out

    def __repr__(self) -> str:
        name = "ReLU" if self.activation == "relu" else self.activation.capitalize()
        return f"{name}Neuron({len(self.w)})"


def as_inputs(x: object, nin: int | None) -> list[Value]:
    """The inputs of a neuron as a list of Values (``nin`` of them, when given), numbers
    wrapped as constant leaves; a lone scalar is one input."""
    if isinstance(x, (Value, int, float)) and not isinstance(x, bool):
        x = [x]
    try:
        inputs = list(x)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(
            f"expected a sequence of {nin or 'the'} input(s), got {type(x).__name__}"
        ) from None
    if nin is not None and len(inputs) != nin:
        raise ValueError(f"expected {nin} input(s), got {len(inputs)}")
    return [v if isinstance(v, Value) else Value(v) for v in inputs]


def input_width(input_shape: int | Sequence[int | None]) -> int:
    """The number of inputs from an int or a Keras shape such as ``(None, 2)`` (its last
    entry)."""
    if isinstance(input_shape, (tuple, list)) and input_shape:
        input_shape = input_shape[-1]
    return count(input_shape, "the number of inputs (input_shape)")


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs (micrograd's Layer), with the
    neurons' ``activation`` (or ``softmax`` over their sums) and initializers; the weights
    are drawn neuron by neuron, micrograd's order (:mod:`.initializers`)."""

    static_graph = True

    def __init__(
        self,
        nin: int,
        nout: int,
        nonlin: bool = True,
        activation: str = "relu",
        seed: int | random.Random | None = None,
        kernel_initializer: InitializerSpec = "uniform",
        bias_initializer: InitializerSpec = "zeros",
    ) -> None:
        activation = _activation_name(activation)
        self._units = count(nout, "Layer nout")
        self._configure(
            activation if nonlin else "linear", seed, kernel_initializer, bias_initializer
        )
        self.build(nin)

    def _configure(
        self,
        activation: str,
        seed: int | random.Random | None,
        kernel_initializer: InitializerSpec,
        bias_initializer: InitializerSpec,
    ) -> None:
        """Everything but the numbers of inputs and outputs (``_units``); ``build`` draws
        the weights."""
        self._activation = _activation_name(activation)
        if self._activation in LAYER_ACTIVATIONS and self._units < 2:
            raise ValueError(
                f"{self._activation} over 1 output is always 1; use 'sigmoid' for one probability"
            )
        random_source(seed)  # check it now, use it in build
        self._pending: tuple | None = (
            seed,
            initializers.get(kernel_initializer, "kernel_initializer"),
            initializers.get(bias_initializer, "bias_initializer"),
        )
        self.neurons: list[Neuron] = []

    @property
    def built(self) -> bool:
        """True once the weights exist (the number of inputs is known)."""
        return bool(self.neurons)

    def build(self, input_shape: int | Sequence[int | None]) -> None:
        """Draw the weights for ``input_shape`` inputs (an int or a Keras shape such as
        ``(None, 2)``); a built layer only checks that the number matches."""
        nin = input_width(input_shape)
        if self._pending is None:
            if nin != self.nin:
                raise ValueError(f"this layer reads {self.nin} input(s), not {nin}")
            return
        seed, kernel_initializer, bias_initializer = self._pending
        rng = random_source(seed)
        kernel = kernel_initializer.kernel(nin, self._units, rng)
        bias = bias_initializer.bias(nin, self._units, rng)
        each = "linear" if self._activation in LAYER_ACTIVATIONS else self._activation
        self.neurons = [Neuron._made(w, b, each) for w, b in zip(kernel, bias)]
        self._pending = None  # the initializers are not kept (a user's may not pickle)

    def __call__(self, x) -> Value | list[Value]:
        out = self.forward(x)
        return out[0] if len(out) == 1 else out

    def forward(self, x) -> list[Value]:
        """The outputs as a list, even for a layer of one neuron."""
        inputs = as_inputs(x, self.nin)
        if not self.neurons:
            self.build(len(inputs))
        input_data = [v.data for v in inputs]
        sums = [n._fire(inputs, input_data) for n in self.neurons]
        return softmax(sums) if self._activation == "softmax" else sums

    @property
    def nin(self) -> int | None:
        """The number of inputs (None before the layer is built)."""
        return self.neurons[0].nin if self.neurons else None

    @property
    def nout(self) -> int:
        return self._units

    units = nout

    @property
    def activation(self) -> str | None:
        """The layer's activation (None if its neurons were given different ones)."""
        if self._activation in LAYER_ACTIVATIONS or not self.neurons:
            return self._activation
        names = {n.activation for n in self.neurons}
        return names.pop() if len(names) == 1 else None

    # -- Keras' weights: the kernel (nin, nout), one column per neuron, and the bias (nout,)
    def get_weights(self) -> list[np.ndarray]:
        """``[kernel, bias]``: the kernel of shape (nin, nout), the bias of shape (nout,)."""
        import numpy as np

        self._require_built("get_weights")
        kernel = np.array([[w.data for w in n.w] for n in self.neurons]).T
        return [kernel, np.array([n.b.data for n in self.neurons])]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Set the kernel and the bias from ``[kernel, bias]`` as ``get_weights`` gives them;
        ValueError (and nothing changed) for a wrong shape or a non-finite number."""
        self._assign(*self._checked_weights(weights))

    def _checked_weights(self, weights: Sequence[Any]) -> list[np.ndarray]:
        """``[kernel, bias]`` as float arrays of this layer's shapes, or ValueError."""
        import numpy as np

        self._require_built("set_weights")
        if not isinstance(weights, (list, tuple)) or len(weights) != 2:
            got = f"{len(weights)} item(s)" if isinstance(weights, (list, tuple)) else weights
            raise ValueError(f"set_weights expects [kernel, bias] for a layer, got {got!r}")
        arrays = []
        for name, given, shape in zip(
            ("kernel", "bias"), weights, [(self.nin, self.nout), (self.nout,)]
        ):
            try:
                array = np.asarray(given, dtype=float)
            except (TypeError, ValueError):
                raise ValueError(f"set_weights: the {name} must be an array of numbers") from None
            if array.shape != shape:
                raise ValueError(
                    f"set_weights: the {name} must have shape {shape}, got {array.shape}"
                )
            if not np.isfinite(array).all():
                raise ValueError(f"set_weights: the {name} holds a non-finite number")
            arrays.append(array)
        return arrays

    def _assign(self, kernel: np.ndarray, bias: np.ndarray) -> None:
        for j, neuron in enumerate(self.neurons):
            for w, x in zip(neuron.w, kernel[:, j].tolist()):
                w.data = x
            neuron.b.data = float(bias[j])

    def _require_built(self, action: str) -> None:
        if not self.neurons:
            raise ValueError(
                f"{type(self).__name__}.{action}: the layer is not built yet (its number of "
                "inputs is unknown); call it on an input, or build(n_inputs)"
            )

    def __repr__(self) -> str:
        if not self.neurons:
            return (
                f"{type(self).__name__}({self._units}, activation={self._activation!r}) (unbuilt)"
            )
        inner = ", ".join(str(n) for n in self.neurons)
        if self._activation == "softmax":
            return f"Layer of softmax([{inner}])"
        return f"Layer of [{inner}]"


class Dense(Layer):
    """Keras' ``Dense(units, activation=None)``: ``units`` neurons whose number of inputs is
    found on the first call (or given as ``input_dim``); Keras' initial weights
    (``glorot_uniform`` kernel, ``zeros`` bias), drawn from ``random`` or from ``seed``.
    ``activation=None`` is linear."""

    def __init__(
        self,
        units: int,
        activation: str | None = None,
        *,
        kernel_initializer: InitializerSpec = "glorot_uniform",
        bias_initializer: InitializerSpec = "zeros",
        seed: int | random.Random | None = None,
        input_dim: int | None = None,
    ) -> None:
        self._units = count(units, "Dense units")
        self._configure(
            "linear" if activation is None else activation,
            seed,
            kernel_initializer,
            bias_initializer,
        )
        if input_dim is not None:
            self.build(input_dim)
