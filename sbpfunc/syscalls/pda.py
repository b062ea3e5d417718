"""Program-derived addresses: sol_create_program_address and sol_try_find_program_address.

Both charge create_program_address_units (1500) first. The seeds are an array of {ptr, len}
slices (8-aligned); more than 16 seeds, or a seed longer than 32 bytes (checked in order, before
that seed is translated), fails with "Could not create program address with signer seeds: Length
of the seed is too long for address generation". An address on the curve is r0 = 1 (create).
try_find tries bumps 255 down to 1 and charges another 1500 after every miss; it returns 1 when
none works (with 16 seeds the bump makes 17 and every attempt misses, as in Agave).
"""

from __future__ import annotations

import hashlib

from solders.pubkey import Pubkey

from ..vm.errors import SyscallError
from .translate import check_aligned, consume, read_bytes, read_vm_slices, translate_mut, translate_type

CREATE_PROGRAM_ADDRESS_UNITS = 1500
MAX_SEEDS = 16
MAX_SEED_LEN = 32
PDA_MARKER = b"ProgramDerivedAddress"
BAD_SEEDS = "Could not create program address with signer seeds: "
MAX_SEED_LENGTH_EXCEEDED = "Length of the seed is too long for address generation"


def create_program_address(seeds: list[bytes], program_id: bytes) -> bytes | None:
    """`Pubkey::create_program_address`: None for too many / too long seeds or an on-curve hash."""
    if len(seeds) > MAX_SEEDS or any(len(s) > MAX_SEED_LEN for s in seeds):
        return None
    h = hashlib.sha256()
    for s in seeds:
        h.update(s)
    h.update(program_id)
    h.update(PDA_MARKER)
    digest = h.digest()
    if Pubkey.from_bytes(digest).is_on_curve():
        return None
    return digest


def _inputs(vm, seeds_addr: int, seeds_len: int, program_id_addr: int, aligned: bool):
    """`translate_and_check_program_address_inputs`."""
    untranslated = read_vm_slices(vm, seeds_addr, seeds_len, aligned)
    if len(untranslated) > MAX_SEEDS:
        raise SyscallError(BAD_SEEDS + MAX_SEED_LENGTH_EXCEEDED)
    seeds = []
    for ptr, length in untranslated:
        if length > MAX_SEED_LEN:
            raise SyscallError(BAD_SEEDS + MAX_SEED_LENGTH_EXCEEDED)
        seeds.append(read_bytes(vm, ptr, length, aligned))
    program_id = translate_type(vm, program_id_addr, 32, 1, aligned).read()
    return seeds, program_id


def sol_create_program_address(vm, seeds_addr, seeds_len, program_id_addr, address_addr, _e) -> int:
    consume(vm, CREATE_PROGRAM_ADDRESS_UNITS)
    aligned = check_aligned(vm)
    seeds, program_id = _inputs(vm, seeds_addr, seeds_len, program_id_addr, aligned)
    address = create_program_address(seeds, program_id)
    if address is None:
        return 1
    (out,) = translate_mut(vm, aligned, [("slice", address_addr, 32, 1, 1)])
    out.write(address)
    return 0


def sol_try_find_program_address(vm, seeds_addr, seeds_len, program_id_addr, address_addr, bump_addr) -> int:
    consume(vm, CREATE_PROGRAM_ADDRESS_UNITS)
    aligned = check_aligned(vm)
    seeds, program_id = _inputs(vm, seeds_addr, seeds_len, program_id_addr, aligned)
    bump = 255
    for _ in range(255):
        address = create_program_address(seeds + [bytes([bump])], program_id)
        if address is not None:
            bump_out, out = translate_mut(vm, aligned, [("type", bump_addr, 1, 1),
                                                        ("slice", address_addr, 32, 1, 1)])
            bump_out.write(bytes([bump]))
            out.write(address)
            return 0
        bump = max(0, bump - 1)
        consume(vm, CREATE_PROGRAM_ADDRESS_UNITS)
    return 1
