"""Argument checks and name lookup, shared by every layer above the engine.

Each check returns the value in its normal form (an ``int``, a ``float``) or raises an
error that names the argument, says what was expected and shows what was given:
``ValueError("epochs must be an int >= 1, got 0")``. :func:`lookup` finds an object by
name in a registry, case-insensitively, and suggests the closest name when there is none
("unknown loss 'msee'; did you mean 'mse'?"). :func:`same_objects` is the identity
comparison the caches of the layers above use to tell that a list of parameters or
modules is still the one they saw. Standard library only.
"""

from __future__ import annotations

import difflib
import math
import numbers
import operator
from collections.abc import Mapping
from typing import TypeVar

__all__ = [
    "count",
    "finite_number",
    "flag",
    "lookup",
    "nonnegative_number",
    "positive_number",
    "same_objects",
    "seed",
]

T = TypeVar("T")


def count(value: object, what: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum`` (a bool is not a count)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{what} must be an int >= {minimum}, got {value!r}")
    return int(value)


def seed(value: object, what: str = "seed") -> int:
    """A random seed: an int in [0, 2**32), the range numpy's generators accept."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or not 0 <= int(value) < 2**32
    ):
        raise ValueError(f"{what} must be an int in [0, 2**32), got {value!r}")
    return int(value)


def finite_number(value: object, what: str) -> float:
    """``value`` as a float when it is a finite real number (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} must be a finite real number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{what} is too large for a float") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a finite real number, got {number!r}")
    return number


def nonnegative_number(value: object, what: str, *, below: float = math.inf) -> float:
    """``value`` as a float with 0 <= value < ``below`` (finite)."""
    return _number_in(value, what, strict=False, below=below)


def positive_number(value: object, what: str, *, below: float = math.inf) -> float:
    """``value`` as a float with 0 < value < ``below`` (finite)."""
    return _number_in(value, what, strict=True, below=below)


def _number_in(value: object, what: str, *, strict: bool, below: float) -> float:
    if below < math.inf:
        expected = f"a number in {'(' if strict else '['}0, {below:g})"
    else:
        expected = f"a finite number {'>' if strict else '>='} 0"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{what} must be {expected}, got {value!r}")
    number = float(value)
    if not (0 < number if strict else 0 <= number) or not number < below:  # NaN fails too
        raise ValueError(f"{what} must be {expected}, got {value!r}")
    return number


def flag(value: object, what: str) -> bool:
    """``value`` as a bool: True or False (numpy's bool too), nothing else."""
    is_numpy_bool = getattr(getattr(value, "dtype", None), "kind", None) == "b"
    if not isinstance(value, bool) and not (is_numpy_bool and getattr(value, "ndim", 1) == 0):
        raise TypeError(f"{what} must be True or False, got {value!r}")
    return bool(value)


def lookup(
    name: object,
    registry: Mapping[str, T],
    kind: str,
    aliases: Mapping[str, str] | None = None,
) -> T:
    """The entry of ``registry`` called ``name`` (or one of its ``aliases``), ignoring case.

    An unknown name is a ValueError that suggests the closest known names (difflib) and
    lists them all; a name that is not a str is a TypeError.
    """
    if not isinstance(name, str):
        raise TypeError(f"a {kind} name must be a str, got {type(name).__name__}: {name!r}")
    aliases = aliases or {}
    folded = {key.lower(): key for key in registry}
    folded_aliases = {alias.lower(): target for alias, target in aliases.items()}
    key = name.lower()
    if key in folded_aliases:
        key = folded_aliases[key].lower()
    if key in folded:
        return registry[folded[key]]
    known = sorted({*registry, *aliases})
    spelled = {k.lower(): k for k in known}
    close = difflib.get_close_matches(key, list(spelled), n=2, cutoff=0.6)
    hint = f" (did you mean {' or '.join(repr(spelled[c]) for c in close)}?)" if close else ""
    raise ValueError(f"unknown {kind} {name!r}{hint}; known: {', '.join(known)}")


def same_objects(a: list, b: list) -> bool:
    """The same objects in the same order (identity, not equality)."""
    return a is b or (len(a) == len(b) and all(map(operator.is_, a, b)))
