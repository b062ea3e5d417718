"""SBPFunc module `ml_advanced`: an LSTM cell and a fixed-point Q-learning update.

Independent of the `ml` module (own file, own SHA-256, own activation): it shares no code with it,
so approving or editing one never changes the other. Same number rules: i32 fixed point with an
explicit scale, exact accumulation, division truncating toward zero, saturation to i32, activations
rounded to nearest from an integer-only exp(); no floats. r0 = -22 (EINVAL) for zero sizes, a zero
scale, size overflow or out-of-range indices, with nothing written.

    struct ml_lstm { u32 x_len, h_len, scale, reserved (= 0); }                      16 bytes
    sol_ml_lstm_cell(i32 *h[h_len], i32 *c[h_len], const i32 *x[x_len],
                     const i32 *w[(x_len + h_len + 1) * 4 * h_len], const struct ml_lstm *p)
        z = sat(tdiv([x; h] . W, scale) + b)   (W: (x_len + h_len) rows of 4*h_len, then b)
        i, f, o = sigmoid(z_i, z_f, z_o); g = tanh(z_g)
        c' = sat(tdiv(f * c + i * g, scale)); h' = sat(tdiv(o * tanh(c'), scale))   (in place)

    struct ml_q_update { u32 n_actions; i32 reward; u32 alpha, gamma, scale, terminal; }   24 bytes
    sol_ml_q_update(i32 *q_sa[1], const i32 *q_next[n_actions], const struct ml_q_update *p)
        q_sa points at Q(s, a) (updated in place), q_next at the row Q(s', .) (any table layout;
        the row may contain q_sa: every value is read before anything is written)
        target = reward + (terminal ? 0 : tdiv(gamma * max(q_next), scale))
        *q_sa = sat(*q_sa + tdiv(alpha * (target - *q_sa), scale))

Costs cover the pure-Python work at under 1,000 ns per unit (`sbpfunc module audit`).
"""

from __future__ import annotations

from operator import mul as _mul

import construct as c

from sbpfunc.syscalls.signature import EINVAL, Module, SBPFunction, TestVector, pointer, struct

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1
U32_LIMIT = 1 << 32

ML_LSTM = c.Struct("x_len" / c.Int32ul, "h_len" / c.Int32ul, "scale" / c.Int32ul, "reserved" / c.Int32ul)
ML_Q_UPDATE = c.Struct(
    "n_actions" / c.Int32ul, "reward" / c.Int32sl, "alpha" / c.Int32ul, "gamma" / c.Int32ul,
    "scale" / c.Int32ul, "terminal" / c.Int32ul,
)


def _sat32(v: int) -> int:
    return I32_MIN if v < I32_MIN else I32_MAX if v > I32_MAX else v


def _tdiv(a: int, b: int) -> int:
    return a // b if a >= 0 else -((-a) // b)


def _rdiv(a: int, b: int) -> int:
    return (2 * a + b) // (2 * b) if a >= 0 else -((2 * -a + b) // (2 * b))


def _ln2_bits(bits: int) -> int:
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


def _exp_neg(num: int, den: int, p: int) -> int:
    """e^(-num/den) * 2^p for num >= 0: ln 2 range reduction and a floored Taylor series."""
    if num // den > p:
        return 0
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


def lstm_cell(h: list[int], cs: list[int], x: list[int], w: list[int], x_len: int, h_len: int,
              scale: int) -> tuple[list[int], list[int]]:
    rows, cols = x_len + h_len, 4 * h_len
    v = list(x) + list(h)
    bias = w[rows * cols:]
    z = [_sat32(_tdiv(sum(map(_mul, v, w[j:rows * cols:cols])), scale) + bias[j]) for j in range(cols)]
    new_h, new_c = [], []
    for u in range(h_len):
        i = sigmoid_fixed(z[u], scale)
        f = sigmoid_fixed(z[h_len + u], scale)
        g = tanh_fixed(z[2 * h_len + u], scale)
        o = sigmoid_fixed(z[3 * h_len + u], scale)
        cn = _sat32(_tdiv(f * cs[u] + i * g, scale))
        new_c.append(cn)
        new_h.append(_sat32(_tdiv(o * tanh_fixed(cn, scale), scale)))
    return new_h, new_c


def _check_lstm(args):
    p = args["p"]
    xl, hl, scale = p["x_len"], p["h_len"], p["scale"]
    if xl == 0 or hl == 0 or scale == 0 or p["reserved"] != 0 or (xl + hl + 1) * 4 * hl >= U32_LIMIT:
        return EINVAL
    return None


def ml_lstm_cell(h, c, x, w, p):
    nh, nc = lstm_cell(h, c, x, w, p["x_len"], p["h_len"], p["scale"])
    return 0, {"h": nh, "c": nc}


def q_update(q_sa: int, q_next: list[int], p: dict) -> int:
    """The new Q(s, a)."""
    target = p["reward"]
    if not p["terminal"]:
        target += _tdiv(p["gamma"] * max(q_next), p["scale"])
    return _sat32(q_sa + _tdiv(p["alpha"] * (target - q_sa), p["scale"]))


def _check_q(args):
    p = args["p"]
    if p["n_actions"] == 0 or p["n_actions"] >= U32_LIMIT or p["scale"] == 0 or p["terminal"] > 1:
        return EINVAL
    return None


def ml_q_update(q_sa, q_next, p):
    return 0, {"q_sa": [q_update(q_sa[0], q_next, p)]}


def _lstm_vector():
    """x_len 1, h_len 1, scale 1000: W rows [x; h] x gates [i f g o], then biases."""
    w = [1000, 1000, 1000, 1000,   # x row
         0, 0, 0, 0,               # h row
         0, 0, 0, 0]               # biases
    return {"h": [0], "c": [0], "x": [1000], "w": w, "p": {"x_len": 1, "h_len": 1, "scale": 1000, "reserved": 0}}


MODULE = Module(
    "ml_advanced", "1.0.0", "Fixed-point LSTM cell and Q-learning update",
    (
        SBPFunction(
            "sol_ml_lstm_cell",
            (pointer("h", "i32", "p.h_len", "readwrite"), pointer("c", "i32", "p.h_len", "readwrite"),
             pointer("x", "i32", "p.x_len"), pointer("w", "i32", "(p.x_len + p.h_len + 1) * 4 * p.h_len"),
             struct("p", ML_LSTM)),
            cost="100 + (p.x_len + p.h_len + 1) * 4 * p.h_len // 2 + p.h_len * 40",
            impl=ml_lstm_cell, check=_check_lstm,
            doc="one LSTM step, h and c updated in place",
            test_vectors=(
                # z = 1.0 for every gate: i = f = o = 0.731, g = 0.762; c = 0.731*0.762 = 0.557, h = 0.731*tanh(c)
                TestVector(_lstm_vector(), 0, {"h": [369], "c": [557]}),
                TestVector({**_lstm_vector(), "p": {"x_len": 1, "h_len": 1, "scale": 0, "reserved": 0}}, EINVAL),
            )),
        SBPFunction(
            "sol_ml_q_update",
            (pointer("q_sa", "i32", "1", "readwrite"), pointer("q_next", "i32", "p.n_actions"),
             struct("p", ML_Q_UPDATE)),
            cost="100 + p.n_actions // 2",
            impl=ml_q_update, check=_check_q,
            doc="one tabular Q-learning step: Q(s,a) in place from the row Q(s',.)",
            test_vectors=(
                # 100 + tdiv(500 * (1000 + tdiv(900 * 2000, 1000) - 100), 1000) = 100 + 1350 = 1450
                TestVector({"q_sa": [100], "q_next": [2000, -5],
                            "p": {"n_actions": 2, "reward": 1000, "alpha": 500, "gamma": 900, "scale": 1000,
                                  "terminal": 0}}, 0, {"q_sa": [1450]}),
                # terminal: 100 + tdiv(500 * (-1000 - 100), 1000) = 100 - 550 = -450
                TestVector({"q_sa": [100], "q_next": [2000, -5],
                            "p": {"n_actions": 2, "reward": -1000, "alpha": 500, "gamma": 900, "scale": 1000,
                                  "terminal": 1}}, 0, {"q_sa": [-450]}),
                TestVector({"q_sa": [7], "q_next": [0, 0],
                            "p": {"n_actions": 2, "reward": 0, "alpha": 1, "gamma": 1, "scale": 0,
                                  "terminal": 0}}, EINVAL),
            )),
    ),
)
