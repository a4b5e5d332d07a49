"""Whether new operations record a graph: :class:`no_grad` and :class:`enable_grad`.

The switch is a context variable, so it is per thread and per asyncio task. ``no_grad()``
and ``enable_grad()`` are objects that can be entered any number of times (nested too) and
used as decorators.

A block entered inside a generator (or coroutine) holds while that generator runs, not
while it is suspended at a ``yield``: the code that resumed it keeps its own setting. (A
context variable alone would leak: a generator shares its caller's context.) The exception
is a generator driven by :func:`contextlib.contextmanager` or ``asynccontextmanager``,
whose ``yield`` is meant to run the caller's ``with`` body inside its block.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import sys
from collections.abc import Callable
from types import FrameType

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (10 ms)
if TYPE_CHECKING:
    from typing import Any, TypeVar

    F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["enable_grad", "is_grad_enabled", "no_grad"]

_GRAD_ENABLED: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "micrograd_like_grad_enabled", default=True
)

recording = _GRAD_ENABLED.get
"""The switch's current state, for the engine's hot path (no function frame of its own):
True, False, or a :class:`_WhileRunning` that is truthy when recording."""

# inspect.CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR (documented code flags; inspect
# itself takes 10 ms to import)
_SUSPENDABLE = 0x20 | 0x80 | 0x200
_CONTEXT_MANAGER_STEPS = (
    contextlib._GeneratorContextManager.__enter__.__code__,
    contextlib._AsyncGeneratorContextManager.__aenter__.__code__,
)


def is_grad_enabled() -> bool:
    """True unless inside a :class:`no_grad` block (per thread and per asyncio task)."""
    return bool(_GRAD_ENABLED.get())


class _WhileRunning:
    """The setting of a block entered in a generator: ``enabled`` while the generator's
    frame runs; while it is suspended (no frame resumed it), the setting outside the block."""

    __slots__ = ("enabled", "frame", "outside")

    def __init__(self, enabled: bool, frame: FrameType, outside: Any) -> None:
        self.enabled, self.frame, self.outside = enabled, frame, outside

    def __bool__(self) -> bool:
        return self.enabled if self.frame.f_back is not None else bool(self.outside)


class _GradMode:
    """A reusable context manager and decorator that turns recording on or off."""

    enabled: bool

    def __init__(self) -> None:
        # one entry per block entered and not yet left: (its frame, its token or setting)
        self._open: list[tuple[FrameType, Any]] = []

    def __enter__(self) -> None:
        frame = sys._getframe(1)  # the frame running the ``with`` statement
        if frame.f_code.co_flags & _SUSPENDABLE and not _drives_a_with_body(frame):
            setting = _WhileRunning(self.enabled, frame, _GRAD_ENABLED.get())
            _GRAD_ENABLED.set(setting)
            self._open.append((frame, setting))
        else:
            self._open.append((frame, _GRAD_ENABLED.set(self.enabled)))

    def __exit__(self, *exc_info: object) -> None:
        # the block this frame entered last: one object may be open in several generators
        # (an ExitStack enters and leaves from frames of its own: then the last block)
        frame = sys._getframe(1)
        mine = [i for i, (entered_in, _) in enumerate(self._open) if entered_in is frame]
        entry = self._open.pop(mine[-1] if mine else -1)[1]
        if type(entry) is not _WhileRunning:
            _GRAD_ENABLED.reset(entry)
        elif _GRAD_ENABLED.get() is entry:
            _GRAD_ENABLED.set(entry.outside)
        # else: a generator closed after its caller moved on (dropped, then collected);
        # the caller's setting stands, and the stale entry reads as its outside anyway

    def __call__(self, func: F) -> F:
        """``func`` run inside this block on every call (for a generator function: during
        every step of the generator)."""
        import inspect  # when decorating only

        if not callable(func):
            raise TypeError(f"{type(self).__name__}() decorates a function, got {func!r}")
        if inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func):
            raise TypeError(
                f"{type(self).__name__}() cannot decorate the async function {func.__name__!r}; "
                f"use `with {type(self).__name__}():` inside it"
            )
        mode = type(self)
        if inspect.isgeneratorfunction(func):

            @functools.wraps(func)
            def steps(*args: Any, **kwargs: Any) -> Any:
                with mode():
                    return (yield from func(*args, **kwargs))

            return steps  # type: ignore[return-value]

        @functools.wraps(func)
        def call(*args: Any, **kwargs: Any) -> Any:
            with mode():
                return func(*args, **kwargs)

        return call  # type: ignore[return-value]

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _drives_a_with_body(frame: FrameType) -> bool:
    """True for a generator that contextlib is running as a context manager."""
    caller = frame.f_back
    return caller is not None and caller.f_code in _CONTEXT_MANAGER_STEPS


class no_grad(_GradMode):  # noqa: N801  (named like the function it was, as in PyTorch)
    """Inside this block ops compute values but record no graph; also a decorator
    (``@no_grad()``). One object can be entered again and again."""

    enabled = False


class enable_grad(_GradMode):  # noqa: N801
    """Record graphs again inside this block, even within :class:`no_grad`."""

    enabled = True
