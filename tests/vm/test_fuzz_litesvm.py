"""Differential fuzzing against Agave: random valid v0 programs as Solana programs in LiteSVM.

    .venv/bin/pytest tests/vm/test_fuzz_litesvm.py              # quick: 300 programs, ~10 s
    .venv/bin/pytest -m fuzz tests/vm/test_fuzz_litesvm.py      # long: 100,000 programs
    SBPF_LITESVM_FUZZ_START=7000000 SBPF_LITESVM_FUZZ_COUNT=20000 \\
        .venv/bin/pytest -m fuzz tests/vm/test_fuzz_litesvm.py

Programs come from `fuzz_programs.generate(seed, version=0, agave=True)`: the same generator as the
engine fuzzing (straight-line ALU, branches, bounded loops, loads and stores into stack / heap /
input / program image, internal calls and callx, division by zero, faults), with syscall sites
calling only syscalls Agave has (sol_log_64_, sol_log_compute_units_, sol_log_, sol_memset_).
Each program is wrapped: its entrypoint becomes a function called by a new entrypoint that logs
r1..r5 as the program left them and then r0 (two sol_log_64_), and returns r0, so a normal exit
exposes the registers and r0 still decides success / the failure text.

The ELF (`assemble(...).to_elf()`, callx targets patched with the ELF's text address) is deployed
in one LiteSVM per test (mainnet features) and in our runtime (`sbpfunc.testing.Harness`) for each
engine, and invoked with no accounts and the program's instruction data: once with Agave's default
budget and once per random smaller budget (a fraction of the full run's units, set through
ComputeBudget's SetComputeUnitLimit in LiteSVM: +150 CU and two ComputeBudget log lines, which
are taken off before comparing). Compared: success, every log line of the program (invoke,
"Program log:" / consumption lines, "consumed N of M", success or the failure text) and the
transaction's consumed units.

A failure prints the seed and the program text: keep it in `REGRESSIONS` below.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("solders.litesvm")

from solders.instruction import Instruction  # noqa: E402
from solders.pubkey import Pubkey  # noqa: E402

from sbpfunc.asm import assemble  # noqa: E402
from sbpfunc.testing import Harness  # noqa: E402

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
H = _load("sbpfunc_tests_litesvm_harness", _HERE.parent / "differential" / "litesvm_harness.py")

QUICK = 300
LONG = int(os.environ.get("SBPF_LITESVM_FUZZ_COUNT", "100000"))
LONG_START = int(os.environ.get("SBPF_LITESVM_FUZZ_START", "3000000"))
CHUNKS = 100
ENGINES = ("interpreter", "translated")
VERSION = 0


# --- building ------------------------------------------------------------------------------------
WRAPPER = ("entrypoint:\n"
           "    call __fuzz_entry\n"
           "    mov64 r6, r0\n"
           "    call sol_log_64_\n"  # r1..r5 as the program left them
           "    mov64 r1, r6\n"
           "    call sol_log_64_\n"  # r0
           "    mov64 r0, r6\n"
           "    exit\n")


def wrap(asm: str) -> str:
    return re.sub(r"\bentrypoint\b", "__fuzz_entry", asm) + WRAPPER


def build_elf(asm: str) -> bytes:
    """The ELF of a (wrapped) fuzz program, callx addresses resolved against its text address."""
    first = assemble(asm, VERSION)
    text_vaddr = H.elf_text_vaddr(first.to_elf())
    elf = assemble(fp.resolve_addresses(asm, first.labels, text_vaddr), VERSION).to_elf()
    assert H.elf_text_vaddr(elf) == text_vaddr
    return elf


def program_id(tag: str) -> bytes:
    return hashlib.sha256(b"sbpfunc fuzz litesvm " + tag.encode()).digest()


# --- running and comparing -------------------------------------------------------------------------
def _lite(runner, pid: bytes, data: bytes, budget: int) -> dict:
    r = runner.run(pid, data, budget)
    extra = H.COMPUTE_BUDGET_IX_COST if budget != H.DEFAULT_BUDGET else 0
    logs = [line for line in r.logs if not line.startswith("Program ComputeBudget111")]
    return {"ok": r.ok, "logs": logs, "tx_cu": None if r.tx_compute_units is None else r.tx_compute_units - extra,
            "consumed": r.consumed}


def _ours(harness: Harness, pid: bytes, data: bytes, budget: int) -> dict:
    harness.compute_unit_limit = budget
    key = Pubkey.from_bytes(pid)
    res = harness.process_instruction(Instruction(key, data, []), [])
    consumed = None
    for line in res.logs:
        m = re.fullmatch(rf"Program {key} consumed (\d+) of \d+ compute units", line)
        if m:
            consumed = int(m.group(1))
    return {"ok": res.success, "logs": list(res.logs), "tx_cu": res.compute_units_consumed, "consumed": consumed}


# Divergences found and diagnosed but not fixed yet: name -> diagnosis. The fuzz loops count a
# program whose only difference matches one of these (see `_known`) instead of failing on it; the
# regression cases below (strict xfail) start passing once it is fixed: then drop the entry.
KNOWN_DIVERGENCES: dict[str, str] = {}  # none pending; the r0 mapping bug found at seed 13 is fixed



def _known(agave: dict, ours: dict) -> str | None:
    """The KNOWN_DIVERGENCES entry explaining every difference between the two runs, if any.
    (None are pending: add a matcher here together with an entry when one is diagnosed.)"""
    return None


def _diff(agave: dict, ours: dict) -> list[str]:
    out = []
    for k in ("ok", "consumed", "tx_cu"):
        if agave[k] != ours[k]:
            out.append(f"{k}: agave {agave[k]!r} != ours {ours[k]!r}")
    if agave["logs"] != ours["logs"]:
        la, lo = agave["logs"], ours["logs"]
        i = next((i for i, (a, b) in enumerate(zip(la, lo)) if a != b), min(len(la), len(lo)))
        out.append(f"logs differ at line {i}: agave {la[i:i + 2]!r} != ours {lo[i:i + 2]!r}")
    return out


def check_program(runner, tag: str, asm: str, data: bytes, fractions=(), budgets=(),
                  known: set | None = None) -> tuple[list[str], str]:
    """Run a fuzz program in LiteSVM and on both our engines at the default budget and at
    `fractions` of its full units (plus explicit `budgets`); (problems, outcome of the full run).
    With `known` (a set), differences explained by KNOWN_DIVERGENCES are added to it instead."""
    elf = build_elf(wrap(asm))
    pid = program_id(tag)
    runner.deploy(pid, elf)
    harnesses = {}
    for engine in ENGINES:
        harnesses[engine] = Harness(engine=engine)
        harnesses[engine].add_program(Pubkey.from_bytes(pid), elf)
    problems = []
    todo = [H.DEFAULT_BUDGET]
    outcome = None
    done = set()
    while todo:
        budget = todo.pop(0)
        if budget in done:
            continue
        done.add(budget)
        agave = _lite(runner, pid, data, budget)
        for engine in ENGINES:
            ours = _ours(harnesses[engine], pid, data, budget)
            d = _diff(agave, ours)
            if d and known is not None and _known(agave, ours):
                known.add(_known(agave, ours))
                continue
            if d:
                problems.append(f"budget {budget}, {engine}: " + "; ".join(d))
        if outcome is None:
            outcome = _outcome(agave)
            full = agave["consumed"] or 0
            todo.extend(sorted({int(f * full) for f in fractions} | set(budgets)))
    return problems, outcome


def _outcome(obs: dict) -> str:
    if obs["ok"]:
        return "ok"
    for line in obs["logs"]:
        m = re.match(r"Program \w+ failed: (.*)", line)
        if m:
            text = m.group(1)
            text = re.sub(r"0x[0-9a-f]+", "N", text)
            return re.sub(r"\d+", "N", text)
    return "failed (no text)"


def check_seed(runner, seed: int, known: set | None = None) -> tuple[str | None, str]:
    program = fp.generate(seed, version=VERSION, agave=True)
    try:
        problems, outcome = check_program(runner, f"seed {seed}", program.asm, program.input,
                                          program.budget_fractions, known=known)
    except Exception as e:  # a crash anywhere (builder, runtime, LiteSVM) is a failure too
        problems, outcome = [f"{type(e).__name__}: {e}"], "crash"
    if not problems:
        return None, outcome
    return (f"seed {seed} (v{VERSION}, input {program.input.hex()}, fractions "
            f"{program.budget_fractions}):\n  " + "\n  ".join(problems) + "\nprogram:\n" + program.asm), outcome


def _run_seeds(seeds) -> dict:
    runner = H.LiteSvmRunner()
    failures, outcomes = [], {}
    for seed in seeds:
        known: set = set()
        report, outcome = check_seed(runner, seed, known)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        for name in known:
            outcomes["known: " + name] = outcomes.get("known: " + name, 0) + 1
        if report:
            failures.append(report)
            if len(failures) >= 3:
                break
    print(f"outcomes of {sum(v for k, v in outcomes.items() if not k.startswith('known'))} programs: {outcomes}")
    assert not failures, "\n\n".join(failures)
    return outcomes


def test_quick_fuzz_vs_litesvm():
    outcomes = _run_seeds(range(QUICK))
    # the quick run must reach normal exits, r0 failures, VM faults and budget exhaustion
    assert "ok" in outcomes and "crash" not in outcomes, outcomes
    assert any(o.startswith("Access violation") for o in outcomes), outcomes
    assert any("custom program error" in o or "invalid error code" in o for o in outcomes), outcomes


@pytest.mark.fuzz
@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_long_fuzz_vs_litesvm(chunk):
    per = -(-LONG // CHUNKS)
    start = LONG_START + chunk * per
    _run_seeds(range(start, min(start + per, LONG_START + LONG)))


# --- regressions -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Regression:
    name: str
    seed: int  # where it was found (generate(seed, version=0, agave=True)); the text below is what runs
    asm: str
    input: bytes = b""
    budgets: tuple = ()  # extra budgets besides Agave's default


REGRESSIONS: list[Regression] = [
    # A smoke case so the machinery runs even with no divergence recorded: every region, a
    # division by zero guarded away, sol_log_64_ on the way out.
    Regression("smoke_regions", -1, """\
entrypoint:
    mov64 r6, 3
    lddw r2, 0x300000010
    stxdw [r2+0], r6
    ldxdw r3, [r2+0]
    ldxb r4, [r1+16]
    stxw [r10-8], r4
    call fn1
    mov64 r0, 0
    exit
fn1:
    mov64 r5, 0
    jeq r5, 0, L1
    div64 r3, r5
L1:
    call sol_log_64_
    exit
""", b"\x2a", (0, 5, 120)),
    # Found at seed 13 (also 25, 33): r0 = 0x3_0000_0176 (full program below as generated,
    # minimal form first). Agave: "program returned invalid error code"; ours: "invalid
    # instruction data" (builtin 3): error_from_return_value took any r0 with upper bits k as builtin
    # k; Agave matches only the exact values k << 32. Fixed in sbpfunc/runtime/errors.py.
    Regression("r0_builtin_low_bits_min", 13, """\
entrypoint:
    lddw r0, 0x300000176
    exit
"""),
    Regression("r0_builtin_low_bits_seed13", 13, """\
entrypoint:
    lddw r3, 0x20
    jslt r0, r4, L1
    mov64 r8, 0
loop2:
    lddw r7, 0xdb
    add64 r8, 1
    jne r8, 4, loop2
L1:
    lddw r8, 0x400000027
    ldxb r2, [r8+0]
    call fn1
    mov64 r5, 7
    mov64 r4, 63
    mov64 r8, 2
loop3:
    lsh32 r0, r3
    mul32 r7, 1452323356
    mov64 r4, 32
    arsh32 r4, r5
    div64 r5, 54
    arsh32 r3, 2
    lddw r2, 0x100000001
    ldxh r6, [r2+0]
    lddw r1, 0x0  ; @fn1
    callx r1
    sub64 r8, 1
    jne r8, 0, loop3
    lddw r0, 0x300000176
    stb [r0+0], 63
    exit
fn1:
    mov64 r8, 90
    lddw r9, 0x8000000000000000
    jset r4, 104, L4
    lddw r1, 0x200016c21
    stxh [r1+0], r0
    mov64 r8, 2
loop6:
    call sol_log_64_
    or32 r4, r9
    lsh64 r4, 12
    jsge r0, r5, L7
    mul64 r9, r2
    add64 r3, 779909860
    sub32 r7, -1845258661
    div32 r3, r8
    le16 r7
    xor64 r6, 1707578474
    sub32 r2, r8
    neg64 r5
    or64 r4, 256
    mod64 r6, r4
L7:
    sub64 r8, 1
    jne r8, 0, loop6
    ja L5
L4:
L5:
    exit
""", bytes.fromhex("ba031b86b745dd17")),
]

_XFAIL: dict[str, str] = {}


@pytest.fixture(scope="module")
def runner():
    return H.LiteSvmRunner()


def _reg_params():
    return [pytest.param(r, id=r.name, marks=[pytest.mark.xfail(strict=True, reason=KNOWN_DIVERGENCES[_XFAIL[r.name]])]
                         if r.name in _XFAIL else []) for r in REGRESSIONS]


@pytest.mark.parametrize("reg", _reg_params())
def test_regression_vs_litesvm(runner, reg):
    problems, _ = check_program(runner, f"regression {reg.name}", reg.asm, reg.input, (), reg.budgets)
    assert not problems, f"{reg.name}:\n  " + "\n  ".join(problems)


def test_agave_variant_keeps_to_agave_syscalls():
    for seed in range(200):
        asm = fp.generate(seed, version=VERSION, agave=True).asm
        called = set(re.findall(r"\bcall (\w+)", asm))
        assert not {c for c in called if c.startswith("fuzz_")}, (seed, called)
