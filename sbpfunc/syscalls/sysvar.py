"""Sysvar syscalls as Agave 4.1 runs them.

The typed getters (sol_get_clock_sysvar, _rent_, _epoch_schedule_, _epoch_rewards_,
sol_get_last_restart_slot, sol_get_fees_sysvar) cost 100 + size_of::<T>() and write T's in-memory
(repr(C)) layout, padding included, to an address aligned for T:

    Clock 40 B (align 8), Rent 24 B (u64, f64, u8 + 7 padding), EpochSchedule 40 B (u64, u64,
    bool + 7 padding, u64, u64), EpochRewards 96 B (align 16: u64, u64, [32], u128, u64, u64,
    bool + 15 padding), LastRestartSlot 8 B, Fees 8 B.

Order (Agave's `get_sysvar`): charge; deprecated-loader programs fail with "Unaligned pointer";
with `syscall_parameter_address_restrictions`, a destination at or above the input region
(0x4_0000_0000) fails with "Invalid pointer"; the destination is checked for writing and
alignment; a sysvar missing from the cache is InstructionError::UnsupportedSysvar.

sol_get_sysvar(id, dst, offset, length) copies raw account bytes of clock, epoch schedule, epoch
rewards, rent, slot hashes, stake history or last restart slot: cost 100 + 32/250 +
max(length/250, 10); r0 = 0, 1 when offset + length exceeds the data, 2 when the sysvar is absent.
"""

from __future__ import annotations

from solders.pubkey import Pubkey

from ..runtime.sysvars import CLOCK_ID, EPOCH_REWARDS_ID, EPOCH_SCHEDULE_ID, LAST_RESTART_SLOT_ID, RENT_ID
from ..vm.errors import SyscallError
from ..vm.isa import MM_INPUT_START
from .features import MAINNET, FeatureSet
from .translate import (
    INVALID_POINTER,
    UNALIGNED_POINTER,
    U64_MAX,
    check_aligned,
    consume,
    instruction_error,
    translate_mut,
    translate_type,
)

SYSVAR_BASE_COST = 100
CPI_BYTES_PER_UNIT = 250
MEM_OP_BASE_COST = 10
SLOT_HASHES_ID = Pubkey.from_string("SysvarS1otHashes111111111111111111111111111")
STAKE_HISTORY_ID = Pubkey.from_string("SysvarStakeHistory1111111111111111111111111")
FEES_ID = Pubkey.from_string("SysvarFees111111111111111111111111111111111")

# What `SysvarCache::sysvar_id_to_buffer` serves to sol_get_sysvar.
GET_SYSVAR_IDS = (CLOCK_ID, EPOCH_SCHEDULE_ID, EPOCH_REWARDS_ID, RENT_ID, SLOT_HASHES_ID,
                  STAKE_HISTORY_ID, LAST_RESTART_SLOT_ID)

SYSVAR_NOT_FOUND = 2
OFFSET_LENGTH_EXCEEDS_SYSVAR = 1


def _rent_layout(raw: bytes) -> bytes:
    return raw[:17] + bytes(7)


def _epoch_schedule_layout(raw: bytes) -> bytes:
    return raw[:17] + bytes(7) + raw[17:33]


def _epoch_rewards_layout(raw: bytes) -> bytes:
    return raw[:81] + bytes(15)


def _identity(raw: bytes) -> bytes:
    return raw


# sysvar id -> (size_of::<T>(), align_of::<T>(), bincode length, bincode -> memory layout)
LAYOUTS = {
    CLOCK_ID: (40, 8, 40, _identity),
    RENT_ID: (24, 8, 17, _rent_layout),
    EPOCH_SCHEDULE_ID: (40, 8, 33, _epoch_schedule_layout),
    EPOCH_REWARDS_ID: (96, 16, 81, _epoch_rewards_layout),
    LAST_RESTART_SLOT_ID: (8, 8, 8, _identity),
    FEES_ID: (8, 8, 8, _identity),
}


def _cache_get(vm, sysvar_id: Pubkey) -> bytes | None:
    cache = getattr(vm.context, "sysvars", None)
    return None if cache is None else cache.get(sysvar_id)


def _typed_getter(sysvar_id: Pubkey, name: str):
    size, align, wire_len, layout = LAYOUTS[sysvar_id]

    def handler(vm, var_addr, _b, _c, _d, _e, *, features: FeatureSet = MAINNET) -> int:
        consume(vm, SYSVAR_BASE_COST + size)
        aligned = check_aligned(vm)
        if not aligned:
            raise SyscallError(UNALIGNED_POINTER)
        if var_addr >= MM_INPUT_START and features.syscall_parameter_address_restrictions:
            raise SyscallError(INVALID_POINTER)
        (out,) = translate_mut(vm, aligned, [("type", var_addr, size, align)])
        raw = _cache_get(vm, sysvar_id)
        if raw is None or len(raw) < wire_len:  # absent, or fails to deserialize
            raise instruction_error("UnsupportedSysvar")
        out.write(layout(bytes(raw)))
        return 0

    handler.__name__ = name
    return handler


sol_get_clock_sysvar = _typed_getter(CLOCK_ID, "sol_get_clock_sysvar")
sol_get_rent_sysvar = _typed_getter(RENT_ID, "sol_get_rent_sysvar")
sol_get_epoch_schedule_sysvar = _typed_getter(EPOCH_SCHEDULE_ID, "sol_get_epoch_schedule_sysvar")
sol_get_epoch_rewards_sysvar = _typed_getter(EPOCH_REWARDS_ID, "sol_get_epoch_rewards_sysvar")
sol_get_last_restart_slot = _typed_getter(LAST_RESTART_SLOT_ID, "sol_get_last_restart_slot")
sol_get_fees_sysvar = _typed_getter(FEES_ID, "sol_get_fees_sysvar")


def sol_get_sysvar(vm, sysvar_id_addr, var_addr, offset, length, _e, *,
                   features: FeatureSet = MAINNET) -> int:
    sysvar_id_cost = 32 // CPI_BYTES_PER_UNIT
    sysvar_buf_cost = length // CPI_BYTES_PER_UNIT
    consume(vm, SYSVAR_BASE_COST + sysvar_id_cost + max(sysvar_buf_cost, MEM_OP_BASE_COST))
    aligned = check_aligned(vm)
    if not aligned:
        raise SyscallError(UNALIGNED_POINTER)
    if var_addr >= MM_INPUT_START and features.syscall_parameter_address_restrictions:
        raise SyscallError(INVALID_POINTER)
    (out,) = translate_mut(vm, aligned, [("slice", var_addr, length, 1, 1)])
    sysvar_id = Pubkey.from_bytes(translate_type(vm, sysvar_id_addr, 32, 1, aligned).read())
    offset_length = offset + length
    if offset_length > U64_MAX or var_addr + length > U64_MAX:
        raise instruction_error("ArithmeticOverflow")
    raw = _cache_get(vm, sysvar_id) if sysvar_id in GET_SYSVAR_IDS else None
    if raw is None:
        return SYSVAR_NOT_FOUND
    if offset_length > len(raw):
        return OFFSET_LENGTH_EXCEEDS_SYSVAR
    out.write(bytes(raw[offset:offset_length]))
    return 0

