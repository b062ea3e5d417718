"""The `ml_advanced` module (LSTM cell, Q-learning update) and its coexistence with `ml`: separate
files, hashes and activation; either can be active without the other."""

from __future__ import annotations

import ast
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sbpfunc.modules import ml_advanced as adv
from sbpfunc.syscalls.core import LOGGING_SYSCALLS
from sbpfunc.syscalls.modules import SBPFuncNotActive, SBPFuncRegistry, StaticActivation, file_sha256
from sbpfunc.syscalls.signature import EINVAL

from ._mlkit import ADV_PATH, ML_PATH, Caller

I32_MIN, I32_MAX = -(1 << 31), (1 << 31) - 1
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def tdiv(a, b):
    return a // b if a >= 0 else -((-a) // b)


def sat(v):
    return max(I32_MIN, min(I32_MAX, v))


def test_independent_identity(ml_module, adv_module):
    assert adv_module.name == "ml_advanced"
    assert adv_module.sha256 == file_sha256(ADV_PATH.read_bytes()) != ml_module.sha256
    assert [f.name for f in adv_module.manifest.functions] == ["sol_ml_lstm_cell", "sol_ml_q_update"]
    # self-contained: a module imports only the framework and libraries, never a file its hash misses
    allowed = {"__future__", "operator", "construct", "numpy", "sbpfunc.syscalls.signature"}
    for path in (ML_PATH, ADV_PATH):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert node.module in allowed, (path.name, node.module)
            elif isinstance(node, ast.Import):
                assert all(a.name in allowed for a in node.names), (path.name, [a.name for a in node.names])


def test_each_module_activates_on_its_own(ml_module, adv_module):
    both = [ml_module, adv_module]
    only_adv = SBPFuncRegistry(LOGGING_SYSCALLS, both, StaticActivation([adv_module.sha256]))
    only_adv.check_imports(["sol_log_", "sol_ml_lstm_cell", "sol_ml_q_update"], 3)
    with pytest.raises(SBPFuncNotActive, match=r"sol_ml_matmul from module ml 1\.0\.0 .* not active at slot 3"):
        only_adv.check_imports(["sol_ml_q_update", "sol_ml_matmul"], 3)
    reg = only_adv.registry_at(3)
    assert reg.deployable(reg.get("sol_ml_q_update").key) and not reg.deployable(reg.get("sol_ml_matmul").key)
    only_ml = SBPFuncRegistry(LOGGING_SYSCALLS, both, StaticActivation([ml_module.sha256]))
    with pytest.raises(SBPFuncNotActive, match="sol_ml_lstm_cell from module ml_advanced"):
        only_ml.check_imports(["sol_ml_matmul", "sol_ml_lstm_cell"], 0)


# --- LSTM -----------------------------------------------------------------------------------------
def f_lstm(h, c, x, w, xl, hl, s):
    rows, cols = xl + hl, 4 * hl
    v = [t / s for t in list(x) + list(h)]
    z = [sum(v[r] * w[r * cols + j] / s for r in range(rows)) + w[rows * cols + j] / s for j in range(cols)]
    sig = lambda t: 1 / (1 + math.exp(-t))  # noqa: E731
    nh, nc = [], []
    for u in range(hl):
        i, f, g, o = sig(z[u]), sig(z[hl + u]), math.tanh(z[2 * hl + u]), sig(z[3 * hl + u])
        cn = f * c[u] / s + i * g
        nc.append(cn * s)
        nh.append(o * math.tanh(cn) * s)
    return nh, nc


@SETTINGS
@given(st.integers(1, 3), st.integers(1, 3), st.sampled_from([256, 1000, 4096, 65536]), st.data())
def test_lstm_cell_tracks_float_reference(call, xl, hl, s, data):
    vals = st.integers(-2 * s, 2 * s)
    h = data.draw(st.lists(st.integers(-s, s), min_size=hl, max_size=hl))
    c = data.draw(st.lists(vals, min_size=hl, max_size=hl))
    x = data.draw(st.lists(vals, min_size=xl, max_size=xl))
    w = data.draw(st.lists(st.integers(-s, s), min_size=(xl + hl + 1) * 4 * hl, max_size=(xl + hl + 1) * 4 * hl))
    p = {"x_len": xl, "h_len": hl, "scale": s, "reserved": 0}
    res = call("sol_ml_lstm_cell", {"h": h, "c": c, "x": x, "w": w, "p": p})
    assert res.error is None and res.r0 == 0
    assert (res.buffers["h"], res.buffers["c"]) == adv.lstm_cell(h, c, x, w, xl, hl, s)
    rh, rc = f_lstm(h, c, x, w, xl, hl, s)
    # each truncation/rounding step loses at most a unit; through the gates that stays within a few
    for got, ref in zip(res.buffers["c"] + res.buffers["h"], rc + rh):
        assert abs(got - ref) <= 4 + abs(ref) * 1e-6, (got, ref)
    assert res.consumed == 100 + (xl + hl + 1) * 4 * hl // 8 + hl * 12


@pytest.mark.parametrize("p", [
    {"x_len": 0, "h_len": 1, "scale": 10, "reserved": 0},
    {"x_len": 1, "h_len": 0, "scale": 10, "reserved": 0},
    {"x_len": 1, "h_len": 1, "scale": 0, "reserved": 0},
    {"x_len": 1, "h_len": 1, "scale": 10, "reserved": 1},
    {"x_len": 0xFFFF_FFFF, "h_len": 1 << 8, "scale": 10, "reserved": 0},  # w size overflows u32
])
def test_lstm_invalid_arguments(call, p):
    res = call("sol_ml_lstm_cell", {"h": [1], "c": [2], "x": [3], "w": [0] * 12, "p": p})
    assert res.error is None and res.r0 == EINVAL and res.heap_after == res.heap_before


# --- Q-learning -----------------------------------------------------------------------------------
@SETTINGS
@given(st.integers(1, 5), st.integers(1, 5), st.data())
def test_q_update_matches_definition(call, ns, na, data):
    q = data.draw(st.lists(st.integers(I32_MIN, I32_MAX), min_size=ns * na, max_size=ns * na))
    p = {"n_states": ns, "n_actions": na, "state": data.draw(st.integers(0, ns - 1)),
         "action": data.draw(st.integers(0, na - 1)), "next_state": data.draw(st.integers(0, ns - 1)),
         "reward": data.draw(st.integers(I32_MIN, I32_MAX)), "alpha": data.draw(st.integers(0, 1 << 16)),
         "gamma": data.draw(st.integers(0, 1 << 16)), "scale": data.draw(st.sampled_from([1, 1000, 1 << 16])),
         "terminal": data.draw(st.integers(0, 1))}
    res = call("sol_ml_q_update", {"q": q, "p": p})
    assert res.error is None and res.r0 == 0
    idx = p["state"] * na + p["action"]
    target = p["reward"] + (0 if p["terminal"] else
                            tdiv(p["gamma"] * max(q[p["next_state"] * na:(p["next_state"] + 1) * na]), p["scale"]))
    expected = list(q)
    expected[idx] = sat(q[idx] + tdiv(p["alpha"] * (target - q[idx]), p["scale"]))
    assert res.buffers["q"] == expected
    assert res.consumed == 100 + na


def test_q_learning_converges_on_a_chain():
    """A 4-state chain with reward at the end: values rise toward gamma^d * reward (scale 1000)."""
    ns, na, s = 4, 2, 1000
    q = [0] * (ns * na)
    for _ in range(200):
        for st_ in range(ns):
            for a in range(na):
                nxt = min(st_ + 1, ns - 1) if a == 1 else max(st_ - 1, 0)
                done = st_ == ns - 1 and a == 1
                q = adv.q_update(q, {"n_states": ns, "n_actions": na, "state": st_, "action": a,
                                     "next_state": nxt, "reward": 1000 if done else 0, "alpha": 500,
                                     "gamma": 900, "scale": s, "terminal": int(done)})
    right = [q[i * na + 1] for i in range(ns)]
    assert right == sorted(right) and right[-1] >= 995 and abs(right[0] - 729) <= 5


@pytest.mark.parametrize("field,value", [("state", 2), ("next_state", 2), ("action", 3), ("n_states", 0),
                                         ("scale", 0), ("terminal", 2), ("n_actions", 1 << 31)])
def test_q_update_invalid_arguments(call, field, value):
    p = {"n_states": 2, "n_actions": 3, "state": 1, "action": 2, "next_state": 0, "reward": 5, "alpha": 1,
         "gamma": 1, "scale": 1, "terminal": 0, field: value}
    res = call("sol_ml_q_update", {"q": [0] * 6, "p": p})
    assert res.error is None and res.r0 == EINVAL and res.heap_after == res.heap_before


def test_q_update_whole_table_must_be_mapped():
    from sbpfunc.syscalls.modules import load_module
    from sbpfunc.vm.isa import MM_HEAP_START

    caller = Caller([load_module(ADV_PATH)], heap_size=4096)
    p = {"n_states": 2000, "n_actions": 1, "state": 0, "action": 0, "next_state": 0, "reward": 5, "alpha": 1,
         "gamma": 1, "scale": 1, "terminal": 0}
    res = caller("sol_ml_q_update", {"q": [0] * 6, "p": p}, raw_regs={"q": MM_HEAP_START + 64})
    assert type(res.error).__name__ == "SyscallError" and "argument `q` (8000 bytes" in str(res.error)
    assert res.heap_after == res.heap_before
