"""Curve25519 in pure Python with curve25519-dalek's exact acceptance rules.

Agave's `sol_curve_validate_point` / `sol_curve_group_op` / `sol_curve_multiscalar_mul` use
solana-curve25519, i.e. curve25519-dalek:

* an Edwards point is valid when `CompressedEdwardsY::decompress` succeeds: y is read from the low
  255 bits (a non-canonical y >= p is accepted and reduced), the sign bit picks x's parity and
  small-order / torsion points are accepted. libsodium's `crypto_core_ed25519_is_valid_point`
  rejects non-canonical encodings, small-order points and points outside the prime-order
  subgroup, so it cannot give Agave's answers; this module follows dalek instead.
* a Ristretto point is valid when RFC 9496 decoding succeeds (canonical, non-negative s, ...).
* scalars must be canonical (< l), as `Scalar::from_canonical_bytes` requires.

Results are compressed canonically. Arithmetic uses extended coordinates and the complete
twisted-Edwards addition law (a = -1), so identity and doubling need no special cases.
"""

from __future__ import annotations

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = (-121665 * pow(121666, P - 2, P)) % P
D2 = (2 * D) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)

Point = tuple[int, int, int, int]  # extended (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z
IDENTITY: Point = (0, 1, 1, 0)


def _is_negative(x: int) -> bool:
    return (x % P) & 1 == 1


def _abs(x: int) -> int:
    x %= P
    return P - x if x & 1 else x


def sqrt_ratio_m1(u: int, v: int) -> tuple[bool, int]:
    """(u/v is a square, the non-negative root of u/v or of i*u/v) — dalek's `sqrt_ratio_i`."""
    u %= P
    v %= P
    v3 = v * v % P * v % P
    v7 = v3 * v3 % P * v % P
    r = u * v3 % P * pow(u * v7 % P, (P - 5) // 8, P) % P
    check = v * r % P * r % P
    correct = check == u
    flipped = check == (-u) % P
    flipped_i = check == (-u * SQRT_M1) % P
    if flipped or flipped_i:
        r = r * SQRT_M1 % P
    return correct or flipped, _abs(r)


INVSQRT_A_MINUS_D = sqrt_ratio_m1(1, (-1 - D) % P)[1]


def add(p: Point, q: Point) -> Point:
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = t1 * D2 % P * t2 % P
    d = 2 * z1 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def neg(p: Point) -> Point:
    x, y, z, t = p
    return ((-x) % P, y, z, (-t) % P)


def mul(k: int, p: Point) -> Point:
    acc = IDENTITY
    addend = p
    while k:
        if k & 1:
            acc = add(acc, addend)
        addend = add(addend, addend)
        k >>= 1
    return acc


def scalar_from_canonical(raw: bytes) -> int | None:
    k = int.from_bytes(raw, "little")
    return k if k < L else None


# --- Edwards encoding -----------------------------------------------------------------------------
def edwards_decompress(raw: bytes) -> Point | None:
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    y %= P
    yy = y * y % P
    ok, x = sqrt_ratio_m1(yy - 1, D * yy + 1)
    if not ok:
        return None
    if raw[31] >> 7:
        x = (-x) % P
    return (x, y, 1, x * y % P)


def edwards_compress(p: Point) -> bytes:
    x, y, z, _t = p
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


# --- Ristretto encoding (RFC 9496) ----------------------------------------------------------------
def ristretto_decompress(raw: bytes) -> Point | None:
    s = int.from_bytes(raw, "little")
    if s >= P or s & 1:  # non-canonical (including the top bit) or negative
        return None
    ss = s * s % P
    u1 = (1 - ss) % P
    u2 = (1 + ss) % P
    u2_sqr = u2 * u2 % P
    v = (-(D * u1 % P * u1) - u2_sqr) % P
    was_square, invsqrt = sqrt_ratio_m1(1, v * u2_sqr)
    den_x = invsqrt * u2 % P
    den_y = invsqrt * den_x % P * v % P
    x = _abs(2 * s * den_x)
    y = u1 * den_y % P
    t = x * y % P
    if not was_square or _is_negative(t) or y == 0:
        return None
    return (x, y, 1, t)


def ristretto_compress(p: Point) -> bytes:
    x0, y0, z0, t0 = p
    u1 = (z0 + y0) * (z0 - y0) % P
    u2 = x0 * y0 % P
    _, invsqrt = sqrt_ratio_m1(1, u1 * u2 % P * u2)
    den1 = invsqrt * u1 % P
    den2 = invsqrt * u2 % P
    z_inv = den1 * den2 % P * t0 % P
    if _is_negative(t0 * z_inv):
        x, y = y0 * SQRT_M1 % P, x0 * SQRT_M1 % P
        den_inv = den1 * INVSQRT_A_MINUS_D % P
    else:
        x, y = x0, y0
        den_inv = den2
    if _is_negative(x * z_inv):
        y = (-y) % P
    s = _abs(den_inv * (z0 - y))
    return s.to_bytes(32, "little")


# --- the operations Agave exposes ---------------------------------------------------------------
CODECS = {
    0: (edwards_decompress, edwards_compress),   # CURVE25519_EDWARDS
    1: (ristretto_decompress, ristretto_compress),  # CURVE25519_RISTRETTO
}


def validate(curve: int, raw: bytes) -> bool:
    return CODECS[curve][0](raw) is not None


def group_op(curve: int, op: int, left: bytes, right: bytes) -> bytes | None:
    """ADD 0 / SUB 1 of two points, or MUL 2 of scalar `left` by point `right`; None on bad input."""
    dec, enc = CODECS[curve]
    if op == 2:
        k = scalar_from_canonical(left)
        if k is None:
            return None
        q = dec(right)
        return None if q is None else enc(mul(k, q))
    p, q = dec(left), dec(right)
    if p is None or q is None:
        return None
    return enc(add(p, q) if op == 0 else add(p, neg(q)))


def multiscalar_mul(curve: int, scalars: list[bytes], points: list[bytes]) -> bytes | None:
    dec, enc = CODECS[curve]
    ks = [scalar_from_canonical(s) for s in scalars]
    if any(k is None for k in ks):
        return None
    acc = IDENTITY
    for k, raw in zip(ks, points):
        q = dec(raw)
        if q is None:
            return None
        acc = add(acc, mul(k, q))
    return enc(acc)
