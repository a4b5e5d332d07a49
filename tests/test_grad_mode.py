"""no_grad and enable_grad objects: reusable, and never leaked by a suspended generator
(issue 11, point 8)."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from micrograd_like import Value, enable_grad, is_grad_enabled, no_grad


def recorded() -> bool:
    """Whether an op made now records its inputs."""
    return len((Value(1.0) * 2.0).parents) == 2


def test_one_no_grad_object_can_be_entered_again_and_nested():
    quiet = no_grad()
    with quiet:
        assert not recorded()
    assert recorded()
    with quiet:
        with quiet:
            assert not recorded()
        assert not is_grad_enabled()
    assert is_grad_enabled() and recorded()
    loud = enable_grad()
    with quiet, loud:
        assert recorded()
    with loud:
        pass
    assert is_grad_enabled()


def test_a_generator_suspended_inside_no_grad_does_not_leak_it():
    def features(xs):
        with no_grad():
            for x in xs:
                yield Value(x) * 2.0, is_grad_enabled()

    seen = []
    for feature, inside in features([1.0, 2.0]):
        seen.append((feature.parents, inside, is_grad_enabled(), recorded()))
    assert seen == [((), False, True, True)] * 2
    assert is_grad_enabled()


def test_enable_grad_inside_a_generator_within_no_grad_does_not_leak_either():
    def loud():
        with enable_grad():
            yield is_grad_enabled()

    with no_grad():
        steps = loud()
        assert next(steps) is True
        assert not is_grad_enabled() and not recorded()
    assert is_grad_enabled()


def test_a_generator_closed_after_its_caller_moved_on_changes_nothing():
    def quiet():
        with no_grad():
            yield

    with enable_grad():
        steps = quiet()
        next(steps)
    with no_grad():
        steps.close()  # leaves its block now, out of order
        assert not is_grad_enabled()
    steps = quiet()
    next(steps)
    del steps  # collected while suspended
    assert is_grad_enabled() and recorded()


def test_one_object_open_in_several_generators_and_an_exit_stack():
    quiet = no_grad()

    def steps():
        with quiet:
            yield is_grad_enabled()
            yield is_grad_enabled()

    a, b = steps(), steps()
    assert (next(a), next(b), is_grad_enabled()) == (False, False, True)
    assert list(a) == [False] and is_grad_enabled()
    assert list(b) == [False] and is_grad_enabled()
    with contextlib.ExitStack() as stack:
        stack.enter_context(quiet)
        stack.enter_context(enable_grad())
        assert is_grad_enabled()
    assert is_grad_enabled()
    with contextlib.ExitStack() as stack:
        stack.enter_context(quiet)
        assert not recorded()
    assert recorded()


def test_nested_generators_each_keep_their_own_setting():
    def outer():
        with no_grad():
            yield from inner()
            yield is_grad_enabled()

    def inner():
        yield is_grad_enabled()
        with enable_grad():
            yield is_grad_enabled()

    results = []
    for inside in outer():
        results.append((inside, is_grad_enabled()))
    assert results == [(False, True), (True, True), (False, True)]


def test_no_grad_decorates_functions_and_generator_functions():
    @no_grad()
    def square(v: Value) -> Value:
        return v * v

    @no_grad()
    def squares(values):
        for v in values:
            yield v * v, is_grad_enabled()

    assert square(Value(2.0)).parents == ()
    assert square.__name__ == "square"
    out = [(y.parents, inside, is_grad_enabled()) for y, inside in squares([Value(3.0)] * 2)]
    assert out == [((), False, True)] * 2
    with pytest.raises(TypeError, match="cannot decorate the async function"):

        @no_grad()
        async def later() -> None:
            pass


def test_a_context_manager_made_from_a_generator_still_hands_its_block_to_the_caller():
    @contextlib.contextmanager
    def quiet():
        with no_grad():
            yield

    @contextlib.asynccontextmanager
    async def quiet_async():
        with no_grad():
            yield

    with quiet():
        assert not is_grad_enabled() and not recorded()
    assert is_grad_enabled()

    async def main() -> tuple[bool, bool]:
        async with quiet_async():
            inside = is_grad_enabled()
        return inside, is_grad_enabled()

    assert asyncio.run(main()) == (False, True)


def test_an_async_generator_suspended_inside_no_grad_does_not_leak_it():
    async def stream():
        with no_grad():
            yield is_grad_enabled()
            yield is_grad_enabled()

    async def main() -> list:
        return [(inside, is_grad_enabled()) async for inside in stream()]

    assert asyncio.run(main()) == [(False, True), (False, True)]
