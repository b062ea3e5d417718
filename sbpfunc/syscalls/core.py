"""Core Solana syscalls with Agave's costs and messages, and `runtime_registry()`.

Handlers are `fn(vm, r1, r2, r3, r4, r5) -> r0`. They reach the runtime through `vm.context`,
which provides `consume_checked(units)`, `get_remaining()` and `log(line)` (Agave's
InvokeContext does the same), plus `tx` (the TransactionContext: instruction stack and trace,
keys, return data), `sysvars` and `heap_allocators`; guest memory is `vm.memory`. Failures raise
`SyscallError` with Agave's text; the runtime logs it and does not drain the meter.

This module: logging, sol_log_data, return data, stack height, processed sibling instructions,
epoch stake, remaining compute units, and the registry. Elsewhere in this package: memory.py
(mem ops, sol_alloc_free_), crypto.py (hashes, curve25519, secp256k1), pda.py, sysvar.py,
translate.py (Agave's pointer translation and its error texts) and features.py (FeatureSet).
"""

from __future__ import annotations

import struct
from typing import Iterable

from ..vm.errors import AccessViolation, StackAccessViolation, SyscallError
from ..vm.isa import M64
from .features import FeatureSet
from .registry import Syscall, SyscallRegistry
from .translate import (
    check_aligned,
    consume,
    read_bytes,
    read_vm_slices,
    translate_mut,
    translate_type,
)

SYSCALL_BASE_COST = 100
LOG_64_UNITS = 100
LOG_PUBKEY_UNITS = 100


def read_guest(vm, addr: int, length: int) -> bytes:
    """Bytes from guest memory; an access violation becomes the syscall's error (no CU drain)."""
    try:
        return vm.memory.read(addr, length)
    except (AccessViolation, StackAccessViolation) as err:
        raise SyscallError(str(err)) from None


def write_guest(vm, addr: int, data: bytes) -> None:
    try:
        vm.memory.write(addr, data)
    except (AccessViolation, StackAccessViolation) as err:
        raise SyscallError(str(err)) from None


def _utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        # Rust's Utf8Error Display, as Agave logs it.
        # Agave's SyscallError::InvalidString(Utf8Error, Vec<u8>) prints "{err}: {bytes:?}".
        raw = "[" + ", ".join(str(b) for b in data) + "]"
        if e.reason == "unexpected end of data":
            raise SyscallError(f"incomplete utf-8 byte sequence from index {e.start}: {raw}") from None
        raise SyscallError(
            f"invalid utf-8 sequence of {e.end - e.start} bytes from index {e.start}: {raw}") from None


def sol_log_(vm, addr, length, _c, _d, _e) -> int:
    vm.context.consume_checked(max(SYSCALL_BASE_COST, length))
    vm.context.log("Program log: " + _utf8(read_guest(vm, addr, length)))
    return 0


def sol_log_64_(vm, a, b, c, d, e) -> int:
    vm.context.consume_checked(LOG_64_UNITS)
    vm.context.log(f"Program log: {a:#x}, {b:#x}, {c:#x}, {d:#x}, {e:#x}")
    return 0


def sol_log_compute_units_(vm, _a, _b, _c, _d, _e) -> int:
    vm.context.consume_checked(SYSCALL_BASE_COST)
    vm.context.log(f"Program consumption: {vm.context.get_remaining()} units remaining")
    return 0


def sol_log_pubkey(vm, addr, _b, _c, _d, _e) -> int:
    from solders.pubkey import Pubkey

    vm.context.consume_checked(LOG_PUBKEY_UNITS)
    vm.context.log("Program log: " + str(Pubkey.from_bytes(read_guest(vm, addr, 32))))
    return 0


def abort(vm, _a, _b, _c, _d, _e) -> int:
    raise SyscallError("SBF program panicked")


def sol_panic_(vm, file_addr, length, line, column, _e) -> int:
    vm.context.consume_checked(length)
    file = _utf8(read_guest(vm, file_addr, length))
    raise SyscallError(f"SBF program Panicked in {file} at {line & M64}:{column & M64}")


LOGGING_SYSCALLS = [
    Syscall("abort", abort),
    Syscall("sol_panic_", sol_panic_),
    Syscall("sol_log_", sol_log_),
    Syscall("sol_log_64_", sol_log_64_),
    Syscall("sol_log_compute_units_", sol_log_compute_units_),
    Syscall("sol_log_pubkey", sol_log_pubkey),
]


def logging_registry() -> SyscallRegistry:
    """The logging syscalls only: what `sbpfunc run` offers a bare program."""
    return SyscallRegistry(LOGGING_SYSCALLS)


# --- sol_log_data -------------------------------------------------------------------------------
def sol_log_data(vm, addr, length, _c, _d, _e) -> int:
    """100, then 100 per field, then the total field length; logs "Program data: <b64> ..."."""
    import base64

    vm.context.consume_checked(SYSCALL_BASE_COST)
    aligned = check_aligned(vm)
    fields = read_vm_slices(vm, addr, length, aligned)
    consume(vm, SYSCALL_BASE_COST * len(fields))
    consume(vm, min(sum(n for _, n in fields), M64))
    data = [read_bytes(vm, ptr, n, aligned) for ptr, n in fields]
    vm.context.log("Program data: " + " ".join(base64.b64encode(d).decode() for d in data))
    return 0


# --- return data --------------------------------------------------------------------------------
MAX_RETURN_DATA = 1024
CPI_BYTES_PER_UNIT = 250


def sol_set_return_data(vm, addr, length, _c, _d, _e) -> int:
    consume(vm, length // CPI_BYTES_PER_UNIT + SYSCALL_BASE_COST)
    if length > MAX_RETURN_DATA:
        raise SyscallError(f"Return data too large ({length} > {MAX_RETURN_DATA})")
    data = b"" if length == 0 else read_bytes(vm, addr, length, check_aligned(vm))
    tx = vm.context.tx
    tx.return_data = (tx.keys[tx.current.program_id_index], data)
    return 0


def sol_get_return_data(vm, return_data_addr, length, program_id_addr, _d, _e) -> int:
    """Copies min(length, actual) bytes and the setter's program id; r0 = the actual length."""
    vm.context.consume_checked(SYSCALL_BASE_COST)
    program_id, data = vm.context.tx.return_data
    length = min(length, len(data))
    if length != 0:
        consume(vm, (length + 32) // CPI_BYTES_PER_UNIT)
        data_out, pid_out = translate_mut(vm, check_aligned(vm), [("slice", return_data_addr, length, 1, 1),
                                                                 ("type", program_id_addr, 32, 1)])
        data_out.write(bytes(data[:length]))
        pid_out.write(bytes(program_id))
    return len(data)


# --- instruction stack and meter --------------------------------------------------------------
def sol_get_stack_height(vm, _a, _b, _c, _d, _e) -> int:
    vm.context.consume_checked(SYSCALL_BASE_COST)
    return vm.context.tx.stack_height


def sol_remaining_compute_units(vm, _a, _b, _c, _d, _e) -> int:
    vm.context.consume_checked(SYSCALL_BASE_COST)
    return vm.context.get_remaining()


def sol_get_processed_sibling_instruction(vm, index, meta_addr, program_id_addr, data_addr, accounts_addr) -> int:
    """The `index`-th most recent instruction processed before this one at the same stack height
    and under the same caller. The caller passes {data_len, accounts_len} (u64s, 8-aligned) at
    meta_addr: when both match, program id, data and AccountMetas (34 bytes: key, is_signer,
    is_writable) are written; otherwise the real lengths are written back. r0 = 1 when found."""
    vm.context.consume_checked(SYSCALL_BASE_COST)
    tx = vm.context.tx
    height = tx.stack_height
    found = None
    reverse_index = 0
    for ictx in reversed(tx.trace):
        if ictx.stack_height < height:
            break
        if ictx.stack_height == height:
            if index + 1 == reverse_index:
                found = ictx
                break
            reverse_index += 1
    if found is None:
        return 0
    aligned = check_aligned(vm)
    (header,) = translate_mut(vm, aligned, [("type", meta_addr, 16, 8)])
    data_len, accounts_len = struct.unpack("<QQ", header.read())
    n_accounts = len(found.instruction_accounts)
    if data_len == len(found.data) and accounts_len == n_accounts:
        pid_out, data_out, accounts_out, _ = translate_mut(vm, aligned, [
            ("type", program_id_addr, 32, 1),
            ("slice", data_addr, data_len, 1, 1),
            ("slice", accounts_addr, accounts_len, 34, 1),
            ("type", meta_addr, 16, 8),
        ])
        pid_out.write(bytes(tx.keys[found.program_id_index]))
        data_out.write(bytes(found.data))
        accounts_out.write(b"".join(
            bytes(tx.keys[ia.index_in_transaction]) + bytes([ia.is_signer, ia.is_writable])
            for ia in found.instruction_accounts))
    else:
        header.write(struct.pack("<QQ", len(found.data), n_accounts))
    return 1


# --- epoch stake --------------------------------------------------------------------------------
def sol_get_epoch_stake(vm, var_addr, _b, _c, _d, _e) -> int:
    """SIMD-0133. Null: 100 units, r0 = total active stake. Otherwise 100 + 32/250 + 10 units and
    r0 = the stake delegated to the vote account at var_addr (0 when unknown). The stakes come
    from `vm.context.epoch_stakes` ({vote Pubkey: stake}) when the runtime provides it; LiteSVM
    has none, so both are 0 by default."""
    stakes = getattr(vm.context, "epoch_stakes", None) or {}
    if var_addr == 0:
        vm.context.consume_checked(SYSCALL_BASE_COST)
        return sum(stakes.values()) & M64
    consume(vm, SYSCALL_BASE_COST + 32 // CPI_BYTES_PER_UNIT + 10)
    from solders.pubkey import Pubkey

    vote = Pubkey.from_bytes(translate_type(vm, var_addr, 32, 1, check_aligned(vm)).read())
    return stakes.get(vote, 0) & M64


# --- registered but not implemented -------------------------------------------------------------
def not_implemented(name: str):
    """A handler for a syscall Agave registers but sbpfunc does not compute: programs importing
    it load, and a call fails with a clear error instead of "unsupported BPF instruction"."""

    def handler(vm, _a, _b, _c, _d, _e) -> int:
        raise SyscallError(f"{name} is not implemented by sbpfunc")

    handler.__name__ = name
    return handler


# --- the registry -------------------------------------------------------------------------------
def runtime_registry(feature_set: FeatureSet | None = None, *, extra: Iterable[Syscall] = ()) -> SyscallRegistry:
    """Every core syscall as Agave 4.1's `create_program_runtime_environment` registers it for
    execution under `feature_set` (default: LiteSVM's mainnet set), plus `extra` (e.g. CPI's
    sol_invoke_signed_c / sol_invoke_signed_rust). `sol_alloc_free_` is registered but not
    deployable, as in Agave (its deployment environment rejects broken ELFs and drops it)."""
    from functools import partial

    from . import crypto, memory, pda, sysvar

    fs = feature_set if feature_set is not None else FeatureSet()

    def gated(name, handler, *, features=False):
        return Syscall(name, partial(handler, features=fs) if features else handler)

    calls = list(LOGGING_SYSCALLS)
    calls += [
        Syscall("sol_create_program_address", pda.sol_create_program_address),
        Syscall("sol_try_find_program_address", pda.sol_try_find_program_address),
        Syscall("sol_sha256", crypto.sol_sha256),
        Syscall("sol_keccak256", crypto.sol_keccak256),
        Syscall("sol_secp256k1_recover", crypto.sol_secp256k1_recover),
    ]
    if fs.blake3_syscall_enabled:
        calls.append(Syscall("sol_blake3", crypto.sol_blake3))
    if fs.enable_sha512_syscall:
        calls.append(Syscall("sol_sha512", crypto.sol_sha512))
    if fs.curve25519_syscall_enabled:
        calls += [gated("sol_curve_validate_point", crypto.sol_curve_validate_point, features=True),
                  gated("sol_curve_group_op", crypto.sol_curve_group_op, features=True),
                  gated("sol_curve_multiscalar_mul", crypto.sol_curve_multiscalar_mul, features=True)]
    if fs.enable_bls12_381_syscall:
        calls += [Syscall("sol_curve_decompress", crypto.sol_curve_decompress),
                  Syscall("sol_curve_pairing_map", crypto.sol_curve_pairing_map)]
    calls += [gated("sol_get_clock_sysvar", sysvar.sol_get_clock_sysvar, features=True),
              gated("sol_get_epoch_schedule_sysvar", sysvar.sol_get_epoch_schedule_sysvar, features=True)]
    if not fs.disable_fees_sysvar:
        calls.append(gated("sol_get_fees_sysvar", sysvar.sol_get_fees_sysvar, features=True))
    calls.append(gated("sol_get_rent_sysvar", sysvar.sol_get_rent_sysvar, features=True))
    if fs.last_restart_slot_sysvar:
        calls.append(gated("sol_get_last_restart_slot", sysvar.sol_get_last_restart_slot, features=True))
    calls += [
        gated("sol_get_epoch_rewards_sysvar", sysvar.sol_get_epoch_rewards_sysvar, features=True),
        Syscall("sol_memcpy_", memory.sol_memcpy_),
        Syscall("sol_memmove_", memory.sol_memmove_),
        Syscall("sol_memset_", memory.sol_memset_),
        Syscall("sol_memcmp_", memory.sol_memcmp_),
        Syscall("sol_get_processed_sibling_instruction", sol_get_processed_sibling_instruction),
        Syscall("sol_get_stack_height", sol_get_stack_height),
        Syscall("sol_set_return_data", sol_set_return_data),
        Syscall("sol_get_return_data", sol_get_return_data),
        Syscall("sol_alloc_free_", memory.sol_alloc_free_, deployable=False),
    ]
    if fs.enable_alt_bn128_syscall:
        calls.append(Syscall("sol_alt_bn128_group_op", not_implemented("sol_alt_bn128_group_op")))
    if fs.enable_big_mod_exp_syscall:
        calls.append(Syscall("sol_big_mod_exp", not_implemented("sol_big_mod_exp")))
    if fs.enable_poseidon_syscall:
        calls.append(Syscall("sol_poseidon", not_implemented("sol_poseidon")))
    if fs.remaining_compute_units_syscall_enabled:
        calls.append(Syscall("sol_remaining_compute_units", sol_remaining_compute_units))
    if fs.enable_alt_bn128_compression_syscall:
        calls.append(Syscall("sol_alt_bn128_compression", not_implemented("sol_alt_bn128_compression")))
    if fs.get_sysvar_syscall_enabled:
        calls.append(gated("sol_get_sysvar", sysvar.sol_get_sysvar, features=True))
    if fs.enable_get_epoch_stake_syscall:
        calls.append(Syscall("sol_get_epoch_stake", sol_get_epoch_stake))
    calls.append(Syscall("sol_log_data", sol_log_data))
    calls += list(extra)
    return SyscallRegistry(calls)
