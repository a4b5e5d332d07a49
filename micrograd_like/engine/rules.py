"""The math of the built-in ops: forwards on floats and local partial derivatives.

A partial is written with arithmetic, comparisons and Value methods only, so the same rule
gives floats (the fast path of ``backward()``) and Values (differentiable gradients for
``grad(create_graph=True)``). Each function's docstring gives its formula.

The ``*_push`` functions are the chain rule of the commonest ops written out on floats for
the fast sweep of ``backward()``: ``push(node)`` adds d(node)/d(input) * node.grad to each
input's ``grad``, the same numbers as the op's partials (a test holds them equal), without
building the tuple of partials. They are unchecked: the sweep checks the sum of all
gradients afterwards.
"""

from __future__ import annotations

import math
import operator

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (10 ms)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "checked_pow",
    "dot_plus",
    "linear",
    "linear_partials",
    "log",
    "logsumexp",
    "logsumexp_partials",
    "pow_partials",
    "relu",
    "sigmoid",
    "sign",
    "step",
    "value_pow",
    "add_push",
    "linear_push",
    "mul_push",
    "relu_push",
    "unary_push",
]


def _unary(method: str, on_float: Any) -> Any:
    """``on_float(x)`` for a float, ``x.method()`` for a Value."""

    def apply(x: Any) -> Any:
        return on_float(x) if type(x) is float else getattr(x, method)()

    return apply


ln = _unary("log", math.log)
exp = _unary("exp", math.exp)
sin = _unary("sin", math.sin)
cos = _unary("cos", math.cos)


def checked_pow(base: float, exponent: float) -> float:
    """base ** exponent on reals; a complex or undefined result is refused."""
    if base < 0 and not float(exponent).is_integer():
        raise ValueError(
            f"a negative base {base!r} with a non-integer exponent {exponent!r} has no real result"
        )
    if base == 0 and exponent < 0:
        raise ValueError(f"0 to a negative power ({exponent!r}) is undefined")
    return math.pow(base, exponent)


def value_pow(base: float, exponent: float) -> float:
    """base ** exponent where the exponent is itself differentiable: base must be > 0."""
    if base <= 0:
        raise ValueError(
            f"with a Value exponent the base must be positive (got {base!r}); "
            "for powers of negative numbers use a plain number as exponent"
        )
    return math.pow(base, exponent)


def pow_partials(a: Any, b: Any, out: Any) -> tuple:
    """d(a^b)/da = b a^(b-1), d(a^b)/db = a^b ln a."""
    return (b * a ** (b - 1), out * ln(a))


def sigmoid(x: float) -> float:
    """1 / (1 + e^-x), computed without overflow for large |x|."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def relu(x: float) -> float:
    """max(0, x)."""
    return x if x > 0 else 0.0


def log(x: float) -> float:
    """ln x for x > 0."""
    if x <= 0:
        raise ValueError(f"log needs a positive input, got {x!r}")
    return math.log(x)


def linear(*args: float) -> float:
    """sum_i w_i * x_i + b with args = (w_1..w_n, x_1..x_n, b)."""
    if len(args) % 2 == 0:
        raise ValueError(f"expected 2n + 1 arguments (w_1..w_n, x_1..x_n, b), got {len(args)}")
    n = len(args) // 2
    return dot_plus(args[:n], args[n : 2 * n], args[-1])


def dot_plus(weights: Any, inputs: Any, bias: float) -> float:
    """sum_i w_i * x_i + b over two iterables of floats (``linear``'s forward, also on
    the inputs as a neuron keeps them)."""
    return sum(map(operator.mul, weights, inputs), bias)


def linear_partials(*args: Any) -> tuple:
    """d/dw_i = x_i, d/dx_i = w_i, d/db = 1 (args end with the output, unused)."""
    n = (len(args) - 2) // 2
    return (*args[n : 2 * n], *args[:n], 1.0)


def logsumexp(*z: float) -> float:
    """log(sum_i e^z_i), shifted by max(z) so it never overflows."""
    if not z:
        raise ValueError("logsumexp needs at least one input")
    m = max(z)
    return m + math.log(math.fsum(math.exp(zi - m) for zi in z))


def logsumexp_partials(*args: Any) -> tuple:
    """d/dz_i = softmax(z)_i = e^(z_i - m) / sum_j e^(z_j - m) with m = max(z) (args end
    with the output, unused: e^(z_i - out) would lose the digits of out - m when |m| is
    large, and the partials would no longer sum to 1)."""
    z = args[:-1]
    m = max(z)
    shifted = [exp(zi - m) for zi in z]
    total = sum(shifted[1:], shifted[0])
    return tuple(e / total for e in shifted)


def step(x: Any) -> Any:
    """1 where x > 0 else 0 (relu's derivative)."""
    return (x > 0) * 1.0


def sign(x: Any) -> Any:
    """1, 0 or -1 (abs's derivative)."""
    return (x > 0) * 1.0 - (x < 0) * 1.0


def add_push(node: Any) -> None:
    """d(a + b)/da = d(a + b)/db = 1."""
    a, b = node._parents
    g = node.grad
    a.grad += g
    b.grad += g


def mul_push(node: Any) -> None:
    """d(a b)/da = b, d(a b)/db = a."""
    a, b = node._parents
    g = node.grad
    a.grad += b.data * g
    b.grad += a.data * g


def relu_push(node: Any) -> None:
    """d relu(x)/dx = 1 where x > 0, else 0 (nothing to add)."""
    (x,) = node._parents
    if x.data > 0:
        x.grad += node.grad


def linear_push(node: Any) -> None:
    """d/dw_i = x_i, d/dx_i = w_i, d/db = 1 for parents (w_1..w_n, x_1..x_n, b); the weights
    first, then the inputs, then b, as the tuple of partials orders them."""
    parents = node._parents
    n = len(parents) >> 1
    g = node.grad
    weights, inputs = parents[:n], parents[n:-1]
    for w, x in zip(weights, inputs):
        w.grad += x.data * g
    for w, x in zip(weights, inputs):
        x.grad += w.data * g
    parents[-1].grad += g


def unary_push(derivative: Any) -> Any:
    """The push of a one-input op from its ``derivative(x, out) -> (d out/dx,)``."""

    def push(node: Any) -> None:
        (x,) = node._parents
        x.grad += derivative(x.data, node.data)[0] * node.grad

    return push
