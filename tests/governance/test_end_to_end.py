"""End to end through governance: a program that imports an SBPFunc fails to load before its module
is activated by vote, runs from the activation slot on (logging a deprecation line once a
deactivation passes), and fails to load again after the deprecation period. The registry takes its
activation from the governance store (`store.activation_source()`), and loads the module file
pinned to the hash governance approved.

Two versions: a toy module with an assembled program (always), and the ML module with the trading
agent (when sbpfunc/modules/ml.py and fixtures/ml_trading_agent.so are present)."""

from __future__ import annotations

import hashlib

import pytest

from sbpfunc.asm import assemble
from sbpfunc.elf.loader import load_elf
from sbpfunc.governance.audit import audit_module
from sbpfunc.governance.proposal import State
from sbpfunc.governance.stake import StakeTable
from sbpfunc.governance.store import GovernanceStore
from sbpfunc.syscalls.core import LOGGING_SYSCALLS
from sbpfunc.syscalls.modules import ModuleStatus as RegistryModuleStatus
from sbpfunc.syscalls.modules import SBPFuncNotActive, SBPFuncRegistry, load_module
from sbpfunc.vm.interpreter import BudgetMeter, EbpfVm, standard_regions

from .conftest import ROOT, VALIDATORS, make_proposal, vote

SPE = 32
PROGRAM = """
entrypoint:
    lddw r6, 0x300000000
    stw [r6+64], 10
    stw [r6+68], -20
    stw [r6+72], 30
    stw [r6+128], 3
    stw [r6+132], 2
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


def drive_governance(store: GovernanceStore, audit: dict, path: str, *, act=90, off_at=150, period=40):
    """Activate (vote in epoch 1, activation at `act`), then deactivate (vote in epoch 3)."""
    store.record_snapshot(StakeTable({k.pubkey: 100 for k in VALIDATORS}), 0, epoch=1)
    on = make_proposal(audit, id="ON", activation_slot=act, module_path=path)
    store.create_proposal(on, 0)
    store.open_voting(on.id, 40, audit)
    vote(store, on.id, VALIDATORS[:8], "yes", 41)
    vote(store, on.id, VALIDATORS[8:], "no", 42)
    store.record_snapshot(StakeTable({k.pubkey: 100 for k in VALIDATORS}), 95, epoch=3)
    off = make_proposal(audit, id="OFF", kind="deactivate", voting_start=100, voting_end=120,
                        activation_slot=off_at, deprecation_slots=period)
    store.create_proposal(off, 96)
    store.open_voting(off.id, 100, None)
    vote(store, off.id, VALIDATORS[:7], "yes", 100)
    return on, off


def deploy(reg: SBPFuncRegistry, so: bytes, slot: int):
    exe = load_elf(so, reg.registry_at(slot), deploy=True)
    reg.check_imports(exe.syscall_names.values(), slot)
    return exe


def test_toy_module_through_governance(tmp_path, modules_dir, audits):
    store = GovernanceStore(tmp_path / "gov.sqlite", cluster="test-cluster", slots_per_epoch=SPE)
    on, off = drive_governance(store, audits["toy"], str(modules_dir / "toy.py"))
    assert store.state(on.id, 120) is State.ACTIVE and store.state(off.id, 120) is State.SCHEDULED

    # the registry learns the module under the hash governance pinned, and asks governance what is active
    module = load_module(modules_dir / "toy.py", expected_sha256=on.module_sha256)
    reg = SBPFuncRegistry(LOGGING_SYSCALLS, [module], store.activation_source())
    so = assemble(PROGRAM).to_elf()

    with pytest.raises(SBPFuncNotActive, match=r"toy_scale_add from module toy 1\.0\.0 .* not active at slot 89"):
        deploy(reg, so, 89)
    for slot, deprecated in ((90, False), (149, False), (150, True), (189, True)):
        exe = deploy(reg, so, slot)
        meter = BudgetMeter(10_000)
        res = EbpfVm(exe, standard_regions(exe), meter).execute()
        assert res.error is None, (slot, res.error)
        assert meter.logs[-1] == "Program log: 0x4, 0xfffffff5, 0xe, 0x0, 0x0"
        dep = [line for line in meter.logs if "deprecated" in line]
        assert dep == ([f"SBPFunc toy_scale_add is deprecated: {module.describe()} stops working at slot 190"]
                       if deprecated else []), slot
    with pytest.raises(SBPFuncNotActive, match="not active at slot 190"):
        deploy(reg, so, 190)
    # a program loaded while active, called after the period: the call fails, naming the function
    exe = deploy(reg, so, 150)
    exe.syscalls = reg.registry_at(190)
    meter = BudgetMeter(10_000)
    res = EbpfVm(exe, standard_regions(exe), meter).execute()
    assert res.error is not None and res.error.kind == "UnsupportedInstruction"
    assert "SBPFunc toy_scale_add from module toy 1.0.0" in meter.logs[0]
    assert store.state(on.id, 190) is State.DEACTIVATED and store.state(off.id, 190) is State.DEACTIVATED
    store.close()


def test_governance_status_matches_the_registry_status_type(voting):
    store, p = voting
    vote(store, p.id, VALIDATORS[:7], "yes", 41)
    st = store.schedule().statuses(90)[p.module_sha256]
    assert st.__dataclass_fields__.keys() == RegistryModuleStatus.__dataclass_fields__.keys()
    assert RegistryModuleStatus(st.sha256, st.deprecated, st.until_slot) == RegistryModuleStatus(p.module_sha256)


ML = ROOT / "sbpfunc" / "modules" / "ml.py"
AGENT = ROOT / "fixtures" / "ml_trading_agent.so"


@pytest.mark.skipif(not (ML.exists() and AGENT.exists()), reason="ML module or trading agent not built yet")
def test_trading_agent_through_governance(tmp_path):
    from solders.account import Account
    from solders.instruction import AccountMeta, Instruction
    from solders.pubkey import Pubkey

    mf = pytest.importorskip("sbpfunc.modules.model_format")
    from sbpfunc.testing import Harness

    report = audit_module(ML)
    assert report.passed, report.to_text()
    audit = report.to_dict()
    store = GovernanceStore(tmp_path / "gov.sqlite", cluster="test-cluster", slots_per_epoch=SPE)
    on, off = drive_governance(store, audit, str(ML), act=90, off_at=150, period=40)
    ml = load_module(ML, expected_sha256=store.schedule().approved_hash("ml", 90))
    reg = SBPFuncRegistry(LOGGING_SYSCALLS, [ml], store.activation_source())

    agent_id, model_key, owner = (Pubkey(hashlib.sha256(n).digest()) for n in (b"agent", b"model", b"owner"))
    model = Account(10**9, mf.example_trading_model(), owner, False, 0)
    data = b"".join(v.to_bytes(4, "little", signed=True) for v in [4096] * 12)

    def run(slot: int):
        h = Harness(syscalls=reg.registry_at(slot))
        h.set_clock(slot=slot)
        h.add_program(agent_id, AGENT)
        return h.process_instruction(Instruction(agent_id, data, [AccountMeta(model_key, False, False)]),
                                     [(model_key, model)])

    so = AGENT.read_bytes()
    with pytest.raises(SBPFuncNotActive, match=r"sol_ml_\w+ from module ml .* not active at slot 89"):
        deploy(reg, so, 89)
    before = run(89)
    assert not before.success and any("is not active at slot 89" in line for line in before.logs), before.logs

    deploy(reg, so, 90)
    res = run(90)
    assert res.success, res.logs
    assert any(line.startswith("Program log: AI prediction: action=") for line in res.logs)
    assert not any("deprecated" in line for line in res.logs)

    res = run(160)  # deprecated: still runs, logs the deprecation
    assert res.success and any("is deprecated: module ml" in line and "stops working at slot 190" in line
                               for line in res.logs), res.logs

    with pytest.raises(SBPFuncNotActive, match="not active at slot 190"):
        deploy(reg, so, 190)
    after = run(190)
    assert not after.success and any("is not active at slot 190" in line for line in after.logs), after.logs
    store.close()
