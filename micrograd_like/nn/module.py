"""The base of every model: :class:`Module`, its parameters found through its attributes.

Every Module names its parameters after the attributes that hold them
(``layers.0.neurons.3.w.1``), which gives ``state_dict`` / ``load_state_dict``; a Module
that defines ``forward`` is callable (PyTorch's way); and every Module has Keras' training
methods (``compile``, ``fit``, ``evaluate``, ``predict``, ``train_on_batch``). Those live
in :mod:`micrograd_like.training`, a lower layer that knows models only as callables with
``parameters()``; it is imported when first used, so importing ``micrograd_like.nn`` loads
neither the training code nor numpy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain
from typing import TYPE_CHECKING, Any

from ..checks import finite_number, same_objects
from ..engine import Value

if TYPE_CHECKING:
    import numpy as np

    from ..callbacks import History
    from ..losses import Loss
    from ..metrics import Metric
    from ..optim import Optimizer
    from ..training import TrainingState

__all__ = ["Module", "Structure"]


class Module:
    """Anything with parameters.

    The parameters are found through the attributes: a Value attribute is a parameter, a
    Module attribute is descended into, a list or tuple numbers its items; attributes whose
    name starts with ``_`` are skipped. Subclasses only need to store their parts, and
    ``forward(x)`` (or ``__call__``). A Module that overrides ``parameters()`` is trusted:
    ``state_dict``, training and the Modules that contain it all follow its list.
    """

    static_graph: bool = False
    """True when every call builds the same graph (the same ops and constants) and only the
    values of the inputs and parameters differ: no Python branching on ``.data``, no other
    attribute that changes what is computed. ``fit`` then records the graph once and replays
    it over whole batches with numpy, recording again when the parameters, the modules or
    the number of inputs change. Neuron, Layer, Sequential and MLP set it."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """``self.forward(...)``, PyTorch's way to write a model."""
        forward = getattr(self, "forward", None)
        if forward is None:
            raise TypeError(
                f"{type(self).__name__} is not callable: define forward(self, x) (or __call__)"
            )
        return forward(*args, **kwargs)

    def zero_grad(self) -> None:
        """Set the gradient of every parameter to 0."""
        for p in self.parameters():
            p.grad = 0.0

    def parameters(self) -> list[Value]:
        """Every parameter, in a fixed order (the order of ``named_parameters``), found
        through the attributes (an override may extend ``super().parameters()``)."""
        found: list[Value] = []
        _collect_parameters(self, None, found, set(), root=self)
        return found

    def _parameter_structure(self) -> Structure:
        """``parameters()`` and every Module of the tree (this one first), in one walk that
        also keeps what it read, so that ``describes(self)`` can later tell, without
        walking, that they are still the model's (:class:`Structure`). For the training
        layer, which holds on to it between calls; private, so that no attribute of a
        user's model can hide it."""
        return Structure(self)

    def named_parameters(self) -> list[tuple[str, Value]]:
        """``(dotted name, parameter)`` pairs such as ``("layers.0.neurons.3.w.1", w)``;
        for a Module that overrides ``parameters()``, its list, named after the attributes
        that hold them where the walk finds them, else ``parameters.<index>``."""
        found: list[tuple[str, Value]] = []
        _collect_parameters(self, "", found, set(), root=self)
        if not _overrides_parameters(type(self)):
            return found
        names = {id(p): name for name, p in reversed(found)}
        listed = dict.fromkeys(self.parameters())  # each parameter once, in order
        return [(names.get(id(p), f"parameters.{i}"), p) for i, p in enumerate(listed)]

    def count_params(self) -> int:
        """The number of parameters (Keras' name for ``len(parameters())``)."""
        if not getattr(self, "built", True):
            raise ValueError(
                f"{type(self).__name__}.count_params: the model is not built yet: call it on "
                "an input, fit it, or call build(n_inputs)"
            )
        return len(self.parameters())

    def _repr_html_(self) -> str:
        """What Jupyter shows: the class, the parameter count and the structure."""
        import html

        count = len(self.parameters())
        return (
            f"<p><b>{html.escape(type(self).__name__)}</b>: {count} parameter(s)</p>"
            f"<pre>{html.escape(repr(self))}</pre>"
        )

    def state_dict(self) -> dict[str, float]:
        """Parameter name -> value (a float), in ``named_parameters`` order."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, float]) -> None:
        """Set every parameter from ``state`` (as made by ``state_dict``).

        Strict: the names must be exactly this module's, every value a finite real number;
        otherwise ValueError and no parameter is changed.
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state_dict expects a mapping, got {type(state).__name__}")
        named = dict(self.named_parameters())
        missing = [name for name in named if name not in state]
        unexpected = [name for name in state if name not in named]
        if missing or unexpected:
            raise ValueError(
                "the state does not match the module's parameters: "
                f"missing {_first_few(missing)}, unexpected {_first_few(unexpected)}"
            )
        values = {name: finite_number(state[name], f"parameter {name!r}") for name in named}
        for name, p in named.items():
            p.data = values[name]

    # -- Keras-style training (micrograd_like.training); the state lives in one attribute
    def _training_state(self) -> TrainingState:
        """The model's :class:`~micrograd_like.training.TrainingState`, made on first use."""
        state = self.__dict__.get("_training")
        if state is None:
            from ..training import TrainingState

            state = self.__dict__["_training"] = TrainingState()
        return state

    @property
    def optimizer(self) -> Optimizer | None:
        """The optimizer given to ``compile`` (None before)."""
        return self._training_state().optimizer

    @property
    def loss(self) -> Loss | None:
        """The loss given to ``compile`` (None before)."""
        return self._training_state().loss

    @property
    def metrics(self) -> list[Metric]:
        """The metrics given to ``compile``."""
        return self._training_state().metrics

    @property
    def history(self) -> History | None:
        """The History of the last ``fit``."""
        return self._training_state().history

    @property
    def stop_training(self) -> bool:
        """Set to True (by a callback) to end ``fit`` after the current batch."""
        return self._training_state().stop_training

    @stop_training.setter
    def stop_training(self, value: bool) -> None:
        self._training_state().stop_training = bool(value)

    def compile(self, optimizer: Any, loss: Any, metrics: Sequence | None = None, **kwargs) -> None:
        """Choose the optimizer, the loss and the metrics for ``fit`` (``l2=`` too)."""
        from ..training import compile

        self.__dict__["_training"] = compile(self, optimizer, loss, metrics, **kwargs)

    def fit(self, x: Any = None, y: Any = None, **kwargs: Any) -> History:
        """Train by minibatch gradient descent; returns the History of per-epoch logs
        (:func:`micrograd_like.training.fit`)."""
        from ..training import fit

        return fit(self, x, y, **kwargs)

    def evaluate(self, x: Any = None, y: Any = None, **kwargs: Any) -> Any:
        """The loss (a float), or ``[loss, *metrics]`` with metrics, or a dict with
        ``return_dict=True``, on ``(x, y)`` without training
        (:func:`micrograd_like.training.evaluate`)."""
        from ..training import evaluate

        return evaluate(self, x, y, **kwargs)

    def predict(self, x: Any, **kwargs: Any) -> np.ndarray:
        """The model's outputs for every row of ``x``, shape (n, outputs)
        (:func:`micrograd_like.training.predict`)."""
        from ..training import predict

        return predict(self, x, **kwargs)

    def train_on_batch(self, x: Any, y: Any) -> float:
        """One optimizer step on the batch ``(x, y)``; returns its loss."""
        from ..training import train_on_batch

        return train_on_batch(self, x, y)


class Structure:
    """The parameters and the Modules of a tree, found by one walk, and what that walk read,
    so that :meth:`describes` can tell later, without walking, that a new walk would find
    the same ones.

    ``parameters`` is the root's ``parameters()`` and ``modules`` every Module of the tree,
    the root first. The walk reads each Module's class and attribute dict (every key, which
    says what it skips, and every value) and every item of the lists and tuples it goes
    through. ``describes`` reads them again and compares them, by identity, with what the
    walk read: a few passes in C over about (parameters + 10 x modules) objects, where the
    walk makes a Python call per object. A class that overrides ``parameters()`` runs code
    of its own, which nothing watches: a tree holding one is described by no Structure.
    The Structure holds every object it compares, so no new object can take one's identity.
    """

    def __init__(self, root: Module) -> None:
        self.parameters: list[Value] = []
        self.modules: list[Module] = []
        self.sequences: list[list | tuple] = []
        """Every list and tuple the walk went through, in order."""
        _collect_parameters(root, None, self.parameters, set(), self, root=root)
        if _overrides_parameters(type(root)):
            self.parameters = root.parameters()
        self._classes = set(map(type, self.modules))
        self._sizes, self._read = self._reading()

    def _reading(self) -> tuple[list[int], list[object]]:
        """What the walk reads, as it is now: the sizes of the Modules' dicts and of the
        lists and tuples, and the objects: the Modules' classes, the dicts' keys and the
        items of the lists and tuples, then the dicts' values. (The dicts themselves are
        read again each time, so one replaced by an equal dict is as good as the old.)"""
        dicts = list(map(vars, self.modules))
        containers = [*dicts, *self.sequences]
        values = chain(*map(dict.values, dicts))
        return list(map(len, containers)), [*map(type, self.modules), *chain(*containers), *values]

    def describes(self, root: Module) -> bool:
        """True when walking ``root`` again would find exactly ``parameters`` and
        ``modules``: it is the root walked, no Module's class overrides ``parameters()``
        (not even since), and everything the walk read is the same object as then, in the
        same order. (A value changed in place, ``p.data = ...``, changes none of it.)"""
        if root is not self.modules[0] or any(map(_overrides_parameters, self._classes)):
            return False
        sizes, read = self._reading()
        return sizes == self._sizes and same_objects(read, self._read)


def _overrides_parameters(cls: type[Module]) -> bool:
    return cls.parameters is not Module.parameters


def _collect_parameters(
    obj: object,
    name: str | None,
    found: list,
    seen: set[int],
    structure: Structure | None = None,
    root: Module | None = None,
) -> None:
    """Depth-first walk of Values, Modules and lists of them, appending (name, Value), or
    just the Value when ``name`` is None (the faster walk behind ``parameters()``); when a
    ``structure`` is given, every Module met is appended to its ``modules`` and every list
    or tuple to its ``sequences``. A Module other than ``root`` that overrides
    ``parameters()`` contributes its ``named_parameters()``."""
    if isinstance(obj, Value):
        found.append(obj if name is None else (name, obj))
    elif isinstance(obj, Module):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if structure is not None:
            structure.modules.append(obj)
        if obj is not root and _overrides_parameters(type(obj)):
            for child, p in obj.named_parameters():
                found.append(p if name is None else (_child_name(name, child), p))
            if structure is None:
                return
            found, name = [], ""  # then only its Modules
        for attr, value in getattr(obj, "__dict__", {}).items():
            if not attr.startswith("_"):
                _collect_parameters(value, _child_name(name, attr), found, seen, structure, root)
    elif isinstance(obj, (list, tuple)):
        if structure is not None:
            structure.sequences.append(obj)
        if name is None and set(map(type, obj)) <= _JUST_VALUE:  # one C-level pass
            found.extend(obj)  # the common case, a list of weights, without a call per item
            return
        for i, item in enumerate(obj):
            _collect_parameters(item, _child_name(name, i), found, seen, structure, root)


_JUST_VALUE = {Value}


def _child_name(name: str | None, key: str | int) -> str | None:
    if name is None:
        return None
    return f"{name}.{key}" if name else str(key)


def _first_few(names: list[str], limit: int = 5) -> str:
    if not names:
        return "none"
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(repr(n) for n in names[:limit]) + more
