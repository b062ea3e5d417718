"""The BPF upgradeable loader (loader-v3) management instructions, as Agave 4.1 runs them
(programs/bpf_loader/src/lib.rs, `process_loader_upgradeable_instruction`).

A builtin: invoking the loader id itself consumes UPGRADEABLE_LOADER_COMPUTE_UNITS (2,370) up
front, then decodes the bincode `UpgradeableLoaderInstruction` (u32 tag, then fields; at most
PACKET_DATA_SIZE bytes read, trailing bytes ignored) and applies it through `BorrowedAccount`
setters. Log lines and errors are Agave's `ic_logger_msg!` lines and `InstructionError`s.

Account states (bincode `UpgradeableLoaderState`):

    0 Uninitialized                              4 bytes
    1 Buffer { authority: Option<Pubkey> }       37 bytes of metadata, then the ELF
    2 Program { programdata: Pubkey }            36 bytes
    3 ProgramData { slot, authority }            45 bytes of metadata, then the ELF

Supported: InitializeBuffer, Write, DeployWithMaxDataLen (CreateAccount of the programdata PDA is a
native invoke of the system program, logged at height + 1), Upgrade, SetAuthority,
SetAuthorityChecked, Close, ExtendProgram / ExtendProgramChecked (whichever the feature
`enable_extend_program_checked` allows; it is inactive in LiteSVM, so ExtendProgram runs and
ExtendProgramChecked is InvalidInstructionData). Migrate (to loader-v4) is not
simulated: InvalidInstructionData, as on a cluster without `enable_loader_v4`.

Deploy-time verification loads the ELF as a deployment would (`reject_broken_elfs`, syscalls
that are not deployable - `sol_alloc_free_` - left out); a failure logs the loader's error text
and is InvalidAccountData.

Delay visibility: Agave makes a program deployed, upgraded, extended or closed in a transaction
invisible for the rest of that transaction (its cache entry becomes effective at the next slot):
invoking it logs "Program is not deployed" and fails with UnsupportedProgramId. This is modelled by
putting a per-transaction view in front of the invoke context's program cache. A later
transaction (later `process_instructions` call) sees the new program at once, as LiteSVM does
within one slot.
"""

from __future__ import annotations

import struct

from solders.pubkey import Pubkey

from ...vm.errors import ElfError, VerifierError
from ..accounts import BPF_LOADER_UPGRADEABLE_ID, MAX_PERMITTED_DATA_LENGTH, SYSTEM_PROGRAM_ID
from ..errors import InstructionError
from ..invoke_context import BuiltinProgram
from ..programs import ProgramLoadError
from ..sysvars import CLOCK_ID, RENT_ID

UPGRADEABLE_LOADER_COMPUTE_UNITS = 2_370
PACKET_DATA_SIZE = 1232
MINIMUM_EXTEND_PROGRAM_BYTES = 10_240
UNINITIALIZED_SIZE = 4
BUFFER_METADATA_SIZE = 37
PROGRAM_SIZE = 36
PROGRAMDATA_METADATA_SIZE = 45

# Feature gates as LiteSVM (solders 0.29) has them.
ENABLE_EXTEND_PROGRAM_CHECKED = False
ENABLE_SET_AUTHORITY_CHECKED = True
ENABLE_LOADER_V4 = False

LOADER_ID = BPF_LOADER_UPGRADEABLE_ID


# --- bincode --------------------------------------------------------------------------------------
class _Decode(Exception):
    pass


class _Reader:
    def __init__(self, data: bytes, limit: int | None = None):
        self.data, self.pos, self.limit = bytes(data), 0, limit

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.data) or (self.limit is not None and end > self.limit):
            raise _Decode()
        out = self.data[self.pos:end]
        self.pos = end
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack("<Q", self.take(8))[0]

    def pubkey(self) -> Pubkey:
        return Pubkey.from_bytes(self.take(32))

    def option_pubkey(self) -> Pubkey | None:
        tag = self.u8()
        if tag == 0:
            return None
        if tag == 1:
            return self.pubkey()
        raise _Decode()

    def vec_u8(self) -> bytes:
        return self.take(self.u64())


_INSTRUCTIONS = {
    0: ("InitializeBuffer", ()),
    1: ("Write", (("offset", "u32"), ("bytes", "vec_u8"))),
    2: ("DeployWithMaxDataLen", (("max_data_len", "u64"),)),
    3: ("Upgrade", ()),
    4: ("SetAuthority", ()),
    5: ("Close", ()),
    6: ("ExtendProgram", (("additional_bytes", "u32"),)),
    7: ("SetAuthorityChecked", ()),
    8: ("Migrate", ()),
    9: ("ExtendProgramChecked", (("additional_bytes", "u32"),)),
}


def decode_instruction(data: bytes) -> tuple[str, dict]:
    """(variant name, fields) of a bincode UpgradeableLoaderInstruction; InvalidInstructionData if malformed."""
    r = _Reader(data, PACKET_DATA_SIZE)
    try:
        variant = _INSTRUCTIONS.get(r.u32())
        if variant is None:
            raise _Decode()
        name, fields = variant
        return name, {f: getattr(r, kind)() for f, kind in fields}
    except _Decode:
        raise InstructionError("InvalidInstructionData") from None


def get_state(data: bytes) -> tuple:
    """UpgradeableLoaderState from account data: ("Uninitialized",), ("Buffer", authority),
    ("Program", programdata), ("ProgramData", slot, authority). InvalidAccountData if malformed."""
    r = _Reader(data)
    try:
        tag = r.u32()
        if tag == 0:
            return ("Uninitialized",)
        if tag == 1:
            return ("Buffer", r.option_pubkey())
        if tag == 2:
            return ("Program", r.pubkey())
        if tag == 3:
            return ("ProgramData", r.u64(), r.option_pubkey())
    except _Decode:
        pass
    raise InstructionError("InvalidAccountData")


def _option(key: Pubkey | None) -> bytes:
    return b"\x00" if key is None else b"\x01" + bytes(key)


def serialize_state(state: tuple) -> bytes:
    kind = state[0]
    if kind == "Uninitialized":
        return struct.pack("<I", 0)
    if kind == "Buffer":
        return struct.pack("<I", 1) + _option(state[1])
    if kind == "Program":
        return struct.pack("<I", 2) + bytes(state[1])
    if kind == "ProgramData":
        return struct.pack("<IQ", 3, state[1]) + _option(state[2])
    raise ValueError(kind)


def set_state(account, state: tuple) -> None:
    """BorrowedAccount::set_state: writes the bincode prefix, leaving the rest of the data as is."""
    account.can_data_be_changed()
    raw = serialize_state(state)
    if len(raw) > len(account.data):
        raise InstructionError("AccountDataTooSmall")
    account.data[:len(raw)] = raw


def set_executable(ic, account) -> None:
    """BorrowedAccount::set_executable(true), with Agave's checks."""
    if account.lamports < ic.sysvars.minimum_balance(len(account.data)):
        raise InstructionError("ExecutableAccountNotRentExempt")
    if not account.is_owned_by_current_program() or not account.is_writable:
        raise InstructionError("ExecutableModified")
    account.account.executable = True


# --- delay visibility -----------------------------------------------------------------------------
class _TxProgramView:
    """The program cache as one transaction sees it: programs (re)deployed or closed in it are hidden."""

    def __init__(self, inner):
        self.inner = inner
        self.hidden: set[bytes] = set()

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def load(self, program_id: Pubkey, program, lookup):
        if bytes(program_id) in self.hidden:
            raise ProgramLoadError("Program is not deployed")
        return self.inner.load(program_id, program, lookup)


def _hide_until_next_slot(ic, program_id: Pubkey) -> None:
    view = ic.programs
    if not isinstance(view, _TxProgramView):
        view = ic.programs = _TxProgramView(ic.programs)
    view.hidden.add(bytes(program_id))


class _DeploySyscalls:
    """The deployment environment: the runtime's syscalls without the non-deployable ones."""

    def __init__(self, inner):
        self.inner = inner

    def lookup(self, key: int):
        deployable = getattr(self.inner, "deployable", None)
        if deployable is not None and not deployable(key):
            return None
        return self.inner.lookup(key)


def deploy_program(ic, program_id: Pubkey, elf: bytes) -> None:
    """Agave's deploy_program!: verify the ELF as a deployment would, then hide the program for the
    rest of the transaction (the new cache entry is effective from the next slot)."""
    from ...elf.loader import load_elf

    try:
        load_elf(bytes(elf), _DeploySyscalls(ic.programs.syscalls), deploy=True)
    except (ElfError, VerifierError) as e:
        ic.log(str(e))
        raise InstructionError("InvalidAccountData") from None
    _hide_until_next_slot(ic, program_id)


# --- the instruction ------------------------------------------------------------------------------
class _Ix:
    def __init__(self, ic):
        self.ic, self.tx = ic, ic.tx
        self.ctx = ic.tx.current

    def check(self, n: int) -> None:
        if len(self.ctx.instruction_accounts) < n:
            raise InstructionError("MissingAccount")

    def key(self, i: int) -> Pubkey:
        self.check(i + 1)
        return self.tx.keys[self.ctx.instruction_accounts[i].index_in_transaction]

    def index(self, i: int) -> int:
        self.check(i + 1)
        return self.ctx.instruction_accounts[i].index_in_transaction

    def is_signer(self, i: int) -> bool:
        self.check(i + 1)
        return self.ctx.instruction_accounts[i].is_signer

    def borrow(self, i: int):
        self.check(i + 1)
        return self.tx.borrow(self.ctx, i)

    def borrow_together(self, *positions: int) -> list:
        """Several accounts borrowed at once: the same account twice is AccountBorrowFailed."""
        idx = [self.index(i) for i in positions]
        if len(set(idx)) != len(idx):
            raise InstructionError("AccountBorrowFailed")
        return [self.borrow(i) for i in positions]

    def sysvar(self, i: int, sysvar_id: Pubkey) -> None:
        """get_sysvar_with_account_check: the account at `i` must be the sysvar."""
        if self.key(i) != sysvar_id:
            raise InstructionError("InvalidArgument")

    def native_invoke(self, program_id: Pubkey, accounts: list[tuple[Pubkey, bool, bool]], data: bytes,
                      signers: list[Pubkey]) -> None:
        from ..cpi import CpiInstruction, prepare_next_cpi_instruction

        ix = CpiInstruction(program_id, accounts, data)
        program_index, callee = prepare_next_cpi_instruction(self.ic, self.ctx, ix, signers)
        self.ic.process_instruction(program_index, callee, data)


def _create_account_data(lamports: int, space: int, owner: Pubkey) -> bytes:
    return struct.pack("<IQQ", 0, lamports, space) + bytes(owner)


def _write(ix: _Ix, offset: int, data: bytes) -> None:
    account = ix.borrow(0)
    account.can_data_be_changed()
    end = BUFFER_METADATA_SIZE + offset + len(data)
    if len(account.data) < end:
        ix.ic.log(f"Write overflow: {len(account.data)} < {end}")
        raise InstructionError("AccountDataTooSmall")
    account.data[BUFFER_METADATA_SIZE + offset:end] = data


def _checked_buffer(ix: _Ix, index: int, authority, signer_index: int):
    """The buffer a deploy or upgrade reads from: a Buffer whose authority is the upgrade
    authority, which must have signed (Agave's checks and messages, in its order)."""
    log = ix.ic.log
    buffer = ix.borrow(index)
    state = get_state(buffer.data)
    if state[0] != "Buffer":
        log("Invalid Buffer account")
        raise InstructionError("InvalidArgument")
    if state[1] != authority:
        log("Buffer and upgrade authority don't match")
        raise InstructionError("IncorrectAuthority")
    if not ix.is_signer(signer_index):
        log("Upgrade authority did not sign")
        raise InstructionError("MissingRequiredSignature")
    return buffer


def _deploy(ix: _Ix, max_data_len: int) -> None:
    ic, log = ix.ic, ix.ic.log
    ix.check(4)
    payer_key, programdata_key = ix.key(0), ix.key(1)
    ix.sysvar(4, RENT_ID)
    ix.sysvar(5, CLOCK_ID)
    ix.check(8)
    authority = ix.key(7)
    slot = ic.sysvars.clock().slot

    program = ix.borrow(2)
    if get_state(program.data) != ("Uninitialized",):
        log("Program account already initialized")
        raise InstructionError("AccountAlreadyInitialized")
    if len(program.data) < PROGRAM_SIZE:
        log("Program account too small")
        raise InstructionError("AccountDataTooSmall")
    if program.lamports < ic.sysvars.minimum_balance(len(program.data)):
        log("Program account not rent-exempt")
        raise InstructionError("ExecutableAccountNotRentExempt")
    new_program_id = program.key

    buffer = _checked_buffer(ix, 3, authority, 7)
    buffer_key = buffer.key
    buffer_data_len = max(len(buffer.data) - BUFFER_METADATA_SIZE, 0)
    programdata_len = PROGRAMDATA_METADATA_SIZE + max_data_len
    if len(buffer.data) < BUFFER_METADATA_SIZE or buffer_data_len == 0:
        log("Buffer account too small")
        raise InstructionError("InvalidAccountData")
    if max_data_len < buffer_data_len:
        log("Max data length is too small to hold Buffer data")
        raise InstructionError("AccountDataTooSmall")
    if programdata_len > MAX_PERMITTED_DATA_LENGTH:
        log("Max data length is too large")
        raise InstructionError("InvalidArgument")

    derived, bump = Pubkey.find_program_address([bytes(new_program_id)], LOADER_ID)
    if derived != programdata_key:
        log("ProgramData address is not derived")
        raise InstructionError("InvalidArgument")

    # Drain the Buffer account to payer before paying for programdata account
    buffer, payer = ix.borrow_together(3, 0)
    payer.checked_add_lamports(buffer.lamports)
    buffer.set_lamports(0)

    lamports = max(1, ic.sysvars.minimum_balance(programdata_len))
    ix.native_invoke(SYSTEM_PROGRAM_ID,
                     [(payer_key, True, True), (programdata_key, True, True), (buffer_key, False, True)],
                     _create_account_data(lamports, programdata_len, LOADER_ID),
                     [Pubkey.create_program_address([bytes(new_program_id), bytes([bump])], LOADER_ID)])

    buffer = ix.borrow(3)
    elf = bytes(buffer.data[BUFFER_METADATA_SIZE:])
    deploy_program(ic, new_program_id, elf)

    programdata, buffer = ix.borrow_together(1, 3)
    set_state(programdata, ("ProgramData", slot, authority))
    programdata.can_data_be_changed()
    end = PROGRAMDATA_METADATA_SIZE + buffer_data_len
    if len(programdata.data) < end:
        raise InstructionError("AccountDataTooSmall")
    programdata.data[PROGRAMDATA_METADATA_SIZE:end] = elf
    buffer.set_data_length(BUFFER_METADATA_SIZE)

    program = ix.borrow(2)
    set_state(program, ("Program", programdata_key))
    set_executable(ic, program)
    log(f"Deployed program {new_program_id}")


def _upgrade(ix: _Ix) -> None:
    ic, log = ix.ic, ix.ic.log
    ix.check(3)
    programdata_key = ix.key(0)
    ix.sysvar(4, RENT_ID)
    ix.sysvar(5, CLOCK_ID)
    ix.check(7)
    authority = ix.key(6)
    clock_slot = ic.sysvars.clock().slot

    program = ix.borrow(1)
    if not program.is_writable:
        log("Program account not writeable")
        raise InstructionError("InvalidArgument")
    if program.owner != LOADER_ID:
        log("Program account not owned by loader")
        raise InstructionError("IncorrectProgramId")
    state = get_state(program.data)
    if state[0] != "Program":
        log("Invalid Program account")
        raise InstructionError("InvalidAccountData")
    if state[1] != programdata_key:
        log("Program and ProgramData account mismatch")
        raise InstructionError("InvalidArgument")
    new_program_id = program.key

    buffer = _checked_buffer(ix, 2, authority, 6)
    buffer_lamports = buffer.lamports
    buffer_data_len = max(len(buffer.data) - BUFFER_METADATA_SIZE, 0)
    if len(buffer.data) < BUFFER_METADATA_SIZE or buffer_data_len == 0:
        log("Buffer account too small")
        raise InstructionError("InvalidAccountData")

    programdata = ix.borrow(0)
    balance_required = max(1, ic.sysvars.minimum_balance(len(programdata.data)))
    if len(programdata.data) < PROGRAMDATA_METADATA_SIZE + buffer_data_len:
        log("ProgramData account not large enough")
        raise InstructionError("AccountDataTooSmall")
    if programdata.lamports + buffer_lamports < balance_required:
        log("Buffer account balance too low to fund upgrade")
        raise InstructionError("InsufficientFunds")
    state = get_state(programdata.data)
    if state[0] != "ProgramData":
        log("Invalid ProgramData account")
        raise InstructionError("InvalidAccountData")
    if clock_slot == state[1]:
        log("Program was deployed in this block already")
        raise InstructionError("InvalidArgument")
    if state[2] is None:
        log("Program not upgradeable")
        raise InstructionError("Immutable")
    if state[2] != authority:
        log("Incorrect upgrade authority provided")
        raise InstructionError("IncorrectAuthority")
    if not ix.is_signer(6):
        log("Upgrade authority did not sign")
        raise InstructionError("MissingRequiredSignature")

    elf = bytes(ix.borrow(2).data[BUFFER_METADATA_SIZE:])
    deploy_program(ic, new_program_id, elf)

    programdata, buffer = ix.borrow_together(0, 2)
    set_state(programdata, ("ProgramData", clock_slot, authority))
    programdata.can_data_be_changed()
    end = PROGRAMDATA_METADATA_SIZE + buffer_data_len
    programdata.data[PROGRAMDATA_METADATA_SIZE:end] = elf
    programdata.data[end:] = bytes(len(programdata.data) - end)

    programdata, buffer, spill = ix.borrow_together(0, 2, 3)
    spill.checked_add_lamports(max(programdata.lamports + buffer_lamports - balance_required, 0))
    buffer.set_lamports(0)
    programdata.set_lamports(balance_required)
    buffer.set_data_length(BUFFER_METADATA_SIZE)
    log(f"Upgraded program {new_program_id}")


def _set_authority(ix: _Ix, checked: bool) -> None:
    log = ix.ic.log
    ix.check(3 if checked else 2)
    account = ix.borrow(0)
    present = ix.key(1)
    if checked:
        new = ix.key(2)
    else:
        new = ix.key(2) if len(ix.ctx.instruction_accounts) > 2 else None
    state = get_state(account.data)
    if state[0] == "Buffer":
        if not checked and new is None:
            log("Buffer authority is not optional")
            raise InstructionError("IncorrectAuthority")
        if state[1] is None:
            log("Buffer is immutable")
            raise InstructionError("Immutable")
        if state[1] != present:
            log("Incorrect buffer authority provided")
            raise InstructionError("IncorrectAuthority")
        if not ix.is_signer(1):
            log("Buffer authority did not sign")
            raise InstructionError("MissingRequiredSignature")
        if checked and not ix.is_signer(2):
            log("New authority did not sign")
            raise InstructionError("MissingRequiredSignature")
        set_state(account, ("Buffer", new))
    elif state[0] == "ProgramData":
        if state[2] is None:
            log("Program not upgradeable")
            raise InstructionError("Immutable")
        if state[2] != present:
            log("Incorrect upgrade authority provided")
            raise InstructionError("IncorrectAuthority")
        if not ix.is_signer(1):
            log("Upgrade authority did not sign")
            raise InstructionError("MissingRequiredSignature")
        if checked and not ix.is_signer(2):
            log("New authority did not sign")
            raise InstructionError("MissingRequiredSignature")
        set_state(account, ("ProgramData", state[1], new))
    else:
        log("Account does not support authorities")
        raise InstructionError("InvalidArgument")
    if checked:
        log(f"New authority {new}")
    else:
        log(f"New authority {'None' if new is None else f'Some({new})'}")


def _common_close(ix: _Ix, authority: Pubkey | None) -> None:
    log = ix.ic.log
    if authority is None:
        log("Account is immutable")
        raise InstructionError("Immutable")
    if authority != ix.key(2):
        log("Incorrect authority provided")
        raise InstructionError("IncorrectAuthority")
    if not ix.is_signer(2):
        log("Authority did not sign")
        raise InstructionError("MissingRequiredSignature")
    close, recipient = ix.borrow_together(0, 1)
    recipient.checked_add_lamports(close.lamports)
    close.set_lamports(0)
    set_state(close, ("Uninitialized",))


def _close(ix: _Ix) -> None:
    ic, log = ix.ic, ix.ic.log
    ix.check(2)
    if ix.index(0) == ix.index(1):
        log("Recipient is the same as the account being closed")
        raise InstructionError("InvalidArgument")
    close = ix.borrow(0)
    close_key = close.key
    state = get_state(close.data)
    close.set_data_length(UNINITIALIZED_SIZE)
    if state[0] == "Uninitialized":
        recipient = ix.borrow(1)
        recipient.checked_add_lamports(close.lamports)
        close.set_lamports(0)
        log(f"Closed Uninitialized {close_key}")
    elif state[0] == "Buffer":
        ix.check(3)
        _common_close(ix, state[1])
        log(f"Closed Buffer {close_key}")
    elif state[0] == "ProgramData":
        ix.check(4)
        program = ix.borrow(3)
        program_key = program.key
        if not program.is_writable:
            log("Program account is not writable")
            raise InstructionError("InvalidArgument")
        if program.owner != LOADER_ID:
            log("Program account not owned by loader")
            raise InstructionError("IncorrectProgramId")
        if ic.sysvars.clock().slot == state[1]:
            log("Program was deployed in this block already")
            raise InstructionError("InvalidArgument")
        pstate = get_state(program.data)
        if pstate[0] != "Program":
            log("Invalid Program account")
            raise InstructionError("InvalidArgument")
        if pstate[1] != close_key:
            log("ProgramData account does not match ProgramData account")
            raise InstructionError("InvalidArgument")
        _common_close(ix, state[2])
        _hide_until_next_slot(ic, program_key)
        log(f"Closed Program {program_key}")
    else:
        log("Account does not support closing")
        raise InstructionError("InvalidArgument")


def _extend(ix: _Ix, additional_bytes: int, check_authority: bool) -> None:
    ic, log = ix.ic, ix.ic.log
    payer_index = 4 if check_authority else 3
    if additional_bytes == 0:
        log("Additional bytes must be greater than 0")
        raise InstructionError("InvalidInstructionData")
    programdata = ix.borrow(0)
    programdata_key = programdata.key
    if programdata.owner != LOADER_ID:
        log("ProgramData owner is invalid")
        raise InstructionError("InvalidAccountOwner")
    if not programdata.is_writable:
        log("ProgramData is not writable")
        raise InstructionError("InvalidArgument")
    program = ix.borrow(1)
    if not program.is_writable:
        log("Program account is not writable")
        raise InstructionError("InvalidArgument")
    if program.owner != LOADER_ID:
        log("Program account not owned by loader")
        raise InstructionError("InvalidAccountOwner")
    program_key = program.key
    pstate = get_state(program.data)
    if pstate[0] != "Program":
        log("Invalid Program account")
        raise InstructionError("InvalidAccountData")
    if pstate[1] != programdata_key:
        log("Program account does not match ProgramData account")
        raise InstructionError("InvalidArgument")
    old_len = len(programdata.data)
    new_len = old_len + additional_bytes
    if new_len > MAX_PERMITTED_DATA_LENGTH:
        log(f"Extended ProgramData length of {new_len} bytes exceeds max account data length of "
            f"{MAX_PERMITTED_DATA_LENGTH} bytes")
        raise InstructionError("InvalidRealloc")
    # Agave 4.1's minimum extension (its position among the checks is inferred from LiteSVM's
    # logs: before the slot check)
    if additional_bytes < MINIMUM_EXTEND_PROGRAM_BYTES and new_len != MAX_PERMITTED_DATA_LENGTH:
        log(f"ExtendProgram requires a minimum of {MINIMUM_EXTEND_PROGRAM_BYTES} additional bytes or to extend "
            f"to maximum size, but only {additional_bytes} were requested")
        raise InstructionError("InvalidArgument")
    clock_slot = ic.sysvars.clock().slot
    state = get_state(programdata.data)
    if state[0] != "ProgramData":
        log("ProgramData state is invalid")
        raise InstructionError("InvalidAccountData")
    if clock_slot == state[1]:
        log("Program was extended in this block already")
        raise InstructionError("InvalidArgument")
    authority = state[2]
    if authority is None:
        log("Cannot extend ProgramData accounts that are not upgradeable")
        raise InstructionError("Immutable")
    if check_authority:
        if authority != ix.key(2):
            log("Incorrect upgrade authority provided")
            raise InstructionError("IncorrectAuthority")
        if not ix.is_signer(2):
            log("Upgrade authority did not sign")
            raise InstructionError("MissingRequiredSignature")
    required = max(ic.sysvars.minimum_balance(new_len), 1) - programdata.lamports
    if required > 0:
        payer_key = ix.key(payer_index)
        ix.native_invoke(SYSTEM_PROGRAM_ID, [(payer_key, True, True), (programdata_key, False, True)],
                         struct.pack("<IQ", 2, required), [])
    programdata = ix.borrow(0)
    programdata.set_data_length(new_len)
    deploy_program(ic, program_key, bytes(programdata.data[PROGRAMDATA_METADATA_SIZE:]))
    set_state(ix.borrow(0), ("ProgramData", clock_slot, authority))
    log(f"Extended ProgramData account by {additional_bytes} bytes")


def process_instruction(ic) -> None:
    """The loader's management entrypoint (its units are charged by the runtime first)."""
    ix = _Ix(ic)
    name, f = decode_instruction(ix.ctx.data)
    log = ic.log
    if name == "InitializeBuffer":
        ix.check(2)
        buffer = ix.borrow(0)
        if get_state(buffer.data) != ("Uninitialized",):
            log("Buffer account already initialized")
            raise InstructionError("AccountAlreadyInitialized")
        set_state(buffer, ("Buffer", ix.key(1)))
    elif name == "Write":
        ix.check(2)
        state = get_state(ix.borrow(0).data)
        if state[0] != "Buffer":
            log("Invalid Buffer account")
            raise InstructionError("InvalidAccountData")
        if state[1] is None:
            log("Buffer is immutable")
            raise InstructionError("Immutable")
        if state[1] != ix.key(1):
            log("Incorrect buffer authority provided")
            raise InstructionError("IncorrectAuthority")
        if not ix.is_signer(1):
            log("Buffer authority did not sign")
            raise InstructionError("MissingRequiredSignature")
        _write(ix, f["offset"], f["bytes"])
    elif name == "DeployWithMaxDataLen":
        _deploy(ix, f["max_data_len"])
    elif name == "Upgrade":
        _upgrade(ix)
    elif name == "SetAuthority":
        _set_authority(ix, checked=False)
    elif name == "SetAuthorityChecked":
        if not ENABLE_SET_AUTHORITY_CHECKED:
            raise InstructionError("InvalidInstructionData")
        _set_authority(ix, checked=True)
    elif name == "Close":
        _close(ix)
    elif name == "ExtendProgram":
        if ENABLE_EXTEND_PROGRAM_CHECKED:
            log("ExtendProgram was superseded by ExtendProgramChecked")
            raise InstructionError("InvalidInstructionData")
        _extend(ix, f["additional_bytes"], False)
    elif name == "ExtendProgramChecked":
        if not ENABLE_EXTEND_PROGRAM_CHECKED:
            raise InstructionError("InvalidInstructionData")
        _extend(ix, f["additional_bytes"], True)
    else:  # Migrate: needs loader-v4
        raise InstructionError("InvalidInstructionData")


UPGRADEABLE_LOADER = BuiltinProgram("bpf_loader_upgradeable", process_instruction, UPGRADEABLE_LOADER_COMPUTE_UNITS)

ENTRY = {LOADER_ID: UPGRADEABLE_LOADER}  # what default_builtins() registers
