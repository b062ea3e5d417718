"""Every golden case recorded from Agave (fixtures/cases/*.json) must match exactly:
logs line for line, consumed units, return data, post-account bytes and the error name."""

from __future__ import annotations

from pathlib import Path

import pytest

from sbpfunc.runtime.invoke_context import ExecutionConfig
from sbpfunc.testing.cases import diff, load_case, run_case

CASES = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "cases").glob("*.json"))


def test_there_are_cases():
    assert len(CASES) >= 50


@pytest.mark.parametrize("engine", ["interpreter", "translated"])
@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case_matches_agave(path, engine):
    case = load_case(path)
    actual = run_case(case, config=ExecutionConfig.with_engine(engine))
    problems = diff(case.expected, actual)
    assert not problems, "\n".join(problems)
    assert actual == case.expected
