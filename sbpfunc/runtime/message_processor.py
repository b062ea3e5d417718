"""Run a list of instructions atomically, like one transaction without fees or signatures.

This is what `sbpfunc exec`, the test harness and the bank share. Account privileges are
transaction-wide as in a Solana message: an account that is signer (writable) in any instruction is
signer (writable) in all of them, except that accounts invoked as programs and reserved ids (sysvars,
builtin programs, loaders) are demoted to read-only. One compute meter serves every instruction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from solders.pubkey import Pubkey

from .accounts import (
    BPF_LOADER_DEPRECATED_ID,
    BPF_LOADER_ID,
    BPF_LOADER_UPGRADEABLE_ID,
    COMPUTE_BUDGET_ID,
    LOADER_V4_ID,
    NATIVE_LOADER_ID,
    SYSTEM_PROGRAM_ID,
    SYSVAR_OWNER_ID,
    Account,
    genesis_account,
)
from .compute import ComputeMeter
from .errors import InstructionError
from .invoke_context import BuiltinProgram, ExecutionConfig, InvokeContext
from .logs import LogCollector
from .programs import ProgramCache
from .sysvars import SysvarCache
from .transaction_context import InstructionAccount, TransactionContext

RESERVED_IDS = {SYSTEM_PROGRAM_ID, COMPUTE_BUDGET_ID, BPF_LOADER_ID, BPF_LOADER_DEPRECATED_ID,
                BPF_LOADER_UPGRADEABLE_ID, LOADER_V4_ID, NATIVE_LOADER_ID}
SYSVAR_PREFIX = "Sysvar"


@dataclass(frozen=True)
class Meta:
    pubkey: Pubkey
    is_signer: bool
    is_writable: bool


@dataclass(frozen=True)
class Ix:
    program_id: Pubkey
    accounts: list[Meta]
    data: bytes

    @classmethod
    def from_solders(cls, ix) -> "Ix":
        return cls(ix.program_id, [Meta(m.pubkey, m.is_signer, m.is_writable) for m in ix.accounts], bytes(ix.data))


@dataclass
class ExecutionResult:
    success: bool
    error: tuple[int, InstructionError] | None
    logs: list[str]
    compute_units_consumed: int
    return_data: tuple[Pubkey, bytes] | None
    accounts: dict[Pubkey, Account] = field(default_factory=dict)  # post-state (pre-state on failure)


def is_reserved(key: Pubkey) -> bool:
    return key in RESERVED_IDS or str(key).startswith(SYSVAR_PREFIX)


def process_instructions(instructions: list[Ix], accounts: dict[Pubkey, Account], *,
                         programs: ProgramCache, builtins: dict[Pubkey, BuiltinProgram],
                         compute_unit_limit: int, sysvars: SysvarCache | None = None,
                         extra_accounts: dict[Pubkey, Account] | None = None,
                         log_bytes_limit: int | None = 10_000, config: ExecutionConfig | None = None,
                         fee_payer: Pubkey | None = None) -> ExecutionResult:
    """Execute `instructions` against copies of `accounts`; never mutates the inputs.

    `extra_accounts` are readable by the loader (e.g. programdata) without being in the message.
    """
    keys: list[Pubkey] = []
    signer: dict[Pubkey, bool] = {}
    writable: dict[Pubkey, bool] = {}

    def add(key: Pubkey, s: bool, w: bool) -> None:
        if key not in signer:
            keys.append(key)
            signer[key], writable[key] = False, False
        signer[key] |= s
        writable[key] |= w

    if fee_payer is not None:
        add(fee_payer, True, True)
    for ix in instructions:
        for m in ix.accounts:
            add(m.pubkey, m.is_signer, m.is_writable)
        add(ix.program_id, False, False)
    invoked = {ix.program_id for ix in instructions}
    # Agave demotes invoked program ids to read-only unless the upgradeable loader is part of the
    # message (so a program can be upgraded and invoked in one transaction), and reserved ids always.
    loader_present = BPF_LOADER_UPGRADEABLE_ID in signer
    for key in keys:
        if (key in invoked and not loader_present) or is_reserved(key):
            writable[key] = False

    extra = extra_accounts or {}

    def load(key: Pubkey) -> Account:
        acct = accounts.get(key) or extra.get(key) or genesis_account(key)
        if acct is None and sysvars is not None and sysvars.get(key) is not None:
            acct = Account(1, bytearray(sysvars.get(key)), SYSVAR_OWNER_ID, False)
        return acct.copy() if acct is not None else Account(0)

    tx = TransactionContext(keys, [load(k) for k in keys])
    meter = ComputeMeter(compute_unit_limit)
    logs = LogCollector(log_bytes_limit)
    ic = InvokeContext(tx, meter, programs=programs, builtins=builtins, sysvars=sysvars, logs=logs,
                       config=config)
    ic.account_source = lambda k: extra.get(k) or accounts.get(k)
    error = None
    for i, ix in enumerate(instructions):
        ias = []
        positions: dict[Pubkey, int] = {}
        for pos, m in enumerate(ix.accounts):
            idx = keys.index(m.pubkey)
            first = positions.setdefault(m.pubkey, pos)
            ias.append(InstructionAccount(idx, idx, first, signer[m.pubkey], writable[m.pubkey]))
        try:
            ic.process_instruction(keys.index(ix.program_id), ias, ix.data)
        except InstructionError as err:
            error = (i, err)
            break
    consumed = compute_unit_limit - meter.get_remaining()
    ret_pid, ret_data = tx.return_data
    post = {k: (a.copy() if error is None else load(k)) for k, a in zip(keys, tx.accounts)}
    return ExecutionResult(error is None, error, list(logs.messages), consumed,
                           (ret_pid, ret_data) if ret_data else None, post)
