"""Compute units of the ML SBPFuncs against the same arithmetic in plain sBPF, and wall time per call.

    .venv/bin/python benchmarks/bench_ml.py [--quick]

1. Matrix products (8x8, 32x32, 64x64, i32 fixed point, exact accumulation, truncating division,
   saturation): a C program calling `sol_ml_matmul` vs a C program doing the same exact arithmetic
   (128-bit accumulation, 32-bit-limb division) in sBPF; both built here with the project's
   toolchain, run on sbpfunc's interpreter, outputs compared.
2. The trading agent (12 -> 8 relu -> 3 softmax): fixtures/ml_trading_agent.so (SBPFuncs) vs
   fixtures/ml_trading_agent_pure.so, in sbpfunc's runtime; the pure one's units are checked
   against LiteSVM's (Agave) when solders is installed.
3. Wall time of each SBPFunc call through the registry handler (decode, check, charge, run, write).

Prints markdown tables (the first two are in sbpfunc/modules/README.md).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sbpfunc.elf.loader import load_elf  # noqa: E402
from sbpfunc.modules import ml  # noqa: E402
from sbpfunc.modules import model_format as mf  # noqa: E402
from sbpfunc.runtime.syscall_set import sbpfunc_registry  # noqa: E402
from sbpfunc.syscalls.modules import load_module  # noqa: E402
from sbpfunc.syscalls.signature import ELEMENT_TYPES, Pointer, Scalar, StructArg, evaluate  # noqa: E402
from sbpfunc.toolchain.compiler import build  # noqa: E402
from sbpfunc.vm.interpreter import BudgetMeter, EbpfVm, standard_regions  # noqa: E402
from sbpfunc.vm.isa import MM_HEAP_START  # noqa: E402
from sbpfunc.vm.memory import MemoryMapping  # noqa: E402

ML_PATH = ROOT / "sbpfunc" / "modules" / "ml.py"
ADV_PATH = ROOT / "sbpfunc" / "modules" / "ml_advanced.py"

# Input region for both matmul programs: struct ml_dims, then A (m*k), B (k*n), OUT (m*n), all i32.
MATMUL_SBPFUNC_C = r"""
#include <sbpfunc.h>
uint64_t entrypoint(const uint8_t *input) {
  const struct ml_dims *d = (const struct ml_dims *)input;
  const int32_t *a = (const int32_t *)(input + 16);
  const int32_t *b = a + (uint64_t)d->m * d->k;
  int32_t *out = (int32_t *)(b + (uint64_t)d->k * d->n);
  return sol_ml_matmul(out, a, b, d);
}
"""

MATMUL_PURE_C = r"""
#include <sbpfunc.h>
#define I32_MIN (-2147483647L - 1)
#define I32_MAX 2147483647L
static int32_t div_sat(uint64_t lo, int64_t shi, uint32_t scale) {
  bool neg = shi < 0;
  uint64_t hi = (uint64_t)shi;
  if (neg) { lo = ~lo + 1; hi = ~hi + (lo == 0 ? 1 : 0); }
  uint32_t limbs[4] = {(uint32_t)(hi >> 32), (uint32_t)hi, (uint32_t)(lo >> 32), (uint32_t)lo};
  uint64_t rem = 0, qhi = 0, qlo = 0;
  for (int i = 0; i < 4; i++) {
    uint64_t cur = (rem << 32) | limbs[i];
    rem = cur % scale;
    qhi = (qhi << 32) | (qlo >> 32);
    qlo = (qlo << 32) | (cur / scale);
  }
  if (qhi != 0 || qlo > (uint64_t)I32_MAX + (neg ? 1 : 0)) return neg ? (int32_t)I32_MIN : (int32_t)I32_MAX;
  return neg ? (int32_t)(-(int64_t)qlo) : (int32_t)qlo;
}
uint64_t entrypoint(const uint8_t *input) {
  const struct ml_dims *d = (const struct ml_dims *)input;
  uint32_t m = d->m, k = d->k, n = d->n;
  if (!m || !k || !n || !d->scale) return ML_EINVAL;
  const int32_t *a = (const int32_t *)(input + 16);
  const int32_t *b = a + (uint64_t)m * k;
  int32_t *out = (int32_t *)(b + (uint64_t)k * n);
  for (uint32_t i = 0; i < m; i++)
    for (uint32_t j = 0; j < n; j++) {
      uint64_t lo = 0;
      int64_t hi = 0;
      for (uint32_t t = 0; t < k; t++) {
        int64_t p = (int64_t)a[i * k + t] * (int64_t)b[t * n + j];
        uint64_t nlo = lo + (uint64_t)p;
        hi += (p < 0 ? -1 : 0) + (nlo < lo ? 1 : 0);
        lo = nlo;
      }
      out[i * n + j] = div_sat(lo, hi, d->scale);
    }
  return 0;
}
"""

# What a program would usually write: i64 accumulation (wraps for extreme inputs, so not the
# module's semantics in general; exact for the benchmark's values), then the same division/saturation.
MATMUL_PURE_I64_C = r"""
#include <sbpfunc.h>
uint64_t entrypoint(const uint8_t *input) {
  const struct ml_dims *d = (const struct ml_dims *)input;
  uint32_t m = d->m, k = d->k, n = d->n;
  if (!m || !k || !n || !d->scale) return ML_EINVAL;
  const int32_t *a = (const int32_t *)(input + 16);
  const int32_t *b = a + (uint64_t)m * k;
  int32_t *out = (int32_t *)(b + (uint64_t)k * n);
  for (uint32_t i = 0; i < m; i++)
    for (uint32_t j = 0; j < n; j++) {
      int64_t s = 0;
      for (uint32_t t = 0; t < k; t++) s += (int64_t)a[i * k + t] * (int64_t)b[t * n + j];
      uint64_t q = (s < 0 ? (uint64_t)(-s) : (uint64_t)s) / d->scale;
      int64_t v = s < 0 ? -(int64_t)q : (int64_t)q;
      out[i * n + j] = (int32_t)(v < -2147483647L - 1 ? -2147483647L - 1 : v > 2147483647L ? 2147483647L : v);
    }
  return 0;
}
"""


def registry():
    mods = [load_module(ML_PATH), load_module(ADV_PATH)]
    return mods, sbpfunc_registry(mods).registry_at(0)  # the runtime's syscalls + both modules, active


def i32s(values) -> bytes:
    return b"".join(v.to_bytes(4, "little", signed=True) for v in values)


def run_matmul(exe, m, k, n, scale, a, b):
    data = bytearray(ml.ML_DIMS.build({"m": m, "k": k, "n": n, "scale": scale}) + i32s(a) + i32s(b) +
                     bytes(4 * m * n))
    regions = standard_regions(exe, input_data=data)
    vm = EbpfVm(exe, regions, BudgetMeter(10**9))
    t = time.perf_counter()
    res = vm.execute(vm.initial_registers())
    dt = time.perf_counter() - t
    assert res.error is None and res.r0 == 0, (res.error, res.r0)
    raw = bytes(regions[3].data[-4 * m * n:])
    out = [int.from_bytes(raw[i:i + 4], "little", signed=True) for i in range(0, len(raw), 4)]
    return res.compute_units, dt, out


def matmul_table(reg, sizes) -> list[tuple]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-ml-") as tmp:
        exes = {}
        for name, src in (("sbpfunc", MATMUL_SBPFUNC_C), ("pure", MATMUL_PURE_C), ("i64", MATMUL_PURE_I64_C)):
            c = Path(tmp) / f"{name}.c"
            c.write_text(src)
            exes[name] = load_elf(build([c], Path(tmp) / f"{name}.so"), reg)
    rng = random.Random(7)
    for s in sizes:
        a = [rng.randint(-(1 << 15), 1 << 15) for _ in range(s * s)]
        b = [rng.randint(-(1 << 15), 1 << 15) for _ in range(s * s)]
        cu_f, t_f, out_f = run_matmul(exes["sbpfunc"], s, s, s, 4096, a, b)
        cu_p, t_p, out_p = run_matmul(exes["pure"], s, s, s, 4096, a, b)
        cu_i, _, out_i = run_matmul(exes["i64"], s, s, s, 4096, a, b)
        assert out_f == out_p == out_i == ml.matmul_fixed(a, b, s, s, s, 4096), f"{s}x{s}: outputs differ"
        rows.append((f"matmul {s}×{s}×{s}", cu_f, cu_p, t_f, t_p, cu_i))
    return rows


def agent_rows(reg, runs: int) -> tuple[list[tuple], str]:
    from solders.account import Account
    from solders.instruction import AccountMeta, Instruction
    from solders.pubkey import Pubkey

    from sbpfunc.testing import Harness

    agent, pure, mkey, owner = (Pubkey(hashlib.sha256(n).digest()) for n in (b"a", b"p", b"m", b"o"))
    rows, lite_note = [], ""
    for dtype in ("i32", "i8"):
        model = mf.example_trading_model(dtype=dtype)
        h = Harness(syscalls=reg)
        h.add_program(agent, ROOT / "fixtures" / "ml_trading_agent.so")
        h.add_program(pure, ROOT / "fixtures" / "ml_trading_agent_pure.so")
        acct = Account(10**9, model, owner, False, 0)
        rng = random.Random(11)
        cus = {agent: [], pure: []}
        times = {agent: [], pure: []}
        datas = []
        for _ in range(runs):
            data = i32s([rng.randint(-4 * 4096, 4 * 4096) for _ in range(12)])
            datas.append(data)
            for pid in (agent, pure):
                t = time.perf_counter()
                r = h.process_instruction(Instruction(pid, data, [AccountMeta(mkey, False, False)]), [(mkey, acct)])
                times[pid].append(time.perf_counter() - t)
                assert r.success, r.logs
                cus[pid].append(r.compute_units_consumed)
        rows.append((f"trading agent 12→8→3 ({dtype} weights)", statistics.mean(cus[agent]),
                     statistics.mean(cus[pure]), statistics.median(times[agent]), statistics.median(times[pure]),
                     None))
        lite = lite_units(pure, mkey, owner, model, datas)
        if lite is not None:
            same = lite == cus[pure]
            lite_note += (f"LiteSVM (Agave) units for the pure agent ({dtype}): "
                          f"{'identical on all' if same else 'DIFFERENT on some of'} {runs} inputs\n")
    return rows, lite_note


def lite_units(pid, mkey, owner, model, datas):
    try:
        from solders.account import Account
        from solders.instruction import AccountMeta, Instruction
        from solders.keypair import Keypair
        from solders.litesvm import LiteSVM
        from solders.message import Message
        from solders.transaction import Transaction
    except ImportError:
        return None
    svm = LiteSVM()
    payer = Keypair()
    svm.airdrop(payer.pubkey(), 10**12)
    svm.add_program(pid, (ROOT / "fixtures" / "ml_trading_agent_pure.so").read_bytes())
    svm.set_account(mkey, Account(10**9, model, owner, False, 0))
    out = []
    for data in datas:
        msg = Message.new_with_blockhash([Instruction(pid, data, [AccountMeta(mkey, False, False)])],
                                         payer.pubkey(), svm.latest_blockhash())
        res = svm.send_transaction(Transaction([payer], msg, svm.latest_blockhash()))
        svm.expire_blockhash()
        logs = res.logs() if callable(res.logs) else res.logs
        line = next(x for x in logs if x.startswith(f"Program {pid} consumed "))
        out.append(int(line.split()[3]))
    return out


# --- wall time per SBPFunc call ---------------------------------------------------------------------
def call_timer(reg, fn, inputs: dict, reps: int) -> tuple[float, int]:
    """Median seconds of one handler call (decode, check, charge, run, write) and its units."""
    exe = load_elf(__import__("sbpfunc.asm", fromlist=["assemble"]).assemble("exit").to_elf(), reg)
    regions = standard_regions(exe, heap_size=1 << 20)
    heap = regions[2].data
    regs, off = [], 0
    for p in fn.params:
        v = inputs.get(p.name)
        if isinstance(p, Scalar):
            regs.append(v & (2**64 - 1))
        elif v is None:
            regs.append(0)
        else:
            if isinstance(p, StructArg):
                raw = p.layout.build(v)
            else:
                size, signed = ELEMENT_TYPES[p.elem]
                raw = b"".join(int(x).to_bytes(size, "little", signed=signed) for x in v)
            heap[off:off + len(raw)] = raw
            regs.append(MM_HEAP_START + off)
            off = (off + len(raw) + 15) & ~15
    regs += [0] * (5 - len(regs))
    snapshot = bytes(heap)
    handler = reg.lookup(reg.get(fn.name).key)[1]
    mapping = MemoryMapping([], EbpfVm(exe, regions, BudgetMeter(1)).mem_config)
    mapping.set_regions(regions)
    times, units = [], 0
    for _ in range(reps):
        heap[:] = snapshot
        meter = BudgetMeter(10**9)
        vm = SimpleNamespace(memory=mapping, context=meter)
        t = time.perf_counter()
        r0 = handler(vm, *regs)
        times.append(time.perf_counter() - t)
        units = 10**9 - meter.remaining
        assert r0 == 0, (fn.name, r0)
    return statistics.median(times), units


def call_rows(mods, reg, reps: int) -> list[tuple]:
    fns = {f.name: f for m in mods for f in m.manifest.functions}
    rng = random.Random(3)
    cases = []
    for s in (8, 32, 64):
        cases.append((f"sol_ml_matmul {s}×{s}×{s}", "sol_ml_matmul",
                      {"out": [0] * s * s, "a": [rng.randint(-9999, 9999) for _ in range(s * s)],
                       "b": [rng.randint(-9999, 9999) for _ in range(s * s)],
                       "d": {"m": s, "k": s, "n": s, "scale": 4096}}))
    xs = [rng.randint(-8 * 4096, 8 * 4096) for _ in range(64)]
    for kind, kname in enumerate(("relu", "sigmoid", "tanh", "softmax")):
        cases.append((f"sol_ml_activation {kname} ×64", "sol_ml_activation",
                      {"data": xs, "len": 64, "kind": kind, "scale": 4096}))
    cases.append(("sol_ml_sigmoid_lut ×64", "sol_ml_sigmoid_lut", {"out": [0] * 64, "input": xs, "len": 64,
                                                                 "scale": 4096}))
    w = [rng.randint(-4096, 4096) for _ in range(12 * 8)]
    cases.append(("sol_ml_matmul_bias 1×12×8 relu", "sol_ml_matmul_bias",
                  {"out": [0] * 8, "a": xs[:12], "b": w, "bias": [1] * 8,
                   "d": {"m": 1, "k": 12, "n": 8, "scale": 4096, "act": 1}}))
    cases.append(("sol_ml_quantize_int8 ×64", "sol_ml_quantize_int8",
                  {"out": [0] * 64, "input": xs, "len": 64, "step": 256, "zero_point": 0}))
    cases.append(("sol_ml_dequantize_int8 ×64", "sol_ml_dequantize_int8",
                  {"out": [0] * 64, "input": [x % 256 - 128 for x in xs], "len": 64, "step": 256, "zero_point": 0}))
    cases.append(("sol_ml_argmax ×64", "sol_ml_argmax", {"data": xs, "len": 64, "out": [0, 0]}))
    model = list(mf.example_trading_model())
    cases.append(("sol_ml_forward (agent model)", "sol_ml_forward",
                  {"out": [0] * 3, "input": xs[:12], "model": model,
                   "p": {"model_len": len(model), "in_len": 12, "out_len": 3}}))
    cases.append(("sol_ml_model_info (agent model)", "sol_ml_model_info",
                  {"model": model, "model_len": len(model), "info": [0] * 8}))
    for f in fns.values():  # ml_advanced: its first (successful) test vector
        if f.name in ("sol_ml_lstm_cell", "sol_ml_q_update"):
            cases.append((f"{f.name} (test vector)", f.name, f.test_vectors[0].inputs))
    hl, xl = 8, 12
    cases.append(("sol_ml_lstm_cell x12 h8", "sol_ml_lstm_cell",
                  {"h": [0] * hl, "c": [0] * hl, "x": xs[:xl],
                   "w": [rng.randint(-2048, 2048) for _ in range((xl + hl + 1) * 4 * hl)],
                   "p": {"x_len": xl, "h_len": hl, "scale": 4096, "reserved": 0}}))
    rows = []
    for label, name, inputs in cases:
        t, units = call_timer(reg, fns[name], inputs, reps)
        names = {p.name: inputs[p.name] for p in fns[name].params if not isinstance(p, Pointer)}
        assert units == evaluate(fns[name].cost, names)
        rows.append((label, units, t))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = ap.parse_args()
    mods, reg = registry()
    try:
        import numpy  # noqa: F401
        backend = "NumPy backend available (used from m·k·n ≥ %d)" % ml.NUMPY_MIN_MACS
    except ImportError:
        backend = "pure-Python backend (NumPy not installed)"

    print("## Compute units: SBPFunc vs pure sBPF\n")
    print("| workload | SBPFunc CU | pure sBPF CU (exact) | ratio | pure sBPF CU (i64 acc.) | ratio | "
          "SBPFunc wall ms | pure sBPF wall ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    rows = matmul_table(reg, [8, 32, 64])
    agent, lite_note = agent_rows(reg, 20 if args.quick else 100)
    for label, cu_f, cu_p, t_f, t_p, cu_i in rows + agent:
        i64 = f"{cu_i:,.0f} | {cu_i / cu_f:.1f}×" if cu_i is not None else "– | –"
        print(f"| {label} | {cu_f:,.0f} | {cu_p:,.0f} | {cu_p / cu_f:.1f}× | {i64} | {t_f * 1e3:.2f} | "
              f"{t_p * 1e3:.2f} |")
    print()
    if lite_note:
        print(lite_note)
    print(f"## Wall time per SBPFunc call ({backend})\n")
    print("| call | CU | µs per call | ns per CU |")
    print("|---|---:|---:|---:|")
    for label, units, t in call_rows(mods, reg, 20 if args.quick else 200):
        print(f"| {label} | {units:,} | {t * 1e6:,.1f} | {t * 1e9 / units:,.0f} |")


if __name__ == "__main__":
    main()
