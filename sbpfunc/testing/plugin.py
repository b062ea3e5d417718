"""pytest plugin (registered through the `pytest11` entry point): a `harness` fixture."""

from __future__ import annotations

import pytest


@pytest.fixture
def harness():
    """A fresh `sbpfunc.testing.Harness` per test."""
    from .harness import Harness

    return Harness()
