"""The scalar reverse-mode autodiff engine.

A :class:`Value` wraps one float. Every operation on Values creates a new node that
remembers its inputs (``_parents``, an ordered tuple) and the :class:`Op` that made it.
Each op is declared once in :data:`OPS` with its forward function on floats and its local
partial derivatives; ``backward()`` and :func:`grad` apply the chain rule

    d(root)/d(parent) += d(root)/d(node) * d(node)/d(parent)

over the graph in reverse topological order. The derivative rules use arithmetic only, so
the same rule evaluated on Values gives differentiable gradients (``create_graph=True``).
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import inspect
import math
import numbers
import operator
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

__all__ = [
    "OPS",
    "Op",
    "Value",
    "define_op",
    "enable_grad",
    "finite_number",
    "grad",
    "is_grad_enabled",
    "no_grad",
    "power_op",
    "topological_order",
]

_GRAD_ENABLED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "micrograd_like_grad_enabled", default=True
)


def is_grad_enabled() -> bool:
    """True unless inside a :func:`no_grad` block (per thread and per asyncio task)."""
    return _GRAD_ENABLED.get()


@contextlib.contextmanager
def _recording(enabled: bool) -> Iterator[None]:
    token = _GRAD_ENABLED.set(enabled)
    try:
        yield
    finally:
        _GRAD_ENABLED.reset(token)


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Inside this block ops compute values but record no graph (usable as a decorator)."""
    return _recording(False)


def enable_grad() -> contextlib.AbstractContextManager[None]:
    """Record graphs again inside this block, even within :func:`no_grad`."""
    return _recording(True)


@contextlib.contextmanager
def _cyclic_collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector during a backward pass.

    Graphs hold no reference cycles, so everything a backward pass allocates is freed by
    reference counting; left on, the collector would repeatedly walk every node of a large
    graph and make backward superlinear in the graph's size.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _to_float(x: object, what: str = "Value") -> float:
    """Convert a real number (int, float, numpy scalar) to float; refuse everything else."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(
            f"{what} expects a real number (int, float or numpy scalar), "
            f"got {type(x).__name__}: {x!r}"
        )
    try:
        return float(x)
    except OverflowError:
        raise OverflowError(f"{what}: {x!r} is too large for a float") from None


def finite_number(value: object, what: str) -> float:
    """``value`` as a float when it is a finite real number (not a bool), else ValueError
    naming ``what``: the check for numbers read from files and from users' arguments."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} must be a finite real number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{what} is too large for a float") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite real number, got {number!r}")
    return number


@dataclass(frozen=True, eq=False)
class Op:
    """One differentiable operation.

    ``forward(*floats) -> float`` computes the output; ``derivative(*inputs, out)``
    returns the tuple of local partials d(out)/d(input_i). ``inputs`` and ``out`` are
    floats on the fast path and Values when building a differentiable gradient, so the
    rule must use arithmetic and Value methods only. ``vectorized``, when given, is the
    forward on numpy arrays (no domain checks needed: a batched replay that produces a
    non-finite number is redone sample by sample); with it, ``derivative`` must accept
    arrays too. ``domain`` gives, per input, the
    interval that derivative tests sample from, and ``kinks`` the points where the op is
    not differentiable (tests check both sides).
    """

    name: str
    forward: Callable[..., float]
    derivative: Callable[..., tuple]
    arity: int | None = None
    domain: tuple[tuple[float, float], ...] = ((-3.0, 3.0),)
    kinks: tuple[float, ...] = ()
    label: str = field(default="")
    vectorized: Callable[..., np.ndarray] | None = None

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.name)

    def __call__(self, *args: Value | float) -> Value:
        if self.arity is not None and len(args) != self.arity:
            raise TypeError(f"{self.name} takes {self.arity} argument(s), got {len(args)}")
        for a in args:
            if type(a) is not Value:  # wrap numbers as constant leaves
                nodes = tuple(a if type(a) is Value else Value(a) for a in args)
                break
        else:
            nodes = args
        try:
            data = self.forward(*map(_data, nodes))
        except (ValueError, ZeroDivisionError) as exc:
            raise type(exc)(f"{self.name}: {exc}") from None
        except OverflowError:
            raise OverflowError(
                f"{self.name} overflowed at {_describe(nodes)}: the result is too large for a float"
            ) from None
        if type(data) is not float:
            data = _to_float(data, f"the forward of op {self.name!r} returned a result that")
        if not math.isfinite(data):
            raise _not_finite(self.name, nodes, data)
        if _GRAD_ENABLED.get():
            return Value._node(data, nodes, self)
        return Value._node(data, (), None)

    def local_partials(self, inputs: Sequence, out) -> tuple:
        """d(out)/d(input_i) for each input, with a clear error where it is undefined."""
        try:
            partials = self.derivative(*inputs, out)
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            raise ValueError(
                f"the derivative of {self.name} is undefined at {_describe(inputs)}: {exc}"
            ) from None
        if len(partials) != len(inputs):
            raise ValueError(
                f"the derivative of op {self.name!r} returned {len(partials)} partial(s) "
                f"for {len(inputs)} input(s)"
            )
        return partials


def _not_finite(name: str, nodes: Sequence[Value], data: float) -> ArithmeticError:
    """The error for an op whose result is inf or nan: a non-finite input (possible only
    through an assignment to ``.data``) or an overflow."""
    for node in nodes:
        if not math.isfinite(node.data):
            return ValueError(f"{name}: an input is {node.data!r}; Values hold finite numbers")
    return OverflowError(
        f"{name} overflowed at {_describe(nodes)}: the result {data!r} is not a finite float"
    )


def _describe(values: Sequence) -> str:
    datas = [v.data if type(v) is Value else v for v in values]
    return ", ".join(f"{d!r}" for d in datas)


_data = operator.attrgetter("data")

OPS: dict[str, Op] = {}
"""Every named op, by name: the engine's built-ins and those added with define_op."""


def define_op(
    name: str,
    forward: Callable[..., float],
    derivative: Callable[..., tuple],
    *,
    arity: int | None = None,
    domain: Sequence[tuple[float, float]] | None = None,
    kinks: Sequence[float] = (),
    vectorized: Callable[..., np.ndarray] | None = None,
) -> Op:
    """Declare a differentiable op and return it; call it with Values or numbers.

    ``forward(*floats) -> float``; ``derivative(*inputs, out) -> tuple`` of the local
    partials, written with arithmetic and Value methods only so it also works on Values
    (for second derivatives). ``arity`` is read from ``forward``'s signature when omitted;
    ``domain`` (one ``(low, high)`` per input) and ``kinks`` tell the tests where to check
    the derivative. ``vectorized`` optionally gives the forward on numpy arrays, which lets
    ``fit`` replay graphs using the op over a whole batch. Example, softplus(x) = log(1 + e^x) with
    softplus'(x) = sigmoid(x) = 1 - e^-out::

        softplus = define_op("softplus", lambda x: math.log1p(math.exp(x)),
                             lambda x, out: (1 - math.e ** -out,))
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"define_op: name must be an identifier, got {name!r}")
    if name in OPS:
        raise ValueError(f"define_op: an op named {name!r} already exists")
    if not callable(forward) or not callable(derivative):
        raise TypeError("define_op: forward and derivative must be callables")
    if arity is None:
        arity = _arity_of(forward)
    if arity is not None and (isinstance(arity, bool) or not isinstance(arity, int) or arity < 1):
        raise ValueError(f"define_op: {name!r} needs a positive int arity, got {arity!r}")
    if domain is None:
        domain = ((-3.0, 3.0),) * (arity or 1)
    domain = _checked_domain(name, domain, arity)
    op = Op(name, forward, derivative, arity, domain, tuple(kinks), vectorized=vectorized)
    OPS[name] = op
    return op


def _checked_domain(
    name: str, domain: Sequence[tuple[float, float]], arity: int | None
) -> tuple[tuple[float, float], ...]:
    """The per-input test intervals as floats: one finite (low, high), low < high, per input
    (any number, at least one, for a variadic op)."""
    try:
        intervals = tuple((float(low), float(high)) for low, high in domain)
    except (TypeError, ValueError):
        raise ValueError(
            f"define_op: {name!r} domain must be a sequence of (low, high) pairs, got {domain!r}"
        ) from None
    if not intervals or (arity is not None and len(intervals) != arity):
        raise ValueError(
            f"define_op: {name!r} domain needs one (low, high) pair per input "
            f"({arity if arity is not None else 'at least one'}), got {len(intervals)}"
        )
    for low, high in intervals:
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(
                f"define_op: {name!r} domain interval ({low!r}, {high!r}) must be finite "
                "with low < high"
            )
    return intervals


def _arity_of(forward: Callable[..., float]) -> int | None:
    """Number of positional parameters of ``forward``; None when it takes ``*args``."""
    try:
        params = inspect.signature(forward).parameters.values()
    except (TypeError, ValueError):
        raise ValueError("define_op: cannot read forward's signature; pass arity=") from None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


# ---------------------------------------------------------------- built-in ops


def _checked_pow(base: float, exponent: float) -> float:
    """base ** exponent on reals; a complex or undefined result is refused."""
    if base < 0 and not float(exponent).is_integer():
        raise ValueError(
            f"a negative base {base!r} with a non-integer exponent {exponent!r} has no real result"
        )
    if base == 0 and exponent < 0:
        raise ValueError(f"0 to a negative power ({exponent!r}) is undefined")
    return math.pow(base, exponent)


def _value_pow(base: float, exponent: float) -> float:
    """base ** exponent where the exponent is itself differentiable: base must be > 0."""
    if base <= 0:
        raise ValueError(
            f"with a Value exponent the base must be positive (got {base!r}); "
            "for powers of negative numbers use a plain number as exponent"
        )
    return math.pow(base, exponent)


def _sigmoid(x: float) -> float:
    """1 / (1 + e^-x), computed without overflow for large |x|."""
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _log(x: float) -> float:
    if x <= 0:
        raise ValueError(f"log needs a positive input, got {x!r}")
    return math.log(x)


def _linear(*args: float) -> float:
    """sum_i w_i * x_i + b with args = (w_1..w_n, x_1..x_n, b)."""
    if len(args) % 2 == 0:
        raise ValueError(f"expected 2n + 1 arguments (w_1..w_n, x_1..x_n, b), got {len(args)}")
    n = len(args) // 2
    return sum(map(operator.mul, args[:n], args[n : 2 * n]), args[-1])


def _linear_partials(*args) -> tuple:
    """d/dw_i = x_i, d/dx_i = w_i, d/db = 1 (args end with the output, unused)."""
    n = (len(args) - 2) // 2
    return (*args[n : 2 * n], *args[:n], 1.0)


def _elementwise(method: str, on_float: Callable[[float], float], on_array: Callable) -> Callable:
    """One function for the three kinds of operand a derivative rule meets: a float (fast
    path), a Value (differentiable gradients) and a numpy array (batched replay)."""

    def apply(x):
        if type(x) is float:
            return on_float(x)
        if type(x) is Value:
            return getattr(x, method)()
        return on_array(x)

    return apply


_ln = _elementwise("log", math.log, np.log)
_exp = _elementwise("exp", math.exp, np.exp)
_sin = _elementwise("sin", math.sin, np.sin)
_cos = _elementwise("cos", math.cos, np.cos)


def _logsumexp(*z: float) -> float:
    """log(sum_i e^z_i), shifted by max(z) so it never overflows."""
    if not z:
        raise ValueError("logsumexp needs at least one input")
    m = max(z)
    return m + math.log(math.fsum(math.exp(zi - m) for zi in z))


def _logsumexp_arrays(*z: np.ndarray) -> np.ndarray:
    m = np.maximum.reduce(np.broadcast_arrays(*z))
    return m + np.log(sum(np.exp(zi - m) for zi in z))


def _logsumexp_partials(*args) -> tuple:
    """d/dz_i = e^(z_i - out) = softmax(z)_i (args end with the output)."""
    out = args[-1]
    return tuple(_exp(zi - out) for zi in args[:-1])


def _sigmoid_arrays(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _step(x):
    """1 where x > 0 else 0: a float for floats and Values (constant), an array for arrays."""
    return (x > 0) * 1.0


def _sign(x):
    return (x > 0) * 1.0 - (x < 0) * 1.0


# The built-in ops: forward on floats, local partials (arithmetic only, so they also serve
# Values and arrays), and the forward on numpy arrays used to replay a graph over a batch.
define_op("add", operator.add, lambda a, b, out: (1.0, 1.0), vectorized=operator.add)
define_op("mul", operator.mul, lambda a, b, out: (b, a), vectorized=operator.mul)
define_op(
    "pow",
    _value_pow,
    lambda a, b, out: (b * a ** (b - 1), out * _ln(a)),
    domain=((0.2, 3.0), (-2.0, 2.0)),
    # no vectorized form: numpy would answer 0 ** w and (-2) ** 2, which this op refuses
)
define_op("abs", abs, lambda x, out: (_sign(x),), kinks=(0.0,), vectorized=np.abs)
define_op(
    "relu",
    lambda x: x if x > 0 else 0.0,
    lambda x, out: (_step(x),),
    kinks=(0.0,),
    vectorized=lambda x: np.maximum(x, 0.0),
)
define_op("tanh", math.tanh, lambda x, out: (1 - out * out,), vectorized=np.tanh)
define_op("sigmoid", _sigmoid, lambda x, out: (out * (1 - out),), vectorized=_sigmoid_arrays)
define_op("exp", math.exp, lambda x, out: (out,), vectorized=np.exp)
define_op("log", _log, lambda x, out: (1 / x,), domain=((0.05, 5.0),), vectorized=np.log)
define_op("sin", math.sin, lambda x, out: (_cos(x),), vectorized=np.sin)
define_op("cos", math.cos, lambda x, out: (-_sin(x),), vectorized=np.cos)
define_op(
    "linear",
    _linear,
    _linear_partials,
    arity=None,
    domain=((-2.0, 2.0),) * 5,
    vectorized=_linear,
)
define_op(
    "logsumexp",
    _logsumexp,
    _logsumexp_partials,
    arity=None,
    domain=((-3.0, 3.0),) * 3,
    vectorized=_logsumexp_arrays,
)

ADD, MUL, POW = OPS["add"], OPS["mul"], OPS["pow"]


def _constant_power_partial(c: float) -> Callable[..., tuple]:
    """d(x ** c)/dx = c * x ** (c - 1), which is 0 for c = 0 (also at x = 0)."""
    if c == 0:
        return lambda x, out: (0.0,)
    return lambda x, out: (c * x ** (c - 1),)


@lru_cache(maxsize=256)
def power_op(exponent: float) -> Op:
    """The op x ** c for a constant exponent c: d/dx = c * x ** (c - 1)."""
    c = float(exponent)
    if c.is_integer() and c >= 0:
        domain, kinks = ((-3.0, 3.0),), ()
    else:
        domain, kinks = ((0.1, 3.0),), ()
    return Op(
        f"pow{c:g}",
        lambda x: _checked_pow(x, c),
        _constant_power_partial(c),
        1,
        domain,
        kinks,
        label=f"**{c:g}",
        vectorized=lambda x: np.power(x, c),
    )


# ---------------------------------------------------------------- the Value node


class Value:
    """A scalar in a computation graph: ``data`` (float), ``grad`` (float), ``label``.

    ``Value(2.0) * 3 + 1`` builds a graph; ``backward()`` fills ``.grad`` of every node.
    Comparisons (``<``, ``<=``, ``>``, ``>=``) compare ``data`` and return bool; ``==``
    is identity, so Values can be kept in sets and dicts.
    """

    __slots__ = ("data", "grad", "label", "_parents", "_op")

    def __init__(self, data: float, label: str = "") -> None:
        self.data = data if type(data) is float else _to_float(data)
        if not math.isfinite(self.data):
            raise ValueError(f"Value expects a finite number, got {self.data!r}")
        self.grad = 0.0
        if not isinstance(label, str):
            raise TypeError(f"Value label must be a str, got {type(label).__name__}")
        self.label = label
        self._parents: tuple[Value, ...] = ()
        self._op: Op | None = None

    @classmethod
    def _node(cls, data: float, parents: tuple[Value, ...], op: Op | None) -> Value:
        node = object.__new__(cls)
        node.data = data
        node.grad = 0.0
        node.label = ""
        node._parents = parents
        node._op = op
        return node

    @property
    def op(self) -> str:
        """Label of the op that made this node ('' for a leaf)."""
        return self._op.label if self._op is not None else ""

    @property
    def parents(self) -> tuple[Value, ...]:
        """The inputs of the op that made this node, in order."""
        return self._parents

    # -- arithmetic (sub, neg and div are derived from add, mul and pow)
    def __add__(self, other: Value | float) -> Value:
        return ADD(self, other)

    def __radd__(self, other: float) -> Value:
        return ADD(other, self)

    def __mul__(self, other: Value | float) -> Value:
        return MUL(self, other)

    def __rmul__(self, other: float) -> Value:
        return MUL(other, self)

    def __pos__(self) -> Value:
        return self

    def __neg__(self) -> Value:
        return MUL(self, -1.0)

    def __sub__(self, other: Value | float) -> Value:
        return ADD(self, -other if type(other) is Value else -_to_float(other, "subtraction"))

    def __rsub__(self, other: float) -> Value:
        return ADD(other, -self)

    def __truediv__(self, other: Value | float) -> Value:
        divisor = other.data if type(other) is Value else _to_float(other, "division")
        if divisor == 0:
            raise ZeroDivisionError(f"division by zero: {self.data!r} / 0")
        return MUL(self, other**-1 if type(other) is Value else 1.0 / divisor)

    def __rtruediv__(self, other: float) -> Value:
        if self.data == 0:
            raise ZeroDivisionError(f"division by zero: {other!r} / 0")
        return MUL(other, self**-1)

    def __pow__(self, exponent: Value | float) -> Value:
        if type(exponent) is Value:
            return POW(self, exponent)
        return power_op(_to_float(exponent, "the exponent of **"))(self)

    def __rpow__(self, base: float) -> Value:
        return POW(base, self)

    def __abs__(self) -> Value:
        return OPS["abs"](self)

    def relu(self) -> Value:
        """max(0, x); derivative 1 for x > 0, else 0."""
        return OPS["relu"](self)

    def tanh(self) -> Value:
        """tanh(x); derivative 1 - tanh(x)^2."""
        return OPS["tanh"](self)

    def sigmoid(self) -> Value:
        """1 / (1 + e^-x); derivative s(x) * (1 - s(x))."""
        return OPS["sigmoid"](self)

    def exp(self) -> Value:
        """e^x; derivative e^x."""
        return OPS["exp"](self)

    def log(self) -> Value:
        """Natural log for x > 0; derivative 1/x."""
        return OPS["log"](self)

    def sin(self) -> Value:
        """sin(x); derivative cos(x)."""
        return OPS["sin"](self)

    def cos(self) -> Value:
        """cos(x); derivative -sin(x)."""
        return OPS["cos"](self)

    def sqrt(self) -> Value:
        """x ** 0.5 for x >= 0."""
        return self**0.5

    # -- comparisons compare data (not differentiable)
    def __lt__(self, other: Value | float) -> bool:
        return self.data < _data_of(other)

    def __le__(self, other: Value | float) -> bool:
        return self.data <= _data_of(other)

    def __gt__(self, other: Value | float) -> bool:
        return self.data > _data_of(other)

    def __ge__(self, other: Value | float) -> bool:
        return self.data >= _data_of(other)

    __hash__ = object.__hash__

    def __float__(self) -> float:
        return self.data

    def __repr__(self) -> str:
        return f"Value(data={self.data}, grad={self.grad})"

    # -- gradients
    def backward(self) -> None:
        """Set ``.grad`` of every node to d(self)/d(node).

        Leaves (nodes with no parents) accumulate into ``.grad`` as in PyTorch; the
        gradients of interior nodes are recomputed on every call.
        """
        with _cyclic_collector_paused():
            order = topological_order(self)
            for node in order:
                if node._parents:
                    node.grad = 0.0
            self.grad += 1.0
            for node in reversed(order):
                parents = node._parents
                if parents:
                    g = node.grad
                    partials = node._op.local_partials([*map(_data, parents)], node.data)
                    for parent, partial in zip(parents, partials):
                        parent.grad += partial * g


def _data_of(x: Value | float) -> float:
    return x.data if type(x) is Value else _to_float(x, "comparison with a Value")


def topological_order(root: Value) -> list[Value]:
    """Every node reachable from ``root``, inputs before the nodes that use them.

    Iterative depth-first search (no recursion limit); parents are visited in order, so
    the result is deterministic.
    """
    order: list[Value] = []
    visited: set[Value] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in visited:
            continue
        visited.add(node)
        stack.append((node, True))
        for parent in reversed(node._parents):
            if parent not in visited:
                stack.append((parent, False))
    return order


def grad(output: Value, inputs: Sequence[Value], create_graph: bool = False) -> list[Value]:
    """d(output)/d(input) for each input, without touching any ``.grad``.

    With ``create_graph=True`` the gradients are built from Value operations, so they
    can be differentiated again (second and higher derivatives), even inside no_grad.
    """
    if type(output) is not Value:
        raise TypeError(f"grad: output must be a Value, got {type(output).__name__}")
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        if type(x) is not Value:
            raise TypeError(f"grad: inputs[{i}] must be a Value, got {type(x).__name__}")
    recording = enable_grad() if create_graph else contextlib.nullcontext()
    with _cyclic_collector_paused(), recording:
        grads: dict[Value, Value | float] = {output: Value(1.0) if create_graph else 1.0}
        for node in reversed(topological_order(output)):
            g = grads.get(node)
            parents = node._parents
            if g is None or not parents:
                continue
            if create_graph:
                partials = node._op.local_partials(parents, node)
            else:
                partials = node._op.local_partials([p.data for p in parents], node.data)
            for parent, partial in zip(parents, partials):
                previous = grads.get(parent)
                contribution = partial * g
                grads[parent] = contribution if previous is None else previous + contribution
    result = []
    for x in inputs:
        g = grads.get(x, 0.0)
        result.append(g if type(g) is Value else Value(g))
    return result
