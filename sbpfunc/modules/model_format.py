"""The ML module's model format (v1): a construct layout, and a Python API to build and inspect models.

    from sbpfunc.modules.model_format import DenseLayer, pack_model, unpack_model, describe_model
    blob = pack_model([DenseLayer(w1, b1, scale=4096, activation="relu"),
                       DenseLayer(w2, b2, scale=4096, activation="softmax", dtype="i8", wstep=32)])

Weights are given as `[in][out]` nested lists or 2-D NumPy integer arrays (NumPy is optional), biases
as lists of `out` integers; all values are already fixed point (`to_fixed` converts real numbers with
a given scale, for tools — the module itself never sees a float). `dtype="i8"` stores weights as
int8 `q` meaning `q * wstep`.

Layout (little-endian), also documented in `sbpfunc/modules/ml.py`, whose own reader is what runs
on chain (the module must not depend on a file its hash does not cover); the tests check the two
agree:

    header  16 bytes: magic "SBML", u16 version = 1, u16 layers (1..64), u32 in_len, u32 out_len
    layer   20 bytes: u32 in, u32 out, u32 scale, u8 act, u8 wtype (0 i32 / 1 i8), u16 reserved = 0,
                      u32 wstep (i8: 1..2^24, i32: 0)
            weights in*out row-major [in][out], zero padding to 4 bytes (i8), bias out * i32
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import construct as c

MAGIC = b"SBML"
VERSION = 1
MAX_LAYERS = 64
MAX_WSTEP = 1 << 24
ACTIVATIONS = {"none": 0, "relu": 1, "sigmoid": 2, "tanh": 3, "softmax": 4}
ACTIVATION_NAMES = {v: k for k, v in ACTIVATIONS.items()}
DTYPES = {"i32": 0, "i8": 1}
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}

LayerHeader = c.Struct(
    "in_len" / c.Int32ul,
    "out_len" / c.Int32ul,
    "scale" / c.Int32ul,
    "act" / c.Int8ul,
    "wtype" / c.Int8ul,
    "reserved" / c.Const(0, c.Int16ul),
    "wstep" / c.Int32ul,
)

Layer = c.Struct(
    "header" / LayerHeader,
    "weights" / c.Switch(c.this.header.wtype, {
        0: c.Array(c.this.header.in_len * c.this.header.out_len, c.Int32sl),
        1: c.Array(c.this.header.in_len * c.this.header.out_len, c.Int8sl),
    }),
    "padding" / c.Padding(lambda ctx: (-(ctx.header.in_len * ctx.header.out_len)) % 4
                          if ctx.header.wtype == 1 else 0),
    "bias" / c.Array(c.this.header.out_len, c.Int32sl),
)

ModelHeader = c.Struct(
    "magic" / c.Const(MAGIC),
    "version" / c.Const(VERSION, c.Int16ul),
    "n_layers" / c.Int16ul,
    "in_len" / c.Int32ul,
    "out_len" / c.Int32ul,
)

Model = c.Struct(
    "header" / ModelHeader,
    "layers" / c.Array(c.this.header.n_layers, Layer),
)


class ModelFormatError(ValueError):
    """A model that cannot be packed or parsed (the message says which layer and why)."""


@dataclass
class DenseLayer:
    """One dense layer: y = act(sat(tdiv(x . W, scale) + bias)); W is [in][out]."""

    weights: Any  # [in][out] nested lists of ints, or a 2-D NumPy integer array
    bias: Sequence[int] | None = None
    scale: int = 4096
    activation: str | int = "none"
    dtype: str = "i32"
    wstep: int = 0  # i8 only: a stored q means q * wstep
    _rows: list[list[int]] = field(init=False, repr=False)

    def __post_init__(self):
        w = self.weights
        if hasattr(w, "tolist"):  # NumPy array (or anything array-like)
            w = w.tolist()
        rows = [[_as_int(v, "weight") for v in row] for row in w]
        if not rows or not rows[0] or any(len(r) != len(rows[0]) for r in rows):
            raise ModelFormatError("weights must be a non-empty rectangular [in][out] matrix")
        self._rows = rows
        if self.bias is None:
            self.bias = [0] * len(rows[0])
        elif hasattr(self.bias, "tolist"):
            self.bias = self.bias.tolist()
        self.bias = [_as_int(v, "bias") for v in self.bias]
        if len(self.bias) != len(rows[0]):
            raise ModelFormatError(f"bias has {len(self.bias)} values for {len(rows[0])} outputs")
        if isinstance(self.activation, str):
            if self.activation not in ACTIVATIONS:
                raise ModelFormatError(f"unknown activation {self.activation!r} (one of {', '.join(ACTIVATIONS)})")
            self.activation = ACTIVATIONS[self.activation]
        if self.activation not in ACTIVATION_NAMES:
            raise ModelFormatError(f"unknown activation code {self.activation}")
        if self.dtype not in DTYPES:
            raise ModelFormatError(f"unknown weight type {self.dtype!r} (i32 or i8)")
        if not 1 <= self.scale < 1 << 32:
            raise ModelFormatError(f"scale {self.scale} must be in 1..2^32-1")
        lo, hi = (-128, 127) if self.dtype == "i8" else (-(1 << 31), (1 << 31) - 1)
        bad = [v for r in rows for v in r if not lo <= v <= hi]
        if bad:
            raise ModelFormatError(f"weight {bad[0]} does not fit in {self.dtype}")
        if any(not -(1 << 31) <= v < 1 << 31 for v in self.bias):
            raise ModelFormatError("bias values must fit in i32")
        if self.dtype == "i8" and not 1 <= self.wstep <= MAX_WSTEP:
            raise ModelFormatError(f"i8 weights need wstep in 1..2^24, got {self.wstep}")
        if self.dtype == "i32" and self.wstep != 0:
            raise ModelFormatError("i32 weights take wstep 0")

    @property
    def in_len(self) -> int:
        return len(self._rows)

    @property
    def out_len(self) -> int:
        return len(self._rows[0])

    @property
    def rows(self) -> list[list[int]]:
        return self._rows

    def effective_weights(self) -> list[list[int]]:
        """W as the module multiplies it (q * wstep for i8)."""
        if self.dtype == "i8":
            return [[q * self.wstep for q in r] for r in self._rows]
        return [list(r) for r in self._rows]


def _as_int(v, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) and not (hasattr(v, "__index__")):
        raise ModelFormatError(f"{what} {v!r} is not an integer (use to_fixed for real numbers)")
    return int(v)


def to_fixed(values, scale: int):
    """Real numbers -> fixed point (round half away from zero). For tools, never for the module."""
    if hasattr(values, "tolist"):
        values = values.tolist()
    if isinstance(values, (list, tuple)):
        return [to_fixed(v, scale) for v in values]
    x = values * scale
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)


def quantize_weights(weights, wstep: int) -> list[list[int]]:
    """i32 fixed-point weights -> int8 q with q * wstep ~ w (round, saturate)."""
    if hasattr(weights, "tolist"):
        weights = weights.tolist()
    out = []
    for row in weights:
        qs = []
        for w in row:
            q = (2 * abs(w) + wstep) // (2 * wstep)
            qs.append(max(-128, min(127, q if w >= 0 else -q)))
        out.append(qs)
    return out


def pack_model(layers: Sequence[DenseLayer]) -> bytes:
    """Layers -> model bytes (v1). Layers must chain: each layer's in_len is the previous out_len."""
    if not 1 <= len(layers) <= MAX_LAYERS:
        raise ModelFormatError(f"a model has 1..{MAX_LAYERS} layers, got {len(layers)}")
    for i in range(1, len(layers)):
        if layers[i].in_len != layers[i - 1].out_len:
            raise ModelFormatError(f"layer {i}: input {layers[i].in_len} does not match the previous "
                                   f"output {layers[i - 1].out_len}")
    return Model.build({
        "header": {"n_layers": len(layers), "in_len": layers[0].in_len, "out_len": layers[-1].out_len},
        "layers": [{
            "header": {"in_len": lay.in_len, "out_len": lay.out_len, "scale": lay.scale, "act": lay.activation,
                       "wtype": DTYPES[lay.dtype], "wstep": lay.wstep},
            "weights": [v for r in lay.rows for v in r],
            "bias": lay.bias,
        } for lay in layers],
    })


def unpack_model(data: bytes) -> list[DenseLayer]:
    """Model bytes -> layers (trailing bytes after the last layer are ignored, as on chain)."""
    try:
        parsed = Model.parse(bytes(data))
    except c.ConstructError as e:
        raise ModelFormatError(f"not a v1 model: {e}") from None
    layers = []
    for i, lay in enumerate(parsed.layers):
        h = lay.header
        w = list(lay.weights)
        try:
            layers.append(DenseLayer([w[r * h.out_len:(r + 1) * h.out_len] for r in range(h.in_len)],
                                     list(lay.bias), scale=h.scale, activation=h.act,
                                     dtype=DTYPE_NAMES.get(h.wtype, "?"), wstep=h.wstep))
        except ModelFormatError as e:
            raise ModelFormatError(f"layer {i}: {e}") from None
    if parsed.header.in_len != layers[0].in_len or parsed.header.out_len != layers[-1].out_len:
        raise ModelFormatError("header lengths do not match the layers")
    for i in range(1, len(layers)):
        if layers[i].in_len != layers[i - 1].out_len:
            raise ModelFormatError(f"layer {i}: input does not match the previous output")
    return layers


def model_size(layers: Sequence[DenseLayer]) -> int:
    return len(pack_model(layers))


def describe_model(data: bytes) -> dict:
    """What `sbpfunc model inspect` shows: header, per-layer shape/scale/activation/dtype, totals."""
    layers = unpack_model(data)
    size = model_size(layers)
    return {
        "version": VERSION,
        "bytes": len(data),
        "model_bytes": size,
        "in_len": layers[0].in_len,
        "out_len": layers[-1].out_len,
        "macs": sum(lay.in_len * lay.out_len for lay in layers),
        "layers": [{"in": lay.in_len, "out": lay.out_len, "scale": lay.scale,
                    "activation": ACTIVATION_NAMES[lay.activation], "dtype": lay.dtype, "wstep": lay.wstep}
                   for lay in layers],
    }


def format_description(info: dict) -> str:
    lines = [f"SBML v{info['version']}: {info['in_len']} -> {info['out_len']}, {len(info['layers'])} layers, "
             f"{info['macs']} MACs, {info['model_bytes']} bytes"]
    for i, lay in enumerate(info["layers"]):
        step = f" wstep={lay['wstep']}" if lay["dtype"] == "i8" else ""
        lines.append(f"  layer {i}: {lay['in']} -> {lay['out']}  {lay['dtype']}{step}  scale={lay['scale']}  "
                     f"{lay['activation']}")
    return "\n".join(lines)


# --- JSON spec (for `sbpfunc model pack SPEC.json -o MODEL`) -----------------------------------------
def layers_from_spec(spec: dict) -> list[DenseLayer]:
    """{"layers": [{"weights": [[...]], "bias": [...], "scale": 4096, "activation": "relu",
    "dtype": "i32"|"i8", "wstep": 0}, ...]}; with "real": true, weights/bias are real numbers
    converted with the layer's scale (i8: quantized with wstep)."""
    if not isinstance(spec, dict) or not isinstance(spec.get("layers"), list):
        raise ModelFormatError('a model spec is an object with a "layers" list')
    real = bool(spec.get("real", False))
    out = []
    for i, lay in enumerate(spec["layers"]):
        try:
            scale = int(lay.get("scale", 4096))
            w, b = lay["weights"], lay.get("bias")
            dtype, wstep = lay.get("dtype", "i32"), int(lay.get("wstep", 0))
            if real:
                w = to_fixed(w, scale)
                b = to_fixed(b, scale) if b is not None else None
                if dtype == "i8":
                    w = quantize_weights(w, wstep)
            out.append(DenseLayer(w, b, scale=scale, activation=lay.get("activation", "none"), dtype=dtype,
                                  wstep=wstep))
        except (KeyError, TypeError, ValueError) as e:
            raise ModelFormatError(f"layer {i}: {e}") from None
    return out


def pack_spec_file(spec_path: str | Path, out_path: str | Path) -> bytes:
    try:
        spec = json.loads(Path(spec_path).read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise ModelFormatError(f"cannot read model spec {spec_path}: {e}") from None
    data = pack_model(layers_from_spec(spec))
    Path(out_path).write_bytes(data)
    return data


# --- the trading agent's model (12 features -> 8 relu -> 3 softmax: hold, buy, sell) -----------------
AGENT_SCALE = 4096
AGENT_FEATURES = 12
AGENT_HIDDEN = 8
AGENT_ACTIONS = 3


def example_trading_model(seed: int = 2024, dtype: str = "i32") -> bytes:
    """A deterministic 12 -> 8 -> 3 MLP with weights in [-1, 1) (Q12), for the trading agent."""
    rng = random.Random(seed)
    s = AGENT_SCALE

    def mat(rows, cols):
        return [[rng.randint(-s, s - 1) for _ in range(cols)] for _ in range(rows)]

    w1, b1 = mat(AGENT_FEATURES, AGENT_HIDDEN), [rng.randint(-s // 4, s // 4) for _ in range(AGENT_HIDDEN)]
    w2, b2 = mat(AGENT_HIDDEN, AGENT_ACTIONS), [rng.randint(-s // 4, s // 4) for _ in range(AGENT_ACTIONS)]
    if dtype == "i8":
        wstep = s // 128
        return pack_model([DenseLayer(quantize_weights(w1, wstep), b1, scale=s, activation="relu", dtype="i8",
                                      wstep=wstep),
                           DenseLayer(quantize_weights(w2, wstep), b2, scale=s, activation="softmax", dtype="i8",
                                      wstep=wstep)])
    return pack_model([DenseLayer(w1, b1, scale=s, activation="relu"),
                       DenseLayer(w2, b2, scale=s, activation="softmax")])
