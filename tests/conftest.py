"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from micrograd_like.engine import OPS


@pytest.fixture
def scratch_ops() -> Iterator[None]:
    """Ops a test registers with define_op are removed from OPS when it ends, so names can
    be reused and a deliberately wrong op never reaches another test."""
    before = set(OPS)
    yield
    for name in set(OPS) - before:
        del OPS[name]
