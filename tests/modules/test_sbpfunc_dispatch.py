"""The SBPFunc registry: typed arguments checked against VM memory, CU from the declared formula,
outputs written only on success, activation by slot, hash pinning."""

from __future__ import annotations

import textwrap

import pytest

from sbpfunc.asm import assemble
from sbpfunc.syscalls.core import LOGGING_SYSCALLS
from sbpfunc.syscalls.modules import (
    ModuleHashMismatch,
    ModuleStatus,
    SBPFuncNotActive,
    SBPFuncRegistry,
    StaticActivation,
    load_module,
)
from sbpfunc.vm.interpreter import BudgetMeter, EbpfVm, standard_regions

MODULE_SRC = textwrap.dedent('''
    import construct as c
    from sbpfunc.syscalls.signature import EINVAL, Module, SBPFunction, pointer, scalar, struct

    DIMS = c.Struct("n" / c.Int32ul, "scale" / c.Int32ul)

    def _check(args):
        d = args["d"]
        if d["n"] == 0 or d["scale"] == 0:
            return EINVAL
        return None

    def scale_add(out, a, d, bias):
        return 0, {"out": [(x // d["scale"]) + bias for x in a]}

    MODULE = Module("toy", "1.0.0", "a test module", (
        SBPFunction("toy_scale_add",
                    (pointer("out", "i32", "d.n", "write"), pointer("a", "i32", "d.n"),
                     struct("d", DIMS), scalar("bias", "i64")),
                    cost="100 + d.n * 2", impl=scale_add, check=_check),
    ))
''')

PROGRAM = """
entrypoint:
    lddw r6, 0x300000000        # heap: out[0..n] at +0, a at +64, dims at +128
    stw [r6+64], 10
    stw [r6+68], -20
    stw [r6+72], 30
    stw [r6+128], 3             # n
    stw [r6+132], {scale}       # scale
    mov64 r1, r6
    mov64 r2, r6
    add64 r2, 64
    mov64 r3, r6
    add64 r3, 128
    mov64 r4, -1
    call toy_scale_add
    ldxw r1, [r6+0]
    ldxw r2, [r6+4]
    ldxw r3, [r6+8]
    mov64 r4, r0
    mov64 r5, 0
    call sol_log_64_
    exit
"""


@pytest.fixture
def module(tmp_path):
    p = tmp_path / "toy.py"
    p.write_text(MODULE_SRC)
    return load_module(p)


def run(module, scale=2, budget=10_000, active=True, out_ptr=None):
    reg = SBPFuncRegistry(LOGGING_SYSCALLS, [module],
                          StaticActivation([module.sha256] if active else []))
    src = PROGRAM.format(scale=scale)
    if out_ptr is not None:
        src = src.replace("    mov64 r1, r6\n", f"    lddw r1, {out_ptr}\n", 1)
    exe = assemble(src).to_executable(reg.registry_at(0))
    meter = BudgetMeter(budget)
    vm = EbpfVm(exe, standard_regions(exe), meter)
    return vm.execute(), meter


def test_call_decodes_checks_charges_and_writes(module):
    res, meter = run(module)
    assert res.error is None
    # out = [10//2 - 1, -20//2 - 1, 30//2 - 1] as u32 words, r0 = 0
    assert meter.logs == ["Program log: 0x4, 0xfffffff5, 0xe, 0x0, 0x0"]
    # 20 instructions + cost (100 + 3*2) + sol_log_64_ (100)
    assert res.compute_units == 20 + 106 + 100


def test_invalid_arguments_return_einval_and_write_nothing(module):
    res, meter = run(module, scale=0)
    assert res.error is None
    assert meter.logs == ["Program log: 0x0, 0x0, 0x0, 0xffffffffffffffea, 0x0"]
    assert res.compute_units == 20 + 100 + 100  # base cost only


def test_bad_pointer_is_a_typed_error(module):
    res, _ = run(module, out_ptr="0x100000000")  # read-only program region
    assert res.error is not None and res.error.kind == "SyscallError"
    assert "toy_scale_add: argument `out`" in str(res.error) and "Access violation" in str(res.error)


def test_running_out_of_units_stops_the_program(module):
    res, _ = run(module, budget=60)
    assert res.error is not None and "Computational budget exceeded" in str(res.error)


def test_inactive_module_fails_at_the_call_naming_it(module):
    res, meter = run(module, active=False)
    assert res.error is not None and res.error.kind == "UnsupportedInstruction"
    assert meter.logs == [f"SBPFunc toy_scale_add from module toy 1.0.0 (sha256 {module.sha256[:16]}…) "
                          "is not active at slot 0"]


def test_deploy_check_names_function_module_and_slot(module):
    reg = SBPFuncRegistry(LOGGING_SYSCALLS, [module], StaticActivation([]))
    with pytest.raises(SBPFuncNotActive, match=r"toy_scale_add from module toy 1\.0\.0 .* not active at slot 7"):
        reg.check_imports(["sol_log_", "toy_scale_add"], 7)


def test_edited_module_is_refused_naming_both_hashes(tmp_path, module):
    p = tmp_path / "toy.py"
    p.write_text(MODULE_SRC + "\n# edited\n")
    with pytest.raises(ModuleHashMismatch) as e:
        load_module(p, expected_sha256=module.sha256)
    assert module.sha256 in str(e.value) and e.value.actual in str(e.value)


def test_registry_changes_when_the_active_set_changes(module):
    class Flip:
        def statuses(self, slot):
            return {module.sha256: ModuleStatus(module.sha256)} if slot >= 10 else {}

    reg = SBPFuncRegistry(LOGGING_SYSCALLS, [module], Flip())
    assert reg.registry_at(0) is reg.registry_at(5)
    assert reg.registry_at(0) is not reg.registry_at(10)
    assert not reg.registry_at(0).deployable(reg.registry_at(0).get("toy_scale_add").key)
    assert reg.registry_at(10).deployable(reg.registry_at(10).get("toy_scale_add").key)
