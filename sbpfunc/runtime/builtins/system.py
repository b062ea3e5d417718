"""The system program as Agave 4.1 runs it (programs/system/src/system_processor.rs).

A builtin: it consumes 150 CU up front, then decodes the bincode `SystemInstruction` (at most
`PACKET_DATA_SIZE` bytes read; trailing bytes ignored; anything malformed is
InvalidInstructionData) and applies it through `BorrowedAccount` setters, so every change is
subject to the runtime's account rules. Failures log Agave's `ic_msg!` lines verbatim and return
Agave's errors; `SystemError`s are custom codes:

    0 AccountAlreadyInUse        1 ResultWithNegativeLamports   2 InvalidProgramId
    3 InvalidAccountDataLength   4 MaxSeedLengthExceeded        5 AddressWithSeedMismatch

Supported: CreateAccount, Assign, Transfer, Allocate and their WithSeed variants. The nonce
instructions (AdvanceNonceAccount, WithdrawNonceAccount, InitializeNonceAccount,
AuthorizeNonceAccount, UpgradeNonceAccount) are not simulated: they fail with
InvalidInstructionData after a log line saying so. CreateAccountAllowPrefund (feature-gated,
active in LiteSVM) is supported.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from solders.pubkey import Pubkey

from ..accounts import MAX_PERMITTED_DATA_LENGTH, SYSTEM_PROGRAM_ID
from ..errors import InstructionError
from ..invoke_context import BuiltinProgram

DEFAULT_COMPUTE_UNITS = 150
PACKET_DATA_SIZE = 1232
MAX_SEED_LEN = 32
PDA_MARKER = b"ProgramDerivedAddress"


class SystemErrorCode:
    """solana_system_interface::error::SystemError, as custom program error codes."""

    AccountAlreadyInUse = 0
    ResultWithNegativeLamports = 1
    InvalidProgramId = 2
    InvalidAccountDataLength = 3
    MaxSeedLengthExceeded = 4
    AddressWithSeedMismatch = 5
    NonceNoRecentBlockhashes = 6
    NonceBlockhashNotExpired = 7
    NonceUnexpectedBlockhashValue = 8


def _system_error(code: int) -> InstructionError:
    return InstructionError.custom(code)


# --- bincode decoding of SystemInstruction -----------------------------------------------------
class _Decode(Exception):
    pass


class _Reader:
    """bincode (fixint, little endian, trailing bytes allowed) with Agave's read limit."""

    def __init__(self, data: bytes, limit: int = PACKET_DATA_SIZE):
        self.data, self.pos, self.limit = data, 0, limit

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data) or self.pos + n > self.limit:
            raise _Decode()
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack("<Q", self.take(8))[0]

    def pubkey(self) -> Pubkey:
        return Pubkey.from_bytes(self.take(32))

    def string(self) -> str:
        n = self.u64()
        try:
            return self.take(n).decode("utf-8")
        except UnicodeDecodeError:
            raise _Decode() from None


# Variant index -> (name, field decoders)
_VARIANTS = {
    0: ("CreateAccount", ("lamports", "u64"), ("space", "u64"), ("owner", "pubkey")),
    1: ("Assign", ("owner", "pubkey")),
    2: ("Transfer", ("lamports", "u64")),
    3: ("CreateAccountWithSeed", ("base", "pubkey"), ("seed", "string"), ("lamports", "u64"),
        ("space", "u64"), ("owner", "pubkey")),
    4: ("AdvanceNonceAccount",),
    5: ("WithdrawNonceAccount", ("lamports", "u64")),
    6: ("InitializeNonceAccount", ("authorized", "pubkey")),
    7: ("AuthorizeNonceAccount", ("authorized", "pubkey")),
    8: ("Allocate", ("space", "u64")),
    9: ("AllocateWithSeed", ("base", "pubkey"), ("seed", "string"), ("space", "u64"), ("owner", "pubkey")),
    10: ("AssignWithSeed", ("base", "pubkey"), ("seed", "string"), ("owner", "pubkey")),
    11: ("TransferWithSeed", ("lamports", "u64"), ("from_seed", "string"), ("from_owner", "pubkey")),
    12: ("UpgradeNonceAccount",),
    13: ("CreateAccountAllowPrefund", ("lamports", "u64"), ("space", "u64"), ("owner", "pubkey")),
}


def decode_instruction(data: bytes) -> tuple[str, dict]:
    """(variant name, fields) of a bincode SystemInstruction; InvalidInstructionData if malformed."""
    r = _Reader(bytes(data))
    try:
        variant = _VARIANTS.get(r.u32())
        if variant is None:
            raise _Decode()
        name, *fields = variant
        return name, {f: getattr(r, kind)() for f, kind in fields}
    except _Decode:
        raise InstructionError("InvalidInstructionData") from None


# --- helpers -----------------------------------------------------------------------------------
def create_with_seed(base: Pubkey, seed: str, owner: Pubkey) -> Pubkey:
    """Pubkey::create_with_seed; its PubkeyError becomes Custom(error as u64), as Agave does."""
    if len(seed.encode()) > MAX_SEED_LEN:
        raise InstructionError.custom(0)  # PubkeyError::MaxSeedLengthExceeded as u64
    if bytes(owner)[-len(PDA_MARKER):] == PDA_MARKER:
        raise InstructionError.custom(2)  # PubkeyError::IllegalOwner as u64
    return Pubkey.create_with_seed(base, seed, owner)


@dataclass
class Address:
    """An address, possibly derived from a base and seed (then the base must sign)."""

    address: Pubkey
    base: Pubkey | None = None

    def is_signer(self, signers: set) -> bool:
        return (self.base if self.base is not None else self.address) in signers

    def __str__(self) -> str:  # Rust's derived Debug
        base = f"Some({self.base})" if self.base is not None else "None"
        return f"Address {{ address: {self.address}, base: {base} }}"

    @classmethod
    def create(cls, ic, address: Pubkey, with_seed: tuple[Pubkey, str, Pubkey] | None = None) -> "Address":
        if with_seed is None:
            return cls(address)
        base, seed, owner = with_seed
        derived = create_with_seed(base, seed, owner)
        if address != derived:
            ic.log(f"Create: address {address} does not match derived address {derived}")
            raise _system_error(SystemErrorCode.AddressWithSeedMismatch)
        return cls(address, base)


class _Instruction:
    """The current instruction context as the system processor sees it."""

    def __init__(self, ic):
        self.ic = ic
        self.tx = ic.tx
        self.ctx = ic.tx.current

    def check_number_of_accounts(self, n: int) -> None:
        if len(self.ctx.instruction_accounts) < n:
            raise InstructionError("MissingAccount")

    def key(self, i: int) -> Pubkey:
        return self.tx.keys[self.ctx.instruction_accounts[i].index_in_transaction]

    def borrow(self, i: int):
        return self.tx.borrow(self.ctx, i)

    def is_signer(self, i: int) -> bool:
        return self.ctx.instruction_accounts[i].is_signer

    def signers(self) -> set:
        return {self.tx.keys[ia.index_in_transaction] for ia in self.ctx.instruction_accounts if ia.is_signer}


def allocate(ic, account, address: Address, space: int, signers: set) -> None:
    if not address.is_signer(signers):
        ic.log(f"Allocate: 'to' account {address} must sign")
        raise InstructionError("MissingRequiredSignature")
    if len(account.data) != 0 or account.owner != SYSTEM_PROGRAM_ID:
        ic.log(f"Allocate: account {address} already in use")
        raise _system_error(SystemErrorCode.AccountAlreadyInUse)
    if space > MAX_PERMITTED_DATA_LENGTH:
        ic.log(f"Allocate: requested {space}, max allowed {MAX_PERMITTED_DATA_LENGTH}")
        raise _system_error(SystemErrorCode.InvalidAccountDataLength)
    account.set_data_length(space)


def assign(ic, account, address: Address, owner: Pubkey, signers: set) -> None:
    if account.owner == owner:
        return
    if not address.is_signer(signers):
        ic.log(f"Assign: account {address} must sign")
        raise InstructionError("MissingRequiredSignature")
    account.set_owner(owner)


def allocate_and_assign(ic, to, to_address: Address, space: int, owner: Pubkey, signers: set) -> None:
    allocate(ic, to, to_address, space, signers)
    assign(ic, to, to_address, owner, signers)


def transfer_verified(ix: _Instruction, from_i: int, to_i: int, lamports: int) -> None:
    frm = ix.borrow(from_i)
    if len(frm.data) != 0:
        ix.ic.log("Transfer: `from` must not carry data")
        raise InstructionError("InvalidArgument")
    if lamports > frm.lamports:
        ix.ic.log(f"Transfer: insufficient lamports {frm.lamports}, need {lamports}")
        raise _system_error(SystemErrorCode.ResultWithNegativeLamports)
    frm.checked_sub_lamports(lamports)
    ix.borrow(to_i).checked_add_lamports(lamports)


def transfer(ix: _Instruction, from_i: int, to_i: int, lamports: int) -> None:
    if not ix.is_signer(from_i):
        ix.ic.log(f"Transfer: `from` account {ix.key(from_i)} must sign")
        raise InstructionError("MissingRequiredSignature")
    transfer_verified(ix, from_i, to_i, lamports)


def transfer_with_seed(ix: _Instruction, from_i: int, base_i: int, seed: str, owner: Pubkey, to_i: int,
                       lamports: int) -> None:
    if not ix.is_signer(base_i):
        ix.ic.log(f"Transfer: 'from' account {ix.key(base_i)} must sign")
        raise InstructionError("MissingRequiredSignature")
    derived = create_with_seed(ix.key(base_i), seed, owner)
    if ix.key(from_i) != derived:
        ix.ic.log(f"Transfer: 'from' address {ix.key(from_i)} does not match derived address {derived}")
        raise _system_error(SystemErrorCode.AddressWithSeedMismatch)
    transfer_verified(ix, from_i, to_i, lamports)


def create_account(ix: _Instruction, from_i: int, to_i: int, to_address: Address, lamports: int, space: int,
                   owner: Pubkey, signers: set) -> None:
    to = ix.borrow(to_i)
    if to.lamports > 0:
        ix.ic.log(f"Create Account: account {to_address} already in use")
        raise _system_error(SystemErrorCode.AccountAlreadyInUse)
    allocate_and_assign(ix.ic, to, to_address, space, owner, signers)
    transfer(ix, from_i, to_i, lamports)


def process_instruction(ic) -> None:
    """The system program's entrypoint (the 150 CU are charged by the runtime first)."""
    ix = _Instruction(ic)
    name, f = decode_instruction(ix.ctx.data)
    signers = ix.signers()
    if name == "CreateAccount":
        ix.check_number_of_accounts(2)
        to_address = Address.create(ic, ix.key(1))
        create_account(ix, 0, 1, to_address, f["lamports"], f["space"], f["owner"], signers)
    elif name == "CreateAccountWithSeed":
        ix.check_number_of_accounts(2)
        to_address = Address.create(ic, ix.key(1), (f["base"], f["seed"], f["owner"]))
        create_account(ix, 0, 1, to_address, f["lamports"], f["space"], f["owner"], signers)
    elif name == "Assign":
        ix.check_number_of_accounts(1)
        account = ix.borrow(0)
        assign(ic, account, Address.create(ic, ix.key(0)), f["owner"], signers)
    elif name == "Transfer":
        ix.check_number_of_accounts(2)
        transfer(ix, 0, 1, f["lamports"])
    elif name == "TransferWithSeed":
        ix.check_number_of_accounts(3)
        transfer_with_seed(ix, 0, 1, f["from_seed"], f["from_owner"], 2, f["lamports"])
    elif name == "Allocate":
        ix.check_number_of_accounts(1)
        account = ix.borrow(0)
        allocate(ic, account, Address.create(ic, ix.key(0)), f["space"], signers)
    elif name == "AllocateWithSeed":
        ix.check_number_of_accounts(1)
        account = ix.borrow(0)
        address = Address.create(ic, ix.key(0), (f["base"], f["seed"], f["owner"]))
        allocate_and_assign(ic, account, address, f["space"], f["owner"], signers)
    elif name == "AssignWithSeed":
        ix.check_number_of_accounts(1)
        account = ix.borrow(0)
        address = Address.create(ic, ix.key(0), (f["base"], f["seed"], f["owner"]))
        assign(ic, account, address, f["owner"], signers)
    elif name == "CreateAccountAllowPrefund":
        # feature create_account_allow_prefund (SIMD-0312): active in LiteSVM (solders 0.29)
        lamports = f["lamports"]
        ix.check_number_of_accounts(2 if lamports > 0 else 1)
        to_address = Address.create(ic, ix.key(0))
        allocate_and_assign(ic, ix.borrow(0), to_address, f["space"], f["owner"], signers)
        if lamports > 0:
            transfer(ix, 1, 0, lamports)
    else:
        ic.log(f"sbpfunc: system instruction {name} is not simulated")
        raise InstructionError("InvalidInstructionData")


@dataclass(frozen=True)
class _SystemProgram:
    program_id: Pubkey
    builtin: BuiltinProgram


SYSTEM_PROGRAM = _SystemProgram(SYSTEM_PROGRAM_ID,
                                BuiltinProgram("system_program", process_instruction, DEFAULT_COMPUTE_UNITS))
