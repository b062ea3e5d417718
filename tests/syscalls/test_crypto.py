"""Hash, curve25519 and secp256k1 syscalls against LiteSVM (and known vectors where LiteSVM
cannot run them)."""

import hashlib

import pytest

from sbpfunc.syscalls import crypto, curve25519
from sbpfunc.syscalls.core import runtime_registry
from sbpfunc.syscalls.features import FeatureSet

from ._diff import dump, fill, log_r0, program, ptr, store_bytes, store_slice

P = curve25519.P
L = curve25519.L
B = bytes.fromhex("5866666666666666666666666666666666666666666666666666666666666666")
B2 = curve25519.edwards_compress(curve25519.mul(2, curve25519.edwards_decompress(B)))
IDENTITY = (1).to_bytes(32, "little")
RISTRETTO_B = bytes.fromhex("e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76")
RISTRETTO_2B = bytes.fromhex("6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919")

EDWARDS_POINTS = [
    B, B2, IDENTITY, bytes(32),                         # basepoint, 2B, identity, y = 0 (order 4)
    (P - 1).to_bytes(32, "little"),                     # y = -1: order 2
    (1 | 1 << 255).to_bytes(32, "little"),              # identity with the sign bit ("negative zero")
    (P + 1).to_bytes(32, "little"),                     # non-canonical y = 1
    (2).to_bytes(32, "little"), (7).to_bytes(32, "little"),  # y without an x
    bytes([120, 140, 152, 233, 41, 227, 203, 27, 87, 115, 25, 251, 219, 5, 84, 148, 117, 38, 84, 60,
           87, 144, 161, 146, 42, 34, 91, 155, 158, 189, 121, 79]),
    b"\xff" * 32,
]
RISTRETTO_POINTS = [
    bytes(32), RISTRETTO_B, RISTRETTO_2B,
    bytes.fromhex("00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),  # non-canonical
    bytes.fromhex("0100000000000000000000000000000000000000000000000000000000000000"),  # negative s
    bytes.fromhex("26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371"),  # non-square
    bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),  # s = p - 1
    B,
]
SCALARS = [(1).to_bytes(32, "little"), (2).to_bytes(32, "little"), (L - 1).to_bytes(32, "little"),
           L.to_bytes(32, "little"), (1 << 255).to_bytes(32, "little"), bytes(32)]


# --- hashes -------------------------------------------------------------------------------------
def _hash_program(name: str, slices: list[bytes], extra: str = "") -> str:
    """Data at r10-512.., the VmSlice array at r10-1024, result at r10-64."""
    body = fill(64, 64, 0x1111111111111111)
    off = 512
    for i, s in enumerate(slices):
        body += store_bytes(off, s) + store_slice(1024 - 16 * i, off, len(s))
        off -= max(8, len(s))
    body += ptr("r1", 1024) + f"mov64 r2, {len(slices)}\n" + ptr("r3", 64) + f"call {name}\n" + log_r0()
    return body + dump(64, 64) + "call sol_log_compute_units_\n" + extra


@pytest.mark.parametrize("name", ["sol_sha256", "sol_keccak256"])
@pytest.mark.parametrize("slices", [[], [b""], [b"abc"], [b"hello ", b"", b"world", b"x" * 40]])
def test_hash_results_and_costs(diff, name, slices):
    diff.check_asm(program(_hash_program(name, slices)))


@pytest.mark.parametrize("name", ["sol_sha256", "sol_keccak256"])
def test_hash_large_slices_from_heap(diff, name):
    body = ("lddw r9, 0x300000000\nstxdw [r10-48], r9\nmov64 r9, 5000\nstxdw [r10-40], r9\n"
            "lddw r9, 0x300001000\nstxdw [r10-32], r9\nmov64 r9, 21\nstxdw [r10-24], r9\n"
            + ptr("r1", 48) + "mov64 r2, 2\n" + ptr("r3", 128) + "call " + name + "\n"
            + dump(128, 32) + "call sol_log_compute_units_\n")
    diff.check_asm(program(body))


RO = "ro: .ascii \"0123456789abcdef0123456789abcdef\"\n"


@pytest.mark.parametrize("name", ["sol_sha256", "sol_keccak256"])
@pytest.mark.parametrize("case", [
    "mov64 r1, 0\nmov64 r2, 20001\n" + ptr("r3", 64),                      # too many slices
    ptr("r1", 1020) + "mov64 r2, 1\n" + ptr("r3", 64),                     # unaligned slice array
    "mov64 r1, 0\nmov64 r2, 1\n" + ptr("r3", 64),                          # slice array unmapped
    "mov64 r1, 0\nmov64 r2, 0\nlddw r3, ro\n",                             # result read-only
    "mov64 r1, 0\nmov64 r2, 0\n" + ptr("r3", 16),                          # result crosses frame end
    "mov64 r1, 0\nlddw r2, 0x1000000000000000\n" + ptr("r3", 64),          # > max slices, huge
    store_slice(1024, 512, 8) + "lddw r9, 0x500000000\nstxdw [r10-1024], r9\n"
    + ptr("r1", 1024) + "mov64 r2, 1\n" + ptr("r3", 64),                   # slice data unmapped
    store_slice(1024, 512, 1 << 20) + ptr("r1", 1024) + "mov64 r2, 1\n" + ptr("r3", 64),
], ids=lambda s: None)
def test_hash_errors(diff, name, case):
    diff.check_asm(program(case + f"call {name}\n" + log_r0(), RO))


def test_hash_limits_budget(diff):
    """Each slice is charged after it is translated: a budget running out mid-way fails there."""
    body = ("lddw r9, 0x300000000\nstxdw [r10-48], r9\nlddw r9, 30000\nstxdw [r10-40], r9\n"
            + ptr("r1", 48) + "mov64 r2, 1\n" + ptr("r3", 128) + "call sol_sha256\n")
    diff.check_asm(program(body), limit=15_000)


def test_blake3_and_sha512_are_not_registered_on_mainnet(diff):
    for name in ("sol_blake3", "sol_sha512"):
        diff.check_asm(program("mov64 r1, 0\nmov64 r2, 0\n" + ptr("r3", 64) + f"call {name}\n"))


def test_blake3_and_sha512_when_enabled():
    """Gated off on mainnet; with the features on they hash like Agave's hashers."""
    from sbpfunc.vm.interpreter import BudgetMeter

    assert "sol_blake3" not in runtime_registry()
    reg = runtime_registry(FeatureSet(blake3_syscall_enabled=True, enable_sha512_syscall=True))
    assert "sol_blake3" in reg and "sol_sha512" in reg
    import blake3

    from sbpfunc.vm.memory import MemoryMapping, MemoryRegion

    class Vm:
        context = BudgetMeter(10_000)
        memory = MemoryMapping([MemoryRegion(0x300000000, bytearray(256), True)])

    vm = Vm()
    vm.memory.write(0x300000000, (0x300000040).to_bytes(8, "little") + (3).to_bytes(8, "little"))
    vm.memory.write(0x300000040, b"abc")
    assert crypto.sol_blake3(vm, 0x300000000, 1, 0x300000080, 0, 0) == 0
    assert vm.memory.read(0x300000080, 32) == blake3.blake3(b"abc").digest()
    assert crypto.sol_sha512(vm, 0x300000000, 1, 0x300000080, 0, 0) == 0
    assert vm.memory.read(0x300000080, 64) == hashlib.sha512(b"abc").digest()
    assert vm.context.remaining == 10_000 - 2 * (85 + 10)


# --- curve25519 ---------------------------------------------------------------------------------
def _validate(curve: int, points: list[bytes]) -> str:
    body = ""
    for p in points:
        body += store_bytes(64, p) + f"mov64 r1, {curve}\n" + ptr("r2", 64) + "call sol_curve_validate_point\n" + log_r0()
    return body + "call sol_log_compute_units_\n"


def test_validate_edwards(diff):
    diff.check_asm(program(_validate(0, EDWARDS_POINTS)))


def test_validate_ristretto(diff):
    diff.check_asm(program(_validate(1, RISTRETTO_POINTS)))


def test_validate_unknown_curve_and_bad_pointer(diff):
    diff.check_asm(program(_validate(2, [B]) + _validate(0x80, [B])))
    diff.check_asm(program("mov64 r1, 0\nmov64 r2, 0\ncall sol_curve_validate_point\n"))
    diff.check_asm(program("mov64 r1, 1\n" + ptr("r2", 16) + "call sol_curve_validate_point\n"))


def _group_op(curve: int, op: int, left: bytes, right: bytes) -> str:
    return (fill(32, 32, 0x2222222222222222) + store_bytes(96, left) + store_bytes(64, right)
            + f"mov64 r1, {curve}\nmov64 r2, {op}\n" + ptr("r3", 96) + ptr("r4", 64) + ptr("r5", 32)
            + "call sol_curve_group_op\n" + log_r0() + dump(32, 32))


@pytest.mark.parametrize("curve,points", [(0, EDWARDS_POINTS), (1, RISTRETTO_POINTS)])
def test_group_add_sub(diff, curve, points):
    pairs = [(a, b) for a in points[:5] for b in points[:3]] + [(points[0], p) for p in points[5:]]
    body = "".join(_group_op(curve, op, a, b) for op in (0, 1) for a, b in pairs[:12])
    diff.check_asm(program(body + "call sol_log_compute_units_\n"))
    body = "".join(_group_op(curve, op, a, b) for op in (0, 1) for a, b in pairs[12:])
    diff.check_asm(program(body + "call sol_log_compute_units_\n"))


@pytest.mark.parametrize("curve,points", [(0, EDWARDS_POINTS[:7]), (1, RISTRETTO_POINTS[:5])])
def test_group_mul(diff, curve, points):
    body = "".join(_group_op(curve, 2, s, p) for s in SCALARS[:3] for p in points[:3])
    body += "".join(_group_op(curve, 2, s, points[1]) for s in SCALARS[3:])
    body += "".join(_group_op(curve, 2, SCALARS[2], p) for p in points[3:])
    diff.check_asm(program(body + "call sol_log_compute_units_\n"), limit=400_000)


@pytest.mark.parametrize("case", [
    _group_op(0, 3, B, B),                                  # unknown op
    _group_op(1, 7, B, B),
    _group_op(9, 0, B, B),                                  # unknown curve
    _group_op(0, 0, B, B).replace(ptr("r5", 32), "lddw r5, 0x100000000\n"),  # result read-only
    _group_op(0, 0, B, b"\x02" * 32).replace(ptr("r5", 32), "mov64 r5, 0\n"),  # invalid: no write
    _group_op(0, 0, B, B).replace(ptr("r4", 64), "mov64 r4, 0\n"),
    _group_op(1, 2, B, RISTRETTO_B).replace(ptr("r3", 96), "mov64 r3, 0\n"),
], ids=lambda s: None)
def test_group_op_errors(diff, case):
    diff.check_asm(program(case))


def test_multiscalar_mul(diff):
    body = ""
    for curve, pts in ((0, [B, B2, IDENTITY]), (1, [RISTRETTO_B, RISTRETTO_2B, bytes(32)])):
        for n in (0, 1, 3):
            body += fill(32, 32, 0x3333333333333333)
            for i in range(n):
                body += store_bytes(512 - 32 * i, SCALARS[i]) + store_bytes(256 - 32 * i, pts[i])
            body += (f"mov64 r1, {curve}\n" + ptr("r2", 512 - 32 * (n - 1) if n else 512)
                     + ptr("r3", 256 - 32 * (n - 1) if n else 256) + f"mov64 r4, {n}\n" + ptr("r5", 32)
                     + "call sol_curve_multiscalar_mul\n" + log_r0() + dump(32, 32))
    # a non-canonical scalar and an invalid point give r0 = 1
    body += store_bytes(512, SCALARS[3]) + store_bytes(256, B) + "mov64 r1, 0\n" + ptr("r2", 512) \
        + ptr("r3", 256) + "mov64 r4, 1\n" + ptr("r5", 32) + "call sol_curve_multiscalar_mul\n" + log_r0()
    body += store_bytes(512, SCALARS[0]) + store_bytes(256, (2).to_bytes(32, "little")) + "mov64 r1, 0\n" \
        + ptr("r2", 512) + ptr("r3", 256) + "mov64 r4, 1\n" + ptr("r5", 32) + "call sol_curve_multiscalar_mul\n" + log_r0()
    diff.check_asm(program(body + "call sol_log_compute_units_\n"), limit=400_000)
    diff.check_asm(program("mov64 r1, 0\nmov64 r2, 0\nmov64 r3, 0\nmov64 r4, 513\nmov64 r5, 0\n"
                           "call sol_curve_multiscalar_mul\n"))
    diff.check_asm(program("mov64 r1, 5\nmov64 r2, 0\nmov64 r3, 0\nmov64 r4, 2\nmov64 r5, 0\n"
                           "call sol_curve_multiscalar_mul\n" + log_r0()))


def test_curve_ops_match_libsodium_on_prime_order_points():
    """A cross-check of the pure-Python arithmetic against libsodium where both must agree."""
    import os

    import nacl.bindings as nb

    for _ in range(8):
        s1, s2 = (int.from_bytes(os.urandom(32), "little") % L for _ in range(2))
        p1 = nb.crypto_scalarmult_ed25519_base_noclamp(s1.to_bytes(32, "little"))
        p2 = nb.crypto_scalarmult_ed25519_base_noclamp(s2.to_bytes(32, "little"))
        assert curve25519.group_op(0, 0, p1, p2) == nb.crypto_core_ed25519_add(p1, p2)
        assert curve25519.group_op(0, 1, p1, p2) == nb.crypto_core_ed25519_sub(p1, p2)
        assert curve25519.group_op(0, 2, s2.to_bytes(32, "little"), p1) == \
            nb.crypto_scalarmult_ed25519_noclamp(s2.to_bytes(32, "little"), p1)


def test_bls_curves_fail_clearly():
    """BLS12-381 ids pass the feature gate and are charged, then fail with a clear error."""
    from sbpfunc.vm.errors import SyscallError
    from sbpfunc.vm.interpreter import BudgetMeter

    class Vm:
        context = BudgetMeter(10_000)

    with pytest.raises(SyscallError, match="BLS12-381 is not supported"):
        crypto.sol_curve_validate_point(Vm(), 5, 0, 0, 0, 0)
    assert Vm.context.remaining == 10_000 - 1_565
    with pytest.raises(SyscallError, match="InvalidAttribute"):
        crypto.sol_curve_validate_point(Vm(), 5, 0, 0, 0, 0, features=FeatureSet(enable_bls12_381_syscall=False))


# --- secp256k1 ----------------------------------------------------------------------------------
def _sign(priv: int, msg_hash: bytes, k: int) -> tuple[bytes, int]:
    """Plain ECDSA over secp256k1 (test-only, fixed nonce) with its recovery id."""
    n = crypto.SECP_N
    rp = crypto._secp_mul(k, crypto.SECP_G)
    r = rp[0] % n
    s = pow(k, -1, n) * (int.from_bytes(msg_hash, "big") + r * priv) % n
    recid = (rp[1] & 1) | (2 if rp[0] >= n else 0)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big"), recid


def _recover(msg_hash: bytes, recid: int, sig: bytes) -> str:
    return (fill(64, 64, 0x4444444444444444) + store_bytes(160, msg_hash) + store_bytes(128, sig)
            + ptr("r1", 160) + f"lddw r2, {recid:#x}\n" + ptr("r3", 128) + ptr("r4", 64)
            + "call sol_secp256k1_recover\n" + log_r0() + dump(64, 64))


def test_secp256k1_recover(diff):
    priv = 0x1F2E3D4C5B6A79880123456789ABCDEF0FEDCBA98765432100112233445566
    msg = hashlib.sha256(b"sbpfunc").digest()
    sig, recid = _sign(priv, msg, 0xC0FFEE1234567)
    pub = crypto._secp_mul(priv, crypto.SECP_G)
    assert crypto.secp256k1_recover(msg, recid, sig) == pub[0].to_bytes(32, "big") + pub[1].to_bytes(32, "big")
    n = crypto.SECP_N
    high_s = sig[:32] + (n - int.from_bytes(sig[32:], "big")).to_bytes(32, "big")
    body = (_recover(msg, recid, sig) + _recover(msg, recid ^ 1, sig) + _recover(msg, recid, high_s)
            + _recover(msg, 4, sig) + _recover(msg, 1 << 8, sig) + _recover(msg, recid | 2, sig)
            + _recover(msg, 0, bytes(64)) + _recover(msg, 0, n.to_bytes(32, "big") + sig[32:])
            + _recover(b"\xff" * 32, recid, sig))
    diff.check_asm(program(body), limit=400_000)
    diff.check_asm(program(_recover(msg, recid, sig).replace(ptr("r4", 64), "lddw r4, 0x100000000\n")))


def test_deprecated_loader_skips_slice_alignment(diff):
    """Deprecated-loader programs may pass unaligned VmSlice arrays."""
    body = (store_bytes(512, b"abc") + store_slice(1020, 512, 3) + ptr("r1", 1020) + "mov64 r2, 1\n"
            + ptr("r3", 64) + "call sol_sha256\n" + log_r0() + dump(64, 32))
    diff.check_asm(program(body), loader="deprecated")
    diff.check_asm(program(body))
