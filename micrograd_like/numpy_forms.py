"""The batched replay's interpretation of the ops: each op's forward on numpy arrays.

The engine's op table gives every op its forward on floats and its local partials; this
table gives, for the ops that can be replayed over a batch, the forward on arrays of shape
(batch,) or (rows, batch), and, where the engine's partial rule calls a function that has
no array form (sin, cos, logsumexp), the partials on arrays. Every other rule is arithmetic
and comparisons, which numpy evaluates on arrays as they are.

No domain checks are needed here: a replay that produces a non-finite number is redone
sample by sample, which raises the engine's own error.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from .checks import lookup
from .engine import OPS, Op
from .engine.rules import linear

__all__ = ["NumpyForm", "define_numpy_form", "numpy_form"]


@dataclass(frozen=True)
class NumpyForm:
    """``forward(*arrays) -> array``; ``partials(*arrays, out) -> tuple`` or None to use
    the engine's rule on arrays."""

    forward: Callable[..., np.ndarray]
    partials: Callable[..., tuple] | None = None

    def local_partials(self, op: Op, inputs: Sequence[np.ndarray], out: np.ndarray) -> tuple:
        if self.partials is None:
            return op.local_partials(inputs, out)
        return self.partials(*inputs, out)


def _rows(z: tuple[np.ndarray, ...]) -> np.ndarray:
    """The inputs as the rows of one matrix (a number is repeated along the batch)."""
    try:
        return np.stack(z)
    except ValueError:  # not all of one shape: a number among arrays
        return np.stack(np.broadcast_arrays(*z))


def _logsumexp(*z: np.ndarray) -> np.ndarray:
    """max(z) + log(sum_i e^(z_i - max(z))), the rows summed in order."""
    rows = _rows(z)
    m = rows.max(axis=0)
    return m + np.log(np.exp(rows - m).sum(axis=0))


def _softmax(*z: np.ndarray) -> tuple[np.ndarray, ...]:
    """The partials of logsumexp, as the engine's rule computes them (shifted by max(z))."""
    rows = _rows(z)
    shifted = np.exp(rows - rows.max(axis=0))
    return tuple(shifted / shifted.sum(axis=0))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


_FORMS: dict[str, NumpyForm] = {
    "add": NumpyForm(operator.add),
    "mul": NumpyForm(operator.mul),
    # no "pow" (a Value exponent): numpy would answer 0 ** w and (-2) ** 0.5, which it refuses
    "abs": NumpyForm(np.abs),
    "relu": NumpyForm(lambda x: np.maximum(x, 0.0)),
    "tanh": NumpyForm(np.tanh),
    "sigmoid": NumpyForm(_sigmoid),
    "exp": NumpyForm(np.exp),
    "log": NumpyForm(np.log),
    "sin": NumpyForm(np.sin, lambda x, out: (np.cos(x),)),
    "cos": NumpyForm(np.cos, lambda x, out: (-np.sin(x),)),
    # the engine's linear is arithmetic only (products and a sum), so arrays in, array out
    "linear": NumpyForm(cast("Callable[..., np.ndarray]", linear)),
    "logsumexp": NumpyForm(_logsumexp, lambda *args: _softmax(*args[:-1])),
}


_USER_FORMS: dict[Op, NumpyForm] = {}
"""Forms given with define_numpy_form, by op object: an op that define_op replaces (same
name, new op) has none until it is given one."""


def numpy_form(op: Op) -> NumpyForm | None:
    """The array form of ``op``, or None when it has none (the replay then does not apply)."""
    if op.constant is not None and op.label.startswith("**"):  # x ** c for a constant c
        c = op.constant
        return NumpyForm(lambda x: np.power(x, c))
    if op in _USER_FORMS:
        return _USER_FORMS[op]
    form = _FORMS.get(op.name)
    return form if form is not None and OPS.get(op.name) is op else None


def define_numpy_form(
    name: str, forward: Callable[..., np.ndarray], partials: Callable[..., tuple] | None = None
) -> None:
    """Give the op ``name`` (from ``define_op``) a forward on arrays, so that ``fit`` can
    replay graphs using it over whole batches; ``partials`` is needed only when the op's
    derivative rule calls functions that do not take arrays."""
    op = lookup(name, OPS, "op")
    if not callable(forward) or (partials is not None and not callable(partials)):
        raise TypeError("define_numpy_form: forward and partials must be callables")
    _USER_FORMS[op] = NumpyForm(forward, partials)
