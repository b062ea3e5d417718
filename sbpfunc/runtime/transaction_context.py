"""Agave's `TransactionContext`: the accounts of one transaction and the instruction stack.

Accounts are borrowed through `BorrowedAccount`, whose setters enforce the rules the runtime
applies to every change (only the owner may spend lamports or change data, read-only accounts
stay untouched, owners change only on zeroed data...), with Agave's error names. Those rules are
what deserialization after a program run and CPI write-back go through.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from solders.pubkey import Pubkey

from .accounts import (
    MAX_PERMITTED_ACCOUNTS_DATA_ALLOCATIONS_PER_TRANSACTION,
    MAX_PERMITTED_DATA_LENGTH,
    Account,
)
from .errors import InstructionError

MAX_INSTRUCTION_TRACE_LENGTH = 64


@dataclass(frozen=True)
class InstructionAccount:
    """One account of an instruction: where it lives in the transaction and its privileges."""

    index_in_transaction: int
    index_in_caller: int
    index_in_callee: int  # first position of the same account in this instruction (dups)
    is_signer: bool
    is_writable: bool


@dataclass
class InstructionContext:
    program_id_index: int
    instruction_accounts: list[InstructionAccount]
    data: bytes
    stack_height: int
    lamports_before: int = 0

    def is_duplicate(self, i: int) -> int | None:
        """Position of the first occurrence if account i repeats an earlier one."""
        first = self.instruction_accounts[i].index_in_callee
        return first if first != i else None

    def unique_indices(self) -> list[int]:
        seen, out = set(), []
        for ia in self.instruction_accounts:
            if ia.index_in_transaction not in seen:
                seen.add(ia.index_in_transaction)
                out.append(ia.index_in_transaction)
        return out


class TransactionContext:
    """Accounts by transaction index, the instruction stack and trace, and return data."""

    def __init__(self, keys: list[Pubkey], accounts: list[Account], *, max_stack_height: int = 5):
        if len(keys) != len(accounts):
            raise ValueError("keys and accounts differ in length")
        self.keys = list(keys)
        self.accounts = accounts
        self.stack: list[InstructionContext] = []
        self.trace: list[InstructionContext] = []
        self.max_stack_height = max_stack_height
        self.return_data: tuple[Pubkey, bytes] = (Pubkey.default(), b"")
        self.resize_delta = 0

    def index_of(self, key: Pubkey) -> int | None:
        try:
            return self.keys.index(key)
        except ValueError:
            return None

    # --- instruction stack ----------------------------------------------------------------------
    @property
    def current(self) -> InstructionContext:
        return self.stack[-1]

    @property
    def stack_height(self) -> int:
        return len(self.stack)

    def push(self, ctx: InstructionContext) -> None:
        if len(self.trace) >= MAX_INSTRUCTION_TRACE_LENGTH:
            raise InstructionError("MaxInstructionTraceLengthExceeded")
        if len(self.stack) >= self.max_stack_height:
            raise InstructionError("CallDepth")
        ctx.lamports_before = self._lamport_sum(ctx)
        self.trace.append(ctx)
        self.stack.append(ctx)

    def pop(self) -> None:
        """Pop the current instruction; an unbalanced lamport sum fails it (as Agave does)."""
        ctx = self.stack.pop()
        if self._lamport_sum(ctx) != ctx.lamports_before:
            raise InstructionError("UnbalancedInstruction")

    def _lamport_sum(self, ctx: InstructionContext) -> int:
        return sum(self.accounts[i].lamports for i in ctx.unique_indices())

    # --- borrowing ------------------------------------------------------------------------------
    def borrow(self, ctx: InstructionContext, index_in_instruction: int) -> "BorrowedAccount":
        ia = ctx.instruction_accounts[index_in_instruction]
        return BorrowedAccount(self, ctx, ia)

    def program_id(self, ctx: InstructionContext) -> Pubkey:
        return self.keys[ctx.program_id_index]


@dataclass
class BorrowedAccount:
    """An instruction's view of one account; setters enforce Agave's modification rules."""

    tx: TransactionContext
    ctx: InstructionContext
    ia: InstructionAccount
    _account: Account = field(init=False)

    def __post_init__(self):
        self._account = self.tx.accounts[self.ia.index_in_transaction]

    @property
    def key(self) -> Pubkey:
        return self.tx.keys[self.ia.index_in_transaction]

    @property
    def account(self) -> Account:
        return self._account

    @property
    def lamports(self) -> int:
        return self._account.lamports

    @property
    def data(self) -> bytearray:
        return self._account.data

    @property
    def owner(self) -> Pubkey:
        return self._account.owner

    @property
    def executable(self) -> bool:
        return self._account.executable

    @property
    def is_signer(self) -> bool:
        return self.ia.is_signer

    @property
    def is_writable(self) -> bool:
        return self.ia.is_writable

    def is_owned_by_current_program(self) -> bool:
        return self._account.owner == self.tx.program_id(self.ctx)

    # --- setters, in Agave's order of checks ----------------------------------------------------
    def set_lamports(self, lamports: int) -> None:
        if not self.is_owned_by_current_program() and lamports < self._account.lamports:
            raise InstructionError("ExternalAccountLamportSpend")
        if not self.is_writable:
            raise InstructionError("ReadonlyLamportChange")
        self._account.lamports = lamports

    def checked_add_lamports(self, amount: int) -> None:
        if self._account.lamports + amount > (1 << 64) - 1:
            raise InstructionError("ArithmeticOverflow")
        self.set_lamports(self._account.lamports + amount)

    def checked_sub_lamports(self, amount: int) -> None:
        if self._account.lamports < amount:
            raise InstructionError("ArithmeticOverflow")
        self.set_lamports(self._account.lamports - amount)

    def can_data_be_resized(self, new_length: int) -> None:
        """Agave 4.1: length checks, then `can_data_be_changed` (no executable checks)."""
        old = len(self._account.data)
        if new_length != old and not self.is_owned_by_current_program():
            raise InstructionError("AccountDataSizeChanged")
        if new_length > MAX_PERMITTED_DATA_LENGTH:
            raise InstructionError("InvalidRealloc")
        if self.tx.resize_delta + (new_length - old) > MAX_PERMITTED_ACCOUNTS_DATA_ALLOCATIONS_PER_TRANSACTION:
            raise InstructionError("MaxAccountsDataAllocationsExceeded")
        self.can_data_be_changed()

    def can_data_be_changed(self) -> None:
        if not self.is_writable:
            raise InstructionError("ReadonlyDataModified")
        if not self.is_owned_by_current_program():
            raise InstructionError("ExternalAccountDataModified")

    def set_data_from_slice(self, data: bytes) -> None:
        self.can_data_be_resized(len(data))
        self.tx.resize_delta += len(data) - len(self._account.data)
        self._account.data[:] = data

    def set_data_length(self, new_length: int) -> None:
        self.can_data_be_resized(new_length)
        old = len(self._account.data)
        if new_length == old:
            return
        self.tx.resize_delta += new_length - old
        if new_length < old:
            del self._account.data[new_length:]
        else:
            self._account.data.extend(bytes(new_length - old))

    def set_owner(self, owner: Pubkey) -> None:
        if not self.is_owned_by_current_program() or not self.is_writable or self._account.executable \
                or any(self._account.data):
            raise InstructionError("ModifiedProgramId")
        self._account.owner = owner
