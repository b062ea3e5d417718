"""Cross-program invocation: `sol_invoke_signed_c` and `sol_invoke_signed_rust` as Agave 4.1 runs
them (program-runtime/src/cpi.rs, mainnet feature set: no syscall_parameter_address_restrictions,
virtual_address_space_adjustments or account_data_direct_mapping).

One CPI, in Agave's order (each step's failure is the syscall's error):

1. consume `invoke_units` (946);
2. translate the instruction (C `SolInstruction` 40 bytes / `SolAccountMeta` 16 bytes, or Rust
   `StableInstruction` 80 bytes / `AccountMeta` 34 bytes), check its size (≤ 255 accounts,
   ≤ 10 KiB data), consume data_len/250 + (n_metas·34)/250, reject flag bytes > 1;
3. derive the PDA signers from the *caller's* program id (≤ 16 signers of ≤ 16 seeds);
4. refuse loaders, upgradeable-loader instructions other than Upgrade/SetAuthority(Checked)/Close,
   and precompiles ("Program {id} not supported by inner instructions");
5. build the callee's instruction accounts (duplicates merged) and check privileges against the
   caller: "{key}'s writable privilege escalated" / "{key}'s signer privilege escalated" →
   PrivilegeEscalation; unknown accounts or a program outside the caller's accounts → MissingAccount;
6. translate the account infos (C `SolAccountInfo` 56 bytes, Rust `AccountInfo` 48 bytes with its
   `Rc<RefCell<..>>` boxes holding the value at +24), consume (n_infos·80)/250, then per callee
   account: executable → its data_len/250; otherwise its AccountInfo (data_len/250) — and copy the
   caller's lamports, data (and length) and owner from that AccountInfo into the account, with the
   runtime's checks (the caller is the "current program" for them);
7. run the callee through `InvokeContext.process_instruction` (reentrancy only as direct
   self-recursion, an unbalanced sync fails the push, depth and trace limits), so its logs and
   units are those of any instruction;
8. write each writable account back into the caller's memory: lamports and owner through the
   AccountInfo pointers; a changed data length into the AccountInfo and the serialized length
   field (growth beyond the original length + 10 KiB → "Account data size realloc limited to 10240
   in inner instructions" and InvalidRealloc), then the data.

An `InstructionError` is raised to the VM as `SyscallError(text, kind)` so the caller fails with
that error; other failures ("Unaligned pointer", access violations, "Too many signers", ...) are
plain syscall errors (ProgramFailedToComplete). Syscall errors never drain the meter.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from solders.pubkey import Pubkey

from ..syscalls.registry import Syscall
from ..vm.errors import AccessViolation, StackAccessViolation, SyscallError
from .accounts import (
    BPF_LOADER_DEPRECATED_ID,
    BPF_LOADER_ID,
    BPF_LOADER_UPGRADEABLE_ID,
    MAX_PERMITTED_DATA_INCREASE,
    NATIVE_LOADER_ID,
)
from .errors import InstructionError
from .transaction_context import InstructionAccount, InstructionContext

INVOKE_UNITS = 946  # SIMD-0339 (1000 before)
CPI_BYTES_PER_UNIT = 250
ACCOUNT_META_SIZE = 34  # size_of::<AccountMeta>(), the unit of the metas charge for both ABIs
ACCOUNT_INFO_BYTE_SIZE = 80  # SIMD-0339: key, owner, lamports, data length
MAX_ACCOUNTS_PER_INSTRUCTION = 255
MAX_INSTRUCTION_DATA_LEN = 10 * 1024
MAX_CPI_ACCOUNT_INFOS = 255
MAX_SIGNERS = 16
MAX_SEEDS = 16
MAX_SEED_LEN = 32
PDA_MARKER = b"ProgramDerivedAddress"
ISIZE_MAX = (1 << 63) - 1
U64_MAX = (1 << 64) - 1

PRECOMPILES = {
    Pubkey.from_string("Ed25519SigVerify111111111111111111111111111"),
    Pubkey.from_string("KeccakSecp256k11111111111111111111111111111"),
    Pubkey.from_string("Secp256r1SigVerify1111111111111111111111111"),
}
# loader-v3 instructions a program may invoke: Upgrade 3, SetAuthority 4, Close 5, SetAuthorityChecked 7
UPGRADEABLE_CPI_ALLOWED = {3, 4, 5, 7}

_U64 = struct.Struct("<Q")


# --- guest memory, as Agave's translate_type / translate_slice ---------------------------------
def _translate(vm, addr: int, size: int, align: int, check_aligned: bool, store: bool = False) -> tuple:
    """(host buffer, offset) of [addr, addr+size): an access violation or "Unaligned pointer"."""
    try:
        buf, off = vm.memory.translate(addr & U64_MAX, size, store)
    except (AccessViolation, StackAccessViolation) as err:
        raise SyscallError(str(err)) from None
    if check_aligned and addr % align:
        raise SyscallError("Unaligned pointer")
    return buf, off


def _read(vm, addr: int, size: int, align: int, check_aligned: bool, store: bool = False) -> bytes:
    buf, off = _translate(vm, addr, size, align, check_aligned, store)
    return bytes(buf[off:off + size])


def _read_slice(vm, addr: int, length: int, elem_size: int, align: int, check_aligned: bool,
                store: bool = False) -> bytes:
    """A slice of `length` elements; zero-length slices are not translated."""
    if length == 0:
        return b""
    total = min(length * elem_size, U64_MAX)
    if total > ISIZE_MAX:
        raise SyscallError("InvalidLength")
    return _read(vm, addr, total, align, check_aligned, store)


def _write(vm, addr: int, data: bytes) -> None:
    """Write to an address translated (for a store) earlier in this CPI."""
    if data:
        buf, off = _translate(vm, addr, len(data), 1, False, True)
        buf[off:off + len(data)] = data


def _u64(b: bytes, off: int = 0) -> int:
    return _U64.unpack_from(b, off)[0]


def _consume(ic, amount: int) -> None:
    ic.consume_checked(amount)  # SyscallError("Computational budget exceeded", ...) when short


# --- program addresses -------------------------------------------------------------------------
def create_program_address(seeds: list[bytes], program_id: Pubkey) -> Pubkey:
    """Pubkey::create_program_address; failures are CpiError::BadSeeds texts."""
    if len(seeds) > MAX_SEEDS or any(len(s) > MAX_SEED_LEN for s in seeds):
        raise SyscallError("Could not create program address with signer seeds: "
                           "Length of the seed is too long for address generation")
    h = hashlib.sha256()
    for s in seeds:
        h.update(s)
    h.update(bytes(program_id))
    h.update(PDA_MARKER)
    key = Pubkey.from_bytes(h.digest())
    if key.is_on_curve():
        raise SyscallError("Could not create program address with signer seeds: "
                           "Provided seeds do not result in a valid address")
    return key


# --- the two ABIs ------------------------------------------------------------------------------
@dataclass
class CpiInstruction:
    program_id: Pubkey
    accounts: list[tuple[Pubkey, bool, bool]]  # (pubkey, is_signer, is_writable)
    data: bytes


@dataclass
class CallerAccount:
    """Where the caller keeps one account: the vaddrs behind its AccountInfo."""

    lamports_addr: int
    owner_addr: int
    original_data_len: int
    data_addr: int  # vm_data_addr
    data_len: int  # length of the serialized data slice
    len_addr: int  # ref_to_len_in_vm: the AccountInfo's data length field

    def lamports(self, vm) -> int:
        return _u64(_read(vm, self.lamports_addr, 8, 1, False))

    def owner(self, vm) -> Pubkey:
        return Pubkey.from_bytes(_read(vm, self.owner_addr, 32, 1, False))

    def data(self, vm) -> bytes:
        return _read_slice(vm, self.data_addr, self.data_len, 1, 1, False)


def _check_instruction_size(num_accounts: int, data_len: int) -> None:
    if num_accounts > MAX_ACCOUNTS_PER_INSTRUCTION:
        raise SyscallError(f"Invoked an instruction with too many accounts "
                           f"({num_accounts} > {MAX_ACCOUNTS_PER_INSTRUCTION})")
    if data_len > MAX_INSTRUCTION_DATA_LEN:
        raise SyscallError(f"Invoked an instruction with data that is too large "
                           f"({data_len} > {MAX_INSTRUCTION_DATA_LEN})")


def _charge_instruction(ic, data_len: int, n_metas: int) -> None:
    _consume(ic, data_len // CPI_BYTES_PER_UNIT + (n_metas * ACCOUNT_META_SIZE) // CPI_BYTES_PER_UNIT)


def _check_flags(is_signer: int, is_writable: int) -> None:
    if is_signer > 1 or is_writable > 1:
        raise InstructionError("InvalidArgument")


def _translate_signers(vm, program_id: Pubkey, addr: int, length: int, check_aligned: bool) -> list[Pubkey]:
    """PDA signers from the seed arrays, derived from the caller's program id."""
    if length == 0:
        return []
    raw = _read_slice(vm, addr, length, 16, 8, check_aligned)
    if length > MAX_SIGNERS:
        raise SyscallError("Too many signers")
    signers = []
    for i in range(length):
        seeds_addr, n_seeds = struct.unpack_from("<QQ", raw, 16 * i)
        seeds_raw = _read_slice(vm, seeds_addr, n_seeds, 16, 8, check_aligned)
        if n_seeds > MAX_SEEDS:
            raise InstructionError("MaxSeedLengthExceeded")
        seeds = []
        for j in range(n_seeds):
            s_addr, s_len = struct.unpack_from("<QQ", seeds_raw, 16 * j)
            seeds.append(_read_slice(vm, s_addr, s_len, 1, 1, check_aligned))
        signers.append(create_program_address(seeds, program_id))
    return signers


def _info_key_addr(info: bytes) -> int:
    return _u64(info, 0)


class CAbi:
    """SolInstruction / SolAccountMeta / SolAccountInfo / SolSignerSeeds(C)."""

    INFO_SIZE = 56

    @staticmethod
    def translate_instruction(vm, ic, addr: int, check_aligned: bool) -> CpiInstruction:
        raw = _read(vm, addr, 40, 8, check_aligned)
        pid_addr, metas_addr, metas_len, data_addr, data_len = struct.unpack("<5Q", raw)
        program_id = Pubkey.from_bytes(_read(vm, pid_addr, 32, 1, check_aligned))
        metas = _read_slice(vm, metas_addr, metas_len, 16, 8, check_aligned)
        data = _read_slice(vm, data_addr, data_len, 1, 1, check_aligned)
        _check_instruction_size(metas_len, len(data))
        _charge_instruction(ic, len(data), metas_len)
        accounts = []
        for i in range(metas_len):
            pubkey_addr, is_writable, is_signer = struct.unpack_from("<QBB", metas, 16 * i)
            _check_flags(is_signer, is_writable)
            pubkey = Pubkey.from_bytes(_read(vm, pubkey_addr, 32, 1, check_aligned))
            accounts.append((pubkey, bool(is_signer), bool(is_writable)))
        return CpiInstruction(program_id, accounts, data)

    # Both ABIs pass signer seeds as &[&[&[u8]]] ({addr, len} pairs) and the key pointer first.
    translate_signers = staticmethod(_translate_signers)
    info_key_addr = staticmethod(_info_key_addr)

    @staticmethod
    def caller_account(vm, ic, check_aligned: bool, info_addr: int, info: bytes,
                       original_data_len: int) -> CallerAccount:
        _key, lamports_addr, data_len, data_addr, owner_addr = struct.unpack_from("<5Q", info)
        _translate(vm, lamports_addr, 8, 8, check_aligned, True)
        _translate(vm, owner_addr, 32, 1, check_aligned, True)
        _consume(ic, data_len // CPI_BYTES_PER_UNIT)
        len_addr = (info_addr + 16) & U64_MAX  # &account_info.data_len, in the VM
        _translate(vm, len_addr, 8, 8, False, True)
        _read_slice(vm, data_addr, data_len, 1, 1, False, True)
        return CallerAccount(lamports_addr, owner_addr, original_data_len, data_addr, data_len, len_addr)


class RustAbi:
    """StableInstruction / AccountMeta / AccountInfo (Rc<RefCell<..>> boxes) / &[&[&[u8]]]."""

    INFO_SIZE = 48
    RC_VALUE_OFFSET = 24  # RcBox { strong, weak, RefCell { borrow, value } }

    @staticmethod
    def translate_instruction(vm, ic, addr: int, check_aligned: bool) -> CpiInstruction:
        raw = _read(vm, addr, 80, 8, check_aligned)
        metas_ptr, _metas_cap, metas_len, data_ptr, _data_cap, data_len = struct.unpack_from("<6Q", raw)
        program_id = Pubkey.from_bytes(raw[48:80])
        metas = _read_slice(vm, metas_ptr, metas_len, ACCOUNT_META_SIZE, 1, check_aligned)
        data = _read_slice(vm, data_ptr, data_len, 1, 1, check_aligned)
        _check_instruction_size(metas_len, len(data))
        _charge_instruction(ic, len(data), metas_len)
        accounts = []
        for i in range(metas_len):
            m = metas[ACCOUNT_META_SIZE * i: ACCOUNT_META_SIZE * (i + 1)]
            _check_flags(m[32], m[33])
            accounts.append((Pubkey.from_bytes(m[:32]), bool(m[32]), bool(m[33])))
        return CpiInstruction(program_id, accounts, data)

    # Both ABIs pass signer seeds as &[&[&[u8]]] ({addr, len} pairs) and the key pointer first.
    translate_signers = staticmethod(_translate_signers)
    info_key_addr = staticmethod(_info_key_addr)

    @classmethod
    def caller_account(cls, vm, ic, check_aligned: bool, info_addr: int, info: bytes,
                       original_data_len: int) -> CallerAccount:
        lamports_rc, data_rc, owner_addr = _u64(info, 8), _u64(info, 16), _u64(info, 24)
        # double translation out of the RefCells
        lamports_addr = _u64(_read(vm, lamports_rc + cls.RC_VALUE_OFFSET, 8, 8, check_aligned))
        _translate(vm, lamports_addr, 8, 8, check_aligned, True)
        _translate(vm, owner_addr, 32, 1, check_aligned, True)
        fat = _read(vm, data_rc + cls.RC_VALUE_OFFSET, 16, 8, check_aligned)
        data_addr, data_len = _u64(fat, 0), _u64(fat, 8)
        _consume(ic, data_len // CPI_BYTES_PER_UNIT)
        len_addr = (data_rc + cls.RC_VALUE_OFFSET + 8) & U64_MAX
        _translate(vm, len_addr, 8, 8, False, True)
        _read_slice(vm, data_addr, data_len, 1, 1, False, True)
        return CallerAccount(lamports_addr, owner_addr, original_data_len, data_addr, data_len, len_addr)


# --- the CPI itself ----------------------------------------------------------------------------
def _check_authorized_program(program_id: Pubkey, data: bytes) -> None:
    if program_id in (NATIVE_LOADER_ID, BPF_LOADER_ID, BPF_LOADER_DEPRECATED_ID) \
            or (program_id == BPF_LOADER_UPGRADEABLE_ID and not (data and data[0] in UPGRADEABLE_CPI_ALLOWED)) \
            or program_id in PRECOMPILES:
        raise SyscallError(f"Program {program_id} not supported by inner instructions")


def _index_in_instruction(ctx: InstructionContext, index_in_transaction: int) -> int:
    """First position of a transaction account in an instruction (MissingAccount if absent)."""
    for i, ia in enumerate(ctx.instruction_accounts):
        if ia.index_in_transaction == index_in_transaction:
            return i
    raise InstructionError("MissingAccount")


def prepare_next_cpi_instruction(ic, caller: InstructionContext, ix: CpiInstruction,
                                 signers: list[Pubkey]) -> tuple[int, list[InstructionAccount]]:
    """Agave's prepare_next_cpi_instruction: (program index in transaction, callee accounts)."""
    tx = ic.tx
    first_pos: dict[int, int] = {}
    accts: list[list] = []  # [index_in_transaction, is_signer, is_writable]
    for pubkey, is_signer, is_writable in ix.accounts:
        idx = tx.index_of(pubkey)
        if idx is None:
            ic.log(f"Instruction references an unknown account {pubkey}")
            raise InstructionError("MissingAccount")
        pos = first_pos.get(idx)
        if pos is not None:
            first = accts[pos]
            first[1] = first[1] or is_signer
            first[2] = first[2] or is_writable
            accts.append([idx, first[1], first[2]])
        else:
            first_pos[idx] = len(accts)
            accts.append([idx, is_signer, is_writable])
    in_caller: list[int] = []
    for i, a in enumerate(accts):
        pos = first_pos[a[0]]
        if i != pos:
            ref = accts[pos]
            a[1] = a[1] or ref[1]
            a[2] = a[2] or ref[2]
            in_caller.append(in_caller[pos])
            continue
        index_in_caller = _index_in_instruction(caller, a[0])
        in_caller.append(index_in_caller)
        key = ix.accounts[i][0]
        caller_ia = caller.instruction_accounts[index_in_caller]
        if a[2] and not caller_ia.is_writable:
            ic.log(f"{key}'s writable privilege escalated")
            raise InstructionError("PrivilegeEscalation")
        if a[1] and not (caller_ia.is_signer or key in signers):
            ic.log(f"{key}'s signer privilege escalated")
            raise InstructionError("PrivilegeEscalation")
    program_index = tx.index_of(ix.program_id)
    try:
        if program_index is None:
            raise InstructionError("MissingAccount")
        _index_in_instruction(caller, program_index)
    except InstructionError:
        ic.log(f"Unknown program {ix.program_id}")
        raise
    accounts = [InstructionAccount(a[0], in_caller[i], first_pos[a[0]], bool(a[1]), bool(a[2]))
                for i, a in enumerate(accts)]
    return program_index, accounts


@dataclass
class TranslatedAccount:
    index_in_caller: int
    caller: CallerAccount
    update_caller_account_info: bool


def _original_lengths(ic, caller: InstructionContext) -> list[int]:
    """The caller's account data lengths when it was serialized (Agave's accounts_metadata)."""
    serialized = ic.serialized_inputs[-1]
    lens = list(serialized.pre_lens)
    for i, n in enumerate(lens):
        if n is None:
            lens[i] = lens[caller.instruction_accounts[i].index_in_callee]
    return lens


def _update_callee_account(vm, caller_account: CallerAccount, callee) -> int:
    """Copy the caller's view of an account into the transaction; returns the lamport change."""
    delta = 0
    lamports = caller_account.lamports(vm)
    if callee.lamports != lamports:
        delta = lamports - callee.lamports
        callee.set_lamports(lamports)
    data = caller_account.data(vm)
    try:
        callee.can_data_be_resized(len(data))  # includes can_data_be_changed, as in Agave 4.1
    except InstructionError:
        if bytes(callee.data) != data:
            raise
    else:
        callee.set_data_from_slice(data)
    owner = caller_account.owner(vm)
    if callee.owner != owner:
        callee.set_owner(owner)
    return delta


def _update_caller_account(vm, ic, check_aligned: bool, ca: CallerAccount, callee) -> None:
    """Write the callee's changes to one account back into the caller's memory."""
    _write(vm, ca.lamports_addr, _U64.pack(callee.lamports))
    _write(vm, ca.owner_addr, bytes(callee.owner))
    prev_len = _u64(_read(vm, ca.len_addr, 8, 1, False))
    post_len = len(callee.data)
    reserved = ca.original_data_len + MAX_PERMITTED_DATA_INCREASE
    if post_len > reserved and prev_len != post_len:
        ic.log(f"Account data size realloc limited to {reserved - ca.original_data_len} in inner instructions")
        raise InstructionError("InvalidRealloc")
    if prev_len != post_len:
        if post_len < prev_len:
            if post_len > ca.data_len:
                raise InstructionError("AccountDataTooSmall")
            _write(vm, ca.data_addr + post_len, bytes(ca.data_len - post_len))
        _read_slice(vm, ca.data_addr, post_len, 1, 1, False, True)  # re-translate at the new length
        ca.data_len = post_len
        _write(vm, ca.len_addr, _U64.pack(post_len))
        serialized_len_addr = max(ca.data_addr - 8, 0)  # the length field before the serialized data
        _translate(vm, serialized_len_addr, 8, 8, check_aligned, True)
        _write(vm, serialized_len_addr, _U64.pack(post_len))
    _write(vm, ca.data_addr, bytes(callee.data[:post_len]))


def _translate_accounts(vm, ic, abi, caller: InstructionContext, callee_accounts: list[InstructionAccount],
                        infos_addr: int, infos_len: int, check_aligned: bool) -> tuple[list[TranslatedAccount], int]:
    raw = _read_slice(vm, infos_addr, infos_len, abi.INFO_SIZE, 8, check_aligned)
    if infos_len > MAX_CPI_ACCOUNT_INFOS:
        raise SyscallError(f"Invoked an instruction with too many account info's "
                           f"({infos_len} > {MAX_CPI_ACCOUNT_INFOS})")
    _consume(ic, infos_len * ACCOUNT_INFO_BYTE_SIZE // CPI_BYTES_PER_UNIT)
    infos = [raw[abi.INFO_SIZE * i: abi.INFO_SIZE * (i + 1)] for i in range(infos_len)]
    keys = [Pubkey.from_bytes(_read(vm, abi.info_key_addr(info), 32, 1, check_aligned)) for info in infos]

    tx = ic.tx
    original_lens = None
    translated: list[TranslatedAccount] = []
    lamports_delta = 0
    for i, ia in enumerate(callee_accounts):
        if ia.index_in_callee != i:
            continue  # duplicate
        callee = tx.borrow(caller, ia.index_in_caller)
        key = tx.keys[ia.index_in_transaction]
        if callee.executable:
            _consume(ic, len(callee.data) // CPI_BYTES_PER_UNIT)
            continue
        try:
            pos = keys.index(key)
        except ValueError:
            ic.log(f"Instruction references an unknown account {key}")
            raise InstructionError("MissingAccount") from None
        if original_lens is None:
            original_lens = _original_lengths(ic, caller)
        ca = abi.caller_account(vm, ic, check_aligned, infos_addr + pos * abi.INFO_SIZE, infos[pos],
                                original_lens[ia.index_in_caller])
        lamports_delta += _update_callee_account(vm, ca, callee)
        translated.append(TranslatedAccount(ia.index_in_caller, ca, ia.is_writable))
    return translated, lamports_delta


def _check_reentrancy(tx, program_id: Pubkey) -> None:
    """InvokeContext::push: a program on the stack may only be invoked by itself."""
    if not tx.stack:
        return
    contains = any(tx.program_id(c) == program_id for c in tx.stack)
    if contains and tx.program_id(tx.stack[-1]) != program_id:
        raise InstructionError("ReentrancyNotAllowed")


def cpi_common(vm, abi, instruction_addr: int, infos_addr: int, infos_len: int, seeds_addr: int,
               seeds_len: int) -> int:
    ic = vm.context
    try:
        _consume(ic, INVOKE_UNITS)
        tx = ic.tx
        caller = tx.current
        caller_program = tx.accounts[caller.program_id_index]
        check_aligned = caller_program.owner != BPF_LOADER_DEPRECATED_ID
        ix = abi.translate_instruction(vm, ic, instruction_addr, check_aligned)
        signers = abi.translate_signers(vm, tx.program_id(caller), seeds_addr, seeds_len, check_aligned)
        _check_authorized_program(ix.program_id, ix.data)
        program_index, callee_accounts = prepare_next_cpi_instruction(ic, caller, ix, signers)
        translated, lamports_delta = _translate_accounts(vm, ic, abi, caller, callee_accounts, infos_addr,
                                                         infos_len, check_aligned)
        _check_reentrancy(tx, ix.program_id)
        if lamports_delta != 0:  # TransactionContext::push checks the transaction-wide delta
            raise InstructionError("UnbalancedInstruction")
        ic.process_instruction(program_index, callee_accounts, ix.data)
        for t in translated:
            if t.update_caller_account_info:
                _update_caller_account(vm, ic, check_aligned, t.caller, tx.borrow(caller, t.index_in_caller))
    except InstructionError as err:
        raise SyscallError(err.display(), err.kind) from None
    return 0


def sol_invoke_signed_c(vm, instruction_addr, infos_addr, infos_len, seeds_addr, seeds_len) -> int:
    return cpi_common(vm, CAbi, instruction_addr, infos_addr, infos_len, seeds_addr, seeds_len)


def sol_invoke_signed_rust(vm, instruction_addr, infos_addr, infos_len, seeds_addr, seeds_len) -> int:
    return cpi_common(vm, RustAbi, instruction_addr, infos_addr, infos_len, seeds_addr, seeds_len)


CPI_SYSCALLS: list[Syscall] = [
    Syscall("sol_invoke_signed_c", sol_invoke_signed_c),
    Syscall("sol_invoke_signed_rust", sol_invoke_signed_rust),
]
