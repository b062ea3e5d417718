"""Firedancer's per-opcode sBPF conformance vectors (`firedancer/v*/*.instr`), run on sbpfunc.

Each case is run the way Firedancer's `test_vm_instr.c` runs it (see `firedancer/README.md`):

* text = [insn(op, dst, src, off, imm_lo32)] (+ [insn(0, 0, 0, 0, imm_hi32)] for lddw) + [exit];
* the whole text is verified first: a `VerifierError` is the outcome `vfy` (the program is then
  not run; Firedancer ignores the result of a forced run too);
* otherwise it runs with a 100-unit budget, heap size 0, no syscalls, the text as the read-only
  program image, the `input=` bytes writable at 0x4_0000_0000 (split into sub-regions at the
  `region_boundary` offsets, bytes past the last boundary unmapped), and r0..r10 preset from the
  case (r10 is an ordinary input; the runner's r11 slot is never set and is ignored);
* a fault of any kind is `err`; a clean exit is `ok` and r0..r10 must equal the expected set.

The files are replayed from the top with the parser's sticky state (`instr_format.py`).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from sbpfunc.vm.errors import VerifierError
from sbpfunc.vm.executable import Executable
from sbpfunc.vm.interpreter import BudgetMeter, EbpfVm, standard_regions
from sbpfunc.vm.isa import M32, MM_INPUT_START, SBPFVersion, encode
from sbpfunc.vm.memory import MemoryRegion
from sbpfunc.vm.verifier import verify

from .instr_format import STATUS_FAULT, STATUS_OK, STATUS_VERIFY_FAIL, InstrCase, parse_instr_file
from .known_divergences import KNOWN_DIVERGENCES

HERE = Path(__file__).parent / "firedancer"
ENTRY_CU = 100
OP_LDDW = 0x18
OP_EXIT = 0x95

# The runner's fixed file list (`main()` in test_vm_instr.c): folder -> SBPF version.
FILES = {
    "v0": (SBPFVersion.V0, ["opcode", "bitwise", "int_math", "jump", "load", "shift"]),
    "v2": (SBPFVersion.V2, ["opcode", "bitwise", "int_math", "jump", "load", "shift"]),
    "v3": (SBPFVersion.V3, ["jump"]),
}

# Per-file counts from firedancer/README.md: cases, ok, err, vfy (incl. vfyub), vfyub.
README_COUNTS = {
    "v0/bitwise.instr": (61, 37, 0, 24, 0),
    "v0/int_math.instr": (265, 185, 6, 74, 4),
    "v0/jump.instr": (315, 127, 116, 72, 0),
    "v0/load.instr": (65, 38, 17, 10, 0),
    "v0/opcode.instr": (256, 73, 18, 165, 0),
    "v0/shift.instr": (292, 247, 0, 45, 0),
    "v2/bitwise.instr": (68, 41, 0, 27, 0),
    "v2/int_math.instr": (390, 261, 24, 105, 8),
    "v2/jump.instr": (315, 127, 116, 72, 0),
    "v2/load.instr": (118, 28, 17, 73, 0),
    "v2/opcode.instr": (264, 78, 22, 164, 8),
    "v2/shift.instr": (292, 247, 0, 45, 0),
    "v3/jump.instr": (126, 39, 40, 47, 0),
}

# Cases that fail because of a bug in sbpfunc's VM (not in the vectors): case id -> reason.
# They are marked xfail(strict=True), so fixing the VM turns them into XPASS failures: remove the
# entry then. Nothing may be listed here for a harness or vector problem.
VM_BUGS_PENDING: dict[str, str] = {}


def _load_cases() -> list[tuple[SBPFVersion, InstrCase]]:
    out = []
    for folder, (version, names) in FILES.items():
        for name in names:
            rel = f"{folder}/{name}.instr"
            out.extend((version, case) for case in parse_instr_file(HERE / rel, rel))
    return out


CASES = _load_cases()
CASE_IDS = {case.id for _, case in CASES}


def build_text(case: InstrCase) -> bytes:
    text = encode(case.op, case.dst, case.src, case.off, case.imm & M32)
    if case.op == OP_LDDW:
        text += encode(0, 0, 0, 0, case.imm >> 32)
    return text + encode(OP_EXIT)


def input_regions(case: InstrCase) -> list[MemoryRegion]:
    """The input region(s), laid out as the C runner lays out `fd_vm_input_region_t`s."""
    data = bytearray(case.input)  # a fresh copy per run
    if not case.region_boundaries:
        return [MemoryRegion(MM_INPUT_START, data, True)]
    regions, start = [], 0
    for end in case.region_boundaries:
        assert start <= end <= len(data), f"{case.id}: bad region boundary {end:#x}"
        regions.append(MemoryRegion(MM_INPUT_START + start, data[start:end], True))
        start = end
    return regions


def run_case(version: SBPFVersion, case: InstrCase) -> tuple[str, list[int] | None, str]:
    """(outcome, r0..r10 after a clean exit or None, detail) for one case."""
    exe = Executable.from_text(build_text(case), version, verify=False)
    try:
        verify(exe)
    except VerifierError as e:
        return STATUS_VERIFY_FAIL, None, f"{e.kind}: {e}"
    regions = standard_regions(exe, heap_size=0, input_regions=input_regions(case))
    vm = EbpfVm(exe, regions, BudgetMeter(ENTRY_CU))
    result = vm.execute(registers=list(case.regs[:11]))
    regs = list(vm.machine_snapshot[0])
    if result.error is not None:
        return STATUS_FAULT, regs, f"{result.error.kind}: {result.error} (pc {result.pc})"
    return STATUS_OK, regs, ""


def _params():
    for version, case in CASES:
        marks = []
        if case.id in KNOWN_DIVERGENCES:
            marks.append(pytest.mark.skip(reason=f"known divergence: {KNOWN_DIVERGENCES[case.id]}"))
        elif case.id in VM_BUGS_PENDING:
            marks.append(pytest.mark.xfail(strict=True, reason=f"VM bug: {VM_BUGS_PENDING[case.id]}"))
        yield pytest.param(version, case, id=case.id, marks=marks)


@pytest.mark.parametrize("version, case", list(_params()))
def test_case(version: SBPFVersion, case: InstrCase):
    status, regs, detail = run_case(version, case)
    where = f"{case.id} (v{int(version)}): {case.describe()}"
    assert status == case.status, f"{where}\n  expected {case.status}, got {status} {detail}"
    if status == STATUS_OK:
        expected = list(case.expected_regs[:11])
        diffs = [f"r{i}: expected {e:#x}, got {g:#x}" for i, (e, g) in enumerate(zip(expected, regs)) if e != g]
        assert not diffs, f"{where}\n  " + "\n  ".join(diffs)


# --- the harness itself ----------------------------------------------------------------------------

def test_case_counts_match_readme():
    """The parser (with its sticky state) finds exactly the cases and outcomes the README lists."""
    seen = {}
    for _, case in CASES:
        c = seen.setdefault(case.file, Counter())
        c["cases"] += 1
        c[case.status] += 1
        c["vfyub"] += case.status_word == "vfyub"
    got = {f: (c["cases"], c[STATUS_OK], c[STATUS_FAULT], c[STATUS_VERIFY_FAIL], c["vfyub"])
           for f, c in seen.items()}
    assert got == README_COUNTS
    assert len(CASES) == 2827 == len(CASE_IDS)


def test_every_case_line_starts_with_dollar():
    for _, case in CASES:
        line = (HERE / case.file).read_text().splitlines()[case.line - 1]
        assert line.lstrip().startswith("$"), case.id


def test_r11_never_used():
    """The runner's 12th register slot is never set, so comparing r0..r10 loses nothing."""
    assert not any(case.regs[11] or case.expected_regs[11] for _, case in CASES)


def test_divergence_and_bug_lists_name_real_cases():
    assert set(KNOWN_DIVERGENCES) <= CASE_IDS
    assert set(VM_BUGS_PENDING) <= CASE_IDS
    assert not set(KNOWN_DIVERGENCES) & set(VM_BUGS_PENDING)


def test_parser_sticky_state_and_edges():
    from .instr_format import InstrParseError, parse_instr

    text = (
        "dst=1 src=2 off=0000 # set before any case\n"
        "$ op=07 imm=5 r1=10 : ok r1=15\n"
        "$ op=0f r2 =3: ok  vfy\n"          # reuses dst/src/imm/r1; last status word wins
        "input=0a0b region_boundary=1\n"
        "$ op=05 off=ffff : err\n"
        "input = 0c\n"
        "$ op=18 imm=1122334455667788 :\n"   # no status word: inherits err; bare ':' = regs kept
    )
    a, b, c, d = parse_instr(text, "t")
    assert (a.line, a.op, a.dst, a.src, a.imm, a.regs[1], a.status, a.expected_regs[1]) == \
        (2, 0x07, 1, 2, 5, 0x10, "ok", 0x15)
    assert (b.line, b.op, b.imm, b.regs[1], b.regs[2], b.status, b.status_word, b.force_exec) == \
        (3, 0x0F, 5, 0x10, 3, "vfy", "vfy", True)
    assert b.expected_regs == b.regs
    # `input = 0c` comes after c's status but before the next `$`, so (as in the C runner, which
    # emits a case only at the next `$`) it already applies to c, and clears its boundary.
    assert (c.line, c.off_signed, c.input, c.region_boundaries, c.status) == (5, -1, b"\x0c", (), "err")
    assert (d.line, d.input, d.region_boundaries, d.imm, d.status, d.off) == (7, b"\x0c", (), 0x1122334455667788, "err", 0xFFFF)
    assert d.expected_regs == d.regs
    assert build_text(d)[8:16] == encode(0, 0, 0, 0, 0x11223344)
    for bad in ("$ o=1 : ok", "$ op=1 : vfyu", "$ op 1 : ok", "$ op=100 : ok", "$ r12=1 : ok", "$ = : ok"):
        with pytest.raises(InstrParseError):
            parse_instr(bad)
