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
    assert res.consumed == 100 + (xl + hl + 1) * 4 * hl // 2 + hl * 40


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
@given(st.integers(1, 6), st.data())
def test_q_update_matches_definition(call, na, data):
    q_sa = data.draw(st.integers(I32_MIN, I32_MAX))
    row = data.draw(st.lists(st.integers(I32_MIN, I32_MAX), min_size=na, max_size=na))
    p = {"n_actions": na, "reward": data.draw(st.integers(I32_MIN, I32_MAX)),
         "alpha": data.draw(st.integers(0, 1 << 16)), "gamma": data.draw(st.integers(0, 1 << 16)),
         "scale": data.draw(st.sampled_from([1, 1000, 1 << 16])), "terminal": data.draw(st.integers(0, 1))}
    res = call("sol_ml_q_update", {"q_sa": [q_sa], "q_next": row, "p": p})
    assert res.error is None and res.r0 == 0
    target = p["reward"] + (0 if p["terminal"] else tdiv(p["gamma"] * max(row), p["scale"]))
    assert res.buffers["q_sa"] == [sat(q_sa + tdiv(p["alpha"] * (target - q_sa), p["scale"]))]
    assert res.buffers["q_next"] == row
    assert res.consumed == 100 + na // 2


def test_q_sa_inside_the_next_row_reads_before_writing():
    """next_state == state: q_sa aliases an element of q_next; the max uses the old value."""
    from sbpfunc.vm.isa import MM_HEAP_START

    from sbpfunc.syscalls.modules import load_module

    caller = Caller([load_module(ADV_PATH)])
    p = {"n_actions": 3, "reward": 0, "alpha": 1000, "gamma": 1000, "scale": 1000, "terminal": 0}
    # heap: q_sa placed at 0 (16-byte slot), q_next at 16; point q_sa at q_next[0]
    res = caller("sol_ml_q_update", {"q_sa": [0], "q_next": [1, 2, 50], "p": p},
                 raw_regs={"q_sa": MM_HEAP_START + 16})
    assert res.r0 == 0 and res.buffers["q_next"] == [50, 2, 50]  # alpha = 1: Q(s,a) <- 0 + max(old row)
    res = caller("sol_ml_q_update", {"q_sa": [0], "q_next": [99, 2, 50], "p": p},
                 raw_regs={"q_sa": MM_HEAP_START + 16})
    assert res.buffers["q_next"] == [99, 2, 50]  # its own old value is the maximum


def test_q_learning_converges_on_a_chain():
    """A 4-state chain with reward at the end: values rise toward gamma^d * reward (scale 1000)."""
    ns, na = 4, 2
    q = [[0] * na for _ in range(ns)]
    for _ in range(200):
        for s in range(ns):
            for a in range(na):
                nxt = min(s + 1, ns - 1) if a == 1 else max(s - 1, 0)
                done = s == ns - 1 and a == 1
                q[s][a] = adv.q_update(q[s][a], q[nxt], {"reward": 1000 if done else 0, "alpha": 500, "gamma": 900,
                                                         "scale": 1000, "terminal": int(done)})
    right = [q[s][1] for s in range(ns)]
    assert right == sorted(right) and right[-1] >= 995 and abs(right[0] - 729) <= 5


@pytest.mark.parametrize("field,value", [("n_actions", 0), ("scale", 0), ("terminal", 2)])
def test_q_update_invalid_arguments(call, field, value):
    p = {"n_actions": 3, "reward": 5, "alpha": 1, "gamma": 1, "scale": 1, "terminal": 0, field: value}
    res = call("sol_ml_q_update", {"q_sa": [9], "q_next": [0] * 3, "p": p})
    assert res.error is None and res.r0 == EINVAL and res.heap_after == res.heap_before


def test_q_update_next_row_must_be_mapped():
    from sbpfunc.syscalls.modules import load_module
    from sbpfunc.vm.isa import MM_HEAP_START

    caller = Caller([load_module(ADV_PATH)], heap_size=4096)
    p = {"n_actions": 2000, "reward": 5, "alpha": 1, "gamma": 1, "scale": 1, "terminal": 0}
    res = caller("sol_ml_q_update", {"q_sa": [1], "q_next": [0] * 6, "p": p}, raw_regs={"q_next": MM_HEAP_START + 64})
    assert type(res.error).__name__ == "SyscallError" and "argument `q_next` (8000 bytes" in str(res.error)
    assert res.heap_after == res.heap_before
