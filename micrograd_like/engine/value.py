"""The computation graph's node, :class:`Value`, and the table of ops that make nodes.

A :class:`Value` wraps one float. Every operation on Values creates a new node that
remembers its inputs (``parents``, an ordered tuple) and the :class:`Op` that made it
(``rule``). Each op is declared once in :data:`OPS` with its forward function on floats
and its local partial derivatives (their math is in :mod:`.rules`); ``backward()`` applies
the chain rule over the graph in reverse topological order (:mod:`.graph`).

micrograd's data model is kept as views of the same graph: ``Value(data, _children, _op,
label)``, ``_prev``, ``_op`` and ``_backward`` (hand-made nodes: :mod:`.handmade`).
"""

from __future__ import annotations

import math
import numbers
import operator
import warnings
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from types import FunctionType

from . import rules
from .graph import cyclic_collector_paused, reverse_sweep, sweep_into_grads, topological_order
from .handmade import MICROGRAD_LABELS, ClosureRule, ParentSet
from .pickling import copy_node, reduce_node, restore_node
from .recording import recording

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (10 ms)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["OPS", "Op", "Rule", "Value", "define_op", "power_op"]


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


class Op:
    """One differentiable operation.

    ``forward(*floats) -> float`` computes the output; ``derivative(*inputs, out)``
    returns the tuple of local partials d(out)/d(input_i). ``inputs`` and ``out`` are
    floats on the fast path and Values when building a differentiable gradient, so the
    rule must use arithmetic and Value methods only. ``domain`` gives, per input, the
    interval where derivative checks sample the op, and ``kinks`` the points where it is not
    differentiable (checks look at both sides, and gradcheck reports them as kinks).
    ``label`` is how pictures name it (the name by default); ``constant`` is the fixed
    parameter of an op made by a factory (the exponent c of ``x ** c``). ``push``, for some
    built-in ops whose partials are finite wherever the op is, is the chain rule written out
    on floats (:mod:`.rules`) for the fast sweep of ``backward()``. Ops are immutable and
    compared by identity.
    """

    __slots__ = (
        "name",
        "forward",
        "derivative",
        "arity",
        "domain",
        "kinks",
        "label",
        "constant",
        "push",
    )

    name: str
    forward: Callable[..., float]
    derivative: Callable[..., tuple]
    arity: int | None
    domain: tuple[tuple[float, float], ...]
    kinks: tuple[float, ...]
    label: str
    constant: float | None
    push: Callable[[Value], None] | None

    def __init__(
        self,
        name: str,
        forward: Callable[..., float],
        derivative: Callable[..., tuple],
        arity: int | None = None,
        domain: tuple[tuple[float, float], ...] = ((-3.0, 3.0),),
        kinks: tuple[float, ...] = (),
        label: str = "",
        constant: float | None = None,
        push: Callable[[Value], None] | None = None,
    ) -> None:
        fields = (name, forward, derivative, arity, domain, kinks, label or name, constant, push)
        for slot, value in zip(Op.__slots__, fields):
            object.__setattr__(self, slot, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"op {self.name!r} is immutable: declare a new one with define_op")

    def __repr__(self) -> str:
        return f"Op({self.name!r}, arity={self.arity})"

    def __call__(self, *args: Value | float) -> Value:
        if self.arity is not None and len(args) != self.arity:
            raise TypeError(f"{self.name} takes {self.arity} argument(s), got {len(args)}")
        for a in args:
            if type(a) is not Value:  # wrap numbers as constant leaves (subclasses are Values)
                nodes = tuple(a if isinstance(a, Value) else Value(a) for a in args)
                break
        else:
            nodes = args  # type: ignore[assignment]  # the loop found only Values
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
        return _made(data, nodes, self)

    def _on_value(self, x: Value) -> Value:
        """``self(x)`` for one Value, without the general call's sorting of its arguments.
        Anything unusual (an error, a result that is not a finite float) is redone by
        ``self(x)``, which says what went wrong."""
        try:
            data = self.forward(x.data)
        except (ArithmeticError, ValueError, TypeError):
            return self(x)
        if type(data) is float and data - data == 0.0:
            return _made(data, (x,), self)
        return self(x)

    def _on_values(self, a: Value, b: Value) -> Value:
        """``self(a, b)`` for two Values, as :meth:`_on_value` does for one."""
        try:
            data = self.forward(a.data, b.data)
        except (ArithmeticError, ValueError, TypeError):
            return self(a, b)
        if type(data) is float and data - data == 0.0:
            return _made(data, (a, b), self)
        return self(a, b)

    def local_partials(self, inputs: Sequence, out) -> tuple:
        """d(out)/d(input_i) for each input, with a clear error where it is undefined.

        Only their number is checked here (the replay calls this on arrays too);
        :func:`.graph.checked_partials` checks each one.
        """
        try:
            partials = self.derivative(*inputs, out)
        except (ValueError, ZeroDivisionError) as exc:
            raise ValueError(
                f"the derivative of {self.name} is undefined at {_describe(inputs)}: {exc}"
            ) from None
        except OverflowError:
            raise OverflowError(
                f"the derivative of {self.name} overflowed at {_describe(inputs)}: the result "
                "is too large for a float"
            ) from None
        try:
            count = len(partials)
        except TypeError:
            raise TypeError(
                f"the derivative of op {self.name!r} must return a tuple of partials, one per "
                f"input; it returned {type(partials).__name__}: {partials!r:.80}"
            ) from None
        if count != len(inputs):
            raise ValueError(
                f"the derivative of op {self.name!r} returned {count} partial(s) "
                f"for {len(inputs)} input(s)"
            )
        return partials

    def __reduce__(self) -> tuple:
        """Pickled by name (or by exponent for ``x ** c``), so a copy is the same op."""
        if self.constant is not None:
            return power_op, (self.constant,)
        if OPS.get(self.name) is not self:
            raise TypeError(
                f"cannot pickle op {self.name!r}: only ops in OPS (built-in or from define_op) "
                "pickle, by name, and this one is not (or no longer) there"
            )
        return _op_named, (self.name,)

    def __copy__(self) -> Op:
        return self

    def __deepcopy__(self, memo: dict) -> Op:
        return self


def _op_named(name: str) -> Op:
    """The op called ``name``, for unpickling."""
    if name not in OPS:
        raise ValueError(
            f"the pickled graph uses the op {name!r}, which is not defined here: run its "
            "define_op before loading"
        )
    return OPS[name]


def _not_finite(name: str, nodes: Sequence[Value], data: float) -> ValueError | OverflowError:
    """The error for an op whose result is inf or nan: a non-finite input (possible only
    through an assignment to ``.data``) or an overflow."""
    for node in nodes:
        if not math.isfinite(node.data):
            return ValueError(f"{name}: an input is {node.data!r}; Values hold finite numbers")
    return OverflowError(
        f"{name} overflowed at {_describe(nodes)}: the result {data!r} is not a finite float"
    )


def _describe(values: Sequence) -> str:
    datas = [v.data if isinstance(v, Value) else v for v in values]
    return ", ".join(f"{d!r}" for d in datas)


_data = operator.attrgetter("data")
_isfinite = math.isfinite
_new = object.__new__


def _made(data: float, parents: tuple[Value, ...], rule: Op) -> Value:
    """The node ``data`` that ``rule`` made from ``parents``; inside ``no_grad``, a leaf
    (nothing recorded)."""
    if not recording():
        parents, rule = (), None  # type: ignore[assignment]
    node = _new(Value)
    node.data = data
    node.grad = 0.0
    node.label = ""
    node._parents = parents
    node._rule = rule
    return node


OPS: dict[str, Op] = {}
"""Every named op, by name: the engine's built-ins and those added with define_op."""

_BUILT_IN: frozenset[str] = frozenset()
"""The names of the engine's own ops (set once they are declared below): never replaced."""


def define_op(
    name: str,
    forward: Callable[..., float],
    derivative: Callable[..., tuple],
    *,
    arity: int | None = None,
    domain: Sequence[tuple[float, float]] | None = None,
    kinks: Sequence[float] = (),
) -> Op:
    """Declare a differentiable op and return it; call it with Values or numbers.

    ``forward(*floats) -> float``; ``derivative(*inputs, out) -> tuple`` of the local
    partials, written with arithmetic and Value methods only so it also works on Values
    (for second derivatives). ``arity`` is read from ``forward``'s signature when omitted;
    ``domain`` (one ``(low, high)`` per input) and ``kinks`` tell the tests where to check
    the derivative. Example, softplus(x) = log(1 + e^x) with
    softplus'(x) = sigmoid(x) = 1 - e^-out::

        softplus = define_op("softplus", lambda x: math.log1p(math.exp(x)),
                             lambda x, out: (1 - math.e ** -out,))

    Declaring a name again (re-running a notebook cell) replaces the op, with a warning;
    Values made before keep the op that made them. The built-in ops cannot be replaced.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"define_op: name must be an identifier, got {name!r}")
    if name in _BUILT_IN:
        raise ValueError(f"define_op: {name!r} is a built-in op and cannot be replaced")
    if not callable(forward) or not callable(derivative):
        raise TypeError("define_op: forward and derivative must be callables")
    if arity is None:
        arity = _arity_of(forward)
    if arity is not None and (isinstance(arity, bool) or not isinstance(arity, int) or arity < 1):
        raise ValueError(f"define_op: {name!r} needs a positive int arity, got {arity!r}")
    if domain is None:
        domain = ((-3.0, 3.0),) * (arity or 1)
    domain = _checked_domain(name, domain, arity)
    op = Op(name, forward, derivative, arity, domain, tuple(kinks))
    if name in OPS:
        warnings.warn(
            f"define_op: replacing the op {name!r} (Values made before keep the old one)",
            stacklevel=2,
        )
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
    if isinstance(forward, FunctionType):  # a def or a lambda: its code says it
        code = forward.__code__
        return None if code.co_flags & _CO_VARARGS else code.co_argcount
    import inspect  # for other callables only (10 ms to import)

    try:
        params = inspect.signature(forward).parameters.values()
    except (TypeError, ValueError):
        raise ValueError("define_op: cannot read forward's signature; pass arity=") from None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


_CO_VARARGS = 0x04  # inspect.CO_VARARGS: the function takes *args


# ---------------------------------------------------------------- built-in ops


def _built_in(
    name: str,
    forward: Callable[..., float],
    derivative: Callable[..., tuple],
    push: Callable[[Value], None] | None = None,
    **options: Any,
) -> None:
    """Declare one of the engine's ops whose partials are finite wherever it is defined,
    with its ``push`` (a one-input op may leave it out: it is then made from
    ``derivative``). The push is set before anyone can see the op, which is immutable from
    then on."""
    op = define_op(name, forward, derivative, **options)
    if push is None:
        if op.arity != 1:
            raise TypeError(f"the built-in op {name!r} has {op.arity} inputs: give its push")
        push = rules.unary_push(derivative)
    object.__setattr__(op, "push", push)


_built_in("add", operator.add, lambda a, b, out: (1.0, 1.0), rules.add_push, arity=2)
_built_in("mul", operator.mul, lambda a, b, out: (b, a), rules.mul_push, arity=2)
_built_in("relu", rules.relu, lambda x, out: (rules.step(x),), rules.relu_push, kinks=(0.0,))
_built_in("abs", abs, lambda x, out: (rules.sign(x),), arity=1, kinks=(0.0,))
_built_in("tanh", math.tanh, lambda x, out: (1 - out * out,), arity=1)
_built_in("sigmoid", rules.sigmoid, lambda x, out: (out * (1 - out),))
_built_in("exp", math.exp, lambda x, out: (out,), arity=1)
_built_in("sin", math.sin, lambda x, out: (rules.cos(x),), arity=1)
_built_in("cos", math.cos, lambda x, out: (-rules.sin(x),), arity=1)
_built_in(
    "linear",
    rules.linear,
    rules.linear_partials,
    rules.linear_push,
    arity=None,
    domain=((-2.0, 2.0),) * 5,
)
# partials that can be infinite or undefined where the op is defined (at 0): the checked path
define_op("pow", rules.value_pow, rules.pow_partials, domain=((0.2, 3.0), (-2.0, 2.0)))
define_op("log", rules.log, lambda x, out: (1 / x,), domain=((0.05, 5.0),))
define_op(
    "logsumexp", rules.logsumexp, rules.logsumexp_partials, arity=None, domain=((-3.0, 3.0),) * 3
)

ADD, MUL, POW = OPS["add"], OPS["mul"], OPS["pow"]
_ABS, _RELU, _TANH, _SIGMOID = OPS["abs"], OPS["relu"], OPS["tanh"], OPS["sigmoid"]
_EXP, _LOG, _SIN, _COS = OPS["exp"], OPS["log"], OPS["sin"], OPS["cos"]
_LINEAR = OPS["linear"]
_BUILT_IN = frozenset(OPS)


def _constant_power_partial(c: float) -> Callable[..., tuple]:
    """d(x ** c)/dx = c * x ** (c - 1), which is 0 for c = 0 (also at x = 0)."""
    if c == 0:
        return lambda x, out: (0.0,)
    return lambda x, out: (c * x ** (c - 1),)


@lru_cache(maxsize=256)
def power_op(exponent: float) -> Op:
    """The op x ** c for a constant exponent c: d/dx = c * x ** (c - 1)."""
    c = float(exponent)
    domain = ((-3.0, 3.0),) if c.is_integer() and c >= 0 else ((0.1, 3.0),)
    return Op(
        f"pow{c:g}",
        lambda x: rules.checked_pow(x, c),
        _constant_power_partial(c),
        1,
        domain,
        label=f"**{c:g}",
        constant=c,
    )


# ---------------------------------------------------------------- the Value node


Rule = Op | ClosureRule
"""What made a node: an :class:`Op` of the table, or the closure of a node made by hand."""


class Value:
    """A scalar in a computation graph: ``data`` (float), ``grad`` (float), ``label``.

    ``Value(2.0) * 3 + 1`` builds a graph; ``backward()`` fills ``.grad`` of every node.
    Comparisons (``<``, ``<=``, ``>``, ``>=``) compare ``data`` and return bool; ``==``
    is identity, so Values can be kept in sets and dicts. Operations on subclasses of Value
    give plain Values, as in micrograd.

    The signature is micrograd's: ``Value(data, _children=(), _op='', label='')``. Given
    children, the node is made by hand (the lecture's way to add an op): assign it a
    ``_backward`` closure that adds d(out)/d(child) * out.grad to each child's ``grad``
    (:mod:`.handmade`). ``define_op`` is the way that also gives second derivatives.
    """

    __slots__ = ("data", "grad", "label", "_parents", "_rule")

    def __init__(
        self, data: float, _children: Iterable[Value] = (), _op: str = "", label: str = ""
    ) -> None:
        self.data = data if type(data) is float else _to_float(data)
        if not _isfinite(self.data):
            raise ValueError(f"Value expects a finite number, got {self.data!r}")
        self.grad = 0.0
        self.label = ""
        self._parents: tuple[Value, ...] = ()
        self._rule: Op | ClosureRule | None = None
        if label != "":
            if not isinstance(label, str):
                raise TypeError(f"Value label must be a str, got {type(label).__name__}")
            self.label = label
        if _children or _op:
            self._made_by_hand(_children, _op)

    def _made_by_hand(self, children: Iterable[Value], op: str) -> None:
        """Record the children (each once, in order) and the op label of a hand-made node."""
        if not isinstance(op, str):
            raise TypeError(f"Value _op must be a str, got {type(op).__name__}")
        try:
            parents = tuple(dict.fromkeys(children))
        except TypeError:
            raise TypeError(
                f"Value _children must be an iterable of Values, got {type(children).__name__}"
            ) from None
        for i, child in enumerate(parents):
            if not isinstance(child, Value):
                raise TypeError(f"Value _children[{i}] must be a Value, got {type(child).__name__}")
        self._parents = parents
        self._rule = ClosureRule(op, self)

    # -- the graph, read-only
    @property
    def op(self) -> str:
        """Label of the op that made this node ('' for a leaf)."""
        return self._rule.label if self._rule is not None else ""

    @property
    def rule(self) -> Rule | None:
        """The :class:`Op` that made this node (None for a leaf): its name, forward and
        local partials; for a node made by hand, its :class:`~.handmade.ClosureRule`."""
        return self._rule

    @property
    def parents(self) -> tuple[Value, ...]:
        """The inputs of the op that made this node, in order."""
        return self._parents

    # -- micrograd's names for the same graph
    @property
    def _prev(self) -> ParentSet:
        """micrograd's ``_prev``: the inputs as a read-only set (in input order)."""
        return ParentSet(self._parents)

    @property
    def _op(self) -> str:
        """micrograd's ``_op``: '+', '*', '**2', 'ReLU', 'tanh', 'exp', ... ('' for a leaf)."""
        rule = self._rule
        if rule is None:
            return ""
        return MICROGRAD_LABELS.get(rule.name, rule.label) if type(rule) is Op else rule.label

    @property
    def _backward(self) -> Callable[[], None]:
        """micrograd's ``_backward``: called, it adds d(self)/d(input) * self.grad to each
        input's ``grad``. Assign a closure to a node made by hand (see the class docstring)
        and ``backward()`` uses it."""
        rule = self._rule
        if type(rule) is ClosureRule and rule.backward is not None:
            return rule.backward
        return self._push_grad

    @_backward.setter
    def _backward(self, closure: Callable[[], None]) -> None:
        if not callable(closure):
            raise TypeError(f"_backward must be a function of no arguments, got {closure!r}")
        if not self._parents:
            raise ValueError(
                "only a node with children, such as Value(data, _children, _op), takes a "
                f"_backward closure; {self!r} is a leaf, with no children to pass its grad to"
            )
        if type(self._rule) is not ClosureRule:
            self._rule = ClosureRule(self._op, self)
        self._rule.backward = closure

    def _push_grad(self) -> None:
        """input.grad += d(self)/d(input) * self.grad for each input (a repeated input once
        per use)."""
        parents, rule = self._parents, self._rule
        if parents and rule is not None:
            partials = rule.local_partials([p.data for p in parents], self.data)
            for parent, partial in zip(parents, partials):
                parent.grad += partial * self.grad

    def item(self) -> float:
        """The value as a Python float (PyTorch's name for ``.data``)."""
        return self.data

    # -- pickling and copying (whole graphs, any depth: see .pickling)
    def __reduce_ex__(self, protocol: object) -> tuple:
        return reduce_node(self)

    def __setstate__(self, state: tuple) -> None:
        restore_node(self, state)

    def __copy__(self) -> Value:
        """A new node with the same data, grad, label, inputs and op."""
        return copy_node(self)

    # -- arithmetic (sub, neg and div are derived from add, mul and pow)
    def __add__(self, other: Value | float) -> Value:
        b = _operand(other)
        return ADD(self, other) if b is None else ADD._on_values(self, b)

    def __radd__(self, other: float) -> Value:
        a = _operand(other)
        return ADD(other, self) if a is None else ADD._on_values(a, self)

    def __mul__(self, other: Value | float) -> Value:
        b = _operand(other)
        return MUL(self, other) if b is None else MUL._on_values(self, b)

    def __rmul__(self, other: float) -> Value:
        a = _operand(other)
        return MUL(other, self) if a is None else MUL._on_values(a, self)

    def __pos__(self) -> Value:
        return self

    def __neg__(self) -> Value:
        return MUL._on_values(self, Value(-1.0))

    def __sub__(self, other: Value | float) -> Value:
        return ADD(self, -other if isinstance(other, Value) else -_to_float(other, "subtraction"))

    def __rsub__(self, other: float) -> Value:
        return ADD(other, -self)

    def __truediv__(self, other: Value | float) -> Value:
        if isinstance(other, Value):
            if other.data == 0:
                raise ZeroDivisionError(f"division by zero: {self.data!r} / 0")
            return MUL(self, other**-1)
        divisor = _to_float(other, "division")
        if divisor == 0:
            raise ZeroDivisionError(f"division by zero: {self.data!r} / 0")
        return MUL(self, 1.0 / divisor)

    def __rtruediv__(self, other: float) -> Value:
        if self.data == 0:
            raise ZeroDivisionError(f"division by zero: {other!r} / 0")
        return MUL(other, self**-1)

    def __pow__(self, exponent: Value | float) -> Value:
        if isinstance(exponent, Value):
            return POW(self, exponent)
        return power_op(_to_float(exponent, "the exponent of **"))(self)

    def __rpow__(self, base: float) -> Value:
        return POW(base, self)

    def __abs__(self) -> Value:
        return _ABS._on_value(self)

    def relu(self) -> Value:
        """max(0, x); derivative 1 for x > 0, else 0."""
        return _RELU._on_value(self)

    def tanh(self) -> Value:
        """tanh(x); derivative 1 - tanh(x)^2."""
        return _TANH._on_value(self)

    def sigmoid(self) -> Value:
        """1 / (1 + e^-x); derivative s(x) * (1 - s(x))."""
        return _SIGMOID._on_value(self)

    def exp(self) -> Value:
        """e^x; derivative e^x."""
        return _EXP._on_value(self)

    def log(self) -> Value:
        """Natural log for x > 0; derivative 1/x."""
        return _LOG._on_value(self)

    def sin(self) -> Value:
        """sin(x); derivative cos(x)."""
        return _SIN._on_value(self)

    def cos(self) -> Value:
        """cos(x); derivative -sin(x)."""
        return _COS._on_value(self)

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
        gradients of interior nodes are recomputed on every call. The gradients are all
        computed before any ``.grad`` is written: a pass that fails (a gradient or a leaf's
        accumulated ``.grad`` that is not a finite float) leaves every ``.grad`` as it was.
        """
        with cyclic_collector_paused():
            order = topological_order(self)
            if sweep_into_grads(order, 1.0):  # the fast path: no error, all finite
                return
            grads = reverse_sweep(order, 1.0)  # checked: says what failed, and where
            try:
                new = [grads[node] if node._parents else node.grad + grads[node] for node in order]
                total = sum(new, 0.0)
            except TypeError:  # a .grad that is not a number: said with where, below
                total = None
            if type(total) is not float or total - total != 0.0:
                _check_accumulated(order, grads)
            for node, g in zip(order, new):
                node.grad = g


def _check_accumulated(order: list[Value], grads: dict[Value, float]) -> None:
    """Refuse a leaf whose ``.grad`` plus its new gradient is not a finite real number
    (the gradients themselves were checked by the sweep)."""
    for node in order:
        if node._parents:
            continue
        try:
            total = node.grad + grads[node]
        except TypeError:
            total = None
        if isinstance(total, numbers.Real) and math.isfinite(total):
            continue
        error = TypeError if not isinstance(total, numbers.Real) else OverflowError
        label = f" {node.label!r}" if node.label else ""
        raise error(
            f"backward: the leaf{label} with data {node.data!r} has .grad {node.grad!r:.80}; "
            f"adding its gradient {grads[node]!r} gives {total!r:.80}, not a finite float "
            "(zero_grad() resets it)"
        )


def weighted_sum(
    weights: Sequence[Value], inputs: Sequence[Value], bias: Value, input_data: Sequence[float]
) -> Value:
    """sum_i w_i * x_i + b as one ``linear`` node: a neuron before its activation.

    ``inputs`` are Values and ``input_data`` their ``data`` (a layer reads it once for all
    its neurons). The node is the one ``OPS["linear"](*weights, *inputs, bias)`` makes,
    without the general call's sorting of 2n + 1 arguments; anything unusual (a weight that
    is a number, a result that is not a finite float) is redone by that call, which says
    what went wrong.
    """
    if not len(weights) == len(inputs) == len(input_data):
        raise ValueError(f"{len(weights)} weight(s) for {len(inputs)} input(s)")
    try:
        data = rules.dot_plus(map(_data, weights), input_data, bias.data)
    except (AttributeError, TypeError):  # a number where a Value was expected
        data = None
    if type(data) is float and data - data == 0.0 and isinstance(bias, Value):
        return _made(data, (*weights, *inputs, bias), _LINEAR)
    return _LINEAR(*weights, *inputs, bias)


def _operand(x: object) -> Value | None:
    """``x`` as a node of an arithmetic op: a Value itself, a float or an int as a constant
    leaf; None for anything else (the op's general call then wraps it or says why not)."""
    if isinstance(x, Value):
        return x
    if type(x) is float or type(x) is int:
        return Value(x)
    return None


def _data_of(x: Value | float) -> float:
    return x.data if isinstance(x, Value) else _to_float(x, "comparison with a Value")
