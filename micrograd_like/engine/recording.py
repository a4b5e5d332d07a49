"""Whether new operations record a graph: :func:`no_grad` and :func:`enable_grad`.

The switch is a context variable, so it is per thread and per asyncio task.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

__all__ = ["enable_grad", "is_grad_enabled", "no_grad"]

_GRAD_ENABLED: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "micrograd_like_grad_enabled", default=True
)

recording = _GRAD_ENABLED.get
"""The switch's current state, for the engine's hot path (no function frame of its own)."""


def is_grad_enabled() -> bool:
    """True unless inside a :func:`no_grad` block (per thread and per asyncio task)."""
    return _GRAD_ENABLED.get()


@contextlib.contextmanager
def _recording(enabled: bool) -> Iterator[None]:
    token = _GRAD_ENABLED.set(enabled)
    try:
        yield
    finally:
        _GRAD_ENABLED.reset(token)


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Inside this block ops compute values but record no graph (usable as a decorator)."""
    return _recording(False)


def enable_grad() -> contextlib.AbstractContextManager[None]:
    """Record graphs again inside this block, even within :func:`no_grad`."""
    return _recording(True)
