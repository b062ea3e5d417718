"""SBPFunc module `ml`: integer-only fixed-point neural-network primitives.

One self-contained file (its SHA-256 is the module's identity): it imports only the SBPFunc
signature framework, `construct` and the standard library, and optionally NumPy as a vectorized
backend for large matrix products that is bit-identical to the pure-Python path and charged the
same units (the cost formula depends on the arguments only).

Numbers are i32 fixed point with an explicit scale: a value v stands for v / scale.

* Products are accumulated exactly (Python ints), divided by the scale truncating toward zero
  (`_tdiv`), then saturated to the i32 range. No floats anywhere.
* Activations round to nearest (ties away from zero), from an exact-enough integer evaluation of
  exp(): range reduction by ln 2 and a Taylor series in P-bit fixed point, P = 16 guard bits above
  the scale (and the length, for softmax). The result is within 1 unit (2 for softmax) of the
  real function times the scale, for every i32 input and every scale.
* r0 = 0 on success; r0 = -22 (EINVAL, as u64) for zero dimensions, a zero scale, a product of
  dimensions that overflows u32, an unknown kind or a malformed model, and then nothing is written.
  Bad pointers (unmapped, too short for the declared size, read-only output, NULL where not
  optional) are typed SyscallErrors raised by the registry before anything runs.

ABIs (C, see sbpfunc.h; all little-endian):

    struct ml_dims   { u32 m, k, n, scale; }                         16 bytes (fixed ABI)
    struct ml_dense  { u32 m, k, n, scale, act; }                    20 bytes
    struct ml_forward{ u64 model_len; u32 in_len, out_len; }         16 bytes

    sol_ml_matmul(i32 *out[m*n], const i32 *a[m*k], const i32 *b[k*n], const struct ml_dims *d)
    sol_ml_activation(i32 *data[len] (in place), u64 len, u64 kind, u64 scale)
        kind 0 ReLU, 1 sigmoid, 2 tanh, 3 softmax
    sol_ml_matmul_bias(i32 *out[m*n], const i32 *a[m*k], const i32 *b[k*n],
                       const i32 *bias[n] (NULL: none), const struct ml_dense *d)
        out = act(sat(tdiv(a.b, scale) + bias)); act 0 none, 1 + kind (ML_FUSE(kind)),
        softmax over each row
    sol_ml_sigmoid_lut(i32 *out[len], const i32 *in[len], u64 len, u64 scale)
        fixed 4097-entry Q32 table over [0, 16], linear interpolation (cheaper, within
        1 unit for scale <= 2^20, within 1 + scale / 2^21 above)
    sol_ml_quantize_int8(i8 *out[len], const i32 *in[len], u64 len, u64 step, i64 zero_point)
        q = sat_i8(round(x / step) + zero_point)
    sol_ml_dequantize_int8(i32 *out[len], const i8 *in[len], u64 len, u64 step, i64 zero_point)
        x = sat_i32((q - zero_point) * step)
    sol_ml_argmax(const i32 *data[len], u64 len, i64 *out[2])
        out[0] = index of the first maximum, out[1] = that maximum
    sol_ml_forward(i32 *out[out_len], const i32 *in[in_len], const u8 *model[model_len],
                   const struct ml_forward *p)
        runs every layer of a model (format below) on one input vector
    sol_ml_model_info(const u8 *model[model_len], u64 model_len, u32 *info[8])
        info = version, layers, in_len, out_len, size in bytes, MACs, max width, output scale

Costs are charged before the function runs, from its arguments only (so both backends cost the
same). They are set so that even the pure-Python path stays under 1,000 ns per unit in the
project's calibration (`sbpfunc module audit`): 1/2 unit per matrix element read, 1/4 per
multiply-accumulate, 5-6 per element of an exp()-based activation; the same arithmetic in sBPF
costs 30-40 units per multiply-accumulate.

Model format v1 (`sbpfunc.modules.model_format` builds and inspects it with construct; this file
has its own reader because the module's behaviour must be covered by its hash):

    header  16 bytes: magic "SBML", u16 version = 1, u16 layers (1..64), u32 in_len, u32 out_len
    layer   20 bytes: u32 in, u32 out, u32 scale (>0), u8 act (0 none, 1 relu, 2 sigmoid,
                      3 tanh, 4 softmax), u8 wtype (0 i32, 1 i8), u16 reserved = 0,
                      u32 wstep (i8: 1..2^24, i32: 0)
            weights in*out (row-major [in][out]; i32, or i8 meaning q * wstep),
            zero padding to a multiple of 4 bytes, bias out * i32
    Layers chain (in of one = out of the previous); bytes after the last layer are ignored.
    A layer computes y[j] = act(sat(tdiv(sum_i x[i] * W[i][j], scale) + bias[j])).
"""

from __future__ import annotations

from operator import mul as _mul

import construct as c

from sbpfunc.syscalls.signature import EINVAL, Module, SBPFunction, TestVector, pointer, scalar, struct

try:  # optional vectorized backend (exact integer arithmetic only)
    import numpy as _np
except ImportError:  # pragma: no cover - exercised when NumPy is absent
    _np = None

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1
U32_LIMIT = 1 << 32
NUMPY_MIN_MACS = 4096  # m*k*n from which the NumPy backend is used when available

KIND_RELU, KIND_SIGMOID, KIND_TANH, KIND_SOFTMAX = 0, 1, 2, 3
ACT_NONE = 0  # fused activation codes: 0 none, 1 + kind

ML_DIMS = c.Struct("m" / c.Int32ul, "k" / c.Int32ul, "n" / c.Int32ul, "scale" / c.Int32ul)
ML_DENSE = c.Struct("m" / c.Int32ul, "k" / c.Int32ul, "n" / c.Int32ul, "scale" / c.Int32ul,
                    "act" / c.Int32ul)
ML_FORWARD = c.Struct("model_len" / c.Int64ul, "in_len" / c.Int32ul, "out_len" / c.Int32ul)


# --- integer helpers -------------------------------------------------------------------------------
def _sat32(v: int) -> int:
    return I32_MIN if v < I32_MIN else I32_MAX if v > I32_MAX else v


def _sat8(v: int) -> int:
    return -128 if v < -128 else 127 if v > 127 else v


def _tdiv(a: int, b: int) -> int:
    """a / b truncated toward zero (b > 0)."""
    return a // b if a >= 0 else -((-a) // b)


def _rdiv(a: int, b: int) -> int:
    """a / b rounded to nearest, ties away from zero (b > 0)."""
    return (2 * a + b) // (2 * b) if a >= 0 else -((2 * -a + b) // (2 * b))


def _ln2_bits(bits: int) -> int:
    """floor(ln 2 * 2^bits) by ln 2 = sum_j 2 / ((2j+1) 3^(2j+1)), with 64 guard bits."""
    w = bits + 64
    total, j, pow3 = 0, 0, 3
    while True:
        term = (2 << w) // ((2 * j + 1) * pow3)
        if term == 0:
            break
        total += term
        j += 1
        pow3 *= 9
    return total >> 64


LN2_256 = _ln2_bits(256)
assert LN2_256 >> 192 == 0xB17217F7D1CF79AB  # floor(ln 2 * 2^64), the constant C code uses


def _exp_neg(num: int, den: int, p: int) -> int:
    """e^(-num/den) * 2^p (num >= 0, den > 0, p <= 256), within a few units of 2^-p relative.

    Range reduction u = k ln2 + r (0 <= r < ln 2), alternating Taylor series for e^-r with each
    term floored, then a shift by k. Every step is a non-negative floor division or a shift, so
    C code with 64-bit words can reproduce it exactly for p <= 31.
    """
    if num // den > p:
        return 0  # e^-(p+1) < 2^-p
    u = (num << p) // den
    ln2 = LN2_256 >> (256 - p)
    k = u // ln2
    if k > p:
        return 0
    r = u - k * ln2
    term = acc = 1 << p
    i = 1
    while term:
        term = ((term * r) >> p) // i
        acc = acc - term if i & 1 else acc + term
        i += 1
    return acc >> k


def sigmoid_fixed(x: int, scale: int) -> int:
    p = scale.bit_length() + 16
    one = 1 << p
    e = _exp_neg(-x if x < 0 else x, scale, p)
    return _sat32(_rdiv(scale * (one if x >= 0 else e), one + e))


def tanh_fixed(x: int, scale: int) -> int:
    p = scale.bit_length() + 16
    one = 1 << p
    e2 = _exp_neg(2 * (-x if x < 0 else x), scale, p)
    t = _rdiv(scale * (one - e2), one + e2)
    return _sat32(-t if x < 0 else t)


def softmax_fixed(xs: list[int], scale: int) -> list[int]:
    p = scale.bit_length() + len(xs).bit_length() + 16
    top = max(xs)
    es = [_exp_neg(top - x, scale, p) for x in xs]
    total = sum(es)  # >= 2^p: the maximum contributes e^0
    return [_sat32(_rdiv(scale * e, total)) for e in es]


def activate(values: list[int], kind: int, scale: int) -> list[int]:
    """Apply activation `kind` (0 relu, 1 sigmoid, 2 tanh, 3 softmax) to i32 fixed-point values."""
    if kind == KIND_RELU:
        return [v if v > 0 else 0 for v in values]
    if kind == KIND_SIGMOID:
        return [sigmoid_fixed(v, scale) for v in values]
    if kind == KIND_TANH:
        return [tanh_fixed(v, scale) for v in values]
    return softmax_fixed(values, scale)


# --- sigmoid lookup table: sigmoid(i / 256) in Q32 for i in 0..4096 --------------------------------
LUT_STEPS = 256  # entries per unit of input
LUT_SIZE = 16 * LUT_STEPS + 1


def _build_sigmoid_lut() -> tuple[int, ...]:
    p = 96
    one = 1 << p
    step = _exp_neg(1, LUT_STEPS, p + 32)  # e^(-1/256), 32 extra bits for the repeated product
    e, table = one << 32, []
    for _ in range(LUT_SIZE):
        ep = e >> 32
        table.append(_rdiv(one << 32, one + ep))  # sigmoid in Q32
        e = (e * step) >> (p + 32)
    return tuple(table)


SIGMOID_LUT = _build_sigmoid_lut()


def sigmoid_lut(x: int, scale: int) -> int:
    u = -x if x < 0 else x
    pos = u * LUT_STEPS
    idx, frac = divmod(pos, scale)
    if idx >= LUT_SIZE - 1:
        v = SIGMOID_LUT[-1]
    else:
        lo = SIGMOID_LUT[idx]
        v = lo + ((SIGMOID_LUT[idx + 1] - lo) * frac) // scale
    if x < 0:
        v = (1 << 32) - v
    return _sat32(_rdiv(scale * v, 1 << 32))


# --- matrix product -------------------------------------------------------------------------------
def _matmul_python(a: list[int], b: list[int], m: int, k: int, n: int, scale: int) -> list[int]:
    cols = [b[j::n] for j in range(n)]
    out = []
    for i in range(m):
        row = a[i * k:(i + 1) * k]
        for col in cols:
            out.append(_sat32(_tdiv(sum(map(_mul, row, col)), scale)))
    return out


def _matmul_numpy(a: list[int], b: list[int], m: int, k: int, n: int, scale: int) -> list[int]:
    """Bit-identical to `_matmul_python`: int64 when the bound allows, else split into 16-bit halves."""
    A = _np.asarray(a, dtype=_np.int64).reshape(m, k)
    B = _np.asarray(b, dtype=_np.int64).reshape(k, n)
    amax = int(_np.abs(A).max())
    bmax = int(_np.abs(B).max())
    if amax * bmax * k < (1 << 63):  # every partial sum fits in int64
        s = A @ B
        q = _np.abs(s) // scale
        q = _np.where(s < 0, -q, q)
        return _np.clip(q, I32_MIN, I32_MAX).reshape(-1).tolist()
    # a = hi * 2^16 + lo with lo in [0, 2^16), |hi| <= 2^15: each chunk of 2^15 terms fits in int64
    hi, lo = A >> 16, A & 0xFFFF
    total = [0] * (m * n)
    chunk = 1 << 15
    for t0 in range(0, k, chunk):
        sh = (hi[:, t0:t0 + chunk] @ B[t0:t0 + chunk]).reshape(-1).tolist()
        sl = (lo[:, t0:t0 + chunk] @ B[t0:t0 + chunk]).reshape(-1).tolist()
        total = [t + (h << 16) + l for t, h, l in zip(total, sh, sl)]
    return [_sat32(_tdiv(s, scale)) for s in total]


def matmul_fixed(a: list[int], b: list[int], m: int, k: int, n: int, scale: int) -> list[int]:
    """out = sat(tdiv(A.B, scale)); NumPy for large shapes when installed, same result either way."""
    if _np is not None and m * k * n >= NUMPY_MIN_MACS:
        return _matmul_numpy(a, b, m, k, n, scale)
    return _matmul_python(a, b, m, k, n, scale)


def dense_fixed(x: list[int], w: list[int], bias, m: int, k: int, n: int, scale: int, act: int) -> list[int]:
    """act(sat(tdiv(x.W, scale) + bias)) row by row; act 0 none, 1 + kind."""
    if _np is not None and m * k * n >= NUMPY_MIN_MACS:
        raw = _matmul_numpy_raw(x, w, m, k, n, scale)
    else:
        cols = [w[j::n] for j in range(n)]
        raw = [_tdiv(sum(map(_mul, x[i * k:(i + 1) * k], col)), scale) for i in range(m) for col in cols]
    if bias is not None:
        raw = [v + bias[idx % n] for idx, v in enumerate(raw)]
    out = [_sat32(v) for v in raw]
    if act != ACT_NONE:
        out = [y for i in range(m) for y in activate(out[i * n:(i + 1) * n], act - 1, scale)]
    return out


def _matmul_numpy_raw(a, b, m, k, n, scale) -> list[int]:
    """tdiv(A.B, scale) without saturation (the bias is added before saturating)."""
    A = _np.asarray(a, dtype=_np.int64).reshape(m, k)
    B = _np.asarray(b, dtype=_np.int64).reshape(k, n)
    if int(_np.abs(A).max()) * int(_np.abs(B).max()) * k < (1 << 63):
        s = A @ B
        q = _np.abs(s) // scale
        return _np.where(s < 0, -q, q).reshape(-1).tolist()
    hi, lo = A >> 16, A & 0xFFFF
    total = [0] * (m * n)
    for t0 in range(0, k, 1 << 15):
        sh = (hi[:, t0:t0 + (1 << 15)] @ B[t0:t0 + (1 << 15)]).reshape(-1).tolist()
        sl = (lo[:, t0:t0 + (1 << 15)] @ B[t0:t0 + (1 << 15)]).reshape(-1).tolist()
        total = [t + (h << 16) + l for t, h, l in zip(total, sh, sl)]
    return [_tdiv(s, scale) for s in total]


# --- model format v1 ------------------------------------------------------------------------------
MODEL_MAGIC = b"SBML"
MODEL_VERSION = 1
MODEL_HEADER = 16
LAYER_HEADER = 20
MAX_LAYERS = 64
MAX_WSTEP = 1 << 24  # q * wstep stays within i32 for q in [-128, 127]


class ModelError(ValueError):
    """Malformed model bytes (the SBPFuncs answer EINVAL)."""


def _u32(buf: bytes, off: int) -> int:
    return int.from_bytes(buf[off:off + 4], "little")


def parse_model(buf: bytes) -> dict:
    """Validate a v1 model and return {version, in_len, out_len, size, layers: [...]}."""
    if len(buf) < MODEL_HEADER:
        raise ModelError("model shorter than its 16-byte header")
    if buf[:4] != MODEL_MAGIC:
        raise ModelError("bad magic (expected b'SBML')")
    version = int.from_bytes(buf[4:6], "little")
    if version != MODEL_VERSION:
        raise ModelError(f"unsupported model version {version}")
    n_layers = int.from_bytes(buf[6:8], "little")
    if not 1 <= n_layers <= MAX_LAYERS:
        raise ModelError(f"layer count {n_layers} not in 1..{MAX_LAYERS}")
    in_len, out_len = _u32(buf, 8), _u32(buf, 12)
    off, prev, layers = MODEL_HEADER, in_len, []
    for li in range(n_layers):
        if off + LAYER_HEADER > len(buf):
            raise ModelError(f"layer {li}: truncated header")
        lin, lout, scale = _u32(buf, off), _u32(buf, off + 4), _u32(buf, off + 8)
        act, wtype = buf[off + 12], buf[off + 13]
        reserved, wstep = int.from_bytes(buf[off + 14:off + 16], "little"), _u32(buf, off + 16)
        if lin == 0 or lout == 0 or lin * lout >= U32_LIMIT:
            raise ModelError(f"layer {li}: bad shape {lin}x{lout}")
        if lin != prev:
            raise ModelError(f"layer {li}: input {lin} does not match the previous output {prev}")
        if scale == 0:
            raise ModelError(f"layer {li}: zero scale")
        if act > 4 or reserved != 0:
            raise ModelError(f"layer {li}: bad activation {act} or reserved field")
        off += LAYER_HEADER
        count = lin * lout
        if wtype == 0:
            if wstep != 0:
                raise ModelError(f"layer {li}: i32 weights take wstep 0")
            wbytes = 4 * count
            if off + wbytes > len(buf):
                raise ModelError(f"layer {li}: truncated weights")
            w = [int.from_bytes(buf[i:i + 4], "little", signed=True) for i in range(off, off + wbytes, 4)]
        elif wtype == 1:
            if not 1 <= wstep <= MAX_WSTEP:
                raise ModelError(f"layer {li}: i8 weight step {wstep} not in 1..2^24")
            wbytes = (count + 3) & ~3
            if off + wbytes > len(buf):
                raise ModelError(f"layer {li}: truncated weights")
            w = [(q - 256 if q > 127 else q) * wstep for q in buf[off:off + count]]
        else:
            raise ModelError(f"layer {li}: unknown weight type {wtype}")
        off += wbytes
        if off + 4 * lout > len(buf):
            raise ModelError(f"layer {li}: truncated bias")
        bias = [int.from_bytes(buf[i:i + 4], "little", signed=True) for i in range(off, off + 4 * lout, 4)]
        off += 4 * lout
        layers.append({"in": lin, "out": lout, "scale": scale, "act": act, "wtype": wtype, "wstep": wstep,
                       "weights": w, "bias": bias})
        prev = lout
    if prev != out_len:
        raise ModelError(f"header output length {out_len} does not match the last layer's {prev}")
    return {"version": version, "in_len": in_len, "out_len": out_len, "size": off, "layers": layers}


def run_model(model: dict, x: list[int]) -> list[int]:
    for layer in model["layers"]:
        x = dense_fixed(x, layer["weights"], layer["bias"], 1, layer["in"], layer["out"], layer["scale"],
                        layer["act"])
    return x


# --- the SBPFuncs ---------------------------------------------------------------------------------
def _dims_invalid(*dims: int) -> bool:
    if any(d == 0 for d in dims):
        return True
    return False


def _check_matmul(args):
    d = args["d"]
    m, k, n, scale = d["m"], d["k"], d["n"], d["scale"]
    if _dims_invalid(m, k, n, scale) or m * k >= U32_LIMIT or k * n >= U32_LIMIT or m * n >= U32_LIMIT:
        return EINVAL
    return None


def ml_matmul(out, a, b, d):
    return 0, {"out": matmul_fixed(a, b, d["m"], d["k"], d["n"], d["scale"])}


def _check_activation(args):
    n, kind, scale = args["len"], args["kind"], args["scale"]
    if n == 0 or n >= U32_LIMIT or scale == 0 or kind > KIND_SOFTMAX:
        return EINVAL
    return None


def ml_activation(data, len, kind, scale):  # noqa: A002 - the C parameter name
    return 0, {"data": activate(data, kind, scale)}


def _check_dense(args):
    d = args["d"]
    if _check_matmul(args) is not None or d["act"] > 4:
        return EINVAL
    return None


def ml_matmul_bias(out, a, b, bias, d):
    return 0, {"out": dense_fixed(a, b, bias, d["m"], d["k"], d["n"], d["scale"], d["act"])}


def _check_len_scale(args):
    n, scale = args["len"], args["scale"]
    if n == 0 or n >= U32_LIMIT or scale == 0:
        return EINVAL
    return None


def ml_sigmoid_lut(out, input, len, scale):  # noqa: A002
    return 0, {"out": [sigmoid_lut(v, scale) for v in input]}


def _check_quant(args):
    n, step, zp = args["len"], args["step"], args["zero_point"]
    if n == 0 or n >= U32_LIMIT or step == 0 or not -128 <= zp <= 127:
        return EINVAL
    return None


def ml_quantize_int8(out, input, len, step, zero_point):  # noqa: A002
    return 0, {"out": [_sat8(_rdiv(v, step) + zero_point) for v in input]}


def ml_dequantize_int8(out, input, len, step, zero_point):  # noqa: A002
    return 0, {"out": [_sat32((q - zero_point) * step) for q in input]}


def _check_len(args):
    n = args["len"]
    return EINVAL if n == 0 or n >= U32_LIMIT else None


def ml_argmax(data, len, out):  # noqa: A002
    best = 0
    for i in range(1, len):
        if data[i] > data[best]:
            best = i
    return 0, {"out": [best, data[best]]}


def _check_forward(args):
    p = args["p"]
    if p["model_len"] == 0 or p["model_len"] >= U32_LIMIT or p["in_len"] == 0 or p["out_len"] == 0:
        return EINVAL
    return None


def ml_forward(out, input, model, p):  # noqa: A002
    try:
        parsed = parse_model(bytes(model))
    except ModelError:
        return EINVAL, {}
    if parsed["in_len"] != p["in_len"] or parsed["out_len"] != p["out_len"]:
        return EINVAL, {}
    return 0, {"out": run_model(parsed, input)}


def _check_model_len(args):
    n = args["model_len"]
    return EINVAL if n == 0 or n >= U32_LIMIT else None


def model_info(parsed: dict) -> list[int]:
    layers = parsed["layers"]
    macs = sum(layer["in"] * layer["out"] for layer in layers)
    width = max(max(layer["in"], layer["out"]) for layer in layers)
    return [parsed["version"], len(layers), parsed["in_len"], parsed["out_len"], parsed["size"],
            min(macs, U32_LIMIT - 1), width, layers[-1]["scale"]]


def ml_model_info(model, model_len, info):
    try:
        parsed = parse_model(bytes(model))
    except ModelError:
        return EINVAL, {}
    return 0, {"info": model_info(parsed)}


# --- test vectors (determinism: inputs -> r0 and outputs) -----------------------------------------
# Every buffer is given in `inputs`, write-only ones with their initial contents (a failing call
# must leave them unchanged); `outputs` lists the buffers written on success.
def _tiny_model() -> bytes:
    """2 -> 2 (relu, i32) -> 2 (softmax, i8 weights) with scale 256, packed by hand."""
    hdr = MODEL_MAGIC + (1).to_bytes(2, "little") + (2).to_bytes(2, "little") + \
        (2).to_bytes(4, "little") + (2).to_bytes(4, "little")

    def lh(i, o, scale, act, wtype, wstep):
        return b"".join(v.to_bytes(4, "little") for v in (i, o, scale)) + bytes([act, wtype, 0, 0]) + \
            wstep.to_bytes(4, "little")

    def i32s(vals):
        return b"".join(v.to_bytes(4, "little", signed=True) for v in vals)

    l1 = lh(2, 2, 256, 1, 0, 0) + i32s([256, -128, 128, 256]) + i32s([0, 64])
    l2 = lh(2, 2, 256, 4, 1, 16) + bytes([16, 0xF0, 0xF0, 16]) + i32s([0, 0])
    return hdr + l1 + l2


TINY_MODEL = list(_tiny_model())
_I32MAX = I32_MAX

MODULE = Module(
    "ml", "1.0.0",
    "Integer-only fixed-point ML: matmul, activations, quantization, whole-model inference",
    (
        SBPFunction(
            "sol_ml_matmul",
            (pointer("out", "i32", "d.m*d.n", "write"), pointer("a", "i32", "d.m*d.k"),
             pointer("b", "i32", "d.k*d.n"), struct("d", ML_DIMS)),
            cost="100 + d.m*d.n + d.k*(d.m + d.n) // 2 + d.m*d.k*d.n // 4",
            impl=ml_matmul, check=_check_matmul,
            doc="out[m*n] = sat_i32(tdiv(A[m*k] . B[k*n], scale)), row-major, exact accumulation",
            test_vectors=(
                TestVector({"out": [0] * 4, "a": [1, 2, 3, 4], "b": [5, 6, 7, 8],
                            "d": {"m": 2, "k": 2, "n": 2, "scale": 2}}, 0, {"out": [9, 11, 21, 25]}),
                TestVector({"out": [0], "a": [-7], "b": [1], "d": {"m": 1, "k": 1, "n": 1, "scale": 2}},
                           0, {"out": [-3]}),
                TestVector({"out": [0], "a": [_I32MAX, _I32MAX], "b": [_I32MAX, -_I32MAX - 1],
                            "d": {"m": 1, "k": 2, "n": 1, "scale": 1}}, 0, {"out": [-_I32MAX]}),
                TestVector({"out": [0], "a": [_I32MAX, _I32MAX], "b": [_I32MAX, _I32MAX],
                            "d": {"m": 1, "k": 2, "n": 1, "scale": 3}}, 0, {"out": [_I32MAX]}),
                TestVector({"out": [7], "a": [1], "b": [1], "d": {"m": 1, "k": 1, "n": 1, "scale": 0}}, EINVAL),
                TestVector({"out": [7], "a": [1], "b": [1], "d": {"m": 0, "k": 1, "n": 1, "scale": 1}}, EINVAL),
                TestVector({"out": [7], "a": [1], "b": [1],
                            "d": {"m": 1 << 16, "k": 1, "n": 1 << 16, "scale": 1}}, EINVAL),
            )),
        SBPFunction(
            "sol_ml_activation",
            (pointer("data", "i32", "len", "readwrite"), scalar("len", "u64"),
             scalar("kind", "u64", const=True), scalar("scale", "u64")),
            cost="100 + len * (1 if kind == 0 else 6 if kind == 3 else 5)",
            impl=ml_activation, check=_check_activation,
            doc="in place: kind 0 ReLU, 1 sigmoid, 2 tanh, 3 softmax (sums to scale within len)",
            test_vectors=(
                TestVector({"data": [-5, 0, 7], "len": 3, "kind": 0, "scale": 100}, 0, {"data": [0, 0, 7]}),
                TestVector({"data": [0, 1000, -1000, _I32MAX], "len": 4, "kind": 1, "scale": 1000}, 0,
                           {"data": [500, 731, 269, 1000]}),
                TestVector({"data": [0, 1000, -1000, -_I32MAX - 1], "len": 4, "kind": 2, "scale": 1000}, 0,
                           {"data": [0, 762, -762, -1000]}),
                TestVector({"data": [0, 1000, 2000], "len": 3, "kind": 3, "scale": 1000}, 0,
                           {"data": [90, 245, 665]}),
                TestVector({"data": [1, 2], "len": 2, "kind": 4, "scale": 1000}, EINVAL),
                TestVector({"data": [1, 2], "len": 2, "kind": 1, "scale": 0}, EINVAL),
            )),
        SBPFunction(
            "sol_ml_matmul_bias",
            (pointer("out", "i32", "d.m*d.n", "write"), pointer("a", "i32", "d.m*d.k"),
             pointer("b", "i32", "d.k*d.n"), pointer("bias", "i32", "d.n", optional=True),
             struct("d", ML_DENSE)),
            cost="100 + d.m*d.n + d.k*(d.m + d.n) // 2 + d.m*d.k*d.n // 4 + d.m*d.n * (0 if d.act <= 1 else 6 if d.act == 4 else 5)",
            impl=ml_matmul_bias, check=_check_dense,
            doc="out = act(sat_i32(tdiv(A.B, scale) + bias[n])); act 0 none, 1 + activation kind",
            test_vectors=(
                TestVector({"out": [0, 0], "a": [2, 4], "b": [1, -3, 1, 1], "bias": [5, 1],
                            "d": {"m": 1, "k": 2, "n": 2, "scale": 2, "act": 1}}, 0, {"out": [8, 0]}),
                TestVector({"out": [0, 0], "a": [2, 4], "b": [1, -3, 1, 1], "bias": None,
                            "d": {"m": 1, "k": 2, "n": 2, "scale": 2, "act": 0}}, 0, {"out": [3, -1]}),
                TestVector({"out": [0, 0], "a": [256, 0], "b": [256, 0, 0, 256], "bias": [0, 0],
                            "d": {"m": 1, "k": 2, "n": 2, "scale": 256, "act": 4}}, 0, {"out": [187, 69]}),
                TestVector({"out": [9], "a": [1], "b": [1], "bias": [1],
                            "d": {"m": 1, "k": 1, "n": 1, "scale": 1, "act": 5}}, EINVAL),
            )),
        SBPFunction(
            "sol_ml_sigmoid_lut",
            (pointer("out", "i32", "len", "write"), pointer("input", "i32", "len"), scalar("len", "u64"),
             scalar("scale", "u64")),
            cost="100 + len * 2",
            impl=ml_sigmoid_lut, check=_check_len_scale,
            doc="sigmoid from a fixed Q32 table over [0, 16] with linear interpolation",
            test_vectors=(
                TestVector({"out": [0] * 4, "input": [0, 1000, -1000, -_I32MAX - 1], "len": 4, "scale": 1000}, 0,
                           {"out": [500, 731, 269, 0]}),
                TestVector({"out": [3], "input": [1], "len": 1, "scale": 0}, EINVAL),
            )),
        SBPFunction(
            "sol_ml_quantize_int8",
            (pointer("out", "i8", "len", "write"), pointer("input", "i32", "len"), scalar("len", "u64"),
             scalar("step", "u64"), scalar("zero_point", "i64")),
            cost="100 + len",
            impl=ml_quantize_int8, check=_check_quant,
            doc="q = sat_i8(round(x / step) + zero_point), ties away from zero",
            test_vectors=(
                TestVector({"out": [0] * 5, "input": [0, 15, -15, 100000, -24], "len": 5, "step": 10,
                            "zero_point": 0}, 0, {"out": [0, 2, -2, 127, -2]}),
                TestVector({"out": [0, 0], "input": [10, -2000], "len": 2, "step": 10, "zero_point": 5}, 0,
                           {"out": [6, -128]}),
                TestVector({"out": [1], "input": [1], "len": 1, "step": 1, "zero_point": 128}, EINVAL),
            )),
        SBPFunction(
            "sol_ml_dequantize_int8",
            (pointer("out", "i32", "len", "write"), pointer("input", "i8", "len"), scalar("len", "u64"),
             scalar("step", "u64"), scalar("zero_point", "i64")),
            cost="100 + len",
            impl=ml_dequantize_int8, check=_check_quant,
            doc="x = sat_i32((q - zero_point) * step)",
            test_vectors=(
                TestVector({"out": [0] * 3, "input": [2, -2, 127], "len": 3, "step": 10, "zero_point": 0}, 0,
                           {"out": [20, -20, 1270]}),
                TestVector({"out": [0], "input": [-128], "len": 1, "step": 1 << 40, "zero_point": 1}, 0,
                           {"out": [-_I32MAX - 1]}),
                TestVector({"out": [4], "input": [1], "len": 1, "step": 0, "zero_point": 0}, EINVAL),
            )),
        SBPFunction(
            "sol_ml_argmax",
            (pointer("data", "i32", "len"), scalar("len", "u64"), pointer("out", "i64", "2", "write")),
            cost="100 + len // 2",
            impl=ml_argmax, check=_check_len,
            doc="out[0] = index of the first maximum, out[1] = the maximum",
            test_vectors=(
                TestVector({"data": [3, -1, 9, 9, 2], "len": 5, "out": [0, 0]}, 0, {"out": [2, 9]}),
                TestVector({"data": [-5], "len": 1, "out": [0, 0]}, 0, {"out": [0, -5]}),
                TestVector({"data": [1], "len": 0, "out": [7, 7]}, EINVAL),
            )),
        SBPFunction(
            "sol_ml_forward",
            (pointer("out", "i32", "p.out_len", "write"), pointer("input", "i32", "p.in_len"),
             pointer("model", "u8", "p.model_len"), struct("p", ML_FORWARD)),
            cost="200 + p.model_len",
            impl=ml_forward, check=_check_forward,
            doc="run a v1 model (bytes, e.g. account data) on one input vector; EINVAL for a bad model "
                "or lengths that do not match it",
            test_vectors=(
                TestVector({"out": [0, 0], "input": [256, 512], "model": TINY_MODEL,
                            "p": {"model_len": len(TINY_MODEL), "in_len": 2, "out_len": 2}}, 0,
                           {"out": [159, 97]}),
                TestVector({"out": [1, 1], "input": [256, 512], "model": TINY_MODEL,
                            "p": {"model_len": len(TINY_MODEL), "in_len": 3, "out_len": 2}}, EINVAL),
                TestVector({"out": [1, 1], "input": [256, 512], "model": [0] * 16,
                            "p": {"model_len": 16, "in_len": 2, "out_len": 2}}, EINVAL),
            )),
        SBPFunction(
            "sol_ml_model_info",
            (pointer("model", "u8", "model_len"), scalar("model_len", "u64"), pointer("info", "u32", "8", "write")),
            cost="100 + model_len // 2",
            impl=ml_model_info, check=_check_model_len,
            doc="validate a model: version, layers, in_len, out_len, size, MACs, max width, output scale",
            test_vectors=(
                TestVector({"model": TINY_MODEL, "model_len": len(TINY_MODEL), "info": [0] * 8}, 0,
                           {"info": [1, 2, 2, 2, len(TINY_MODEL), 8, 2, 256]}),
                TestVector({"model": TINY_MODEL[:-1], "model_len": len(TINY_MODEL) - 1, "info": [0] * 8}, EINVAL),
            )),
    ),
)
