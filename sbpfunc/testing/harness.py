"""A program-test harness in the style of Mollusk and LiteSVM, on sbpfunc's runtime.

    from sbpfunc.testing import Harness
    h = Harness()
    h.add_program(program_id, "fixtures/hello.so")
    result = h.process_instruction(Instruction(program_id, b"", metas), [(key, Account(...)), ...])
    assert result.success and result.compute_units_consumed == 333

Instructions and accounts are solders types. Execution is Agave's (same logs, units, errors and
account changes); nothing persists between calls unless you pass the returned accounts back in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from solders.account import Account as SoldersAccount
from solders.instruction import Instruction
from solders.pubkey import Pubkey

from ..runtime.accounts import BPF_LOADER_DEPRECATED_ID, BPF_LOADER_ID, BPF_LOADER_UPGRADEABLE_ID, Account
from ..runtime.builtins import default_builtins
from ..runtime.errors import InstructionError
from ..runtime.invoke_context import ExecutionConfig
from ..runtime.message_processor import Ix, process_instructions
from ..runtime.programs import ProgramCache, upgradeable_accounts
from ..runtime.sysvars import CLOCK_ID, SysvarCache


@dataclass
class InstructionResult:
    success: bool
    error: InstructionError | None
    error_index: int | None
    logs: list[str]
    compute_units_consumed: int
    return_data: bytes
    return_program_id: Pubkey | None
    accounts: list[tuple[Pubkey, SoldersAccount]]

    def account(self, key: Pubkey) -> SoldersAccount:
        for k, a in self.accounts:
            if k == key:
                return a
        raise KeyError(str(key))


class Harness:
    def __init__(self, *, compute_unit_limit: int = 200_000, syscalls=None, log_bytes_limit: int | None = 10_000,
                 engine: str = "translated"):
        from ..runtime.syscall_set import default_registry

        self.compute_unit_limit = compute_unit_limit
        self.programs = ProgramCache(syscalls if syscalls is not None else default_registry())
        self.program_accounts: dict[Pubkey, Account] = {}
        self.extra_accounts: dict[Pubkey, Account] = {}
        self.sysvars = SysvarCache()
        self.log_bytes_limit = log_bytes_limit
        self.config = ExecutionConfig.with_engine(engine)

    def add_program(self, program_id: Pubkey, program: str | Path | bytes,
                    loader: Pubkey = BPF_LOADER_UPGRADEABLE_ID) -> None:
        elf = program if isinstance(program, (bytes, bytearray)) else Path(program).read_bytes()
        if loader == BPF_LOADER_UPGRADEABLE_ID:
            acct, pda, pdata = upgradeable_accounts(program_id, bytes(elf))
            self.program_accounts[program_id] = acct
            self.extra_accounts[pda] = pdata
        elif loader in (BPF_LOADER_ID, BPF_LOADER_DEPRECATED_ID):
            self.program_accounts[program_id] = Account(1, bytearray(elf), loader, True)
        else:
            raise ValueError(f"unsupported loader {loader}")

    def set_sysvar(self, sysvar_id: Pubkey, data: bytes) -> None:
        self.sysvars.set(sysvar_id, data)

    def set_clock(self, *, slot: int = 0, epoch_start_timestamp: int = 0, epoch: int = 0,
                  leader_schedule_epoch: int = 0, unix_timestamp: int = 0) -> None:
        from ..runtime.sysvars import Clock

        self.sysvars.set(CLOCK_ID, Clock.build(dict(slot=slot, epoch_start_timestamp=epoch_start_timestamp,
                                                    epoch=epoch, leader_schedule_epoch=leader_schedule_epoch,
                                                    unix_timestamp=unix_timestamp)))

    def process_instruction(self, instruction: Instruction, accounts) -> InstructionResult:
        return self.process_instruction_chain([instruction], accounts)

    def process_instruction_chain(self, instructions: list[Instruction], accounts) -> InstructionResult:
        pairs = list(accounts.items()) if isinstance(accounts, dict) else list(accounts)
        state = {k: Account.from_solders(a) for k, a in pairs}
        for k, a in self.program_accounts.items():
            state.setdefault(k, a)
        limit = self.compute_unit_limit
        res = process_instructions([Ix.from_solders(ix) for ix in instructions], state, programs=self.programs,
                                   builtins=default_builtins(), compute_unit_limit=limit, sysvars=self.sysvars,
                                   extra_accounts=self.extra_accounts, log_bytes_limit=self.log_bytes_limit,
                                   config=self.config)
        post = [(k, res.accounts[k].to_solders() if k in res.accounts else a) for k, a in pairs]
        err = res.error[1] if res.error else None
        ret_pid, ret = res.return_data if res.return_data else (None, b"")
        return InstructionResult(res.success, err, res.error[0] if res.error else None, res.logs,
                                 res.compute_units_consumed, ret, ret_pid, post)
