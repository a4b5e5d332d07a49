"""Initial weights: Keras' names (``glorot_uniform``, ``he_uniform``, ``uniform``, ``zeros``)
or a function.

A layer of ``nin`` inputs and ``nout`` neurons draws its kernel, shape (nin, nout) (Keras'
layout, one column per neuron), and its bias, shape (nout,). The named initializers are
uniform on [-limit, limit]:

- ``uniform``: limit 1, micrograd's U(-1, 1) (MLP's default, for compatibility);
- ``glorot_uniform``: limit sqrt(6 / (fan_in + fan_out)) (Dense's default, as in Keras), which
  keeps the variance of the signal about the same from layer to layer, forwards and backwards;
- ``he_uniform``: limit sqrt(6 / fan_in), the same for relu layers (which zero half of it);
- ``zeros``: every value 0 (the default bias).

For a kernel fan_in = nin and fan_out = nout; for a bias, Keras' rule for a 1-D shape,
fan_in = fan_out = nout. The values are drawn neuron by neuron (all the weights of neuron 0,
then of neuron 1, ...), the order micrograd draws them in, so after ``random.seed(1337)`` an
MLP with the ``uniform`` kernel starts from micrograd's exact weights.

A function may be given instead of a name: ``f(nin, nout, rng)``, where ``rng`` is the
layer's ``random.Random`` (the ``random`` module itself when the layer has no seed), returns
the kernel as nin rows of nout numbers (a nested list or a numpy array) when it is a
``kernel_initializer``, and nout numbers when it is a ``bias_initializer``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

from ..checks import lookup

__all__ = ["INITIALIZERS", "Initializer", "get"]

Rng = random.Random
"""A ``random.Random`` (or the ``random`` module, which has the same methods)."""


class _Uniform:
    """U(-limit, limit) with ``limit(fan_in, fan_out)``. (A plain class, not a dataclass:
    importing dataclasses added about 15 ms to every nn import.)"""

    __slots__ = ("limit", "name")

    def __init__(self, name: str, limit: Callable[[int, int], float]) -> None:
        self.name, self.limit = name, limit

    def kernel(self, nin: int, nout: int, rng: Rng) -> list[list[float]]:
        """One list of nin weights per neuron (the columns of the (nin, nout) kernel)."""
        return [self._draw(nin, self.limit(nin, nout), rng) for _ in range(nout)]

    def bias(self, nin: int, nout: int, rng: Rng) -> list[float]:
        return self._draw(nout, self.limit(nout, nout), rng)

    @staticmethod
    def _draw(n: int, limit: float, rng: Rng) -> list[float]:
        if limit == 0:
            return [0.0] * n
        return [rng.uniform(-limit, limit) for _ in range(n)]


def _one(fan_in: int, fan_out: int) -> float:
    return 1.0


def _glorot(fan_in: int, fan_out: int) -> float:
    return math.sqrt(6.0 / (fan_in + fan_out))


def _he(fan_in: int, fan_out: int) -> float:
    return math.sqrt(6.0 / fan_in)


def _zero(fan_in: int, fan_out: int) -> float:
    return 0.0


INITIALIZERS: dict[str, _Uniform] = {
    init.name: init
    for init in (
        _Uniform("uniform", _one),
        _Uniform("glorot_uniform", _glorot),
        _Uniform("he_uniform", _he),
        _Uniform("zeros", _zero),
    )
}
"""The initializers known by name (``get`` also takes the Keras and PyTorch aliases)."""

ALIASES = {
    "GlorotUniform": "glorot_uniform",
    "xavier_uniform": "glorot_uniform",
    "HeUniform": "he_uniform",
    "kaiming_uniform": "he_uniform",
    "Zeros": "zeros",
}


class _Function:
    """A user's ``f(nin, nout, rng)``, its result checked."""

    __slots__ = ("function",)

    def __init__(self, function: Callable[[int, int, Rng], Any]) -> None:
        self.function = function

    def kernel(self, nin: int, nout: int, rng: Rng) -> list[list[float]]:
        return self._values(nin, nout, rng, (nin, nout), "kernel_initializer").T.tolist()

    def bias(self, nin: int, nout: int, rng: Rng) -> list[float]:
        return self._values(nin, nout, rng, (nout,), "bias_initializer").tolist()

    def _values(self, nin: int, nout: int, rng: Rng, shape: tuple[int, ...], role: str) -> Any:
        import numpy as np  # only a user's function needs it

        name = getattr(self.function, "__name__", type(self.function).__name__)
        result = self.function(nin, nout, rng)
        try:
            values = np.asarray(result, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{role} {name}({nin}, {nout}, rng) must return numbers") from None
        if values.shape != shape:
            raise ValueError(
                f"{role} {name}({nin}, {nout}, rng) returned shape {values.shape}; expected {shape}"
            )
        if not np.isfinite(values).all():
            raise ValueError(f"{role} {name}({nin}, {nout}, rng) returned a non-finite number")
        return values


Initializer = _Uniform | _Function
"""What :func:`get` returns: ``kernel(nin, nout, rng)`` gives one list of nin weights per
neuron, ``bias(nin, nout, rng)`` the nout biases."""


def get(spec: str | Callable[[int, int, Rng], Any] | Initializer, role: str) -> Initializer:
    """The initializer named ``spec`` (any case, or an alias), or a user's function;
    ``role`` ("kernel_initializer" or "bias_initializer") names it in errors."""
    if isinstance(spec, (_Uniform, _Function)):
        return spec
    if isinstance(spec, str):
        return lookup(spec, INITIALIZERS, role.replace("_", " "), ALIASES)
    if callable(spec):
        return _Function(spec)
    raise TypeError(
        f"{role} must be a name ({', '.join(INITIALIZERS)}) or a function (nin, nout, rng), "
        f"got {type(spec).__name__}"
    )
