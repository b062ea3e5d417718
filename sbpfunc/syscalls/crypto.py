"""Hashing and elliptic-curve syscalls as Agave 4.1 runs them.

Hashes (sol_sha256, sol_keccak256, sol_blake3, sol_sha512): `(vals, n, result)` where vals is an
array of n {ptr, len} slices (16 bytes each, 8-aligned). More than 20,000 slices fails before any
charge, after logging "<Name> Hashing <n> sequences in one syscall is over the limit 20000". Then
85 units, the result buffer is checked for writing, and each slice costs max(10, len / 2), charged
after the slice is translated and before it is hashed.

Curve25519 (sol_curve_validate_point, sol_curve_group_op, sol_curve_multiscalar_mul) follow
curve25519-dalek through `curve25519.py`. BLS12-381 curve ids are recognised (their feature gate
and costs are applied) but not computed: the call fails with a clear "not supported" error.
"""

from __future__ import annotations

import hashlib

from ..vm.errors import SyscallError
from . import curve25519
from .features import MAINNET, FeatureSet
from .translate import (
    INVALID_ATTRIBUTE,
    INVALID_LENGTH,
    check_aligned,
    consume,
    read_bytes,
    read_vm_slices,
    translate_mut,
    translate_slice,
    translate_type,
)

SHA256_BASE_COST = 85
SHA256_BYTE_COST = 1
SHA256_MAX_SLICES = 20_000
MEM_OP_BASE_COST = 10


def _keccak256():
    try:
        from Crypto.Hash import keccak
    except ImportError:  # pragma: no cover - a declared dependency
        raise SyscallError("sol_keccak256 needs the 'pycryptodome' package (pip install pycryptodome)") from None
    return keccak.new(digest_bits=256)


def _blake3():
    try:
        import blake3
    except ImportError:  # pragma: no cover - a declared dependency
        raise SyscallError("sol_blake3 needs the 'blake3' package (pip install blake3)") from None
    return blake3.blake3()


# name (as Agave's HasherImpl::NAME), hasher factory, output size
HASHERS = {
    "sol_sha256": ("Sha256", hashlib.sha256, 32),
    "sol_keccak256": ("Keccak256", _keccak256, 32),
    "sol_blake3": ("Blake3", _blake3, 32),
    "sol_sha512": ("Sha512", hashlib.sha512, 64),
}


def _hash_syscall(syscall_name: str):
    name, factory, out_size = HASHERS[syscall_name]

    def handler(vm, vals_addr, vals_len, result_addr, _d, _e) -> int:
        if SHA256_MAX_SLICES < vals_len:
            vm.context.log(f"{name} Hashing {vals_len} sequences in one syscall is over the limit "
                           f"{SHA256_MAX_SLICES}")
            raise SyscallError("Hashing too many sequences")
        consume(vm, SHA256_BASE_COST)
        aligned = check_aligned(vm)
        (result,) = translate_mut(vm, aligned, [("slice", result_addr, out_size, 1, 1)])
        hasher = factory()
        if vals_len > 0:
            for ptr, length in read_vm_slices(vm, vals_addr, vals_len, aligned):
                data = read_bytes(vm, ptr, length, aligned)
                consume(vm, max(MEM_OP_BASE_COST, SHA256_BYTE_COST * (length // 2)))
                hasher.update(data)
        result.write(hasher.digest())
        return 0

    handler.__name__ = syscall_name
    return handler


sol_sha256 = _hash_syscall("sol_sha256")
sol_keccak256 = _hash_syscall("sol_keccak256")
sol_blake3 = _hash_syscall("sol_blake3")
sol_sha512 = _hash_syscall("sol_sha512")


# --- curves -------------------------------------------------------------------------------------
CURVE25519_EDWARDS = 0
CURVE25519_RISTRETTO = 1
BLS12_381_G1 = (5, 5 | 0x80)
BLS12_381_G2 = (6, 6 | 0x80)
BLS12_381_PAIRING = (4, 4 | 0x80)
ADD, SUB, MUL = 0, 1, 2

VALIDATE_COST = {CURVE25519_EDWARDS: 159, CURVE25519_RISTRETTO: 169}
GROUP_OP_COST = {
    CURVE25519_EDWARDS: {ADD: 473, SUB: 475, MUL: 2_177},
    CURVE25519_RISTRETTO: {ADD: 521, SUB: 519, MUL: 2_208},
}
MSM_COST = {CURVE25519_EDWARDS: (2_273, 758), CURVE25519_RISTRETTO: (2_303, 788)}
BLS_VALIDATE_COST = {"G1": 1_565, "G2": 1_968}
BLS_GROUP_OP_COST = {"G1": {ADD: 128, SUB: 129, MUL: 4_627}, "G2": {ADD: 203, SUB: 204, MUL: 8_255}}
BLS_DECOMPRESS_COST = {"G1": 2_100, "G2": 3_050}
BLS_PAIRING_COST = (25_445, 13_023)


def _bls_group(curve_id: int) -> str | None:
    if curve_id in BLS12_381_G1:
        return "G1"
    if curve_id in BLS12_381_G2:
        return "G2"
    return None


def _bls_unsupported(what: str) -> SyscallError:
    return SyscallError(f"{what}: curve BLS12-381 is not supported by sbpfunc")


def _invalid_curve(features: FeatureSet) -> int:
    if features.abort_on_invalid_curve:
        raise SyscallError(INVALID_ATTRIBUTE)
    return 1


def sol_curve_validate_point(vm, curve_id, point_addr, _c, _d, _e, *, features: FeatureSet = MAINNET) -> int:
    bls = _bls_group(curve_id)
    if bls is not None and not features.enable_bls12_381_syscall:
        raise SyscallError(INVALID_ATTRIBUTE)
    aligned = check_aligned(vm)
    if curve_id in VALIDATE_COST:
        consume(vm, VALIDATE_COST[curve_id])
        point = translate_type(vm, point_addr, 32, 1, aligned).read()
        return 0 if curve25519.validate(curve_id, point) else 1
    if bls is not None:
        consume(vm, BLS_VALIDATE_COST[bls])
        raise _bls_unsupported("sol_curve_validate_point")
    return _invalid_curve(features)


def sol_curve_group_op(vm, curve_id, group_op, left_addr, right_addr, result_addr, *,
                       features: FeatureSet = MAINNET) -> int:
    bls = _bls_group(curve_id)
    if bls is not None and not features.enable_bls12_381_syscall:
        raise SyscallError(INVALID_ATTRIBUTE)
    aligned = check_aligned(vm)
    if curve_id in GROUP_OP_COST:
        cost = GROUP_OP_COST[curve_id].get(group_op)
        if cost is None:
            return _invalid_curve(features)
        consume(vm, cost)
        left = translate_type(vm, left_addr, 32, 1, aligned).read()
        right = translate_type(vm, right_addr, 32, 1, aligned).read()
        point = curve25519.group_op(curve_id, group_op, left, right)
        if point is None:
            return 1
        (out,) = translate_mut(vm, aligned, [("type", result_addr, 32, 1)])
        out.write(point)
        return 0
    if bls is not None:
        cost = BLS_GROUP_OP_COST[bls].get(group_op)
        if cost is None:
            raise SyscallError(INVALID_ATTRIBUTE)
        consume(vm, cost)
        raise _bls_unsupported("sol_curve_group_op")
    return _invalid_curve(features)


def sol_curve_multiscalar_mul(vm, curve_id, scalars_addr, points_addr, points_len, result_addr, *,
                              features: FeatureSet = MAINNET) -> int:
    if points_len > 512:
        raise SyscallError(INVALID_LENGTH)
    aligned = check_aligned(vm)
    if curve_id not in MSM_COST:
        return _invalid_curve(features)
    base, incremental = MSM_COST[curve_id]
    consume(vm, base + incremental * max(0, points_len - 1))
    scalars_raw = translate_slice(vm, scalars_addr, points_len, 32, 1, aligned).read()
    points_raw = translate_slice(vm, points_addr, points_len, 32, 1, aligned).read()
    scalars = [scalars_raw[32 * i:32 * i + 32] for i in range(points_len)]
    points = [points_raw[32 * i:32 * i + 32] for i in range(points_len)]
    point = curve25519.multiscalar_mul(curve_id, scalars, points)
    if point is None:
        return 1
    (out,) = translate_mut(vm, aligned, [("type", result_addr, 32, 1)])
    out.write(point)
    return 0


def sol_curve_decompress(vm, curve_id, _point_addr, _result_addr, _d, _e) -> int:
    """BLS12-381 only (registered with the BLS feature): other curves are InvalidAttribute."""
    bls = _bls_group(curve_id)
    if bls is None:
        raise SyscallError(INVALID_ATTRIBUTE)
    consume(vm, BLS_DECOMPRESS_COST[bls])
    raise _bls_unsupported("sol_curve_decompress")


def sol_curve_pairing_map(vm, curve_id, num_pairs, _g1, _g2, _result) -> int:
    if curve_id not in BLS12_381_PAIRING:
        raise SyscallError(INVALID_ATTRIBUTE)
    first, other = BLS_PAIRING_COST
    consume(vm, first + other * max(0, num_pairs - 1))
    raise _bls_unsupported("sol_curve_pairing_map")


# --- secp256k1 public key recovery ----------------------------------------------------------------
SECP256K1_RECOVER_COST = 25_000
SECP_P = 2**256 - 2**32 - 977
SECP_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECP_G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
          0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)
SECP256K1_INVALID_HASH, SECP256K1_INVALID_RECOVERY_ID, SECP256K1_INVALID_SIGNATURE = 1, 2, 3


def _secp_add(p, q):
    """Affine addition on y^2 = x^3 + 7 (None is the point at infinity)."""
    if p is None:
        return q
    if q is None:
        return p
    (x1, y1), (x2, y2) = p, q
    if x1 == x2:
        if (y1 + y2) % SECP_P == 0:
            return None
        lam = 3 * x1 * x1 * pow(2 * y1, -1, SECP_P) % SECP_P
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, SECP_P) % SECP_P
    x3 = (lam * lam - x1 - x2) % SECP_P
    return x3, (lam * (x1 - x3) - y1) % SECP_P


def _secp_mul(k: int, p):
    acc = None
    while k:
        if k & 1:
            acc = _secp_add(acc, p)
        p = _secp_add(p, p)
        k >>= 1
    return acc


def secp256k1_recover(msg_hash: bytes, recovery_id: int, signature: bytes) -> bytes | int:
    """libsecp256k1's `recover` (as Agave calls it): the 64-byte uncompressed key (x || y), or
    1 / 2 / 3 = invalid hash / recovery id / signature. High-s signatures are accepted."""
    if recovery_id > 0xFF or recovery_id >= 4:
        return SECP256K1_INVALID_RECOVERY_ID
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if r >= SECP_N or s >= SECP_N:  # Signature::parse_standard_slice: overflow
        return SECP256K1_INVALID_SIGNATURE
    if r == 0 or s == 0:
        return SECP256K1_INVALID_SIGNATURE
    x = r
    if recovery_id & 2:
        if x >= SECP_P - SECP_N:
            return SECP256K1_INVALID_SIGNATURE
        x += SECP_N
    y2 = (pow(x, 3, SECP_P) + 7) % SECP_P
    y = pow(y2, (SECP_P + 1) // 4, SECP_P)
    if y * y % SECP_P != y2:
        return SECP256K1_INVALID_SIGNATURE
    if (y & 1) != (recovery_id & 1):
        y = SECP_P - y
    z = int.from_bytes(msg_hash, "big") % SECP_N  # Message::parse reduces mod n
    rn = pow(r, -1, SECP_N)
    u1 = (-z * rn) % SECP_N
    u2 = s * rn % SECP_N
    q = _secp_add(_secp_mul(u1, SECP_G), _secp_mul(u2, (x, y)))
    if q is None:
        return SECP256K1_INVALID_SIGNATURE
    return q[0].to_bytes(32, "big") + q[1].to_bytes(32, "big")


def sol_secp256k1_recover(vm, hash_addr, recovery_id, signature_addr, result_addr, _e) -> int:
    consume(vm, SECP256K1_RECOVER_COST)
    aligned = check_aligned(vm)
    (out,) = translate_mut(vm, aligned, [("slice", result_addr, 64, 1, 1)])
    msg_hash = read_bytes(vm, hash_addr, 32, aligned)
    signature = read_bytes(vm, signature_addr, 64, aligned)
    result = secp256k1_recover(msg_hash, recovery_id, signature)
    if isinstance(result, int):
        return result
    out.write(result)
    return 0
