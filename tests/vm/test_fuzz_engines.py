"""Differential fuzzing: interpreter vs translated engine on random valid programs.

    .venv/bin/pytest tests/vm/test_fuzz_engines.py              # quick: 400 programs, a few s
    .venv/bin/pytest -m fuzz tests/vm/test_fuzz_engines.py      # long: 100,000 programs
    SBPF_FUZZ_START=5000000 SBPF_FUZZ_COUNT=20000 .venv/bin/pytest -m fuzz tests/vm/test_fuzz_engines.py

Programs come from `fuzz_programs.generate(seed)`. Each runs with its full budget and with
random smaller ones, on both engines, and every observable must agree: r0..r10, every memory
region, compute units, instruction count, error kind, text and pc, the meter, frames. Even seeds
run with every block compiled up front, odd seeds with lazy tiering at a threshold of 2, so runs
switch between the interpreter and compiled code mid-run.

A failure prints the seed and the program text: add the text to `fuzz_regressions.py`.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

from sbpfunc.vm import translate as T
from sbpfunc.vm.interpreter import standard_regions

_HERE = Path(__file__).resolve().parent


def _load(mod_name: str, path: Path):
    if mod_name in sys.modules:
        return sys.modules[mod_name]
    spec = importlib.util.spec_from_file_location(mod_name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = mod
    spec.loader.exec_module(mod)
    return mod


fp = _load("sbpfunc_tests_vm_fuzz_programs", _HERE / "fuzz_programs.py")
regressions = _load("sbpfunc_tests_vm_fuzz_regressions", _HERE / "fuzz_regressions.py")

QUICK = 400
LONG = int(os.environ.get("SBPF_FUZZ_COUNT", "100000"))
LONG_START = int(os.environ.get("SBPF_FUZZ_START", "1000000"))
CHUNKS = 100

EAGER = dict(eager=True)
LAZY = dict(eager=False, hot_threshold=2, compile_ratio=1)


def check_seed(seed: int) -> str | None:
    """None if both engines agree on the program of `seed`, else a report."""
    program = fp.generate(seed)
    with T.tiering(**(EAGER if seed % 2 == 0 else LAZY)):
        try:
            problems = fp.check_program(program)
        except Exception as e:  # a crash in either engine (or the generator) is a failure too
            problems = [f"{type(e).__name__}: {e}"]
    if not problems:
        return None
    return (f"seed {seed} (v{program.version}, input {program.input.hex()}, "
            f"{'eager' if seed % 2 == 0 else 'lazy'}):\n  " + "\n  ".join(problems)
            + "\nprogram:\n" + program.asm)


def _run_seeds(seeds) -> None:
    failures = []
    for seed in seeds:
        report = check_seed(seed)
        if report:
            failures.append(report)
            if len(failures) >= 3:
                break
    assert not failures, "\n\n".join(failures)


def test_quick_fuzz():
    _run_seeds(range(QUICK))


@pytest.mark.fuzz
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_long_fuzz(chunk):
    per = -(-LONG // CHUNKS)
    start = LONG_START + chunk * per
    _run_seeds(range(start, min(start + per, LONG_START + LONG)))


# --- regressions -----------------------------------------------------------------------------------
def _observe_both(exe, program_input: bytes, budget: int, mode: dict):
    out = []
    for engine in ("interpreter", "translated"):
        with T.tiering(**mode):
            regions = standard_regions(exe, input_data=fp.serialize_input(program_input))
            out.append(fp.observe(exe, regions, budget, engine))
    return out


@pytest.mark.parametrize("mode", [EAGER, LAZY], ids=["eager", "lazy"])
@pytest.mark.parametrize("reg", regressions.REGRESSIONS, ids=[r.name for r in regressions.REGRESSIONS])
def test_regression(reg, mode):
    program = fp.FuzzProgram(seed=-1, version=reg.version, asm=reg.asm, input=reg.input)
    exe = fp.build(program)
    full = fp.observe(exe, standard_regions(exe, input_data=fp.serialize_input(reg.input)),
                      fp.FULL_BUDGET, "interpreter")
    budgets = set(reg.budgets) | {fp.FULL_BUDGET}
    if reg.all_budgets:
        budgets |= set(range(full["compute_units"] + 2))
    for budget in sorted(budgets):
        a, b = _observe_both(exe, reg.input, budget, mode)
        d = fp.diff(a, b)
        assert not d, f"{reg.name} at budget {budget}:\n  " + "\n  ".join(d)


def test_generator_is_deterministic_and_varied():
    a, b = fp.generate(12345), fp.generate(12345)
    assert a == b
    versions = {fp.generate(s).version for s in range(60)}
    assert versions == {0, 1, 2, 3}


def test_generator_covers_outcomes():
    """The quick run's programs end in every kind of outcome the engines must agree on."""
    kinds = set()
    for seed in range(200):
        p = fp.generate(seed)
        exe = fp.build(p)
        o = fp.observe(exe, standard_regions(exe, input_data=fp.serialize_input(p.input)),
                       fp.FULL_BUDGET, "interpreter")
        kinds.add("ok" if o["error"] is None else o["error"][0])
    assert {"ok", "AccessViolation", "StackAccessViolation", "DivideByZero",
            "SyscallError", "CallDepthExceeded", "CallOutsideTextSegment"} <= kinds, kinds
