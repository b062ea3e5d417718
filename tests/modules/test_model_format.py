"""Model format v1: the construct layout (model_format.py) and the module's own reader (ml.py) agree;
pack/unpack round trips; sol_ml_forward equals the layers run one by one with sol_ml_matmul_bias;
sol_ml_model_info; malformed models give EINVAL and write nothing."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sbpfunc.modules import ml
from sbpfunc.modules import model_format as mf
from sbpfunc.syscalls.signature import EINVAL

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def models(draw, max_layers=3, max_width=6):
    n_layers = draw(st.integers(1, max_layers))
    widths = [draw(st.integers(1, max_width)) for _ in range(n_layers + 1)]
    layers = []
    for i in range(n_layers):
        k, n = widths[i], widths[i + 1]
        dtype = draw(st.sampled_from(["i32", "i8"]))
        lo, hi = (-128, 127) if dtype == "i8" else (-(1 << 20), 1 << 20)
        w = [[draw(st.integers(lo, hi)) for _ in range(n)] for _ in range(k)]
        bias = [draw(st.integers(-(1 << 20), 1 << 20)) for _ in range(n)]
        scale = draw(st.sampled_from([1, 256, 4096, 65536, 1000, 7]))
        act = draw(st.sampled_from(list(mf.ACTIVATIONS)))
        wstep = draw(st.integers(1, 1 << 12)) if dtype == "i8" else 0
        layers.append(mf.DenseLayer(w, bias, scale=scale, activation=act, dtype=dtype, wstep=wstep))
    return layers


@SETTINGS
@given(models())
def test_pack_unpack_and_module_reader_agree(layers):
    blob = mf.pack_model(layers)
    back = mf.unpack_model(blob)
    assert [(l.rows, l.bias, l.scale, l.activation, l.dtype, l.wstep) for l in back] == \
        [(l.rows, l.bias, l.scale, l.activation, l.dtype, l.wstep) for l in layers]
    parsed = ml.parse_model(blob)
    assert parsed["size"] == len(blob) and parsed["in_len"] == layers[0].in_len
    for lay, p in zip(layers, parsed["layers"]):
        assert p["weights"] == [v for r in lay.effective_weights() for v in r]
        assert (p["bias"], p["scale"], p["act"]) == (lay.bias, lay.scale, lay.activation)
    info = mf.describe_model(blob + b"\x00" * 5)  # trailing bytes are ignored by both readers
    assert info["model_bytes"] == len(blob) and info["macs"] == sum(l.in_len * l.out_len for l in layers)
    assert ml.model_info(ml.parse_model(blob + b"\xff" * 3))[4] == len(blob)


@SETTINGS
@given(models(), st.data())
def test_corrupt_models_are_rejected_by_both_readers(layers, data):
    blob = bytearray(mf.pack_model(layers))
    cut = data.draw(st.integers(0, len(blob) - 1))
    with pytest.raises(ml.ModelError):
        ml.parse_model(bytes(blob[:cut]))
    with pytest.raises(mf.ModelFormatError):
        mf.unpack_model(bytes(blob[:cut]))
    # a flipped byte: whatever the module accepts, the construct reader accepts identically
    pos = data.draw(st.integers(0, len(blob) - 1))
    blob[pos] ^= data.draw(st.integers(1, 255))
    try:
        parsed = ml.parse_model(bytes(blob))
    except ml.ModelError:
        return
    back = mf.unpack_model(bytes(blob))
    assert [p["weights"] for p in parsed["layers"]] == [[v for r in l.effective_weights() for v in r] for l in back]


def _forward_inputs(blob, x):
    parsed = ml.parse_model(blob)
    return {"out": [0] * parsed["out_len"], "input": x, "model": list(blob),
            "p": {"model_len": len(blob), "in_len": parsed["in_len"], "out_len": parsed["out_len"]}}


@SETTINGS
@given(models(), st.data())
def test_forward_equals_layer_by_layer_calls(call, layers, data):
    blob = mf.pack_model(layers)
    x = data.draw(st.lists(st.integers(-(1 << 31), (1 << 31) - 1), min_size=layers[0].in_len,
                           max_size=layers[0].in_len))
    res = call("sol_ml_forward", _forward_inputs(blob, x))
    assert res.error is None and res.r0 == 0
    assert res.consumed == 200 + len(blob)
    v = x
    for lay in layers:
        w = [q for r in lay.effective_weights() for q in r]
        step = call("sol_ml_matmul_bias", {"out": [0] * lay.out_len, "a": v, "b": w, "bias": lay.bias,
                                           "d": {"m": 1, "k": lay.in_len, "n": lay.out_len, "scale": lay.scale,
                                                 "act": lay.activation}})
        assert step.r0 == 0
        v = step.buffers["out"]
    assert res.buffers["out"] == v


def test_model_info_through_the_vm(call):
    blob = mf.example_trading_model()
    res = call("sol_ml_model_info", {"model": list(blob), "model_len": len(blob), "info": [0] * 8})
    assert res.r0 == 0
    assert res.buffers["info"] == [1, 2, 12, 3, len(blob), 12 * 8 + 8 * 3, 12, 4096]


@pytest.mark.parametrize("mutate", [
    lambda b: b"XBML" + b[4:],                                   # magic
    lambda b: b[:4] + (2).to_bytes(2, "little") + b[6:],         # version
    lambda b: b[:6] + (0).to_bytes(2, "little") + b[8:],         # no layers
    lambda b: b[:8] + (11).to_bytes(4, "little") + b[12:],       # header in_len != layer 0
    lambda b: b[:12] + (4).to_bytes(4, "little") + b[16:],       # header out_len != last layer
    lambda b: b[:24] + (0).to_bytes(4, "little") + b[28:],       # layer 0 scale 0
    lambda b: b[:28] + bytes([9]) + b[29:],                      # activation code
    lambda b: b[:29] + bytes([2]) + b[30:],                      # weight type
    lambda b: b[:30] + bytes([1]) + b[31:],                      # reserved
    lambda b: b[:-1],                                            # truncated bias
])
def test_malformed_model_is_einval_and_writes_nothing(call, mutate):
    good = mf.example_trading_model()
    bad = mutate(good)
    inputs = _forward_inputs(good, [4096] * 12)
    inputs["model"], inputs["p"]["model_len"] = list(bad), len(bad)
    res = call("sol_ml_forward", inputs)
    assert res.error is None and res.r0 == EINVAL and res.heap_after == res.heap_before
    res = call("sol_ml_model_info", {"model": list(bad), "model_len": len(bad), "info": [0] * 8})
    assert res.r0 == EINVAL and res.heap_after == res.heap_before


def test_forward_length_mismatch_is_einval(call):
    blob = mf.example_trading_model()
    inputs = _forward_inputs(blob, [1] * 12)
    inputs["p"]["out_len"] = 4
    inputs["out"] = [0] * 4
    res = call("sol_ml_forward", inputs)
    assert res.r0 == EINVAL and res.heap_after == res.heap_before


def test_pack_errors_are_clear():
    with pytest.raises(mf.ModelFormatError, match="does not match the previous output"):
        mf.pack_model([mf.DenseLayer([[1, 2]]), mf.DenseLayer([[1], [2], [3]])])
    with pytest.raises(mf.ModelFormatError, match="does not fit in i8"):
        mf.DenseLayer([[200]], dtype="i8", wstep=1)
    with pytest.raises(mf.ModelFormatError, match="not an integer"):
        mf.DenseLayer([[0.5]])
    with pytest.raises(mf.ModelFormatError, match="unknown activation"):
        mf.DenseLayer([[1]], activation="gelu")
    with pytest.raises(mf.ModelFormatError, match="wstep"):
        mf.DenseLayer([[1]], dtype="i8")


def test_numpy_arrays_pack_like_lists():
    np = pytest.importorskip("numpy")
    w = np.arange(-6, 6, dtype=np.int32).reshape(3, 4)
    b = np.array([1, 2, 3, 4], dtype=np.int64)
    assert mf.pack_model([mf.DenseLayer(w, b, scale=16, activation="tanh")]) == \
        mf.pack_model([mf.DenseLayer(w.tolist(), b.tolist(), scale=16, activation="tanh")])


def test_json_spec_pack_and_describe(tmp_path):
    spec = {"real": True, "layers": [
        {"weights": [[0.5, -0.25], [1.0, 0.0]], "bias": [0.125, 0], "scale": 256, "activation": "relu"},
        {"weights": [[0.5], [-0.5]], "scale": 256, "activation": "sigmoid", "dtype": "i8", "wstep": 4},
    ]}
    src = tmp_path / "m.json"
    src.write_text(json.dumps(spec))
    blob = mf.pack_spec_file(src, tmp_path / "m.sbml")
    assert (tmp_path / "m.sbml").read_bytes() == blob
    layers = mf.unpack_model(blob)
    assert layers[0].rows == [[128, -64], [256, 0]] and layers[0].bias == [32, 0]
    assert layers[1].rows == [[32], [-32]] and layers[1].effective_weights() == [[128], [-128]]
    text = mf.format_description(mf.describe_model(blob))
    assert text.splitlines()[0] == f"SBML v1: 2 -> 1, 2 layers, 6 MACs, {len(blob)} bytes"
    assert "layer 1: 2 -> 1  i8 wstep=4  scale=256  sigmoid" in text
