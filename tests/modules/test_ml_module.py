"""The `ml` module: manifest, determinism vectors, exact fixed-point semantics, activations against
float references (floats only here, never in the module), NumPy backend equality, argument errors."""

from __future__ import annotations

import ast
import math
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sbpfunc.modules import ml
from sbpfunc.syscalls.modules import file_sha256
from sbpfunc.syscalls.signature import EINVAL, Pointer, StructArg, evaluate

from ._mlkit import ADV_PATH, ML_PATH, Caller

I32 = st.integers(-(1 << 31), (1 << 31) - 1)
I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1
SCALES_ANY = st.one_of(st.integers(1, 1 << 20), st.integers(1, (1 << 64) - 1),
                       st.sampled_from([1, 2, 3, 1000, 4096, 65536, (1 << 31) - 1, 1 << 31, 1 << 32, (1 << 64) - 1]))
SCALES_I32 = st.one_of(st.integers(1, 1 << 16), st.integers(1, (1 << 31) - 1))
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def sat(v: int) -> int:
    return max(I32_MIN, min(I32_MAX, v))


def xs_for(scale):
    """Inputs across the whole i32 range and, where the function changes, around +-16 * scale."""
    near = min(16 * scale, I32_MAX)
    return st.one_of(I32, st.integers(-near, near))


# --- manifest -------------------------------------------------------------------------------------
EXPECTED = ["sol_ml_matmul", "sol_ml_activation", "sol_ml_matmul_bias", "sol_ml_sigmoid_lut",
            "sol_ml_quantize_int8", "sol_ml_dequantize_int8", "sol_ml_argmax", "sol_ml_forward",
            "sol_ml_model_info"]


def test_manifest_and_identity(ml_module):
    assert ml_module.name == "ml" and ml_module.version == "1.0.0"
    assert ml_module.sha256 == file_sha256(ML_PATH.read_bytes())
    assert [f.name for f in ml_module.manifest.functions] == EXPECTED
    for f in ml_module.manifest.functions:
        assert len(f.params) <= 5 and f.test_vectors, f.name
        assert f.signature_text().startswith(f"u64 {f.name}(")


def test_fixed_abis_are_exactly_as_specified(ml_module):
    fns = {f.name: f for f in ml_module.manifest.functions}
    mm = fns["sol_ml_matmul"]
    assert [(type(p).__name__, p.name) for p in mm.params] == [
        ("Pointer", "out"), ("Pointer", "a"), ("Pointer", "b"), ("StructArg", "d")]
    assert [(p.elem, p.count, p.access) for p in mm.params[:3]] == [
        ("i32", "d.m*d.n", "write"), ("i32", "d.m*d.k", "read"), ("i32", "d.k*d.n", "read")]
    assert mm.params[3].size == 16
    assert ml.ML_DIMS.build({"m": 1, "k": 2, "n": 3, "scale": 4}) == bytes.fromhex("01000000020000000300000004000000")
    act = fns["sol_ml_activation"]
    assert [(type(p).__name__, p.name) for p in act.params] == [
        ("Pointer", "data"), ("Scalar", "len"), ("Scalar", "kind"), ("Scalar", "scale")]
    assert act.params[0].access == "readwrite" and act.params[0].count == "len"
    assert [p.type for p in act.params[1:]] == ["u64", "u64", "u64"]


def test_module_code_has_no_floats():
    """No float literal, float() call, math module or true division in the module files."""
    for path in (ML_PATH, ML_PATH.with_name("ml_advanced.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            assert not (isinstance(node, ast.Constant) and isinstance(node.value, float)), (path, node.lineno)
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):  # only construct's "name" / Type
                assert isinstance(node.left, ast.Constant) and isinstance(node.left.value, str), (path, node.lineno)
            assert not (isinstance(node, ast.Name) and node.id in ("float", "math")), (path, node.lineno)


def test_header_declares_every_function():
    header = (ML_PATH.parents[1] / "toolchain" / "include" / "sbpfunc.h").read_text()
    for name in EXPECTED + ["sol_ml_lstm_cell", "sol_ml_q_update"]:
        assert f"uint64_t {name}(" in header, name


# --- test vectors through the registry handler ------------------------------------------------------
def _vectors(*names):
    from sbpfunc.syscalls.modules import load_module

    out = []
    for path in (ML_PATH, ADV_PATH):
        for f in load_module(path).manifest.functions:
            for i, v in enumerate(f.test_vectors):
                out.append(pytest.param(f.name, v, id=f"{f.name}[{i}]"))
    return out


@pytest.mark.parametrize("name,vector", _vectors())
def test_vector(call, name, vector):
    fn = call.fns[name]
    res = call(name, vector.inputs)
    assert res.error is None, res.error
    assert res.r0 == vector.r0
    names = {p.name: vector.inputs[p.name] for p in fn.params if not isinstance(p, Pointer)}
    rejected_early = fn.check is not None and fn.check(dict(names)) is not None
    # EINVAL from `check` (scalars, struct fields) costs base_cost; from the function (a model it
    # had to read) the declared cost, already charged
    assert res.consumed == (fn.base_cost if rejected_early else evaluate(fn.cost, names))
    if vector.r0 != 0:
        assert res.heap_after == res.heap_before, "a failing call wrote memory"
        return
    for pname, expected in vector.outputs.items():
        assert res.buffers[pname] == expected, pname


# --- matmul semantics -----------------------------------------------------------------------------
def ref_matmul(a, b, m, k, n, scale):
    out = []
    for i in range(m):
        for j in range(n):
            s = sum(a[i * k + t] * b[t * n + j] for t in range(k))
            q = Fraction(s, scale)
            out.append(sat(math.floor(q) if q >= 0 else math.ceil(q)))  # truncation toward zero
    return out


@st.composite
def matmul_case(draw, max_dim=6, values=I32):
    m, k, n = (draw(st.integers(1, max_dim)) for _ in range(3))
    a = draw(st.lists(values, min_size=m * k, max_size=m * k))
    b = draw(st.lists(values, min_size=k * n, max_size=k * n))
    scale = draw(st.one_of(st.integers(1, 1 << 32 - 1), st.sampled_from([1, 2, 3, 4096, (1 << 32) - 1])))
    return a, b, m, k, n, scale


@FAST
@given(matmul_case(values=st.one_of(I32, st.integers(-100, 100))))
def test_matmul_exact_truncating_saturating(case):
    a, b, m, k, n, scale = case
    assert ml._matmul_python(a, b, m, k, n, scale) == ref_matmul(a, b, m, k, n, scale)


@FAST
@given(matmul_case(max_dim=4))
def test_matmul_through_the_vm(call, case):
    a, b, m, k, n, scale = case
    d = {"m": m, "k": k, "n": n, "scale": scale}
    res = call("sol_ml_matmul", {"out": [0] * (m * n), "a": a, "b": b, "d": d})
    assert res.error is None and res.r0 == 0
    assert res.buffers["out"] == ref_matmul(a, b, m, k, n, scale)
    assert res.consumed == 100 + m * n + k * (m + n) // 2 + m * k * n // 4


# --- NumPy backend --------------------------------------------------------------------------------
def _numpy():
    return pytest.importorskip("numpy")


@FAST
@given(matmul_case(max_dim=12, values=st.one_of(I32, st.integers(-3000, 3000), st.sampled_from([I32_MIN, I32_MAX]))))
def test_numpy_backend_is_bit_identical(case):
    _numpy()
    a, b, m, k, n, scale = case
    assert ml._matmul_numpy(a, b, m, k, n, scale) == ml._matmul_python(a, b, m, k, n, scale)
    assert ml._matmul_numpy_raw(a, b, m, k, n, scale) == [
        (s // scale if s >= 0 else -((-s) // scale))
        for s in (sum(a[i * k + t] * b[t * n + j] for t in range(k)) for i in range(m) for j in range(n))]


def test_numpy_backend_long_k_uses_chunks():
    _numpy()
    k = (1 << 15) + 7
    a = [I32_MIN if t % 3 else I32_MAX for t in range(k)]
    b = [I32_MIN] * k
    for scale in (1, 3, (1 << 32) - 1):
        assert ml._matmul_numpy(a, b, 1, k, 1, scale) == ml._matmul_python(a, b, 1, k, 1, scale)
    raw = ml._matmul_numpy_raw(a, b, 1, k, 1, 7)
    assert raw == [sum(x * y for x, y in zip(a, b)) // 7]


def test_numpy_and_python_paths_charge_the_same(ml_module):
    """Same shape above the NumPy threshold, with NumPy on and off in the loaded module: identical
    outputs and identical compute units (the cost depends only on the arguments)."""
    _numpy()
    fn = next(f for f in ml_module.manifest.functions if f.name == "sol_ml_matmul")
    g = fn.impl.__globals__
    m = k = n = 24
    assert m * k * n >= g["NUMPY_MIN_MACS"]
    a = [((i * 7919) % 20001) - 10000 for i in range(m * k)]
    b = [((i * 104729) % 30001) - 15000 for i in range(k * n)]
    inputs = {"out": [0] * (m * n), "a": a, "b": b, "d": {"m": m, "k": k, "n": n, "scale": 977}}
    saved = g["_np"]
    try:
        with_np = Caller([ml_module])("sol_ml_matmul", inputs)
        g["_np"] = None
        without = Caller([ml_module])("sol_ml_matmul", inputs)
    finally:
        g["_np"] = saved
    assert with_np.r0 == without.r0 == 0
    assert with_np.buffers["out"] == without.buffers["out"] == ref_matmul(a, b, m, k, n, 977)
    assert with_np.consumed == without.consumed == 100 + m * n + k * (m + n) // 2 + m * k * n // 4


# --- activations against float references -----------------------------------------------------------
def f_sigmoid(x, s):
    u = x / s
    if u >= 0:
        return s / (1 + math.exp(-u))
    e = math.exp(u)
    return s * e / (1 + e)


def f_tanh(x, s):
    return s * math.tanh(x / s)


def close(out, ref, tol):
    return abs(out - max(I32_MIN, min(I32_MAX, ref))) <= tol


@settings(max_examples=2000, deadline=None)
@given(st.data())
def test_sigmoid_within_one_unit(data):
    s = data.draw(SCALES_ANY)
    x = data.draw(xs_for(s))
    out = ml.sigmoid_fixed(x, s)
    assert close(out, f_sigmoid(x, s), 1), (x, s, out, f_sigmoid(x, s))


@settings(max_examples=2000, deadline=None)
@given(st.data())
def test_tanh_within_one_unit(data):
    s = data.draw(SCALES_ANY)
    x = data.draw(xs_for(s))
    out = ml.tanh_fixed(x, s)
    assert close(out, f_tanh(x, s), 1), (x, s, out, f_tanh(x, s))
    assert ml.tanh_fixed(-x, s) == -out or x == I32_MIN


@settings(max_examples=1000, deadline=None)
@given(st.data())
def test_softmax_within_two_units_and_sums_to_scale(data):
    s = data.draw(SCALES_I32)
    xs = data.draw(st.lists(st.one_of(I32, st.integers(-8 * s, 8 * s).map(sat)), min_size=1, max_size=40))
    out = ml.softmax_fixed(xs, s)
    top = max(xs)
    es = [math.exp((x - top) / s) for x in xs]
    total = sum(es)
    for o, e in zip(out, es):
        assert close(o, s * e / total, 2)
    assert abs(sum(out) - s) <= len(xs)


@given(st.lists(I32, min_size=1, max_size=30), SCALES_ANY)
def test_relu_exact(xs, s):
    assert ml.activate(xs, 0, s) == [max(0, x) for x in xs]


@settings(max_examples=1000, deadline=None)
@given(st.data())
def test_sigmoid_lut_accuracy(data):
    s = data.draw(st.one_of(st.integers(1, 1 << 20), st.integers(1, (1 << 32) - 1)))
    x = data.draw(xs_for(s))
    tol = 1 if s <= 1 << 20 else 1 + s / (1 << 21)
    assert close(ml.sigmoid_lut(x, s), f_sigmoid(x, s), tol)


def test_activation_extremes():
    for s in (1, 2, 4096, I32_MAX, 1 << 40, (1 << 64) - 1):
        for x in (I32_MIN, -1, 0, 1, I32_MAX):
            assert close(ml.sigmoid_fixed(x, s), f_sigmoid(x, s), 1)
            assert close(ml.tanh_fixed(x, s), f_tanh(x, s), 1)
    assert ml.softmax_fixed([I32_MIN, I32_MAX], 4096) == [0, 4096]
    assert ml.softmax_fixed([5] * 7, 7) == [1] * 7


@FAST
@given(st.lists(I32, min_size=1, max_size=12), st.integers(0, 3), SCALES_I32)
def test_activation_in_place_through_the_vm(call, xs, kind, s):
    res = call("sol_ml_activation", {"data": xs, "len": len(xs), "kind": kind, "scale": s})
    assert res.error is None and res.r0 == 0
    assert res.buffers["data"] == ml.activate(xs, kind, s)
    assert res.consumed == 100 + len(xs) * {0: 1, 1: 5, 2: 5, 3: 6}[kind]


# --- fused dense layer, quantization, argmax --------------------------------------------------------
@FAST
@given(matmul_case(max_dim=5, values=st.integers(-5000, 5000)), st.integers(0, 4), st.booleans(), st.data())
def test_matmul_bias_equals_matmul_then_bias_then_activation(call, case, act, with_bias, data):
    a, b, m, k, n, scale = case
    scale = scale % (1 << 16) + 1
    bias = data.draw(st.lists(I32, min_size=n, max_size=n)) if with_bias else None
    d = {"m": m, "k": k, "n": n, "scale": scale, "act": act}
    res = call("sol_ml_matmul_bias", {"out": [0] * (m * n), "a": a, "b": b, "bias": bias, "d": d})
    assert res.error is None and res.r0 == 0
    expected = []
    for i in range(m):
        row = []
        for j in range(n):
            s = sum(a[i * k + t] * b[t * n + j] for t in range(k))
            q = s // scale if s >= 0 else -((-s) // scale)
            row.append(sat(q + (bias[j] if bias else 0)))
        expected += ml.activate(row, act - 1, scale) if act else row
    assert res.buffers["out"] == expected


@given(st.lists(I32, min_size=1, max_size=30), st.integers(1, 1 << 24), st.integers(-128, 127))
def test_quantize_roundtrip(xs, step, zp):
    q = ml.ml_quantize_int8(None, xs, len(xs), step, zp)[1]["out"]
    back = ml.ml_dequantize_int8(None, q, len(q), step, zp)[1]["out"]
    for x, qi, y in zip(xs, q, back):
        assert -128 <= qi <= 127
        exact = Fraction(x, step) + zp
        if -128 <= exact <= 127:
            assert abs(y - x) * 2 <= step  # round to nearest: error at most half a step
            assert abs(qi - exact) <= Fraction(1, 2)


@given(st.lists(I32, min_size=1, max_size=40))
def test_argmax_first_maximum(call, xs):
    res = call("sol_ml_argmax", {"data": xs, "len": len(xs), "out": [0, 0]})
    assert res.r0 == 0 and res.buffers["out"] == [xs.index(max(xs)), max(xs)]


# --- bad arguments: typed errors or EINVAL, and never a write ---------------------------------------
GOOD = {"out": [0] * 4, "a": [1, 2, 3, 4], "b": [5, 6, 7, 8], "d": {"m": 2, "k": 2, "n": 2, "scale": 1}}


def _unchanged(res):
    return res.heap_after == res.heap_before


def test_short_output_buffer_is_an_access_violation():
    # out placed so that m*n i32 run past the end of the heap
    from sbpfunc.vm.isa import MM_HEAP_START

    from sbpfunc.syscalls.modules import load_module

    caller = Caller([load_module(ML_PATH)], heap_size=4096)
    res = caller("sol_ml_matmul", GOOD, raw_regs={"out": MM_HEAP_START + 4096 - 12})
    assert res.r0 is None and type(res.error).__name__ == "SyscallError"
    assert "sol_ml_matmul: argument `out` (16 bytes" in str(res.error) and "Access violation" in str(res.error)
    assert _unchanged(res) and res.consumed == 0


def test_short_input_buffer_is_an_access_violation(call):
    from sbpfunc.vm.isa import MM_HEAP_START

    res = call("sol_ml_matmul", GOOD, raw_regs={"b": MM_HEAP_START + call.heap_size - 8})
    assert "argument `b` (16 bytes" in str(res.error) and _unchanged(res)


def test_read_only_output_is_an_access_violation(call):
    from sbpfunc.vm.isa import MM_PROGRAM_START

    for name, inputs, pname in (("sol_ml_matmul", GOOD, "out"),
                                ("sol_ml_activation", {"data": [1, 2], "len": 2, "kind": 1, "scale": 10}, "data")):
        res = call(name, inputs, raw_regs={pname: MM_PROGRAM_START})
        assert type(res.error).__name__ == "SyscallError", res.error
        assert f"argument `{pname}`" in str(res.error) and "Access violation" in str(res.error)
        assert _unchanged(res)


@pytest.mark.parametrize("pname", ["out", "a", "b", "d"])
def test_null_where_not_optional(call, pname):
    res = call("sol_ml_matmul", {**GOOD, pname: None})
    assert type(res.error).__name__ == "SyscallError"
    assert f"argument `{pname}` must not be NULL" in str(res.error)
    assert _unchanged(res)


def test_null_bias_is_allowed(call):
    d = {"m": 1, "k": 1, "n": 2, "scale": 1, "act": 0}
    res = call("sol_ml_matmul_bias", {"out": [0, 0], "a": [3], "b": [1, -1], "bias": None, "d": d})
    assert res.r0 == 0 and res.buffers["out"] == [3, -3]


@pytest.mark.parametrize("dims", [
    {"m": 2, "k": 2, "n": 2, "scale": 0},                     # zero scale
    {"m": 0, "k": 2, "n": 2, "scale": 1},                     # zero dimension
    {"m": 2, "k": 0, "n": 2, "scale": 1},
    {"m": 2, "k": 2, "n": 0, "scale": 1},
    {"m": 1 << 16, "k": 1, "n": 1 << 16, "scale": 1},         # m*n overflows u32
    {"m": 1 << 31, "k": 2, "n": 1, "scale": 1},               # m*k overflows u32
    {"m": 1, "k": 0xFFFF_FFFF, "n": 2, "scale": 1},           # k*n overflows u32
])
def test_invalid_dimensions_return_einval_and_write_nothing(call, dims):
    res = call("sol_ml_matmul", {**GOOD, "d": dims})
    assert res.error is None and res.r0 == EINVAL == (-22) & (2**64 - 1)
    assert _unchanged(res) and res.consumed == 100
    res = call("sol_ml_matmul_bias", {**GOOD, "bias": [0, 0], "d": {**dims, "act": 0}})
    assert res.r0 == EINVAL and _unchanged(res)


@pytest.mark.parametrize("args", [
    {"len": 2, "kind": 4, "scale": 10},     # unknown kind
    {"len": 2, "kind": 2**64 - 1, "scale": 10},
    {"len": 2, "kind": 1, "scale": 0},      # zero scale
    {"len": 0, "kind": 0, "scale": 10},     # zero length
    {"len": 1 << 32, "kind": 0, "scale": 10},  # length beyond u32
])
def test_activation_invalid_arguments(call, args):
    res = call("sol_ml_activation", {"data": [5, -5], **args})
    assert res.error is None and res.r0 == EINVAL and _unchanged(res) and res.consumed == 100


def test_out_of_budget_writes_nothing(call):
    res = call("sol_ml_matmul", GOOD, budget=50)
    assert "Computational budget exceeded" in str(res.error) and _unchanged(res)


def test_every_signature_param_is_checked():
    """Every pointer has a size expression over declared scalars/struct fields only."""
    from sbpfunc.syscalls.modules import load_module

    for f in load_module(ML_PATH).manifest.functions:
        names = {}
        for p in f.params:
            if isinstance(p, StructArg):
                names[p.name] = {sc.name: 1 for sc in p.layout.subcons}
            elif not isinstance(p, Pointer):
                names[p.name] = 1
        for p in f.params:
            if isinstance(p, Pointer):
                assert evaluate(p.count, names) >= 1, (f.name, p.name)
        assert evaluate(f.cost, names) >= 100
