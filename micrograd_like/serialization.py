"""Save and load models as JSON (written atomically with files.atomic_write).

The file format (version 1) is one JSON object::

    {
      "format": "micrograd_like.model",
      "version": 1,
      "architecture": {
        "class": "MLP",                      # or "Sequential"
        "nin": 2,                            # number of inputs
        "layers": [                          # one entry per layer, in order
          {"nout": 16, "activation": "relu"},
          {"nout": 16, "activation": "relu"},
          {"nout": 1, "activation": "linear"}
        ]
      },
      "parameters": {                        # model.state_dict(): name -> float
        "layers.0.neurons.0.w.0": 0.2362,
        ...
        "layers.2.neurons.0.b": -0.0841
      }
    }

Activations are those of :data:`micrograd_like.nn.ACTIVATIONS`. An ``"MLP"`` has one
activation on every hidden layer and a linear last layer. Floats are written with
``repr`` precision, so a round trip gives bit-identical parameters. The optimizer state
and the compile settings are not saved.

Writing goes to a temporary file in the target's directory, flushed to disk, then renamed
over the target (``os.replace``), so an interrupted save leaves the old file intact.
Loading parses JSON only (never pickle, never code) and checks every field before it
builds the model; anything unexpected is a ValueError that says what is wrong.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from .files import atomic_write
from .nn import ACTIVATIONS, MLP, Layer, Sequential

__all__ = ["FORMAT", "VERSION", "load_model", "save_model"]

FORMAT = "micrograd_like.model"
VERSION = 1
_PICKLE_PROTOCOL_MARK = 0x80  # first byte of pickle protocols 2 and above


# ---------------------------------------------------------------- saving


def model_to_dict(model: Sequential) -> dict[str, Any]:
    """The JSON document for ``model`` (an MLP or a Sequential of Layers)."""
    if not isinstance(model, Sequential):
        raise TypeError(
            f"only an MLP or a Sequential of Layers can be saved, got {type(model).__name__}; "
            "for other modules save model.state_dict() yourself"
        )
    layers = []
    for i, layer in enumerate(model.layers):
        if layer.activation is None:
            raise ValueError(f"layer {i} mixes activations; the file format needs one per layer")
        layers.append({"nout": layer.nout, "activation": layer.activation})
    parameters = model.state_dict()
    for name, value in parameters.items():
        if not math.isfinite(value):
            raise ValueError(f"parameter {name!r} is {value!r}; refusing to save a broken model")
    return {
        "format": FORMAT,
        "version": VERSION,
        "architecture": {
            "class": "MLP" if isinstance(model, MLP) else "Sequential",
            "nin": model.nin,
            "layers": layers,
        },
        "parameters": parameters,
    }


def save_model(model: Sequential, path: str | os.PathLike) -> None:
    """Write ``model`` to ``path`` in the JSON format above, atomically."""
    document = model_to_dict(model)
    atomic_write(path, lambda file: json.dump(document, file, indent=1, allow_nan=False))


# ---------------------------------------------------------------- loading


def load_model(path: str | os.PathLike) -> Sequential:
    """Read a model written by ``model.save(path)``; ValueError if the file is anything else."""
    raw = Path(path).read_bytes()
    return model_from_dict(_parse_json(raw))


def _parse_json(raw: bytes) -> Any:
    if not raw.strip():
        raise ValueError("the file is empty")
    if raw[:1] == bytes([_PICKLE_PROTOCOL_MARK]):
        raise ValueError("this looks like a pickle file; micrograd_like models are JSON files")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"not a micrograd_like model: the file is binary, not UTF-8 JSON text (byte "
            f"{exc.start})"
        ) from None
    try:
        return json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise ValueError("not a micrograd_like model: the JSON is nested too deeply") from None
    except json.JSONDecodeError as exc:
        ran_out = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        hint = " (the file looks truncated)" if ran_out else ""
        raise ValueError(
            f"not valid JSON{hint}: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict; a name given twice is refused rather than overwritten."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the name {key!r} appears twice in one JSON object")
        result[key] = value
    return result


def _refuse_constant(name: str) -> None:
    raise ValueError(f"the file contains {name}; parameters must be finite numbers")


def model_from_dict(document: Any) -> Sequential:
    """Check a parsed document field by field and build the model it describes."""
    _check_keys(document, {"format", "version", "architecture", "parameters"}, "the file")
    if document["format"] != FORMAT:
        raise ValueError(f"unknown format {document['format']!r}; expected {FORMAT!r}")
    version = document["version"]
    if type(version) is not int or version != VERSION:
        raise ValueError(f"unsupported version {version!r}; this library reads version {VERSION}")
    architecture = document["architecture"]
    _check_keys(architecture, {"class", "nin", "layers"}, "architecture")
    nin = _count(architecture["nin"], "architecture.nin")
    specs = architecture["layers"]
    if not isinstance(specs, list) or not specs:
        raise ValueError("architecture.layers must be a non-empty list")
    sizes = [nin]
    activations = []
    for i, spec in enumerate(specs):
        where = f"architecture.layers[{i}]"
        _check_keys(spec, {"nout", "activation"}, where)
        sizes.append(_count(spec["nout"], f"{where}.nout"))
        activation = spec["activation"]
        if not isinstance(activation, str) or activation not in ACTIVATIONS:
            raise ValueError(
                f"{where}.activation is {activation!r}; expected one of {sorted(ACTIVATIONS)}"
            )
        activations.append(activation)
    parameters = document["parameters"]
    if not isinstance(parameters, dict):
        raise ValueError("parameters must be an object mapping names to numbers")
    expected = sum((sizes[i] + 1) * sizes[i + 1] for i in range(len(specs)))
    if len(parameters) != expected:  # checked before building anything of that size
        raise ValueError(
            f"the architecture has {expected} parameters but the file holds {len(parameters)}"
        )
    model = _build(architecture["class"], sizes, activations)
    model.load_state_dict(parameters)
    return model


def _build(kind: Any, sizes: list[int], activations: list[str]) -> Sequential:
    if kind == "MLP":
        hidden = set(activations[:-1])
        if activations[-1] != "linear" or len(hidden) > 1:
            raise ValueError(
                "an MLP has one activation on all hidden layers and a linear last layer; "
                f"the file says {activations}"
            )
        return MLP(sizes[0], sizes[1:], activation=hidden.pop() if hidden else "relu", seed=0)
    if kind == "Sequential":
        return Sequential(
            *(
                Layer(sizes[i], sizes[i + 1], activation=activations[i], seed=0)
                for i in range(len(activations))
            )
        )
    raise ValueError(f'architecture.class is {kind!r}; expected "MLP" or "Sequential"')


def _check_keys(obj: Any, keys: set[str], where: str) -> None:
    if not isinstance(obj, dict):
        raise ValueError(f"{where} must be a JSON object, got {type(obj).__name__}")
    missing = sorted(keys - obj.keys())
    unexpected = sorted(obj.keys() - keys)
    if missing or unexpected:
        raise ValueError(
            f"{where} has the wrong fields: missing {missing or 'none'}, "
            f"unexpected {unexpected or 'none'}"
        )


def _count(value: Any, where: str) -> int:
    if type(value) is not int or value < 1:
        raise ValueError(f"{where} must be a positive integer, got {value!r}")
    return value
