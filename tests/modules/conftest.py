"""Fixtures for the ML module tests (helpers in _mlkit.py)."""

from __future__ import annotations

import pytest

from sbpfunc.syscalls.modules import load_module

from ._mlkit import ADV_PATH, ML_PATH, Caller


@pytest.fixture(scope="session")
def ml_module():
    return load_module(ML_PATH)


@pytest.fixture(scope="session")
def adv_module():
    return load_module(ADV_PATH)


@pytest.fixture(scope="session")
def call(ml_module, adv_module):
    return Caller([ml_module, adv_module])
