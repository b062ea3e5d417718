"""The translated engine (`sbpfunc/vm/translate.py`) against the reference interpreter.

Every program here runs on both engines and every observable must be identical: r0, the error
(kind, Agave text, pc), compute units, instruction count, final pc, r0..r10, every memory region
byte for byte, the meter, the log lines, and the call frames left behind. Sources:

* every VM execution case in `cases.py` (also checked against their hand-written expectations by
  test_execution.py, so both engines meet the same expectations),
* Firedancer's per-opcode conformance vectors (input split into sub-regions, arbitrary r10: the
  layouts the fast path does not inline and hands back to the interpreter),
* the C fixture programs (clang output: real stack frames, calls, heap, syscalls),
* targeted programs: every budget of a looping program, tiering switching mid-run, caching,
  re-entrant runs that rebuild the translation while an outer run is inside generated code.

Translation modes: "eager" compiles every block before the first instruction; "lazy" is the
default tiering with a threshold of 1-2 so that runs switch between interpreter and compiled
code mid-run.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

import pytest

from sbpfunc.asm import assemble
from sbpfunc.elf.loader import load_elf
from sbpfunc.syscalls.core import logging_registry, runtime_registry
from sbpfunc.syscalls.registry import SyscallRegistry
from sbpfunc.vm import translate as T
from sbpfunc.vm.errors import VerifierError
from sbpfunc.vm.executable import Executable
from sbpfunc.vm.interpreter import BudgetMeter, EbpfVm, standard_regions
from sbpfunc.vm.isa import MM_INPUT_START
from sbpfunc.vm.verifier import verify

_HERE = Path(__file__).resolve().parent
ROOT = _HERE.parents[1]


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
fp = _load("sbpfunc_tests_vm_fuzz_programs", _HERE / "fuzz_programs.py")

MODES = {
    "eager": dict(eager=True),
    "lazy": dict(eager=False, hot_threshold=2, compile_ratio=1),
}


def both(exe, make_regions, budget, registers=None, ix_vaddr=MM_INPUT_START + 16, mode="eager",
         meter_factory=None):
    """(interpreter observation, translated observation)."""
    obs = []
    for engine in ("interpreter", "translated"):
        meter = meter_factory(budget) if meter_factory else None
        with T.tiering(**MODES[mode]):
            obs.append(fp.observe(exe, make_regions(), budget, engine, registers=registers,
                                  ix_vaddr=ix_vaddr, meter=meter))
    return obs


def assert_same(a, b, what=""):
    d = fp.diff(a, b)
    assert not d, f"{what}: engines differ:\n  " + "\n  ".join(d)


# --- the VM execution cases ------------------------------------------------------------------------
def _case_exe(case):
    return assemble(case.source(), case.version).to_executable(logging_registry())


def _case_params():
    out = []
    for i, c in enumerate(cases.CASES):
        out.append(pytest.param(c, "eager", id=f"{c.name}-eager"))
        if i % 4 == 0:  # lazy tiering on a quarter of the cases
            out.append(pytest.param(c, "lazy", id=f"{c.name}-lazy"))
    return out


@pytest.mark.parametrize("case, mode", _case_params())
def test_vm_case_same_on_both_engines(case, mode):
    exe = _case_exe(case)
    data = harness.serialize_input(case.input, cases.program_id_for(case.name))
    a, b = both(exe, lambda: standard_regions(exe, input_data=data), case.budget,
                ix_vaddr=harness.INSTRUCTION_DATA_VADDR, mode=mode, meter_factory=fp.FuzzMeter)
    assert_same(a, b, case.name)


# --- Firedancer conformance vectors ------------------------------------------------------------------
def _firedancer():
    tests_dir = str(_HERE.parent)
    if tests_dir not in sys.path:
        sys.path.insert(0, tests_dir)
    return importlib.import_module("conformance.test_firedancer")


def _fd_params():
    fd = _firedancer()
    out = []
    for version, case in fd.CASES:
        if case.status == "vfy":
            continue
        out.append(pytest.param(version, case, id=case.id))
    return out


@pytest.mark.parametrize("version, case", _fd_params())
def test_firedancer_vector_same_on_both_engines(version, case):
    fd = _firedancer()
    exe = Executable.from_text(fd.build_text(case), version, verify=False)
    try:
        verify(exe)
    except VerifierError:
        pytest.skip("rejected by the verifier")
    regs = list(case.regs[:11])
    a, b = both(exe, lambda: standard_regions(exe, heap_size=0, input_regions=fd.input_regions(case)),
                fd.ENTRY_CU, registers=regs, mode="eager")
    assert_same(a, b, case.id)


# --- the C fixtures ------------------------------------------------------------------------------------
FIXTURES = sorted((ROOT / "fixtures").glob("*.so"))


@pytest.mark.parametrize("mode", ["eager", "lazy"])
@pytest.mark.parametrize("so", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_fixture_program_same_on_both_engines(so, mode):
    try:
        exe = load_elf(so.read_bytes(), runtime_registry())
    except Exception as e:  # e.g. imports a syscall this registry does not have
        pytest.skip(f"does not load with the core syscalls: {type(e).__name__}: {e}")
    data = fp.serialize_input((12345).to_bytes(8, "little") + bytes(8))
    try:
        fp.observe(exe, standard_regions(exe, input_data=data), 1_400_000, "interpreter")
    except Exception as e:  # a syscall that needs the runtime's InvokeContext
        pytest.skip(f"needs the runtime: {type(e).__name__}: {e}")
    a, b = both(exe, lambda: standard_regions(exe, input_data=data), 1_400_000, mode=mode)
    assert_same(a, b, so.name)


# --- targeted programs -----------------------------------------------------------------------------------
LOOPS = """
entrypoint:
    mov64 r6, 0
    lddw r7, 0x300000000
outer:
    mov64 r1, r6
    call body
    stxdw [r7+0], r0
    add64 r7, 8
    add64 r6, 1
    jlt r6, 7, outer
    ldxdw r0, [r10-8]
    exit
body:
    mov64 r0, 1
    mov64 r2, r1
inner:
    jeq r2, 0, done
    mul64 r0, 3
    stxdw [r10-8], r0
    ldxdw r3, [r10-8]
    add64 r0, r3
    sub64 r2, 1
    ja inner
done:
    exit
"""


@pytest.mark.parametrize("mode", ["eager", "lazy"])
def test_every_budget(mode):
    """Exhaustion at every possible budget: same error pc, count, registers and memory."""
    exe = assemble(LOOPS).to_executable()
    full = fp.observe(exe, standard_regions(exe), 100_000, "interpreter")
    assert full["error"] is None
    for budget in range(0, full["compute_units"] + 2):
        a, b = both(exe, lambda: standard_regions(exe), budget, mode=mode)
        assert_same(a, b, f"budget {budget}")


def test_translation_is_cached_by_content():
    T.clear_caches()
    exe1 = assemble(LOOPS).to_executable()
    exe2 = assemble(LOOPS).to_executable()
    t1 = T.translation(exe1, 4096)
    assert T.translation(exe1, 4096) is t1
    assert T.translation(exe2, 4096) is t1  # same bytes, another Executable: no recompilation
    assert T.translation(exe1, 0) is not t1  # another stack layout
    other = assemble(LOOPS.replace("jlt r6, 7", "jlt r6, 8")).to_executable()
    assert T.translation(other, 4096) is not t1


def test_generated_code_pastes_the_isa_templates():
    exe = assemble("mov64 r1, r2\nadd64 r1, 5\nmul32 r3, r1\ndiv64 r4, r1\nexit\n").to_executable()
    src = T.generated_source(exe, 4096)
    assert "r1 = (r2 + 0x5) & 0xFFFFFFFFFFFFFFFF" in src  # mov fused into add64's template
    assert "if r1 == 0: raise DivideByZero()" in src  # div64's check template
    assert "r4 = r4 // r1" in src


def test_tiering_compiles_hot_code_mid_run():
    T.clear_caches()
    exe = assemble(LOOPS).to_executable()
    with T.tiering(eager=False, hot_threshold=3, compile_ratio=1):
        a = fp.observe(exe, standard_regions(exe), 100_000, "interpreter")
        b = fp.observe(exe, standard_regions(exe), 100_000, "translated")
        prog = exe._cache[("translated", 4096)]
        assert prog.builds >= 1 and prog.current is not None
        assert len(prog.current.leaders) < len(prog.blocks)  # cold blocks stay interpreted
    assert_same(a, b)


def test_cold_program_is_not_compiled():
    T.clear_caches()
    exe = assemble("mov64 r0, 1\nexit\n").to_executable()
    with T.tiering(eager=False, hot_threshold=16, compile_ratio=40):
        fp.observe(exe, standard_regions(exe), 1000, "translated")
    assert exe._cache[("translated", 4096)].builds == 0


def test_tracer_runs_the_interpreter():
    exe = assemble(LOOPS).to_executable()
    seen = []
    vm = EbpfVm(exe, standard_regions(exe), BudgetMeter(10_000))
    vm.tracer = lambda vm, pc, m: seen.append(pc)
    m = vm.machine = vm._acquire()
    m.regs[:] = vm.initial_registers()
    res = T.run_translated(vm, m, exe.entry_pc, 10_000)
    vm._release(m)
    assert res.error is None and len(seen) == res.instruction_count


NESTED = """
entrypoint:
    jne r1, 0, nested
    mov64 r6, 40
spin:
    sub64 r6, 1
    jne r6, 0, spin
    mov64 r1, 1
    call fuzz_reenter
    mov64 r6, 30
spin2:
    sub64 r6, 1
    lddw r2, 0x300000000
    stxdw [r2+0], r6
    jne r6, 0, spin2
    lddw r2, 0x300008000
    ldxdw r0, [r2-4]
    exit
nested:
    mov64 r6, 200
nspin:
    sub64 r6, 1
    jne r6, 0, nspin
    mov64 r0, 7
    exit
"""


@pytest.mark.parametrize("mode", ["eager", "lazy"])
def test_reentrant_run_rebuilds_under_an_outer_run(mode):
    """A syscall runs the same program again (as a CPI would) on the same engine; in lazy mode
    the nested run compiles new regions while the outer run is suspended inside generated code.
    The outer run's later fault must still be mapped with its own line table."""
    T.clear_caches()

    def run(engine):
        def reenter(vm, r1, r2, r3, r4, r5):
            inner = fp.observe(vm.executable, standard_regions(vm.executable), 5_000, engine,
                               registers=[0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x2_0000_1000])
            vm.context.consume_checked(inner["compute_units"])
            return inner["r0"]
        reg = SyscallRegistry()
        reg.register("fuzz_reenter", reenter)
        exe = assemble(NESTED).to_executable(reg)
        with T.tiering(**MODES[mode]):
            return fp.observe(exe, standard_regions(exe), 100_000, engine,
                              registers=[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x2_0000_1000])

    a, b = run("interpreter"), run("translated")
    assert a["error"] is not None and a["error"][0] == "AccessViolation"
    assert_same(a, b)


def test_deopt_on_input_subregions():
    """Input split into sub-regions (direct-mapping-like): every input access deopts and still
    matches, including a fault at the boundary."""
    from sbpfunc.vm.memory import MemoryRegion

    src = """
        mov64 r6, 0
        mov64 r0, 0
    loop:
        lddw r2, 0x400000000
        add64 r2, r6
        ldxb r3, [r2+0]
        add64 r0, r3
        stb [r2+0], 1
        add64 r6, 1
        jlt r6, 20, loop
        exit
    """
    exe = assemble(src).to_executable()

    def regions():
        data = bytes(range(1, 17))
        return standard_regions(exe, input_regions=[
            MemoryRegion(MM_INPUT_START, bytearray(data[:5]), True),
            MemoryRegion(MM_INPUT_START + 5, bytearray(data[5:16]), True)])
    for mode in MODES:
        a, b = both(exe, regions, 10_000, mode=mode)
        assert a["error"] is not None  # runs off the end of the second sub-region
        assert_same(a, b, mode)
