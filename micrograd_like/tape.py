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
(backward; dX only where the inputs need a gradient), and an activation applied to each of
them becomes one op on the matrix. Matrices flow from one fused step to the next, forward
and backward, without being cut into rows; only the nodes that are replayed one by one
(the loss, say) get rows of their own.

The parameters are a vector ``theta`` (in the order given to ``record``) that the caller
owns and passes to ``run``; ``backward`` returns the gradient as a vector of the same
shape. A layer's neurons whose weights and bias follow each other in that order (as
``Layer.parameters()`` lists them) read ``W`` and ``b`` as views of ``theta``, and write
``dW`` and ``db`` into views of the gradient, without gathering.

Where the engine raises (an overflow, a result that is undefined), numpy would carry on
with inf or nan, and a later op could hide it (tanh(inf) = 1). The replay therefore raises
``FloatingPointError`` as soon as any value it computes, intermediate or final, is not
finite; the caller then runs that batch sample by sample, which gives the engine's answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

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


@dataclass(frozen=True, eq=False)
class _Dense:
    """Neurons sharing their inputs: Y = W X + b with W, b read from the parameters."""

    outputs: tuple[int, ...]
    inputs: tuple[int, ...]
    weights: np.ndarray  # (n_out, n_in) parameter indices
    biases: np.ndarray  # (n_out,) parameter indices
    block: tuple[int, int] | None = None
    """(start, stride) when W = theta[start : start + n_out * stride] as n_out rows of
    ``stride`` = n_in + 1 numbers, the weights then the bias (a Layer's order)."""
    unique: bool = True  # no parameter index repeats within weights, nor within biases
    exclusive: bool = False  # a block no other step reads: its gradient is written, not added
    inputs_need_grad: bool = True
    rows: tuple[tuple[int, int], ...] = ()  # (row, slot) of the outputs read one by one


@dataclass(frozen=True, eq=False)
class _Map:
    """One unary op applied to every row of a _Dense step's output (a layer's activation)."""

    op: Op
    form: NumpyForm
    outputs: tuple[int, ...]
    inputs: tuple[int, ...]  # the _Dense step's outputs, in row order
    rows: tuple[tuple[int, int], ...] = ()


class Tape:
    """A scalar graph recorded once, replayed on arrays of shape (batch,) per node.

    ``record(forward, params, example)`` calls ``forward(placeholders)`` once, where the
    placeholders are leaf Values holding one example's inputs, and records every node
    reachable from the returned Values. ``run(blocks, theta)`` evaluates the recording for
    a batch with the parameter values ``theta``; ``backward`` returns the gradient of a
    weighted sum of the results for each parameter.
    """

    def __init__(
        self,
        program: list,
        input_slots: list[int],
        constants: dict[int, float],
        scalar_params: list[tuple[int, int]],
        result_slots: list[int],
        needs_grad: list[bool],
        params: list[Value],
        producers: set[tuple[int, ...]],
        input_ranges: dict[tuple[int, ...], int],
        read: set[int],
    ) -> None:
        """``producers``, ``input_ranges`` and ``read`` are what :meth:`record` worked out
        from the program (the fused steps' outputs, their input slices, and the slots read
        one by one)."""
        self._program = program
        self._input_slots = input_slots
        self._constants = constants
        self._scalar_params = scalar_params  # (slot, parameter index) read one by one
        self._scalar_slots = [slot for slot, _ in scalar_params]
        self._scalar_indices = np.array([k for _, k in scalar_params], dtype=int)
        self._result_slots = result_slots
        self._needs_grad = needs_grad
        self._params = params
        self._producers = producers
        written = sum(
            s.biases.size * (s.weights.shape[1] + 1) for s in program if _exclusive_step(s)
        )
        self._all_written = not scalar_params and written == len(params)
        """Every parameter's gradient is written (not added) by an exclusive fused step, so the
        gradient vector needs no zeroing."""
        self._input_ranges = input_ranges
        self._read_inputs = [(j, s) for j, s in enumerate(input_slots) if s in read]
        self._values: dict[int, Any] | None = None
        self._blocks: Sequence[np.ndarray] = ()
        self._theta = np.zeros(0)
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
        order = topological_order(*results)
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
        result_slots = [slot_of[r] for r in results]
        program = _fuse_activations(_fuse_dense_layers(ops, param_slots, needs_grad))
        producers = {step.outputs for step in program if type(step) is not _Node}
        input_ranges = _input_ranges(program, input_slots)
        read = _rows_read(program, result_slots, producers, input_ranges)
        readers = _parameter_readers(program, param_slots, read, len(params))
        program = [
            step
            if type(step) is _Node
            else replace(
                step,
                rows=tuple((i, s) for i, s in enumerate(step.outputs) if s in read),
                **({"exclusive": _exclusive(step, readers)} if type(step) is _Dense else {}),
            )
            for step in program
        ]
        return cls(
            program,
            input_slots,
            constants,
            [(slot, k) for slot, k in param_slots.items() if slot in read],
            result_slots,
            needs_grad,
            list(params),
            producers,
            input_ranges,
            read,
        )

    def run(self, blocks: Sequence[np.ndarray], theta: np.ndarray) -> list[np.ndarray]:
        """Evaluate the recording for a batch; returns one array (batch,) per traced result.

        The recorded inputs are the columns of ``blocks`` in order: each block is an array
        of shape (batch, width), one row per sample (e.g. ``[X, targets]``). ``theta`` holds
        the parameters' values, in the order given to ``record``.
        FloatingPointError if any value on the way is not finite.
        """
        batch = self._batch = len(blocks[0])
        if len(theta) != len(self._params):
            raise ValueError(f"theta has {len(theta)} values for {len(self._params)} parameters")
        self._blocks, self._theta = blocks, theta
        values: dict[int, Any] = dict(self._constants)
        values.update(zip(self._scalar_slots, theta[self._scalar_indices].tolist()))
        for j, slot in self._read_inputs:
            values[slot] = self._column(j)
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
        grads: dict[Any, Any] = {}  # slot -> its gradient; fused outputs -> a matrix
        for slot, w in zip(self._result_slots, weights):
            if w is not None:
                _accumulate(grads, slot, w)
        param_grad = (np.empty if self._all_written else np.zeros)(len(self._params))
        with _not_finite_raises():
            for step in reversed(self._program):
                if type(step) is _Node:
                    self._node_backward(step, values, grads)
                elif type(step) is _Map:
                    self._map_backward(step, grads)
                else:
                    self._dense_backward(step, grads, param_grad)
        for slot, k in self._scalar_params:
            g = grads.get(slot)
            if g is not None:
                param_grad[k] += np.sum(g)
        return param_grad

    def _columns(self, start: int, stop: int) -> np.ndarray:
        """Input columns start .. stop - 1 of the batch as rows: a view of the blocks
        unless the range spans two of them."""
        pieces, offset = [], 0
        for block in self._blocks:
            width = block.shape[1]
            low, high = max(start - offset, 0), min(stop - offset, width)
            if low < high:
                pieces.append(block[:, low:high])
            offset += width
        if offset < stop:
            raise ValueError(f"the blocks have {offset} columns; the recording reads {stop}")
        return (pieces[0] if len(pieces) == 1 else np.concatenate(pieces, axis=1)).T

    def _column(self, j: int) -> np.ndarray:
        return self._columns(j, j + 1)[0]

    def _input_matrix(self, slots: tuple[int, ...], values: dict) -> np.ndarray:
        """The rows of ``slots`` as one (len(slots), batch) matrix: consecutive input
        columns as they are, anything else stacked row by row."""
        start = self._input_ranges.get(slots)
        if start is not None:
            return self._columns(start, start + len(slots))
        shape = (self._batch,)
        return np.stack([_full(values[s], shape) for s in slots])

    def _node_backward(self, step: _Node, values: dict, grads: dict) -> None:
        g = grads.get(step.slot)
        if g is None:
            return
        needs_grad = self._needs_grad
        inputs = [values[p] for p in step.parents]
        partials = step.form.local_partials(step.op, inputs, values[step.slot])
        for parent, partial in zip(step.parents, partials):
            if needs_grad[parent]:
                _accumulate(grads, parent, partial * g)

    def _map_forward(self, step: _Map, values: dict) -> None:
        out = self._matrices[step.outputs] = step.form.forward(self._matrices[step.inputs])
        for i, slot in step.rows:
            values[slot] = out[i]

    def _map_backward(self, step: _Map, grads: dict) -> None:
        g = self._stacked_grads(step, grads)
        if g is None:
            return
        (partial,) = step.form.local_partials(
            step.op, [self._matrices[step.inputs]], self._matrices[step.outputs]
        )
        self._add_rows(step.inputs, partial * g, grads)

    def _stacked_grads(self, step: _Dense | _Map, grads: dict) -> np.ndarray | None:
        """The gradient of the step's outputs as a matrix: what arrived as a matrix plus the
        rows that arrived one by one (only rows read one by one can get one); None if
        nothing arrived."""
        matrix = grads.pop(step.outputs, None)
        if not any(slot in grads for _, slot in step.rows):
            return matrix
        zero = np.zeros(self._batch)
        stacked = np.stack([_full(grads.get(s, zero), zero.shape) for s in step.outputs])
        return stacked if matrix is None else matrix + stacked

    def _add_rows(self, slots: tuple[int, ...], matrix: np.ndarray, grads: dict) -> None:
        """Add row i of ``matrix`` to the gradient of ``slots[i]`` where one is needed: as
        one matrix when ``slots`` are the outputs of a fused step, else row by row."""
        if slots in self._producers:
            _accumulate(grads, slots, matrix)
            return
        for i, slot in enumerate(slots):
            if self._needs_grad[slot]:
                _accumulate(grads, slot, matrix[i])

    def _dense_forward(self, step: _Dense, values: dict) -> None:
        x = self._matrices.get(step.inputs)
        if x is None:
            x = self._input_matrix(step.inputs, values)
        w, b = _weights(step, self._theta)
        y = self._matrices[step.outputs] = w @ x
        y += b[:, None]
        self._saved[id(step)] = (x, w)
        for i, slot in step.rows:
            values[slot] = y[i]

    def _dense_backward(self, step: _Dense, grads: dict, param_grad: np.ndarray) -> None:
        g = self._stacked_grads(step, grads)
        if g is None:
            if step.exclusive:  # its block is written by no one else
                for part in _weights(step, param_grad):
                    part[...] = 0.0
            return
        x, w = self._saved[id(step)]
        if step.block is not None:
            gw, gb = _weights(step, param_grad)
            if step.exclusive:
                np.matmul(g, x.T, out=gw)
                g.sum(axis=1, out=gb)
            else:
                gw += g @ x.T
                gb += g.sum(axis=1)
        elif step.unique:
            param_grad[step.weights] += g @ x.T
            param_grad[step.biases] += g.sum(axis=1)
        else:
            np.add.at(param_grad, step.weights, g @ x.T)
            np.add.at(param_grad, step.biases, g.sum(axis=1))
        if step.inputs_need_grad:
            self._add_rows(step.inputs, w.T @ g, grads)


def _exclusive_step(step: object) -> bool:
    return type(step) is _Dense and step.exclusive


def _weights(step: _Dense, vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(W, b) of a fused step read from a parameter-sized vector: views for a block."""
    if step.block is None:
        return vector[step.weights], vector[step.biases]
    start, stride = step.block
    n_out, n_in = step.weights.shape
    rows = vector[start : start + n_out * stride].reshape(n_out, stride)
    return rows[:, :n_in], rows[:, n_in]


def _block_layout(weights: np.ndarray, biases: np.ndarray) -> tuple[int, int] | None:
    """(start, stride) if row i holds its weights then its bias at start + i * stride,
    with stride = n_in + 1 (see _Dense.block); else None."""
    n_out, n_in = weights.shape
    start, stride = int(weights[0, 0]), n_in + 1
    row_starts = start + stride * np.arange(n_out)
    if np.array_equal(weights, row_starts[:, None] + np.arange(n_in)) and np.array_equal(
        biases, row_starts + n_in
    ):
        return start, stride
    return None


def _input_ranges(program: list, input_slots: list[int]) -> dict[tuple[int, ...], int]:
    """For each fused step that reads consecutive input columns j, j + 1, ...: its inputs
    -> j (the replay then reads them as one slice of the batch)."""
    column_of = {slot: j for j, slot in enumerate(input_slots) if slot >= 0}
    ranges = {}
    for step in program:
        if type(step) is _Dense and step.inputs[0] in column_of:
            start = column_of[step.inputs[0]]
            columns = [column_of.get(s, -1) for s in step.inputs]
            if columns == list(range(start, start + len(columns))):
                ranges[step.inputs] = start
    return ranges


def _parameter_readers(
    program: list, param_slots: dict[int, int], read: set[int], n_params: int
) -> np.ndarray:
    """How many times each parameter is read: by the fused steps and by replayed nodes."""
    indices = [step.weights.ravel() for step in program if type(step) is _Dense]
    indices += [step.biases for step in program if type(step) is _Dense]
    indices.append(np.array([k for slot, k in param_slots.items() if slot in read], dtype=int))
    return np.bincount(np.concatenate(indices), minlength=n_params)


def _exclusive(step: _Dense, readers: np.ndarray) -> bool:
    """The step's parameters form a block that nothing else reads."""
    if step.block is None:
        return False
    start, stride = step.block
    return bool((readers[start : start + len(step.biases) * stride] == 1).all())


def _rows_read(
    program: list,
    result_slots: list[int],
    producers: set[tuple[int, ...]],
    input_ranges: dict[tuple[int, ...], int],
) -> set[int]:
    """The slots whose values the replay needs one by one: read by a replayed node, a
    result, or an input of a fused step that gets its inputs neither as the matrix of
    another fused step nor as a slice of the input columns."""
    read = {p for step in program if type(step) is _Node for p in step.parents}
    read.update(result_slots)
    as_matrices = producers | input_ranges.keys()
    for step in program:
        if type(step) is _Dense and step.inputs not in as_matrices:
            read.update(step.inputs)
    return read


def _accumulate(grads: dict, key: object, contribution: np.ndarray | float) -> None:
    """grads[key] += contribution, where a missing key means no gradient has arrived yet."""
    previous = grads.get(key)
    grads[key] = contribution if previous is None else previous + contribution


def _full(value: np.ndarray | float, shape: tuple[int]) -> np.ndarray:
    """``value`` as an array of ``shape`` (a node that does not depend on the inputs holds a
    single number for the whole batch)."""
    if type(value) is np.ndarray and value.shape == shape:
        return value
    return np.broadcast_to(value, shape)


def _fuse_dense_layers(
    ops: list[_Node], param_slots: dict[int, int], needs_grad: list[bool]
) -> list:
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
        indices = np.array([[param_slots[s] for s in m.parents[:n]] for m in members])
        biases = np.array([param_slots[m.parents[-1]] for m in members])
        program.append(
            _Dense(
                outputs=tuple(m.slot for m in members),
                inputs=inputs,
                weights=indices,
                biases=biases,
                block=_block_layout(indices, biases),
                unique=len(np.unique(indices)) == indices.size
                and len(np.unique(biases)) == biases.size,
                inputs_need_grad=any(needs_grad[s] for s in inputs),
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
        mapped = maps.get(id(step))
        if mapped is None:
            result.append(step)
        elif id(mapped) not in emitted:
            emitted.add(id(mapped))
            result.append(mapped)
    return result
