"""Differential harness: the same transaction in LiteSVM and in sbpfunc's runtime.

`Diff` keeps one LiteSVM (mainnet feature set) and one sbpfunc `ProgramCache` over
`runtime_registry()`. `deploy` installs an ELF in both (upgradeable loader, or BPFLoader2 /
the deprecated loader); `run` sends `[SetComputeUnitLimit(limit), *instructions]` as a signed
transaction to LiteSVM and runs the same instructions through `process_instructions`, with the
sysvar cache copied from LiteSVM's sysvar accounts. `check` asserts that every log line, the
consumed compute units, success and the error (instruction index and variant) are identical.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from solders.account import Account as SoldersAccount
from solders.compute_budget import set_compute_unit_limit
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction

from sbpfunc.asm import assemble
from sbpfunc.runtime.accounts import BPF_LOADER_DEPRECATED_ID, BPF_LOADER_ID, Account
from sbpfunc.runtime.builtins import default_builtins
from sbpfunc.runtime.message_processor import Ix, process_instructions
from sbpfunc.runtime.programs import ProgramCache, upgradeable_accounts
from sbpfunc.runtime.sysvars import SysvarCache
from sbpfunc.syscalls.core import runtime_registry

SYSVAR_IDS = [Pubkey.from_string(s) for s in (
    "SysvarC1ock11111111111111111111111111111111",
    "SysvarRent111111111111111111111111111111111",
    "SysvarEpochSchedu1e111111111111111111111111",
    "SysvarEpochRewards1111111111111111111111111",
    "SysvarLastRestartS1ot1111111111111111111111",
    "SysvarS1otHashes111111111111111111111111111",
    "SysvarStakeHistory1111111111111111111111111",
)]


@dataclass
class Outcome:
    success: bool
    logs: list[str]
    compute_units: int
    error: tuple[int, str] | None  # (instruction index, variant as Agave's Debug names it)
    return_data: tuple[str, bytes] | None = None

    def program_logs(self) -> list[str]:
        return [line for line in self.logs if not line.startswith("Program ComputeBudget")]


def _lite_error(err) -> tuple[int, str] | None:
    if err is None:
        return None
    text = str(err)
    m = re.search(r"InstructionError\(\((\d+), (?:Fieldless\((\w+)\)|Tagged\(InstructionErrorCustom\((\d+)\)\))",
                  text.replace("\n", "").replace(" ", "").replace(",", ", "))
    if not m:
        return (-1, text)
    index, name, custom = m.groups()
    return int(index), name if name else f"Custom({custom})"


class Diff:
    def __init__(self, feature_set=None):
        self.svm = LiteSVM()
        self.payer = Keypair()
        self.svm.airdrop(self.payer.pubkey(), 1_000 * 10**9)
        self.registry = runtime_registry(feature_set)
        self.cache = ProgramCache(self.registry)
        self.accounts: dict[Pubkey, Account] = {}  # program accounts for our runtime
        self.extra: dict[Pubkey, Account] = {}  # programdata accounts

    # --- programs ---------------------------------------------------------------------------------
    def deploy(self, elf: bytes, *, loader: str = "upgradeable", program_id: Pubkey | None = None) -> Pubkey:
        pid = program_id or Keypair().pubkey()
        if loader == "upgradeable":
            self.svm.add_program(pid, elf)
            program, pda, programdata = upgradeable_accounts(pid, elf)
            self.accounts[pid] = program
            self.extra[pda] = programdata
        else:
            owner = {"bpf2": BPF_LOADER_ID, "deprecated": BPF_LOADER_DEPRECATED_ID}[loader]
            lamports = self.svm.minimum_balance_for_rent_exemption(len(elf))
            self.svm.set_account(pid, SoldersAccount(lamports, elf, owner, True, 0))
            self.accounts[pid] = Account(lamports, bytearray(elf), owner, True)
        return pid

    def deploy_asm(self, source: str, **kw) -> Pubkey:
        return self.deploy(assemble(source).to_elf(), **kw)

    def sysvars(self) -> SysvarCache:
        cache = SysvarCache()
        for sid in SYSVAR_IDS:
            acct = self.svm.get_account(sid)
            if acct is not None:
                cache.set(sid, bytes(acct.data))
        return cache

    # --- running ----------------------------------------------------------------------------------
    def run_lite(self, instructions: list[Instruction], signers=(), limit: int = 200_000) -> Outcome:
        ixs = [set_compute_unit_limit(limit), *instructions]
        blockhash = self.svm.latest_blockhash()
        msg = Message.new_with_blockhash(ixs, self.payer.pubkey(), blockhash)
        tx = Transaction([self.payer, *signers], msg, blockhash)
        res = self.svm.send_transaction(tx)
        self.svm.expire_blockhash()
        failed = type(res).__name__ == "FailedTransactionMetadata"
        meta = res.meta() if failed else res
        rd = meta.return_data()
        ret = (str(rd.program_id), bytes(rd.data)) if rd is not None and bytes(rd.data) else None
        return Outcome(not failed, list(meta.logs()), meta.compute_units_consumed(),
                       _lite_error(res.err()) if failed else None, ret)

    def run_ours(self, instructions: list[Instruction], accounts: dict[Pubkey, Account] | None = None,
                 limit: int = 200_000) -> Outcome:
        ixs = [Ix.from_solders(set_compute_unit_limit(limit))] + [Ix.from_solders(ix) for ix in instructions]
        state = dict(self.accounts)
        state[self.payer.pubkey()] = Account(1_000 * 10**9)
        state.update(accounts or {})
        res = process_instructions(ixs, state, programs=self.cache, builtins=default_builtins(),
                                   compute_unit_limit=limit, sysvars=self.sysvars(),
                                   extra_accounts=self.extra, fee_payer=self.payer.pubkey())
        err = None if res.error is None else (res.error[0], res.error[1].kind)
        ret = (str(res.return_data[0]), bytes(res.return_data[1])) if res.return_data else None
        return Outcome(res.success, list(res.logs), res.compute_units_consumed, err, ret)

    def run(self, instructions, *, accounts: dict[Pubkey, SoldersAccount] | None = None, signers=(),
            limit: int = 200_000) -> tuple[Outcome, Outcome]:
        if isinstance(instructions, Instruction):
            instructions = [instructions]
        for key, acct in (accounts or {}).items():
            self.svm.set_account(key, acct)
        lite = self.run_lite(instructions, signers, limit)
        ours = self.run_ours(instructions, {k: Account.from_solders(a) for k, a in (accounts or {}).items()},
                             limit)
        return lite, ours

    def check(self, instructions, **kw) -> Outcome:
        """Run in both and assert identical logs, units, success and error; returns LiteSVM's."""
        lite, ours = self.run(instructions, **kw)
        assert ours.logs == lite.logs, "\n".join(_diff_lines(lite.logs, ours.logs))
        assert (ours.success, ours.error) == (lite.success, lite.error)
        assert ours.compute_units == lite.compute_units
        assert ours.return_data == lite.return_data
        return lite

    def check_asm(self, source: str, data: bytes = b"", metas: list[AccountMeta] = (), **kw) -> Outcome:
        pid = self.deploy_asm(source, **{k: kw.pop(k) for k in ("loader",) if k in kw})
        return self.check(Instruction(pid, data, list(metas)), **kw)


def _diff_lines(a: list[str], b: list[str]) -> list[str]:
    import difflib

    return ["logs differ (litesvm vs sbpfunc):"] + list(difflib.unified_diff(a, b, "litesvm", "sbpfunc", lineterm=""))


# --- assembly snippets --------------------------------------------------------------------------
def ptr(reg: str, off: int) -> str:
    """reg = r10 - off (an address in stack frame 0)."""
    return f"mov64 {reg}, r10\nsub64 {reg}, {off}\n"


def log_r0() -> str:
    """Log r0 (and zeros) with sol_log_64_."""
    return "mov64 r1, r0\nmov64 r2, 0\nmov64 r3, 0\nmov64 r4, 0\nmov64 r5, 0\ncall sol_log_64_\n"


def dump(off: int, nbytes: int) -> str:
    """Log the u64 words of [r10-off, r10-off+nbytes) five at a time with sol_log_64_."""
    out = []
    words = (nbytes + 7) // 8
    for base in range(0, words, 5):
        regs = []
        for j, i in enumerate(range(base, min(base + 5, words))):
            out.append(f"ldxdw r{j + 1}, [r10-{off - 8 * i}]")
            regs.append(j + 1)
        for j in range(len(regs), 5):
            out.append(f"mov64 r{j + 1}, 0")
        out.append("call sol_log_64_")
    return "\n".join(out) + "\n"


def fill(off: int, nbytes: int, word: int = 0xFFFF_FFFF_FFFF_FFFF) -> str:
    """Store `word` in every u64 of [r10-off, r10-off+nbytes)."""
    out = [f"lddw r9, {word:#x}"]
    for i in range((nbytes + 7) // 8):
        out.append(f"stxdw [r10-{off - 8 * i}], r9")
    return "\n".join(out) + "\n"


def store_slice(at: int, data_off: int, length: int) -> str:
    """Write a {ptr = r10-data_off, len} VmSlice at r10-at."""
    return ptr("r9", data_off) + f"stxdw [r10-{at}], r9\nlddw r9, {length:#x}\nstxdw [r10-{at - 8}], r9\n"


def store_bytes(off: int, data: bytes) -> str:
    """Write `data` at r10-off (byte stores)."""
    return "".join(f"stb [r10-{off - i}], {b}\n" for i, b in enumerate(data))


def program(body: str, rodata: str = "") -> str:
    return "entrypoint:\n" + body + "mov64 r0, 0\nexit\n" + (".rodata\n" + rodata if rodata else "")
