"""Sysvar syscalls against LiteSVM: typed getters (layouts with padding) and sol_get_sysvar."""

import pytest
from solders.pubkey import Pubkey

from ._diff import dump, fill, log_r0, program, ptr, store_bytes

GETTERS = {  # name -> size of the Rust struct
    "sol_get_clock_sysvar": 40,
    "sol_get_rent_sysvar": 24,
    "sol_get_epoch_schedule_sysvar": 40,
    "sol_get_epoch_rewards_sysvar": 96,
    "sol_get_last_restart_slot": 8,
}
IDS = {
    "clock": "SysvarC1ock11111111111111111111111111111111",
    "rent": "SysvarRent111111111111111111111111111111111",
    "epoch_schedule": "SysvarEpochSchedu1e111111111111111111111111",
    "epoch_rewards": "SysvarEpochRewards1111111111111111111111111",
    "last_restart": "SysvarLastRestartS1ot1111111111111111111111",
    "slot_hashes": "SysvarS1otHashes111111111111111111111111111",
    "stake_history": "SysvarStakeHistory1111111111111111111111111",
    "fees": "SysvarFees111111111111111111111111111111111",
    "instructions": "Sysvar1nstructions1111111111111111111111111",
    "slot_history": "SysvarS1otHistory11111111111111111111111111",
}


def _get(name: str, size: int, at: int = 128) -> str:
    return fill(at, 128, 0xABABABABABABABAB) + ptr("r1", at) + f"call {name}\n" + log_r0() + dump(at, size + 8)


def test_typed_getters(diff):
    body = "".join(_get(name, size) for name, size in GETTERS.items()) + "call sol_log_compute_units_\n"
    diff.check_asm(program(body))


def test_typed_getters_into_heap(diff):
    body = "".join(f"lddw r1, 0x300000000\ncall {name}\n" + log_r0() for name in GETTERS)
    body += "lddw r6, 0x300000000\n" + "".join(
        f"ldxdw r{1 + i}, [r6+{8 * i}]\n" for i in range(5)) + "call sol_log_64_\n"
    diff.check_asm(program(body))


@pytest.mark.parametrize("name", list(GETTERS))
@pytest.mark.parametrize("dest", [
    ptr("r1", 124),                    # unaligned
    ptr("r1", 120),                    # 8-aligned (not 16: EpochRewards fails)
    "lddw r1, 0x400000000\n",         # input region: Invalid pointer
    "lddw r1, 0x100000000\n",         # read-only
    "mov64 r1, 0\n",                   # unmapped
    ptr("r1", 8),                      # runs past the end of stack frame 0
], ids=["unaligned", "align8", "input", "readonly", "null", "frame_end"])
def test_typed_getter_errors(diff, name, dest):
    diff.check_asm(program(dest + f"call {name}\n" + log_r0()))


def test_fees_sysvar_is_not_registered(diff):
    diff.check_asm(program(ptr("r1", 64) + "call sol_get_fees_sysvar\n"))


def test_getters_fail_in_deprecated_loader(diff):
    diff.check_asm(program(ptr("r1", 64) + "call sol_get_clock_sysvar\n"), loader="deprecated")
    diff.check_asm(program(ptr("r1", 64) + "mov64 r2, 0\nmov64 r3, 0\nmov64 r4, 8\n"
                           "call sol_get_sysvar\n"), loader="deprecated")


def _sysvar(sid: str, offset: int, length: int, dst: str = "", id_ptr: str = "") -> str:
    return (store_bytes(200, bytes(Pubkey.from_string(sid))) + fill(128, 96, 0xCDCDCDCDCDCDCDCD)
            + (id_ptr or ptr("r1", 200)) + (dst or ptr("r2", 128)) + f"lddw r3, {offset:#x}\nlddw r4, {length:#x}\n"
            + "call sol_get_sysvar\n" + log_r0() + dump(128, 96))


def test_get_sysvar(diff):
    body = (_sysvar(IDS["clock"], 0, 40) + _sysvar(IDS["clock"], 8, 16) + _sysvar(IDS["clock"], 40, 0)
            + _sysvar(IDS["clock"], 33, 8) + _sysvar(IDS["clock"], 41, 0)
            + _sysvar(IDS["rent"], 0, 17) + _sysvar(IDS["rent"], 0, 24)
            + _sysvar(IDS["epoch_schedule"], 0, 33) + _sysvar(IDS["epoch_rewards"], 0, 81)
            + _sysvar(IDS["last_restart"], 0, 8) + _sysvar(IDS["stake_history"], 0, 8)
            + _sysvar(IDS["slot_hashes"], 0, 48) + _sysvar(IDS["slot_hashes"], 20480, 8)
            + _sysvar(IDS["fees"], 0, 8) + _sysvar(IDS["instructions"], 0, 8)
            + _sysvar(IDS["slot_history"], 0, 8) + _sysvar(str(Pubkey.default()), 0, 0)
            + "call sol_log_compute_units_\n")
    diff.check_asm(program(body))


def test_get_sysvar_large_copy_cost(diff):
    body = (store_bytes(200, bytes(Pubkey.from_string(IDS["slot_hashes"]))) + ptr("r1", 200)
            + "lddw r2, 0x300000000\nmov64 r3, 0\nlddw r4, 20000\ncall sol_get_sysvar\n" + log_r0()
            + "lddw r6, 0x300000000\nldxdw r1, [r6+0]\nldxdw r2, [r6+8]\nldxdw r3, [r6+16]\n"
            + "ldxdw r4, [r6+19992]\ncall sol_log_64_\ncall sol_log_compute_units_\n")
    diff.check_asm(program(body))


@pytest.mark.parametrize("case", [
    _sysvar(IDS["clock"], 0, 8, dst="lddw r2, 0x400000000\n"),           # input region
    _sysvar(IDS["clock"], 0, 8, dst="lddw r2, 0x100000000\n"),           # read-only
    _sysvar(IDS["clock"], 0, 8, dst="lddw r2, 0x3fffffff8\n"),           # just below the input
    _sysvar(IDS["clock"], 0, 0, dst="lddw r2, 0x100000000\n"),           # zero length: never mapped
    _sysvar(IDS["clock"], 0, 8, id_ptr="mov64 r1, 0\n"),                  # id unmapped
    _sysvar(IDS["clock"], 0xffffffffffffffff, 1),                         # offset + length overflows
    _sysvar(IDS["clock"], 0xffffffffffffffff, 0),
    _sysvar(IDS["clock"], 0, 0x1000),                                     # length past the frame
    _sysvar(IDS["clock"], 0, 0xffffffffffffffff),                         # cost exceeds the budget
], ids=lambda s: None)
def test_get_sysvar_errors(diff, case):
    diff.check_asm(program(case))
