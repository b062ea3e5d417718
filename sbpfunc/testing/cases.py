"""Golden cases: load a case file (recorded from Agave), run it, compare with its expectation.

The format is the toolchain issue's (`fixtures/cases/*.json`); `run_case` returns the same shape as
the case's `expected`, so a comparison is a dict comparison and a mismatch can be shown as a diff.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from solders.pubkey import Pubkey

from ..runtime.accounts import (
    BPF_LOADER_DEPRECATED_ID,
    BPF_LOADER_ID,
    BPF_LOADER_UPGRADEABLE_ID,
    SYSVAR_OWNER_ID,
    Account,
)
from ..runtime.builtins import default_builtins
from ..runtime.invoke_context import ExecutionConfig
from ..runtime.message_processor import ExecutionResult, Ix, Meta, process_instructions
from ..runtime.programs import ProgramCache, upgradeable_accounts
from ..runtime.sysvars import LAYOUTS, SysvarCache
from ..vm.errors import SbpfuncError

RESULT_KEYS = ("success", "error", "logs", "compute_units_consumed", "return_data", "accounts")


class CaseError(SbpfuncError):
    """A case file that cannot be read or is not in the expected format."""


@dataclass
class Case:
    path: Path
    raw: dict

    @property
    def name(self) -> str:
        return self.raw.get("name", self.path.stem)

    @property
    def expected(self) -> dict | None:
        return self.raw.get("expected")


def load_case(path: str | Path) -> Case:
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except OSError as e:
        raise CaseError(f"cannot read {path}: {e.strerror or e}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CaseError(f"{path}: not valid JSON ({e})") from None
    for key in ("programs", "accounts", "instructions"):
        if key not in raw:
            raise CaseError(f"{path}: missing '{key}'")
    return Case(path, raw)


def _pubkey(s: str, where: str) -> Pubkey:
    try:
        return Pubkey.from_string(s)
    except (ValueError, TypeError):
        raise CaseError(f"{where}: invalid pubkey {s!r}") from None


def _hex(s: str, where: str) -> bytes:
    try:
        return bytes.fromhex(s)
    except (ValueError, TypeError):
        raise CaseError(f"{where}: invalid hex") from None


def account_json(key: Pubkey, a: Account) -> dict:
    return {"pubkey": str(key), "lamports": a.lamports, "data": bytes(a.data).hex(),
            "owner": str(a.owner), "executable": a.executable}


def result_json(case: Case, result: ExecutionResult, accounts_order: list[Pubkey],
                pre: dict[Pubkey, Account] | None = None) -> dict:
    err = None
    if result.error is not None:
        err = {"index": result.error[0], "kind": result.error[1].kind}
    ret = None
    if result.return_data is not None:
        ret = {"program_id": str(result.return_data[0]), "data": result.return_data[1].hex()}
    return {"success": result.success, "error": err, "logs": result.logs,
            "compute_units_consumed": result.compute_units_consumed, "return_data": ret,
            "accounts": [account_json(k, result.accounts[k] if k in result.accounts else (pre or {})[k])
                         for k in accounts_order]}


def run_case(case: Case, *, syscalls=None, config: ExecutionConfig | None = None) -> dict:
    """Execute the case; returns a dict shaped like `case.expected`."""
    from ..runtime.syscall_set import default_registry

    raw = case.raw
    accounts: dict[Pubkey, Account] = {}
    extra: dict[Pubkey, Account] = {}
    sysvars = SysvarCache()
    order: list[Pubkey] = []
    for i, a in enumerate(raw["accounts"]):
        where = f"{case.path}: accounts[{i}]"
        key = _pubkey(a.get("pubkey"), where)
        acct = Account(int(a.get("lamports", 0)), bytearray(_hex(a.get("data", ""), where)),
                       _pubkey(a.get("owner", "11111111111111111111111111111111"), where),
                       bool(a.get("executable", False)))
        accounts[key] = acct
        order.append(key)
        if acct.owner == SYSVAR_OWNER_ID and key in LAYOUTS:
            sysvars.set(key, bytes(acct.data))
    for pid_s, prog in raw["programs"].items():
        pid = _pubkey(pid_s, f"{case.path}: programs")
        elf_path = (case.path.parent / prog["path"]).resolve()
        try:
            elf = elf_path.read_bytes()
        except OSError as e:
            raise CaseError(f"{case.path}: program {pid_s}: cannot read {elf_path}: {e.strerror or e}") from None
        loader = _pubkey(prog.get("loader", str(BPF_LOADER_UPGRADEABLE_ID)), f"{case.path}: programs")
        if loader == BPF_LOADER_UPGRADEABLE_ID:
            program, pda, pdata = upgradeable_accounts(pid, elf)
            accounts.setdefault(pid, program)
            extra[pda] = pdata
        elif loader in (BPF_LOADER_ID, BPF_LOADER_DEPRECATED_ID):
            accounts.setdefault(pid, Account(1, bytearray(elf), loader, True))
        else:
            raise CaseError(f"{case.path}: program {pid_s}: unsupported loader {loader}")
    instructions = []
    for i, ix in enumerate(raw["instructions"]):
        where = f"{case.path}: instructions[{i}]"
        metas = [Meta(_pubkey(m["pubkey"], where), bool(m["is_signer"]), bool(m["is_writable"]))
                 for m in ix.get("accounts", [])]
        instructions.append(Ix(_pubkey(ix["program_id"], where), metas, _hex(ix.get("data", ""), where)))
    limit = int(raw.get("compute_unit_limit", 200_000 * max(1, len(instructions))))
    programs = ProgramCache(syscalls if syscalls is not None else default_registry())
    result = process_instructions(instructions, accounts, programs=programs, builtins=default_builtins(),
                                  compute_unit_limit=limit, sysvars=sysvars, extra_accounts=extra,
                                  config=config)
    return result_json(case, result, order, accounts)


def diff(expected: dict, actual: dict) -> list[str]:
    """Human-readable differences between two results (empty when they match)."""
    out = []
    for key in RESULT_KEYS:
        e, a = expected.get(key), actual.get(key)
        if e == a:
            continue
        if key == "logs":
            import difflib

            out.append("logs differ:")
            out.extend("  " + line for line in difflib.unified_diff(e or [], a or [], "expected", "actual",
                                                                     lineterm="", n=1))
        elif key == "accounts":
            for i, (ea, aa) in enumerate(zip(e or [], a or [])):
                for f in ("pubkey", "lamports", "data", "owner", "executable"):
                    if ea.get(f) != aa.get(f):
                        out.append(f"accounts[{i}].{f}: expected {ea.get(f)!r}, got {aa.get(f)!r}")
            if len(e or []) != len(a or []):
                out.append(f"accounts: expected {len(e or [])} entries, got {len(a or [])}")
        else:
            out.append(f"{key}: expected {e!r}, got {a!r}")
    return out
