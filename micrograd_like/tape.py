"""Record a model's scalar graph once and replay it over a whole batch with numpy.

``fit`` builds one scalar graph per sample; for a model whose graph does not depend on its
input values (an MLP or a Sequential of layers) every sample's graph has the same shape.
A :class:`Tape` traces that graph once, on placeholder inputs, and then evaluates each node
on a numpy array holding its value for every sample of the batch. Backward applies the
same local partials (the op table's rules evaluated on arrays, see
:mod:`micrograd_like.numpy_forms`) and sums each parameter's
contributions over the batch, which is exactly the sum of the per-sample gradients.

Neurons that read the same inputs are fused: their ``linear`` nodes become one matrix
product ``Y = W X + b`` (forward) with ``dW = G X^T``, ``db = sum(G)``, ``dX = W^T G``
(backward), and an activation applied to each of them becomes one op on the matrix.

Where the engine raises (an overflow, a result that is undefined), numpy would carry on
with inf or nan, and a later op could hide it (tanh(inf) = 1). The replay therefore raises
``FloatingPointError`` as soon as any value it computes, intermediate or final, is not
finite; the caller then runs that batch sample by sample, which gives the engine's answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .engine import OPS, Op, Value, enable_grad, topological_order
from .numpy_forms import NumpyForm, numpy_form

__all__ = ["Tape", "TapeNotApplicable"]

_LINEAR = OPS["linear"]


def _not_finite_raises() -> np.errstate:
    """Every value computed inside is finite, or FloatingPointError (see the module doc)."""
    return np.errstate(over="raise", invalid="raise", divide="raise", under="ignore")


class TapeNotApplicable(Exception):
    """The batched replay cannot be used here; the caller runs sample by sample."""


@dataclass(frozen=True)
class _Node:
    """An op node replayed elementwise over the batch."""

    slot: int
    op: Op
    form: NumpyForm
    parents: tuple[int, ...]


@dataclass(frozen=True)
class _Dense:
    """Neurons sharing their inputs: Y = W X + b with W, b gathered from the parameters."""

    outputs: tuple[int, ...]
    inputs: tuple[int, ...]
    weights: np.ndarray  # (n_out, n_in) parameter indices
    biases: np.ndarray  # (n_out,) parameter indices


@dataclass(frozen=True)
class _Map:
    """One unary op applied to every row of a _Dense step's output (a layer's activation)."""

    op: Op
    form: NumpyForm
    outputs: tuple[int, ...]
    inputs: tuple[int, ...]  # the _Dense step's outputs, in row order


class Tape:
    """A scalar graph recorded once, replayed on arrays of shape (batch,) per node.

    ``record(forward, params, example)`` calls ``forward(placeholders)`` once, where the
    placeholders are leaf Values holding one example's inputs, and records every node
    reachable from the returned Values. ``run`` evaluates the recording for a batch (with
    the parameters' current values, kept in ``parameter_values``);
    ``backward`` returns the gradient of a weighted sum of the results for each parameter.
    """

    def __init__(
        self,
        program: list,
        n_slots: int,
        param_slots: dict[int, int],
        input_slots: list[int],
        constants: dict[int, float],
        result_slots: list[int],
        needs_grad: list[bool],
        params: list[Value],
    ) -> None:
        self._program = program
        self._n_slots = n_slots
        self._param_slots = param_slots
        self._input_slots = input_slots
        self._constants = constants
        self._result_slots = result_slots
        self._needs_grad = needs_grad
        self._params = params
        self._values: list | None = None
        self.parameter_values = np.zeros(0)
        self._batch = 0
        self._saved: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._matrices: dict[tuple[int, ...], np.ndarray] = {}  # a fused step's rows

    @classmethod
    def record(
        cls,
        forward: Callable[[list[Value]], Sequence[Value]],
        params: Sequence[Value],
        example: Sequence[float],
    ) -> Tape:
        """Trace ``forward`` once on placeholder leaves holding ``example``.

        Raises :class:`TapeNotApplicable` when an op of the graph has no vectorised form.
        """
        placeholders = [Value(x) for x in example]
        n_inputs = len(placeholders)
        with enable_grad():
            results = list(forward(placeholders))
        if not all(type(r) is Value for r in results):
            raise TapeNotApplicable("the traced function must return Values")
        # a root whose parents are all results, so one traversal orders everything
        root = Value._node(0.0, tuple(results), None)  # never visible outside this method
        order = topological_order(root)[:-1]
        slot_of = {node: i for i, node in enumerate(order)}

        param_index = {p: k for k, p in enumerate(params)}
        placeholder_index = {x: j for j, x in enumerate(placeholders)}
        param_slots: dict[int, int] = {}
        input_slots = [-1] * n_inputs
        constants: dict[int, float] = {}
        needs_grad = [False] * len(order)
        ops: list[_Node] = []
        for slot, node in enumerate(order):
            if not node.parents:
                if node in param_index:
                    param_slots[slot] = param_index[node]
                    needs_grad[slot] = True
                elif node in placeholder_index:
                    input_slots[placeholder_index[node]] = slot
                else:
                    constants[slot] = node.data
                continue
            form = numpy_form(node.rule)
            if form is None:
                raise TapeNotApplicable(f"op {node.rule.name!r} has no numpy form")
            parents = tuple(slot_of[p] for p in node.parents)
            needs_grad[slot] = any(needs_grad[p] for p in parents)
            ops.append(_Node(slot, node.rule, form, parents))
        # a placeholder that the graph does not use is simply not read
        program = _fuse_activations(_fuse_dense_layers(ops, param_slots))
        return cls(
            program,
            len(order),
            param_slots,
            input_slots,
            constants,
            [slot_of[r] for r in results],
            needs_grad,
            list(params),
        )

    def run(self, columns: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Evaluate the recording; ``columns[j]`` holds input j for every sample.

        Returns one array of shape (batch,) per traced result; FloatingPointError if any
        value on the way is not finite.
        """
        batch = self._batch = len(columns[0])
        self.parameter_values = np.fromiter(
            (p.data for p in self._params), float, len(self._params)
        )
        values: list = [None] * self._n_slots
        for slot, k in self._param_slots.items():
            values[slot] = self._params[k].data
        for slot, value in self._constants.items():
            values[slot] = value
        for j, slot in enumerate(self._input_slots):
            if slot >= 0:
                values[slot] = columns[j]
        self._saved, self._matrices = {}, {}
        with _not_finite_raises():
            for step in self._program:
                if type(step) is _Node:
                    values[step.slot] = step.form.forward(*[values[p] for p in step.parents])
                elif type(step) is _Map:
                    self._map_forward(step, values)
                else:
                    self._dense_forward(step, values)
        self._values = values
        return [_full(values[s], (batch,)) for s in self._result_slots]

    def backward(self, weights: Sequence[np.ndarray | None]) -> np.ndarray:
        """Gradient of ``sum_r sum_i weights[r][i] * result_r[i]`` for every parameter.

        ``weights[r]`` is None for a result that does not enter the objective. Returns the
        gradient vector (in ``params`` order) without touching any ``.grad``;
        FloatingPointError if any gradient on the way is not finite.
        """
        if self._values is None:
            raise RuntimeError("Tape.backward needs a run() first")
        values = self._values
        grads: list = [None] * self._n_slots
        for slot, w in zip(self._result_slots, weights):
            if w is not None:
                _accumulate(grads, slot, w)
        param_grad = np.zeros(len(self._params))
        with _not_finite_raises():
            for step in reversed(self._program):
                if type(step) is _Node:
                    self._node_backward(step, values, grads)
                elif type(step) is _Map:
                    self._map_backward(step, grads)
                else:
                    self._dense_backward(step, grads, param_grad)
        for slot, k in self._param_slots.items():
            if grads[slot] is not None:
                param_grad[k] += np.sum(grads[slot])
        return param_grad

    def _node_backward(self, step: _Node, values: list, grads: list) -> None:
        g = grads[step.slot]
        if g is None:
            return
        needs_grad = self._needs_grad
        inputs = [values[p] for p in step.parents]
        partials = step.form.local_partials(step.op, inputs, values[step.slot])
        for parent, partial in zip(step.parents, partials):
            if needs_grad[parent]:
                _accumulate(grads, parent, partial * g)

    def _map_forward(self, step: _Map, values: list) -> None:
        out = self._matrices[step.outputs] = step.form.forward(self._matrices[step.inputs])
        for i, slot in enumerate(step.outputs):
            values[slot] = out[i]

    def _map_backward(self, step: _Map, grads: list) -> None:
        g = self._stacked_grads(step.outputs, grads)
        if g is None:
            return
        (partial,) = step.form.local_partials(
            step.op, [self._matrices[step.inputs]], self._matrices[step.outputs]
        )
        self._add_rows(step.inputs, partial * g, grads)

    def _stacked_grads(self, slots: tuple[int, ...], grads: list) -> np.ndarray | None:
        """The gradients of ``slots`` as a matrix (zero rows where none arrived)."""
        rows = [grads[s] for s in slots]
        if all(r is None for r in rows):
            return None
        zero = np.zeros(self._batch)
        return np.stack([zero if r is None else _full(r, zero.shape) for r in rows])

    def _add_rows(self, slots: tuple[int, ...], matrix: np.ndarray, grads: list) -> None:
        """Add row i of ``matrix`` to the gradient of ``slots[i]`` where one is needed."""
        for i, slot in enumerate(slots):
            if self._needs_grad[slot]:
                _accumulate(grads, slot, matrix[i])

    def _dense_forward(self, step: _Dense, values: list) -> None:
        theta, shape = self.parameter_values, (self._batch,)
        x = self._matrices.get(step.inputs)
        if x is None:
            x = np.stack([_full(values[s], shape) for s in step.inputs])
        w = theta[step.weights]
        y = self._matrices[step.outputs] = w @ x + theta[step.biases][:, None]
        self._saved[id(step)] = (x, w)
        for i, slot in enumerate(step.outputs):
            values[slot] = y[i]

    def _dense_backward(self, step: _Dense, grads: list, param_grad: np.ndarray) -> None:
        g = self._stacked_grads(step.outputs, grads)
        if g is None:
            return
        x, w = self._saved[id(step)]
        np.add.at(param_grad, step.weights, g @ x.T)
        np.add.at(param_grad, step.biases, g.sum(axis=1))
        self._add_rows(step.inputs, w.T @ g, grads)


def _accumulate(grads: list, slot: int, contribution: np.ndarray | float) -> None:
    """grads[slot] += contribution, where None means no gradient has arrived yet."""
    previous = grads[slot]
    grads[slot] = contribution if previous is None else previous + contribution


def _full(value: np.ndarray | float, shape: tuple[int]) -> np.ndarray:
    """``value`` as an array of ``shape`` (a node that does not depend on the inputs holds a
    single number for the whole batch)."""
    if type(value) is np.ndarray and value.shape == shape:
        return value
    return np.broadcast_to(value, shape)


def _fuse_dense_layers(ops: list[_Node], param_slots: dict[int, int]) -> list:
    """Replace linear nodes whose weights and bias are parameters and whose inputs are
    computed values by one _Dense step per distinct input tuple, placed where the first
    of its neurons stood."""
    groups: dict[tuple[int, ...], list[_Node]] = {}
    for step in ops:
        if step.op is _LINEAR:
            n = (len(step.parents) - 1) // 2
            weights, inputs, bias = step.parents[:n], step.parents[n : 2 * n], step.parents[-1]
            if all(s in param_slots for s in (*weights, bias)) and not any(
                s in param_slots for s in inputs
            ):
                groups.setdefault(inputs, []).append(step)
    program: list = []
    emitted: set[tuple[int, ...]] = set()
    fused = {id(step) for members in groups.values() for step in members}
    for step in ops:
        if id(step) not in fused:
            program.append(step)
            continue
        n = (len(step.parents) - 1) // 2
        inputs = step.parents[n : 2 * n]
        if inputs in emitted:
            continue
        emitted.add(inputs)
        members = groups[inputs]
        program.append(
            _Dense(
                outputs=tuple(m.slot for m in members),
                inputs=inputs,
                weights=np.array([[param_slots[s] for s in m.parents[:n]] for m in members]),
                biases=np.array([param_slots[m.parents[-1]] for m in members]),
            )
        )
    return program


def _fuse_activations(program: list) -> list:
    """Replace a unary op applied to every row of a _Dense step, one node per row in row
    order, by one _Map step placed where the first of those nodes stood."""
    row_of = {
        slot: (id(step), i)
        for step in program
        if type(step) is _Dense
        for i, slot in enumerate(step.outputs)
    }
    dense_of = {id(step): step for step in program if type(step) is _Dense}
    groups: dict[tuple[int, Op], list[_Node]] = {}
    for step in program:
        if type(step) is _Node and len(step.parents) == 1 and step.parents[0] in row_of:
            groups.setdefault((row_of[step.parents[0]][0], step.op), []).append(step)
    maps: dict[int, _Map] = {}  # id of each fused node -> its _Map
    for (dense_id, op), members in groups.items():
        rows = dense_of[dense_id].outputs
        if tuple(m.parents[0] for m in members) == rows:
            fused = _Map(op, members[0].form, tuple(m.slot for m in members), rows)
            maps.update((id(m), fused) for m in members)
    result: list = []
    emitted: set[int] = set()
    for step in program:
        fused = maps.get(id(step))
        if fused is None:
            result.append(step)
        elif id(fused) not in emitted:
            emitted.add(id(fused))
            result.append(fused)
    return result
