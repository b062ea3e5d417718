"""The VM execution suite (sbpf `tests/execution.rs` style) run on our interpreter.

Every case in `cases.py` is assembled, turned into an in-memory executable with the logging
syscalls, and run with Agave's entry state (input = the serialized instruction, r1 = input,
r2 = instruction data, r10 = stack). Checked: r0 or the error kind (and its exact Agave text where the
case gives one), the exact instruction count, the compute units consumed, and the program's log lines.
The expectations are checked against the real Agave VM in tests/differential/test_vm_vs_litesvm.py.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from sbpfunc.asm import assemble
from sbpfunc.syscalls.core import logging_registry
from sbpfunc.vm.interpreter import BudgetMeter, EbpfVm, VmConfig, standard_regions
from sbpfunc.vm.isa import INSN_SIZE, opcode_table

_HERE = Path(__file__).resolve().parent


def _load(mod_name: str, path: Path):
    if mod_name in sys.modules:
        return sys.modules[mod_name]
    spec = importlib.util.spec_from_file_location(mod_name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = mod
    spec.loader.exec_module(mod)
    return mod


cases = _load("sbpfunc_tests_vm_cases", _HERE / "cases.py")
harness = _load("sbpfunc_tests_litesvm_harness", _HERE.parent / "differential" / "litesvm_harness.py")

# Cases where our VM disagrees with Agave (a VM bug, reported to the VM's owners): name -> reason.
# Each is run as xfail(strict=True), so fixing the VM makes the suite say so.
VM_BUGS_PENDING: dict[str, str] = {}


class LoggingMeter(BudgetMeter):
    """A BudgetMeter that also collects log lines (the logging syscalls call `context.log`)."""

    def __init__(self, budget: int):
        super().__init__(budget)
        self.logs: list[str] = []

    def log(self, line: str) -> None:
        self.logs.append(line)


def run_case(case, executable=None, engine: str = "interpreter"):
    """(ProgramResult, log lines) of `case` on one of our engines with Agave's entry state."""
    if executable is None:
        executable = assemble(case.source(), case.version).to_executable(logging_registry())
    input_data = harness.serialize_input(case.input, cases.program_id_for(case.name))
    meter = LoggingMeter(case.budget)
    vm = EbpfVm(executable, standard_regions(executable, input_data=input_data), meter, VmConfig(engine=engine))
    regs = vm.initial_registers(instruction_data_vaddr=harness.INSTRUCTION_DATA_VADDR)
    result = vm.execute(regs)
    return result, meter.logs


def describe(result) -> str:
    if result.error is None:
        return f"ok r0={result.r0:#x}"
    return f"{result.error.kind}: {result.error}"


def check_result(case, result, logs, case_vaddr: int = cases.TEXT_VADDR_IN_MEMORY) -> None:
    got = describe(result)
    if case.expect_r0 is not None:
        assert result.error is None, f"{case.name}: expected r0={case.expect_r0:#x}, got {got}"
        assert result.r0 == case.expect_r0, f"{case.name}: expected r0={case.expect_r0:#x}, got {got}"
    else:
        assert result.error is not None, f"{case.name}: expected {case.expect_error_kind}, got {got}"
        assert result.error.kind == case.expect_error_kind, \
            f"{case.name}: expected {case.expect_error_kind}, got {got}"
        text = case.error_text(case_vaddr)
        if text is not None:
            assert str(result.error) == text, f"{case.name}: expected text {text!r}, got {got}"
    assert result.instruction_count == case.insn_count, \
        f"{case.name}: instruction count {result.instruction_count} != {case.insn_count} ({got})"
    assert result.compute_units == case.cu, \
        f"{case.name}: compute units {result.compute_units} != {case.cu} ({got})"
    assert list(logs) == list(case.logs), f"{case.name}: logs {logs} != {list(case.logs)}"


def _params():
    out = []
    for c in cases.CASES:
        marks = []
        if c.name in VM_BUGS_PENDING:
            marks.append(pytest.mark.xfail(strict=True, reason=f"VM bug: {VM_BUGS_PENDING[c.name]}"))
        out.append(pytest.param(c, id=c.name, marks=marks))
    return out


@pytest.mark.parametrize("engine", ["interpreter", "translated"])
@pytest.mark.parametrize("case", _params())
def test_case(case, engine):
    result, logs = run_case(case, engine=engine)
    check_result(case, result, logs)


# --- properties of the case list itself -------------------------------------------------------
def test_case_names_unique_and_pending_bugs_exist():
    names = [c.name for c in cases.CASES]
    assert len(names) == len(set(names))
    assert set(VM_BUGS_PENDING) <= set(names)


def test_case_count():
    per_version = {v: sum(c.version == v for c in cases.CASES) for v in range(4)}
    assert sum(per_version.values()) >= 300
    assert per_version[0] >= 250 and all(per_version[v] >= 20 for v in (1, 2, 3))


@pytest.mark.parametrize("version", [0, 1, 2, 3])
def test_every_opcode_is_exercised(version):
    """Every opcode valid in `version` appears in the text of at least one case of that version.

    (The table is only used to list opcodes; expectations never come from it.)
    """
    seen = set()
    for c in cases.CASES:
        if c.version != version:
            continue
        text = assemble(c.source(), version).text
        pc = 0
        while pc * INSN_SIZE < len(text):
            opc = text[pc * INSN_SIZE]
            seen.add(opc)
            pc += 2 if opc == 0x18 else 1
    missing = sorted(set(opcode_table(version)) - seen)
    assert not missing, f"v{version}: no case uses opcodes {[hex(o) for o in missing]}"
