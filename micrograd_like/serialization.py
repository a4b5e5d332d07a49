"""The model file format: versioned JSON, written atomically, read with every field checked.

This module knows the format, not the classes: it turns a :class:`ModelDescription`
(architecture and parameters as plain data) into a file and back. The models themselves
(:mod:`micrograd_like.nn`) describe themselves and are rebuilt from a description.

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

Activations are the names the reader is given (:data:`micrograd_like.nn.ACTIVATIONS`).
An ``"MLP"`` has one activation on every hidden layer and a linear last layer. Floats are
written with ``repr`` precision, so a round trip gives bit-identical parameters. The
optimizer state and the compile settings are not saved.

Writing goes to a temporary file in the target's directory, flushed to disk, then renamed
over the target (``os.replace``), so an interrupted save leaves the old file intact.
Loading reads regular files of at most 64 MB (a keyword raises the cap), parses JSON only
(never pickle, never code) and checks every field before it builds the model; anything
unexpected is a ValueError that says what is wrong.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from . import checks
from .files import DEFAULT_MAX_BYTES, atomic_write, read_capped

__all__ = [
    "FORMAT",
    "VERSION",
    "ModelDescription",
    "from_document",
    "read_model_file",
    "to_document",
    "write_model_file",
]

FORMAT = "micrograd_like.model"
VERSION = 1
KINDS = ("MLP", "Sequential")
_PICKLE_PROTOCOL_MARK = 0x80  # first byte of pickle protocols 2 and above


@dataclass(frozen=True)
class ModelDescription:
    """A model as plain data: its class (one of :data:`KINDS`), its number of inputs, one
    ``(nout, activation)`` per layer, and its parameters by name (``state_dict()``)."""

    kind: str
    nin: int
    layers: tuple[tuple[int, str], ...]
    parameters: dict[str, float]


# ---------------------------------------------------------------- saving


def to_document(description: ModelDescription) -> dict[str, Any]:
    """The JSON document for ``description``; a non-finite parameter is refused."""
    for name, value in description.parameters.items():
        if not math.isfinite(value):
            raise ValueError(f"parameter {name!r} is {value!r}; refusing to save a broken model")
    return {
        "format": FORMAT,
        "version": VERSION,
        "architecture": {
            "class": description.kind,
            "nin": description.nin,
            "layers": [{"nout": n, "activation": a} for n, a in description.layers],
        },
        "parameters": dict(description.parameters),
    }


def write_model_file(path: str | os.PathLike, description: ModelDescription) -> None:
    """Write ``description`` to ``path`` in the JSON format above, atomically."""
    document = to_document(description)
    atomic_write(path, lambda file: json.dump(document, file, indent=1, allow_nan=False))


# ---------------------------------------------------------------- loading


def read_model_file(
    path: str | os.PathLike, activations: Collection[str], *, max_bytes: int = DEFAULT_MAX_BYTES
) -> ModelDescription:
    """The description in a file written by :func:`write_model_file`; ValueError if the
    file is anything else. ``activations`` are the activation names a layer may have.
    Anything that is not a regular file, or is larger than ``max_bytes`` (64 MB unless told
    otherwise), is refused before it is read (:func:`~micrograd_like.files.read_capped`)."""
    raw = read_capped(path, max_bytes=max_bytes)
    return from_document(_parse_json(raw), activations)


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


def from_document(document: Any, activations: Collection[str]) -> ModelDescription:
    """Check a parsed document field by field and return what it describes."""
    _check_keys(document, {"format", "version", "architecture", "parameters"}, "the file")
    if document["format"] != FORMAT:
        raise ValueError(f"unknown format {document['format']!r}; expected {FORMAT!r}")
    version = document["version"]
    if type(version) is not int or version != VERSION:
        raise ValueError(f"unsupported version {version!r}; this library reads version {VERSION}")
    architecture = document["architecture"]
    _check_keys(architecture, {"class", "nin", "layers"}, "architecture")
    kind = architecture["class"]
    if kind not in KINDS:
        raise ValueError(f'architecture.class is {kind!r}; expected "MLP" or "Sequential"')
    nin = _count(architecture["nin"], "architecture.nin")
    specs = architecture["layers"]
    if not isinstance(specs, list) or not specs:
        raise ValueError("architecture.layers must be a non-empty list")
    layers = []
    for i, spec in enumerate(specs):
        where = f"architecture.layers[{i}]"
        _check_keys(spec, {"nout", "activation"}, where)
        nout = _count(spec["nout"], f"{where}.nout")
        activation = spec["activation"]
        if not isinstance(activation, str) or activation not in activations:
            raise ValueError(
                f"{where}.activation is {activation!r}; expected one of {sorted(activations)}"
            )
        layers.append((nout, activation))
    parameters = document["parameters"]
    if not isinstance(parameters, dict):
        raise ValueError("parameters must be an object mapping names to numbers")
    sizes = [nin, *(nout for nout, _ in layers)]
    expected = sum((sizes[i] + 1) * sizes[i + 1] for i in range(len(layers)))
    if len(parameters) != expected:  # checked before anything of that size is built
        raise ValueError(
            f"the architecture has {expected} parameters but the file holds {len(parameters)}"
        )
    return ModelDescription(kind, nin, tuple(layers), parameters)


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
    """A JSON integer >= 1 (not a float such as 2.0: the file was written with ints)."""
    if type(value) is not int:
        raise ValueError(f"{where} must be an int >= 1, got {value!r}")
    return checks.count(value, where)
