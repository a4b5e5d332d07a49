"""micrograd's data model on top of the op table: hand-made nodes and the ``_prev`` view.

micrograd's lecture adds an op by hand::

    out = Value(t, (self,), 'tanh')
    def _backward():
        self.grad += (1 - t**2) * out.grad
    out._backward = _backward

Such a node has no :class:`~.value.Op`; its rule is a :class:`ClosureRule`, which gives the
chain rule the node's local partials d(out)/d(child) by calling the closure once with
``out.grad = 1`` and every child's ``grad`` at 0, then reading what it added to each child
(the grads are put back afterwards). So ``backward()`` and ``grad()`` honour the closure, in
reverse topological order, while every ``.grad`` is still written only after all gradients
are known. A closure gives numbers, not Values, so ``grad(create_graph=True)`` refuses such a
node and points to ``define_op``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Set

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (10 ms)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["MICROGRAD_LABELS", "ClosureRule", "ParentSet"]

MICROGRAD_LABELS = {"add": "+", "mul": "*", "pow": "**", "relu": "ReLU"}
"""The ``_op`` string micrograd gives a node, where it differs from the op's own label
(``x ** 2`` is already ``'**2'``, ``tanh`` and ``exp`` are already ``'tanh'`` and ``'exp'``)."""


class ClosureRule:
    """The rule of a node made as ``Value(data, _children, _op)``: its local partials come
    from the ``_backward`` closure assigned to the node (see the module docstring)."""

    __slots__ = ("backward", "label", "node")

    arity = None
    kinks: tuple[float, ...] = ()
    constant = None

    def __init__(self, label: str, node: Any, backward: Callable[[], None] | None = None):
        self.label = label
        self.node = node  # the node itself: its closure reads node.grad and writes its children's
        self.backward = backward

    @property
    def name(self) -> str:
        return self.label or "a hand-made op"

    def forward(self, *inputs: float) -> float:
        raise TypeError(f"op {self.name!r} was made by hand and has no forward function")

    def local_partials(self, inputs: Any, out: Any) -> tuple[float, ...]:
        """d(node)/d(child) for each child, read from what the closure adds to each child's
        grad when ``node.grad`` is 1 (``inputs`` and ``out`` are not needed: the closure
        reads its own variables)."""
        node = self.node
        if out is node:  # the differentiable sweep passes the node, the float sweep its data
            raise RuntimeError(
                f"grad(create_graph=True) cannot differentiate {describe(node)} twice: its "
                "_backward closure computes numbers, not Values. Declare the op with "
                "define_op(name, forward, derivative) to get higher derivatives"
            )
        if self.backward is None:
            raise RuntimeError(
                f"{describe(node)} was made with Value(data, _children, _op) but has no "
                "_backward: assign one (out._backward = a function that adds "
                "d(out)/d(child) * out.grad to each child's grad), or declare the op with "
                "define_op(name, forward, derivative)"
            )
        children = node._parents
        saved = node.grad, [child.grad for child in children]
        try:
            node.grad = 1.0
            for child in children:
                child.grad = 0.0
            self.backward()
            return tuple(child.grad for child in children)
        finally:
            node.grad = saved[0]
            for child, g in zip(children, saved[1]):
                child.grad = g


def describe(node: Any) -> str:
    """'node tanh (label 'o', data 0.7071)' for error messages."""
    label = f"label {node.label!r}, " if node.label else ""
    return f"node {node._op!r} ({label}data {node.data!r})"


class ParentSet(Set):
    """micrograd's ``_prev``: a node's inputs as a read-only set, iterated in input order
    (each input once), so graphs drawn from it are the same on every run."""

    __slots__ = ("_parents",)

    def __init__(self, parents: tuple) -> None:
        self._parents = tuple(dict.fromkeys(parents))

    def __contains__(self, node: object) -> bool:
        return node in self._parents

    def __iter__(self) -> Iterator:
        return iter(self._parents)

    def __len__(self) -> int:
        return len(self._parents)

    def __repr__(self) -> str:
        return "{" + ", ".join(map(repr, self._parents)) + "}" if self._parents else "set()"
