"""Record golden cases from Agave: run scenarios as real signed transactions in LiteSVM.

    .venv/bin/python tests/differential/record.py            # (re)write every fixtures/cases/*.json
    .venv/bin/python tests/differential/record.py NAME ...   # only these scenarios

Each scenario of `scenarios.SCENARIOS` becomes `fixtures/cases/NAME.json` in the format of issue 3
item 5 (the input of `sbpfunc exec`). How a case is recorded, and every decision that shapes what
ends up in the file:

* **One fresh `LiteSVM()` per case** (mainnet feature set, agave-facts #1). Its programs are added
  with `add_program` when their loader is the upgradeable loader (the default) and with
  `add_program_with_loader` otherwise; `"programs"[id]` records the path of the `.so` relative to
  the case file (`"../hello.so"`) and the loader id.
* **Accounts** are installed with `set_account`, exactly as the scenario gives them (an account
  with 0 lamports, no data and the system program as owner does not exist and is not installed).
  Sysvar accounts (Clock, Rent, EpochSchedule, owner `Sysvar1111…`) in `accounts` are installed the
  same way: LiteSVM's `set_account` updates its sysvar cache, so their data defines the sysvar that
  programs read (`sol_get_clock_sysvar`, …). Sysvars a scenario does not name keep LiteSVM's
  defaults, and nothing is recorded for them. LiteSVM's default clock is deterministic (slot
  435 888 000, every other field 0, checked by `test_record.py`), so no clock is forced.
* **Fee payer.** Every transaction is paid by a separate deterministic keypair (`FEE_PAYER`) that is
  not part of the case: funded with an airdrop, never recorded. The scenario's `signers` (seed names,
  resolved with `scenarios.keypair`) sign as well.
* **Compute budget.** A transaction's default limit is 200 000 per non-builtin instruction plus
  3 000 per builtin (system program) instruction, capped at 1 400 000 (verified in `test_record.py`).
  When that equals the scenario's `compute_unit_limit`, the transaction is sent as is. Otherwise
  a `ComputeBudget.set_compute_unit_limit(limit + 150)` instruction is prepended: that instruction
  costs `COMPUTE_BUDGET_IX_CU` = 150 CU (measured, agave-facts #7; asserted by the tests), so the
  case's own instructions get exactly `limit` units, as `sbpfunc exec` gives them. Its effects are
  then removed from the record: its two log lines ("Program ComputeBudget111… invoke [1]" and
  "… success", asserted to be the first two), its 150 CU, and 1 from the error's instruction index.
  (Programs that inspect the instructions sysvar would see it; none of ours does.)
* **expected**:
  - `success`: the transaction succeeded.
  - `error`: `{"index": i, "kind": K}` from solders' `TransactionErrorInstructionError`; K is the
    Agave `InstructionError` variant name taken from the solders types, not parsed from a repr:
    `InstructionErrorCustom` -> `"Custom(N)"` (decimal), `InstructionErrorFieldless` -> the name of
    its class attribute (e.g. `"ProgramFailedToComplete"`, `"ReadonlyDataModified"`,
    `"ComputationalBudgetExceeded"`), `InstructionErrorBorshIO` -> `"BorshIoError"`. A
    transaction-level error that is not an instruction error cannot be expressed in a case and
    aborts the recording of that scenario.
  - `logs`: every log line of the transaction (minus the compute-budget lines above).
  - `compute_units_consumed`: `meta.compute_units_consumed` minus the compute-budget instruction's
    150; after a VM fault Agave drains the remaining budget (agave-facts #11), so it is the limit.
  - `return_data`: null when the transaction's return data is empty, else program id + hex.
  - `accounts`: the post-state of the case's accounts, in the same order, read back with
    `get_account` (a failed transaction changes nothing but the fee payer, so that is the
    pre-state); an account that does not exist afterwards is recorded as 0 lamports, no data,
    owner `11111111111111111111111111111111`, not executable.
* **Output**: fixed key order (the order of the format), 2-space indent, trailing newline, hex in
  lowercase, UTF-8 (`ensure_ascii=False`). Re-recording gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterable

from solders.account import Account
from solders.compute_budget import set_compute_unit_limit
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction
from solders.transaction_metadata import FailedTransactionMetadata
from solders.transaction_status import (
    InstructionErrorBorshIO,
    InstructionErrorCustom,
    InstructionErrorFieldless,
    TransactionErrorInstructionError,
)

REPO = Path(__file__).resolve().parents[2]
CASES_DIR = REPO / "fixtures" / "cases"

UPGRADEABLE_LOADER = "BPFLoaderUpgradeab1e11111111111111111111111"
SYSTEM_PROGRAM = "11111111111111111111111111111111"
COMPUTE_BUDGET_PROGRAM = "ComputeBudget111111111111111111111111111111"
SYSVAR_OWNER = "Sysvar1111111111111111111111111111111111111"

#: CU charged for the prepended `set_compute_unit_limit` instruction (measured in LiteSVM).
COMPUTE_BUDGET_IX_CU = 150
DEFAULT_INSTRUCTION_CU = 200_000
BUILTIN_INSTRUCTION_CU = 3_000
MAX_COMPUTE_UNIT_LIMIT = 1_400_000
#: Builtin programs whose instructions count 3 000 towards the default limit. Instructions of any
#: program that is neither this nor one of the case's own programs always get an explicit limit.
BUILTIN_PROGRAMS = frozenset({SYSTEM_PROGRAM})

FEE_PAYER = Keypair.from_seed(hashlib.sha256(b"sbpfunc differential recorder: fee payer").digest())
FEE_PAYER_LAMPORTS = 1_000_000_000_000

_CB_LOGS = (f"Program {COMPUTE_BUDGET_PROGRAM} invoke [1]", f"Program {COMPUTE_BUDGET_PROGRAM} success")

_FIELDLESS_NAMES: dict[int, str] = {
    int(v): name
    for name in dir(InstructionErrorFieldless)
    if not name.startswith("_")
    and isinstance(v := getattr(InstructionErrorFieldless, name), InstructionErrorFieldless)
}


class RecordError(Exception):
    """A scenario cannot be recorded as a case (e.g. a transaction-level error)."""


# ---- scenario access (duck-typed: scenarios.py dataclasses or test doubles) ----------------------


def _scenarios_module():
    try:
        from . import scenarios  # type: ignore[attr-defined]
    except ImportError:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import scenarios  # type: ignore[no-redef]
    return scenarios


def _program_entry(spec: Any) -> tuple[str, str]:
    """A scenario's program value -> (path relative to the repo root, loader id)."""
    if isinstance(spec, (str, os.PathLike)):
        return str(spec), UPGRADEABLE_LOADER
    if isinstance(spec, (tuple, list)):
        path, loader = spec
        return str(path), str(loader)
    if isinstance(spec, dict):
        return str(spec["path"]), str(spec.get("loader") or UPGRADEABLE_LOADER)
    return str(spec.path), str(getattr(spec, "loader", None) or UPGRADEABLE_LOADER)


def _programs(scenario) -> dict[str, tuple[str, str]]:
    loaders = getattr(scenario, "loaders", None) or {}
    out = {}
    for pid, spec in scenario.programs.items():
        path, loader = _program_entry(spec)
        out[str(pid)] = (path, str(loaders.get(pid, loader)))
    return out


def _bytes(b) -> bytes:
    return bytes.fromhex(b) if isinstance(b, str) else bytes(b)


# ---- helpers -------------------------------------------------------------------------------------


def error_kind(err) -> str:
    """Agave's `InstructionError` variant name for a solders instruction error."""
    if isinstance(err, InstructionErrorCustom):
        return f"Custom({err.code})"
    if isinstance(err, InstructionErrorBorshIO):
        return "BorshIoError"
    if isinstance(err, InstructionErrorFieldless):
        return _FIELDLESS_NAMES[int(err)]
    raise RecordError(f"unknown instruction error type {type(err).__name__}: {err!r}")


def default_compute_unit_limit(program_ids: Iterable[str], own_programs: Iterable[str]) -> int | None:
    """The limit Agave gives a transaction of these instructions, or None if not known here."""
    own = set(own_programs)
    total = 0
    for pid in program_ids:
        if pid in BUILTIN_PROGRAMS:
            total += BUILTIN_INSTRUCTION_CU
        elif pid in own:
            total += DEFAULT_INSTRUCTION_CU
        else:
            return None
    return min(total, MAX_COMPUTE_UNIT_LIMIT)


def account_json(pubkey: str, account: Account | None) -> dict:
    if account is None:
        return {"pubkey": pubkey, "lamports": 0, "data": "", "owner": SYSTEM_PROGRAM, "executable": False}
    return {
        "pubkey": pubkey,
        "lamports": int(account.lamports),
        "data": bytes(account.data).hex(),
        "owner": str(account.owner),
        "executable": bool(account.executable),
    }


def _exists(a: dict) -> bool:
    return not (a["lamports"] == 0 and not a["data"] and a["owner"] == SYSTEM_PROGRAM and not a["executable"])


def relative_path(repo_path: str, cases_dir: Path) -> str:
    p = Path(repo_path)
    if not p.is_absolute():
        p = REPO / p
    return Path(os.path.relpath(p, cases_dir)).as_posix()


# ---- recording -----------------------------------------------------------------------------------


def record(scenario, *, cases_dir: Path = CASES_DIR, keypair: Callable[[str], Keypair] | None = None) -> dict:
    """Run `scenario` in a fresh LiteSVM and return its case as a dict (format of issue 3 item 5)."""
    programs = _programs(scenario)
    pre = [
        {
            "pubkey": str(a.pubkey),
            "lamports": int(a.lamports),
            "data": _bytes(a.data).hex(),
            "owner": str(a.owner),
            "executable": bool(a.executable),
        }
        for a in scenario.accounts
    ]
    instructions = [
        {
            "program_id": str(ix.program_id),
            "data": _bytes(ix.data).hex(),
            "accounts": [
                {"pubkey": str(m.pubkey), "is_signer": bool(m.is_signer), "is_writable": bool(m.is_writable)}
                for m in ix.accounts
            ],
        }
        for ix in scenario.instructions
    ]
    limit = int(getattr(scenario, "compute_unit_limit", DEFAULT_INSTRUCTION_CU))
    signer_names = list(getattr(scenario, "signers", []) or [])
    if signer_names and keypair is None:
        keypair = _scenarios_module().keypair
    signers = [keypair(n) for n in signer_names]

    payer = FEE_PAYER.pubkey()
    if str(payer) in {a["pubkey"] for a in pre} | {m["pubkey"] for ix in instructions for m in ix["accounts"]}:
        raise RecordError(f"{scenario.name}: the recorder's fee payer appears in the case")

    svm = LiteSVM()
    for pid, (path, loader) in programs.items():
        elf = (REPO / path).read_bytes() if not Path(path).is_absolute() else Path(path).read_bytes()
        if loader == UPGRADEABLE_LOADER:
            svm.add_program(Pubkey.from_string(pid), elf)
        else:
            svm.add_program_with_loader(Pubkey.from_string(pid), elf, Pubkey.from_string(loader))
    for a in pre:
        if _exists(a):
            svm.set_account(
                Pubkey.from_string(a["pubkey"]),
                Account(
                    lamports=a["lamports"],
                    data=bytes.fromhex(a["data"]),
                    owner=Pubkey.from_string(a["owner"]),
                    executable=a["executable"],
                ),
            )
    svm.airdrop(payer, FEE_PAYER_LAMPORTS)

    ixs = [
        Instruction(
            Pubkey.from_string(ix["program_id"]),
            bytes.fromhex(ix["data"]),
            [AccountMeta(Pubkey.from_string(m["pubkey"]), m["is_signer"], m["is_writable"]) for m in ix["accounts"]],
        )
        for ix in instructions
    ]
    default = default_compute_unit_limit([ix["program_id"] for ix in instructions], programs)
    with_cb = default != limit
    if with_cb:
        if limit + COMPUTE_BUDGET_IX_CU > MAX_COMPUTE_UNIT_LIMIT:
            raise RecordError(f"{scenario.name}: compute_unit_limit {limit} cannot be recorded exactly")
        ixs.insert(0, set_compute_unit_limit(limit + COMPUTE_BUDGET_IX_CU))

    blockhash = svm.latest_blockhash()
    tx = Transaction([FEE_PAYER, *signers], Message.new_with_blockhash(ixs, payer, blockhash), blockhash)
    result = svm.send_transaction(tx)

    failed = isinstance(result, FailedTransactionMetadata)
    meta = result.meta() if failed else result
    logs = list(meta.logs())
    consumed = int(meta.compute_units_consumed())
    error = None
    if failed:
        err = result.err()
        if not isinstance(err, TransactionErrorInstructionError):
            raise RecordError(f"{scenario.name}: transaction error {err!r} is not an instruction error")
        index = int(err.index) - (1 if with_cb else 0)
        if index < 0:
            raise RecordError(f"{scenario.name}: the compute-budget instruction failed: {err!r}")
        error = {"index": index, "kind": error_kind(err.err)}
    if with_cb:
        if tuple(logs[:2]) != _CB_LOGS:
            raise RecordError(f"{scenario.name}: unexpected compute-budget log lines {logs[:2]!r}")
        logs = logs[2:]
        consumed -= COMPUTE_BUDGET_IX_CU

    rd = meta.return_data()
    return_data = None
    if rd is not None and len(bytes(rd.data)) > 0:
        return_data = {"program_id": str(rd.program_id), "data": bytes(rd.data).hex()}

    post = [account_json(a["pubkey"], svm.get_account(Pubkey.from_string(a["pubkey"]))) for a in pre]

    return {
        "name": scenario.name,
        "description": scenario.description,
        "programs": {
            pid: {"path": relative_path(path, cases_dir), "loader": loader} for pid, (path, loader) in programs.items()
        },
        "accounts": pre,
        "instructions": instructions,
        "compute_unit_limit": limit,
        "expected": {
            "success": not failed,
            "error": error,
            "logs": logs,
            "compute_units_consumed": consumed,
            "return_data": return_data,
            "accounts": post,
        },
    }


def dumps(case: dict) -> str:
    """The canonical text of a case file."""
    return json.dumps(case, indent=2, ensure_ascii=False) + "\n"


def case_path(name: str, cases_dir: Path = CASES_DIR) -> Path:
    return cases_dir / f"{name}.json"


def write_case(scenario, cases_dir: Path = CASES_DIR, **kw) -> Path:
    path = case_path(scenario.name, cases_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(record(scenario, cases_dir=cases_dir, **kw)), encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    mod = _scenarios_module()
    by_name = {s.name: s for s in mod.SCENARIOS}
    unknown = [n for n in argv if n not in by_name]
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}", file=sys.stderr)
        return 1
    names = argv or list(by_name)
    if not argv:  # full re-record: drop cases whose scenario no longer exists
        for stale in CASES_DIR.glob("*.json"):
            if stale.stem not in by_name:
                stale.unlink()
                print(f"removed {stale.relative_to(REPO)}")
    failures = 0
    for name in names:
        try:
            path = write_case(by_name[name], keypair=mod.keypair)
        except RecordError as e:
            failures += 1
            print(f"error: {e}", file=sys.stderr)
            continue
        case = json.loads(path.read_text(encoding="utf-8"))
        exp = case["expected"]
        outcome = "ok" if exp["success"] else f"{exp['error']['kind']} at #{exp['error']['index']}"
        print(f"{path.relative_to(REPO)}: {outcome}, {exp['compute_units_consumed']} CU")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
