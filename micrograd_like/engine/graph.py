"""Walking a computation graph: topological order and the reverse (chain-rule) sweep.

Both work on any node with ``_parents`` (a tuple) and ``_rule`` (the op that made it, with
``local_partials``), so the same sweep serves ``Value.backward()`` and :func:`grad`.
"""

from __future__ import annotations

import contextlib
import gc
import math
import numbers
import operator
from collections.abc import Iterator, Sequence

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (10 ms)
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "checked_partials",
    "cyclic_collector_paused",
    "reverse_sweep",
    "sweep_into_grads",
    "topological_order",
]

_data, _grad = operator.attrgetter("data"), operator.attrgetter("grad")


def topological_order(*roots: Any) -> list[Any]:
    """Every node reachable from the roots, inputs before the nodes that use them.

    Iterative depth-first search (no recursion limit): each node on the stack keeps an
    iterator over its parents, resumed where it stopped; roots and parents are visited in
    order, so the result is deterministic. A node whose parents have all been visited
    already is emitted at once, without a stack entry: in a graph without cycles a visited
    parent cannot still be on the stack, so it has been emitted (in a network most nodes are
    found that way: the weights are shared by every sample).
    """
    order: list[Any] = []
    visited: set[Any] = set()
    stack: list[tuple[Any, Iterator[Any]]] = []
    push, pop, emit, mark, all_visited = (
        stack.append,
        stack.pop,
        order.append,
        visited.add,
        visited.issuperset,
    )
    for root in roots:
        if root in visited:
            continue
        mark(root)
        push((root, iter(root._parents)))
        while stack:
            node, parents = stack[-1]
            for parent in parents:
                if parent not in visited:
                    mark(parent)
                    grandparents = parent._parents
                    if grandparents and not all_visited(grandparents):
                        push((parent, iter(grandparents)))
                        break
                    emit(parent)
            else:
                pop()
                emit(node)
    return order


def reverse_sweep(order: list[Any], seed: Any, *, differentiable: bool = False) -> dict[Any, Any]:
    """d(root)/d(node) for every node of ``order`` (which ends with the root), as a dict.

    The chain rule, node by node from the root down::

        d(root)/d(parent) += d(root)/d(node) * d(node)/d(parent)

    ``seed`` is d(root)/d(root). With ``differentiable=True`` the local partials are
    evaluated on the nodes themselves, so the gradients are Values with graphs of their own;
    otherwise on floats. No ``.grad`` is touched: callers decide where the result goes.

    Every gradient is a finite float (or a Value), or the sweep fails with an error naming
    the op, its inputs and the input position. On floats the sweep runs unchecked and then
    checks the sum of all the gradients: inf and nan survive any sum, and a partial that is
    not a real number leaves a sum that is not a float (or fails at its product); only then
    is the sweep repeated with every partial and every sum checked, to say where.
    """
    if differentiable:
        return _checked_sweep(order, seed, differentiable=True)
    grads: dict[Any, Any] = {order[-1]: seed}
    get = grads.get
    try:
        for node in reversed(order):
            parents = node._parents
            if not parents:
                continue
            g = grads[node]
            partials = node._rule.local_partials([*map(_data, parents)], node.data)
            for parent, partial in zip(parents, partials):
                previous = get(parent)
                grads[parent] = partial * g if previous is None else previous + partial * g
        total = sum(grads.values(), 0.0)
    except (TypeError, ValueError, ArithmeticError):  # said again, with where, below
        return _checked_sweep(order, seed)
    if type(total) is not float or total - total != 0.0:
        return _checked_sweep(order, seed)  # raises, unless the sum alone overflowed
    return grads


def _checked_sweep(order: list[Any], seed: Any, *, differentiable: bool = False) -> dict[Any, Any]:
    """:func:`reverse_sweep` with each local partial and each gradient checked as it is
    made (:func:`checked_partials`, and every product and sum finite)."""
    grads: dict[Any, Any] = {order[-1]: seed}
    for node in reversed(order):
        parents = node._parents
        if not parents:
            continue
        g = grads[node]
        rule = node._rule
        if differentiable:
            partials = checked_partials(rule, parents, node)
        else:
            partials = checked_partials(rule, [*map(_data, parents)], node.data)
        for i, (parent, partial) in enumerate(zip(parents, partials)):
            previous = grads.get(parent)
            try:
                term = partial * g
                total = term if previous is None else previous + term
                finite = differentiable or math.isfinite(total)
            except ArithmeticError as exc:  # an op on Values overflowed
                finite, total = False, exc
            if not finite:
                raise _gradient_overflow(node, i, g, partial, previous, total)
            grads[parent] = total
    return grads


def checked_partials(rule: Any, inputs: Sequence[Any], out: Any) -> tuple:
    """``rule.local_partials(inputs, out)``, each one checked: a finite real number (as a
    float), or, when ``out`` is a node (differentiable gradients), also a node. A non-real
    partial is a TypeError, nan a ValueError and an infinite one an OverflowError, naming
    the op, its inputs and the input position."""
    partials = rule.local_partials(inputs, out)
    on_nodes = hasattr(out, "_parents")
    checked: list[Any] = []
    for i, partial in enumerate(partials):
        if on_nodes and hasattr(partial, "_parents"):
            checked.append(partial)
            continue
        if not isinstance(partial, numbers.Real):
            raise TypeError(
                f"{_where(rule, inputs, i)} is {type(partial).__name__} {partial!r:.80}; a "
                "partial must be a real number"
            )
        try:
            number = float(partial)
        except OverflowError:
            where = _where(rule, inputs, i)
            raise OverflowError(f"{where} is {partial!r:.80}, too large for a float") from None
        if number != number:
            raise ValueError(f"{_where(rule, inputs, i)} is nan")
        if number - number != 0.0:
            raise OverflowError(f"{_where(rule, inputs, i)} is {number!r}: not a finite float")
        checked.append(number)
    return tuple(checked)


def _where(rule: Any, inputs: Sequence[Any], i: int) -> str:
    """'the derivative of op 'mul' at (2.0, 3.0), input 1,' for a partial's error (built
    only when there is one: the checked sweep meets many partials)."""
    datas = ", ".join(repr(getattr(x, "data", x)) for x in inputs)
    return f"the derivative of op {rule.name!r} at ({datas}), input {i},"


def sweep_into_grads(order: list[Any], seed: float) -> bool:
    """The fast path of ``backward()``: ``reverse_sweep`` on floats, unchecked, accumulating
    in the nodes' own ``.grad`` (an attribute update costs less than a dict update, and no
    copy is left to make); every interior node then holds d(root)/d(node) and every leaf
    has it added to the ``.grad`` it had.

    A node made by an op with a ``push`` (the commonest built-ins, :mod:`.rules`) runs it,
    and is skipped when its gradient is 0: its partials are finite, so it would add
    partial * 0 = 0 to each input (a relu that is off or a hinge that is met cuts off whole
    branches this way). Other nodes go through their op's ``derivative``.

    Returns True when every ``.grad`` so made is a finite float (one sum says so);
    otherwise, if a partial fails, or if a node's rule is not an op (a hand-made
    ``_backward`` closure), every ``.grad`` is put back as it was and it returns False: the
    caller then runs the checked sweep, which honours every kind of rule and says what went
    wrong and where."""
    saved = [node.grad for node in order]
    for node in order:
        node.grad = 0.0
    order[-1].grad = seed
    try:
        for node in reversed(order):
            parents = node._parents
            if not parents:
                continue
            rule = node._rule
            push = rule.push
            if push is not None:
                if node.grad:
                    push(node)
                continue
            g = node.grad
            partials = rule.derivative(*map(_data, parents), node.data)
            if len(partials) != len(parents):
                raise ValueError("a partial per input")
            for parent, partial in zip(parents, partials):
                parent.grad += partial * g
        for node, grad in zip(order, saved):
            if not node._parents:  # leaves accumulate, as in PyTorch
                node.grad = grad + node.grad
        total = sum(map(_grad, order), 0.0)
    except (TypeError, ValueError, ArithmeticError, AttributeError):
        total = None  # AttributeError: a rule that is not an op (a hand-made closure)
    except BaseException:
        _restore(order, saved)
        raise
    if type(total) is float and total - total == 0.0:  # inf and nan survive any sum
        return True
    _restore(order, saved)
    return False


def _restore(order: list[Any], saved: list[Any]) -> None:
    for node, grad in zip(order, saved):
        node.grad = grad


def _gradient_overflow(
    node: Any, i: int, g: Any, partial: Any, previous: Any, result: Any
) -> OverflowError:
    """The error for a gradient that is not finite: where, and the arithmetic that made it."""
    inputs = ", ".join(repr(parent.data) for parent in node._parents)
    terms = f"{_number(g)} (the output's gradient) * {_number(partial)} (the local derivative)"
    if previous is not None:
        terms = f"{_number(previous)} (gathered so far) + {terms}"
    outcome = f"fails: {result}" if isinstance(result, Exception) else f"= {result!r}"
    return OverflowError(
        f"backward: the gradient of input {i} of op {node._rule.name!r} at ({inputs}) "
        f"is not a finite float: {terms} {outcome}"
    )


def _number(x: Any) -> str:
    """A gradient or partial for a message: a float, or a Value by its data."""
    return repr(getattr(x, "data", x))


@contextlib.contextmanager
def cyclic_collector_paused() -> Iterator[None]:
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
