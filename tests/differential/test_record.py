"""The golden-case recorder (`record.py`) and the committed cases in `fixtures/cases/`.

* every committed case re-records byte for byte from its scenario (reproducibility);
* every committed case has exactly the format of issue 3 item 5 (schema check below);
* every program in `fixtures/*.so` has at least one case;
* the LiteSVM facts the recorder relies on: the default compute-unit limit, the 150 CU of the
  prepended compute-budget instruction, the deterministic default clock, sysvar accounts set with
  `set_account`, the error-kind names.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from solders.account import Account
from solders.compute_budget import set_compute_unit_limit
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction
from solders.transaction_metadata import FailedTransactionMetadata
from solders.transaction_status import InstructionErrorBorshIO, InstructionErrorCustom, InstructionErrorFieldless

from . import record as rec

REPO = rec.REPO
CASES_DIR = rec.CASES_DIR
CASE_FILES = sorted(CASES_DIR.glob("*.json"))

if (Path(__file__).parent / "scenarios.py").exists():
    from . import scenarios as _scenarios
else:  # pragma: no cover - the scenario file lands separately
    _scenarios = None

SCENARIOS = list(_scenarios.SCENARIOS) if _scenarios else []
needs_scenarios = pytest.mark.skipif(_scenarios is None, reason="tests/differential/scenarios.py not present")


# ---- reproducibility -----------------------------------------------------------------------------


@needs_scenarios
def test_every_scenario_has_a_committed_case_and_vice_versa():
    names = [s.name for s in SCENARIOS]
    assert len(names) == len(set(names)), "duplicate scenario names"
    assert sorted(names) == sorted(p.stem for p in CASE_FILES), (
        "fixtures/cases/ is out of date: run `.venv/bin/python tests/differential/record.py`"
    )


@needs_scenarios
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_rerecording_gives_the_committed_file(scenario):
    path = rec.case_path(scenario.name)
    assert path.exists(), f"{path} missing: run tests/differential/record.py {scenario.name}"
    fresh = rec.dumps(rec.record(scenario, keypair=_scenarios.keypair))
    assert fresh == path.read_text(encoding="utf-8"), (
        f"re-recording {scenario.name} changed the case: run tests/differential/record.py {scenario.name}"
    )


# ---- schema --------------------------------------------------------------------------------------

_HEX = re.compile(r"^(?:[0-9a-f]{2})*$")
_KIND = re.compile(r"^(?:Custom\(\d+\)|[A-Z][A-Za-z0-9]*)$")


def _pubkey(v, where):
    assert isinstance(v, str), f"{where}: not a string"
    assert str(Pubkey.from_string(v)) == v, f"{where}: not a canonical base58 pubkey"


def _hex(v, where):
    assert isinstance(v, str) and _HEX.match(v), f"{where}: not lowercase hex"


def _int(v, where, lo=0, hi=2**64 - 1):
    assert type(v) is int and lo <= v <= hi, f"{where}: not an int in [{lo}, {hi}]"


def _bool(v, where):
    assert type(v) is bool, f"{where}: not a bool"


def _keys(obj, keys, where):
    assert isinstance(obj, dict), f"{where}: not an object"
    assert list(obj) == list(keys), f"{where}: keys {list(obj)} != {list(keys)}"


_ACCOUNT_KEYS = ("pubkey", "lamports", "data", "owner", "executable")


def _account(a, where):
    _keys(a, _ACCOUNT_KEYS, where)
    _pubkey(a["pubkey"], f"{where}.pubkey")
    _int(a["lamports"], f"{where}.lamports")
    _hex(a["data"], f"{where}.data")
    _pubkey(a["owner"], f"{where}.owner")
    _bool(a["executable"], f"{where}.executable")


def validate_case(case: dict, case_file: Path) -> None:
    _keys(case, ("name", "description", "programs", "accounts", "instructions", "compute_unit_limit", "expected"),
          "case")
    assert isinstance(case["name"], str) and case["name"] == case_file.stem
    assert isinstance(case["description"], str) and case["description"].strip()

    assert isinstance(case["programs"], dict) and case["programs"], "programs"
    for pid, prog in case["programs"].items():
        _pubkey(pid, f"programs key {pid}")
        _keys(prog, ("path", "loader"), f"programs[{pid}]")
        assert isinstance(prog["path"], str) and not Path(prog["path"]).is_absolute()
        assert (case_file.parent / prog["path"]).is_file(), f"programs[{pid}].path does not exist"
        _pubkey(prog["loader"], f"programs[{pid}].loader")

    assert isinstance(case["accounts"], list)
    for i, a in enumerate(case["accounts"]):
        _account(a, f"accounts[{i}]")
        assert a["pubkey"] not in case["programs"], f"accounts[{i}] is a program"
    assert len({a["pubkey"] for a in case["accounts"]}) == len(case["accounts"]), "duplicate account"

    assert isinstance(case["instructions"], list) and case["instructions"], "instructions"
    for i, ix in enumerate(case["instructions"]):
        _keys(ix, ("program_id", "data", "accounts"), f"instructions[{i}]")
        _pubkey(ix["program_id"], f"instructions[{i}].program_id")
        _hex(ix["data"], f"instructions[{i}].data")
        assert isinstance(ix["accounts"], list)
        for j, m in enumerate(ix["accounts"]):
            w = f"instructions[{i}].accounts[{j}]"
            _keys(m, ("pubkey", "is_signer", "is_writable"), w)
            _pubkey(m["pubkey"], f"{w}.pubkey")
            _bool(m["is_signer"], f"{w}.is_signer")
            _bool(m["is_writable"], f"{w}.is_writable")

    _int(case["compute_unit_limit"], "compute_unit_limit", 1, rec.MAX_COMPUTE_UNIT_LIMIT)

    exp = case["expected"]
    _keys(exp, ("success", "error", "logs", "compute_units_consumed", "return_data", "accounts"), "expected")
    _bool(exp["success"], "expected.success")
    if exp["success"]:
        assert exp["error"] is None, "a successful case has no error"
    else:
        _keys(exp["error"], ("index", "kind"), "expected.error")
        _int(exp["error"]["index"], "expected.error.index", 0, len(case["instructions"]) - 1)
        assert isinstance(exp["error"]["kind"], str) and _KIND.match(exp["error"]["kind"]), "expected.error.kind"
    assert isinstance(exp["logs"], list) and exp["logs"], "expected.logs"
    assert all(isinstance(line, str) for line in exp["logs"]), "expected.logs"
    assert exp["logs"][0].endswith(" invoke [1]")
    assert not any(line.startswith(f"Program {rec.COMPUTE_BUDGET_PROGRAM} ") for line in exp["logs"])
    _int(exp["compute_units_consumed"], "expected.compute_units_consumed", 0, case["compute_unit_limit"])
    if exp["return_data"] is not None:
        _keys(exp["return_data"], ("program_id", "data"), "expected.return_data")
        _pubkey(exp["return_data"]["program_id"], "expected.return_data.program_id")
        _hex(exp["return_data"]["data"], "expected.return_data.data")
        assert exp["return_data"]["data"], "empty return data is recorded as null"
    assert isinstance(exp["accounts"], list)
    for i, a in enumerate(exp["accounts"]):
        _account(a, f"expected.accounts[{i}]")
    assert [a["pubkey"] for a in exp["accounts"]] == [a["pubkey"] for a in case["accounts"]], (
        "expected.accounts must list the case's accounts in the same order"
    )
    if not exp["success"]:
        assert exp["accounts"] == case["accounts"], "a failed case leaves its accounts unchanged"


def test_there_are_committed_cases():
    assert CASE_FILES, "fixtures/cases/ is empty"


@pytest.mark.parametrize("case_file", CASE_FILES, ids=lambda p: p.stem)
def test_committed_case_matches_the_format(case_file):
    text = case_file.read_text(encoding="utf-8")
    case = json.loads(text)
    validate_case(case, case_file)
    assert rec.dumps(case) == text, "not in canonical form (2-space indent, fixed key order, trailing newline)"


# ---- coverage: a case per program ----------------------------------------------------------------


def _programs_with_cases() -> set[Path]:
    out = set()
    for f in CASE_FILES:
        for prog in json.loads(f.read_text(encoding="utf-8"))["programs"].values():
            out.add((f.parent / prog["path"]).resolve())
    return out


def test_every_fixture_program_has_a_case():
    fixtures = {p.resolve() for p in (REPO / "fixtures").glob("*.so")}
    if not fixtures:
        pytest.skip("no fixtures/*.so yet")
    missing = sorted(p.name for p in fixtures - _programs_with_cases())
    assert not missing, f"programs without a golden case: {missing}"


# ---- the recorder's mechanics, on a small assembled program (no clang needed) ----------------------

PROBE_ASM = """
# probe: ix data[0] selects the behaviour
entrypoint:
    ldxb r6, [r2+0]
    lddw r1, hello
    mov64 r2, 5
    call sol_log_
    jeq r6, 1, custom
    jeq r6, 2, fault
    jeq r6, 3, clock
    jeq r6, 4, retdata
    mov64 r0, 0
    exit
custom:
    mov64 r0, 7
    exit
fault:
    mov64 r1, 0
    ldxdw r0, [r1+8]
    exit
clock:
    mov64 r1, r10
    sub64 r1, 40
    call sol_get_clock_sysvar
    ldxdw r1, [r10-40]
    ldxdw r2, [r10-8]
    mov64 r3, 0
    mov64 r4, 0
    mov64 r5, 0
    call sol_log_64_
    mov64 r0, 0
    exit
retdata:
    lddw r1, hello
    mov64 r2, 3
    call sol_set_return_data
    mov64 r0, 0
    exit
.rodata
hello: .ascii "hello"
"""


def _kp(name: str) -> Keypair:
    import hashlib

    return Keypair.from_seed(hashlib.sha256(f"test_record {name}".encode()).digest())


PROBE_ID = str(_kp("probe").pubkey())
ACCT = str(_kp("acct").pubkey())
CLOCK_ID = "SysvarC1ock11111111111111111111111111111111"


@dataclass
class _Acc:
    pubkey: str
    lamports: int
    data: bytes
    owner: str
    executable: bool = False


@dataclass
class _Meta:
    pubkey: str
    is_signer: bool
    is_writable: bool


@dataclass
class _Ix:
    program_id: str
    data: bytes
    accounts: list


@dataclass
class _Scenario:
    name: str
    description: str
    programs: dict
    accounts: list
    instructions: list
    compute_unit_limit: int = 200_000
    signers: list = field(default_factory=list)


@pytest.fixture(scope="module")
def probe_so(tmp_path_factory) -> Path:
    from sbpfunc.asm import assemble

    path = tmp_path_factory.mktemp("probe") / "probe.so"
    path.write_bytes(assemble(PROBE_ASM).to_elf())
    return path


def _scenario(probe_so, selectors, limit=200_000, extra_accounts=(), name="probe"):
    acct = _Acc(ACCT, 1_000_000_000, bytes(8), PROBE_ID)
    return _Scenario(
        name, "probe", {PROBE_ID: str(probe_so)}, [acct, *extra_accounts],
        [_Ix(PROBE_ID, bytes([s]), [_Meta(ACCT, False, True)]) for s in selectors], limit,
    )


def _send(svm: LiteSVM, ixs):
    payer = rec.FEE_PAYER
    svm.airdrop(payer.pubkey(), 10**12)
    bh = svm.latest_blockhash()
    r = svm.send_transaction(Transaction([payer], Message.new_with_blockhash(ixs, payer.pubkey(), bh), bh))
    return r, (r.meta() if isinstance(r, FailedTransactionMetadata) else r)


def test_litesvm_default_limit_and_compute_budget_cost(probe_so):
    def fresh():
        svm = LiteSVM()
        svm.add_program(Pubkey.from_string(PROBE_ID), probe_so.read_bytes())
        return svm

    ix = lambda sel: Instruction(Pubkey.from_string(PROBE_ID), bytes([sel]), [])  # noqa: E731
    # 200 000 per BPF instruction: a fault drains the whole default budget
    assert _send(fresh(), [ix(2)])[1].compute_units_consumed() == 200_000
    assert _send(fresh(), [ix(0), ix(2)])[1].compute_units_consumed() == 400_000
    # 3 000 per builtin (system) instruction
    xfer = transfer(TransferParams(from_pubkey=rec.FEE_PAYER.pubkey(), to_pubkey=_kp("x").pubkey(), lamports=10**6))
    assert _send(fresh(), [xfer, ix(2)])[1].compute_units_consumed() == 203_000
    assert rec.default_compute_unit_limit([rec.SYSTEM_PROGRAM, PROBE_ID], [PROBE_ID]) == 203_000
    assert rec.default_compute_unit_limit([PROBE_ID] * 8, [PROBE_ID]) == rec.MAX_COMPUTE_UNIT_LIMIT
    assert rec.default_compute_unit_limit([str(_kp("unknown").pubkey())], [PROBE_ID]) is None
    # the compute-budget instruction costs 150 CU ...
    assert _send(fresh(), [set_compute_unit_limit(1000)])[1].compute_units_consumed() == rec.COMPUTE_BUDGET_IX_CU == 150
    plain = _send(fresh(), [ix(0)])[1].compute_units_consumed()
    with_cb = _send(fresh(), [set_compute_unit_limit(5000), ix(0)])[1]
    assert with_cb.compute_units_consumed() == plain + 150
    # ... out of the limit it sets
    assert f"consumed {plain} of {5000 - 150} compute units" in with_cb.logs()[4]


def test_litesvm_default_clock_is_deterministic():
    c = LiteSVM().get_clock()
    assert (c.slot, c.epoch_start_timestamp, c.epoch, c.leader_schedule_epoch, c.unix_timestamp) == (
        435_888_000, 0, 0, 0, 0)


def test_error_kind_names():
    assert rec.error_kind(InstructionErrorCustom(1)) == "Custom(1)"
    assert rec.error_kind(InstructionErrorCustom(0)) == "Custom(0)"
    assert rec.error_kind(InstructionErrorFieldless.ProgramFailedToComplete) == "ProgramFailedToComplete"
    assert rec.error_kind(InstructionErrorFieldless.ReadonlyDataModified) == "ReadonlyDataModified"
    assert rec.error_kind(InstructionErrorFieldless.ComputationalBudgetExceeded) == "ComputationalBudgetExceeded"
    assert rec.error_kind(InstructionErrorFieldless.GenericError) == "GenericError"
    assert rec.error_kind(InstructionErrorBorshIO("x")) == "BorshIoError"
    assert len(rec._FIELDLESS_NAMES) == len([n for n in dir(InstructionErrorFieldless) if n[0].isupper()])


def test_record_success_without_budget_instruction(probe_so):
    case = rec.record(_scenario(probe_so, [0]))
    exp = case["expected"]
    assert exp == {
        "success": True,
        "error": None,
        "logs": [
            f"Program {PROBE_ID} invoke [1]",
            "Program log: hello",
            f"Program {PROBE_ID} consumed {exp['compute_units_consumed']} of 200000 compute units",
            f"Program {PROBE_ID} success",
        ],
        "compute_units_consumed": exp["compute_units_consumed"],
        "return_data": None,
        "accounts": case["accounts"],
    }
    assert case["programs"][PROBE_ID]["loader"] == rec.UPGRADEABLE_LOADER


def test_record_removes_the_budget_instruction(probe_so):
    base = rec.record(_scenario(probe_so, [0]))["expected"]
    limited = rec.record(_scenario(probe_so, [0], limit=5000))["expected"]
    assert limited["compute_units_consumed"] == base["compute_units_consumed"]
    assert limited["logs"] == [line.replace("of 200000", "of 5000") for line in base["logs"]]
    # error index and drained budget, with the budget instruction removed
    fault = rec.record(_scenario(probe_so, [0, 2], limit=7000))["expected"]
    assert fault["error"] == {"index": 1, "kind": "ProgramFailedToComplete"}
    assert fault["compute_units_consumed"] == 7000
    assert fault["logs"][0] == f"Program {PROBE_ID} invoke [1]"
    assert "Access violation" in fault["logs"][-1]


def test_record_custom_error_and_return_data(probe_so):
    custom = rec.record(_scenario(probe_so, [1]))["expected"]
    assert custom["error"] == {"index": 0, "kind": "Custom(7)"}
    assert custom["logs"][-1] == f"Program {PROBE_ID} failed: custom program error: 0x7"
    assert custom["compute_units_consumed"] < 1000
    ret = rec.record(_scenario(probe_so, [4]))["expected"]
    assert ret["return_data"] == {"program_id": PROBE_ID, "data": b"hel".hex()}


def test_record_sysvar_account_defines_the_clock(probe_so):
    import struct

    clock = _Acc(CLOCK_ID, 1, struct.pack("<QqQQq", 77, 1, 2, 3, 0x1234), "Sysvar1111111111111111111111111111111111111")
    case = rec.record(_scenario(probe_so, [3], extra_accounts=[clock]))
    assert "Program log: 0x4d, 0x1234, 0x0, 0x0, 0x0" in case["expected"]["logs"]
    assert case["expected"]["accounts"][1] == case["accounts"][1]
    default = rec.record(_scenario(probe_so, [3]))
    assert f"Program log: {hex(435_888_000)}, 0x0, 0x0, 0x0, 0x0" in default["expected"]["logs"]


def test_record_output_is_canonical(probe_so, tmp_path):
    s = _scenario(probe_so, [0], name="canon")
    path = rec.write_case(s, cases_dir=tmp_path)
    text = path.read_text(encoding="utf-8")
    assert text.endswith("}\n") and text.startswith('{\n  "name": "canon",')
    validate_case(json.loads(text), path)
    assert rec.dumps(rec.record(s, cases_dir=tmp_path)) == text
    rel = json.loads(text)["programs"][PROBE_ID]["path"]
    assert (tmp_path / rel).resolve() == probe_so.resolve() and not Path(rel).is_absolute()
