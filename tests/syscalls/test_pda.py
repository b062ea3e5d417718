"""sol_create_program_address and sol_try_find_program_address against LiteSVM."""

import pytest
from solders.pubkey import Pubkey

from sbpfunc.syscalls.pda import create_program_address

from ._diff import dump, fill, log_r0, program, ptr, store_bytes, store_slice

PID = bytes(range(32))
ON_CURVE = [b"seed", bytes([5])]  # sha256(seeds, PID, marker) is a curve point
OFF_CURVE = [b"seed", bytes([0])]


def test_seed_choice():
    assert create_program_address(ON_CURVE, PID) is None
    assert create_program_address(OFF_CURVE, PID) == bytes(Pubkey.create_program_address(OFF_CURVE, Pubkey(PID)))


def _seeds(seeds: list[bytes], array_at: int = 1024) -> str:
    """Seed bytes from r10-512 downwards, the VmSlice array at r10-array_at, program id at r10-128."""
    body = store_bytes(128, PID)
    off = 512
    for i, s in enumerate(seeds):
        body += store_bytes(off, s) + store_slice(array_at - 16 * i, off, len(s))
        off -= max(8, len(s) + (-len(s)) % 8)
    return body


def _create(seeds, n=None, array_at=1024, pid="", out="") -> str:
    n = len(seeds) if n is None else n
    return (_seeds(seeds, array_at) + fill(64, 32, 0x5555555555555555) + ptr("r1", array_at) + f"lddw r2, {n:#x}\n"
            + (pid or ptr("r3", 128)) + (out or ptr("r4", 64)) + "call sol_create_program_address\n"
            + log_r0() + dump(64, 32))


def _find(seeds, n=None, array_at=1024, out="", bump="") -> str:
    n = len(seeds) if n is None else n
    return (_seeds(seeds, array_at) + fill(72, 40, 0x6666666666666666) + ptr("r1", array_at) + f"lddw r2, {n:#x}\n"
            + ptr("r3", 128) + (out or ptr("r4", 64)) + (bump or ptr("r5", 72))
            + "call sol_try_find_program_address\n" + log_r0() + dump(72, 40))


def test_create_program_address(diff):
    body = (_create(OFF_CURVE) + _create(ON_CURVE) + _create([]) + _create([b""]) + _create([b"x" * 32])
            + _create([bytes([i]) for i in range(16)]) + "call sol_log_compute_units_\n")
    diff.check_asm(program(body))


def test_try_find_program_address(diff):
    body = (_find(OFF_CURVE) + _find(ON_CURVE) + _find([b"x" * 32, b"y"]) + _find([bytes([i]) for i in range(15)])
            + "call sol_log_compute_units_\n")
    diff.check_asm(program(body))


def test_try_find_with_sixteen_seeds_tries_every_bump(diff):
    """16 seeds + the bump is 17: every attempt fails, 256 charges in all."""
    diff.check_asm(program(_find([bytes([i]) for i in range(16)]) + "call sol_log_compute_units_\n"),
                   limit=500_000)
    diff.check_asm(program(_find([bytes([i]) for i in range(16)])))  # runs out of units


@pytest.mark.parametrize("case", [
    _create([bytes([i]) for i in range(17)]),                           # 17 seeds
    _create([b"a", b"x" * 33]),                                         # a 33-byte seed
    _create([b"a", b"x" * 33]).replace(store_slice(1008, 504, 33), store_slice(1008, 504, 1 << 44)),
    _create(OFF_CURVE, array_at=1020),                                  # unaligned seed array
    _create(OFF_CURVE, n=1 << 60),                                      # InvalidLength
    _create(OFF_CURVE, n=1000),                                         # array past the stack
    _create(OFF_CURVE, pid="mov64 r3, 0\n"),                           # program id unmapped
    _create(OFF_CURVE, out="lddw r4, 0x100000000\n"),                  # address read-only
    _create(ON_CURVE, out="lddw r4, 0x100000000\n"),                   # on curve: never written
    _find([bytes([i]) for i in range(17)]),
    _find(OFF_CURVE, out=ptr("r4", 64), bump=ptr("r5", 40)),           # bump inside the address
    _find(OFF_CURVE, bump="lddw r5, 0x100000000\n"),
    _find(OFF_CURVE, out="mov64 r4, 0\n"),
], ids=lambda s: None)
def test_pda_errors(diff, case):
    diff.check_asm(program(case))


def test_bad_seed_reported_before_later_seeds(diff):
    """Seeds are checked in order: an unmapped first seed is reported before a too-long second."""
    body = _seeds([b"a", b"x" * 33]) + "lddw r9, 0x600000000\nstxdw [r10-1024], r9\n" + ptr("r1", 1024) \
        + "mov64 r2, 2\n" + ptr("r3", 128) + ptr("r4", 64) + "call sol_create_program_address\n"
    diff.check_asm(program(body))
