"""Pickling and copying Values and whole graphs, of any depth.

A node pickles as ``(class, data, grad, label, rule)`` (an op by name, see ``Op.__reduce__``)
with its parents, and any attributes a subclass adds, as its state. Written naively, a
chain of a million nodes would make pickle (and ``copy.deepcopy``) recurse a million deep.
So the first node of a graph that is written also writes, ahead of its parents, the list of
its interior ancestors in topological order: each of those then finds its own parents
already written, and nothing recurses more than a few calls deep. While that list is being
written its nodes are marked (``_IN_ORDER``) so that they do not each write their ancestors
again. The mark only saves work: a node pickles correctly with or without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from .graph import topological_order
from .handmade import ClosureRule, describe

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (10 ms)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["copy_node", "reduce_node", "restore_node"]

_IN_ORDER: set[int] = set()
"""ids of the nodes that an ancestor list is writing right now."""


def portable_rule(node: Any) -> Any:
    """The node's rule as it can be pickled or copied: an Op, None for a leaf, or the label
    of a hand-made node (a str). A hand-made node with a ``_backward`` closure is refused:
    the closure refers to the original nodes, so a copy of it would update those."""
    rule = node._rule
    if type(rule) is not ClosureRule:
        return rule
    if rule.backward is not None:
        raise TypeError(
            f"cannot pickle or copy {describe(node)}: its _backward closure refers to the "
            "original nodes. Declare the op with define_op(name, forward, derivative) to make "
            "graphs that pickle and copy"
        )
    return rule.label


def rebuild_node(cls: type, data: float, grad: float, label: str, rule: Any) -> Any:
    """A node without parents yet (``restore_node`` adds them); ``rule`` from portable_rule."""
    node: Any = object.__new__(cls)
    node.data, node.grad, node.label, node._parents = data, grad, label, ()
    node._rule = ClosureRule(rule, node) if type(rule) is str else rule
    return node


def reduce_node(node: Any) -> tuple:
    """``node.__reduce_ex__``: rebuild the node, then restore its parents and attributes."""
    args = (type(node), node.data, node.grad, node.label, portable_rule(node))
    parents = node._parents
    ancestors = None
    if parents and id(node) not in _IN_ORDER:
        interior = [n for n in topological_order(node)[:-1] if n._parents]
        ancestors = _InOrder(interior) if interior else None
    return rebuild_node, args, (ancestors, parents, _extra_attributes(node))


def copy_node(node: Any) -> Any:
    """A shallow copy: a new node with the same data, grad, label, parents, op and extras."""
    copy = rebuild_node(type(node), node.data, node.grad, node.label, portable_rule(node))
    restore_node(copy, (None, node._parents, _extra_attributes(node)))
    return copy


def restore_node(node: Any, state: tuple) -> None:
    """``node.__setstate__``: the ancestor list only fixed the order of writing."""
    _, node._parents, extra = state
    for name, value in (extra or {}).items():
        object.__setattr__(node, name, value)


_REBUILT = frozenset(("data", "grad", "label", "_parents", "_rule"))
"""The slots that rebuild_node and restore_node set themselves."""


def _extra_attributes(node: Any) -> dict[str, Any] | None:
    """The attributes a subclass of Value adds (its ``__dict__`` and its own slots)."""
    has_dict, slots = _extras_of(node.__class__)
    if not (has_dict or slots):
        return None
    extra = dict(node.__dict__) if has_dict else {}
    extra.update((name, getattr(node, name)) for name in slots if hasattr(node, name))
    return extra or None


@cache
def _extras_of(cls: Any) -> tuple[bool, tuple[str, ...]]:
    """Whether instances of ``cls`` have a ``__dict__``, and the slots its subclasses of
    Value add."""
    slots: list[str] = []
    for klass in cls.__mro__:
        names = klass.__dict__.get("__slots__", ())
        for name in (names,) if isinstance(names, str) else names:
            if name not in _REBUILT and name not in ("__dict__", "__weakref__"):
                slots.append(name)
    return any("__dict__" in klass.__dict__ for klass in cls.__mro__), tuple(slots)


class _InOrder:
    """Nodes that pickle as a list, written in the given (topological) order."""

    __slots__ = ("nodes",)

    def __init__(self, nodes: list) -> None:
        self.nodes = nodes

    def __reduce_ex__(self, protocol: object) -> tuple:
        return list, (), None, _marked(self.nodes)


def _marked(nodes: list) -> Iterator:
    """The nodes, each marked as being written in order until the list is done."""
    new = [id(n) for n in nodes if id(n) not in _IN_ORDER]
    _IN_ORDER.update(new)
    try:
        yield from nodes
    finally:
        _IN_ORDER.difference_update(new)
