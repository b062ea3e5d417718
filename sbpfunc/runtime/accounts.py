"""Accounts as the runtime sees them, and the per-transaction account table.

`Account` is mutable (the runtime edits it in place while an instruction runs); conversions to and
from solders' `Account` keep the public API in solders types. The transaction context keeps one
copy per transaction account so a failed transaction is rolled back by dropping it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from solders.account import Account as SoldersAccount
from solders.pubkey import Pubkey

SYSTEM_PROGRAM_ID = Pubkey.from_string("11111111111111111111111111111111")
BPF_LOADER_DEPRECATED_ID = Pubkey.from_string("BPFLoader1111111111111111111111111111111111")
BPF_LOADER_ID = Pubkey.from_string("BPFLoader2111111111111111111111111111111111")
BPF_LOADER_UPGRADEABLE_ID = Pubkey.from_string("BPFLoaderUpgradeab1e11111111111111111111111")
LOADER_V4_ID = Pubkey.from_string("LoaderV411111111111111111111111111111111111")
NATIVE_LOADER_ID = Pubkey.from_string("NativeLoader1111111111111111111111111111111")
SYSVAR_OWNER_ID = Pubkey.from_string("Sysvar1111111111111111111111111111111111111")
COMPUTE_BUDGET_ID = Pubkey.from_string("ComputeBudget111111111111111111111111111111")

BPF_LOADERS = (BPF_LOADER_DEPRECATED_ID, BPF_LOADER_ID, BPF_LOADER_UPGRADEABLE_ID)

MAX_PERMITTED_DATA_INCREASE = 10 * 1024
MAX_PERMITTED_DATA_LENGTH = 10 * 1024 * 1024
MAX_PERMITTED_ACCOUNTS_DATA_ALLOCATIONS_PER_TRANSACTION = 2 * MAX_PERMITTED_DATA_LENGTH


@dataclass
class Account:
    lamports: int
    data: bytearray = field(default_factory=bytearray)
    owner: Pubkey = SYSTEM_PROGRAM_ID
    executable: bool = False
    rent_epoch: int = 0

    def __post_init__(self):
        if not isinstance(self.data, bytearray):
            self.data = bytearray(self.data)

    def copy(self) -> "Account":
        return Account(self.lamports, bytearray(self.data), self.owner, self.executable, self.rent_epoch)

    @classmethod
    def from_solders(cls, a: SoldersAccount) -> "Account":
        return cls(a.lamports, bytearray(a.data), a.owner, a.executable, a.rent_epoch)

    def to_solders(self) -> SoldersAccount:
        return SoldersAccount(self.lamports, bytes(self.data), self.owner, self.executable, self.rent_epoch)


# Accounts every cluster has from genesis: builtin programs are native-loader accounts whose
# data is the program's name (LiteSVM shows the same bytes to a program that reads them).
NATIVE_PROGRAM_NAMES = {
    SYSTEM_PROGRAM_ID: b"system_program",
    COMPUTE_BUDGET_ID: b"compute_budget_program",
    BPF_LOADER_UPGRADEABLE_ID: b"solana_bpf_loader_upgradeable_program",
    BPF_LOADER_ID: b"solana_bpf_loader_program",
    BPF_LOADER_DEPRECATED_ID: b"solana_bpf_loader_deprecated_program",
}


def genesis_account(key: Pubkey) -> Account | None:
    """The account a fresh cluster holds at `key` for builtin programs, else None."""
    name = NATIVE_PROGRAM_NAMES.get(key)
    return None if name is None else Account(1, bytearray(name), NATIVE_LOADER_ID, True)
