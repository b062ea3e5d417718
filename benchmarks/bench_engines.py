"""Execution engines side by side: the interpreter, the translated engine, and LiteSVM (Agave's
JIT), on the same programs in one run.

    .venv/bin/python benchmarks/bench_engines.py [--quick] [--no-litesvm] [--profile]

For each program it prints the instructions executed, both engines' instructions per second
(median of warm runs: the program is loaded once, as LiteSVM caches programs; the translated
engine's first run compiles the hot code, reported separately as "1st run"), the speedup of the
translated engine over the interpreter, LiteSVM's median time per transaction for the same work
(net of a no-op transaction) and how many times slower each engine is than LiteSVM. The run
checks that both engines agree with each other and that the compute units equal LiteSVM's.

--profile adds a cProfile of each program on the translated engine: the time in the generated
code itself (`run`) against the helpers it calls (struct access, frames, the driver).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sbpfunc.asm import assemble  # noqa: E402
from sbpfunc.elf.loader import load_elf  # noqa: E402
from sbpfunc.syscalls.core import runtime_registry  # noqa: E402
from sbpfunc.vm import translate as T  # noqa: E402
from sbpfunc.vm.interpreter import BudgetMeter, EbpfVm, standard_regions  # noqa: E402
from sbpfunc.vm.isa import MM_INPUT_START  # noqa: E402

PROGRAMS = ROOT / "benchmarks" / "programs"
FIXTURES = ROOT / "fixtures"
LIMIT = 1_400_000
CASES = [  # (name, source, instruction data, kind)
    ("alu_loop 20k iters", PROGRAMS / "alu_loop.s", (20_000).to_bytes(8, "little"), "ALU loop"),
    ("mem_sort 200 u64", PROGRAMS / "mem_sort.s", (200).to_bytes(8, "little"), "mem/ALU/calls"),
    ("bench_hash.c n=10k", FIXTURES / "bench_hash.so", (10_000).to_bytes(8, "little"), "C, ALU loop"),
    ("bench_sort.c heapsort", FIXTURES / "bench_sort.so", (7).to_bytes(8, "little"), "C, mem/calls"),
    ("bench_matmul.c 2 rounds", FIXTURES / "bench_matmul.so", (2).to_bytes(8, "little"), "C, mem/ALU"),
]


class Meter(BudgetMeter):
    def __init__(self, budget: int):
        super().__init__(budget)
        self.logs: list[str] = []

    def log(self, line: str) -> None:
        self.logs.append(line)


def serialize_input(data: bytes, program_id: bytes) -> bytes:
    """Agave's aligned input with no accounts."""
    return (0).to_bytes(8, "little") + len(data).to_bytes(8, "little") + data + program_id


def run_engine(exe, data: bytes, pid: bytes, engine: str):
    """(ProgramResult, seconds, final registers) of one run on a loaded executable."""
    vm = EbpfVm(exe, standard_regions(exe, input_data=serialize_input(data, pid)), Meter(LIMIT))
    m = vm.machine = vm._acquire()
    try:
        m.regs[:] = vm.initial_registers(MM_INPUT_START + 16)
        t = time.perf_counter()
        if engine == "interpreter":
            result = vm._run(m, exe.entry_pc, LIMIT)
        else:
            result = T.run_translated(vm, m, exe.entry_pc, LIMIT)
        dt = time.perf_counter() - t
        return result, dt, list(m.regs)
    finally:
        vm._release(m)
        vm.machine = None


def load(path: Path):
    so = assemble(path.read_text()).to_elf() if path.suffix == ".s" else path.read_bytes()
    return so, load_elf(so, runtime_registry())


class Lite:
    def __init__(self):
        from solders.keypair import Keypair
        from solders.litesvm import LiteSVM

        self.svm = LiteSVM()
        self.payer = Keypair()
        self.svm.airdrop(self.payer.pubkey(), 10**12)
        self.n = 0

    def add(self, so: bytes):
        from solders.pubkey import Pubkey

        pid = Pubkey.new_unique()
        self.svm.add_program(pid, so)
        return pid

    def send(self, pid, data: bytes):
        from solders.compute_budget import set_compute_unit_limit
        from solders.instruction import Instruction
        from solders.message import Message
        from solders.transaction import Transaction

        self.n += 1  # distinct data keeps signatures distinct
        ixs = [set_compute_unit_limit(LIMIT), Instruction(pid, data + self.n.to_bytes(8, "little"), [])]
        msg = Message.new_with_blockhash(ixs, self.payer.pubkey(), self.svm.latest_blockhash())
        tx = Transaction([self.payer], msg, self.svm.latest_blockhash())
        t = time.perf_counter()
        res = self.svm.send_transaction(tx)
        return res, time.perf_counter() - t


def consumed_from_logs(res, pid) -> int:
    from solders.transaction_metadata import FailedTransactionMetadata

    if isinstance(res, FailedTransactionMetadata):
        raise RuntimeError(f"LiteSVM transaction failed: {res.err} {res.meta.logs}")
    logs = res.logs() if callable(res.logs) else res.logs
    for line in logs:
        if line.startswith(f"Program {pid} consumed "):
            return int(line.split()[3])
    raise RuntimeError(f"no consumed line in {logs}")


def profile(exe, data: bytes, pid: bytes, top: int = 8) -> str:
    run_engine(exe, data, pid, "translated")  # compile first: profile the steady state
    pr = cProfile.Profile()
    pr.enable()
    run_engine(exe, data, pid, "translated")
    pr.disable()
    out = io.StringIO()
    st = pstats.Stats(pr, stream=out)
    total = st.total_tt
    rows = sorted(st.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    lines = [f"    {'tottime':>8} {'share':>6} {'calls':>8}  function"]
    for (file, line, fn), (cc, nc, tt, ct, callers) in rows:
        where = ("generated code" if file.startswith("<sbpf translation") else
                 "interpreter closure" if file.startswith("<sbpf op") else f"{Path(file).name}:{line}")
        lines.append(f"    {tt * 1e3:7.1f}ms {tt / total:6.1%} {nc:8}  {fn} ({where})")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    ap.add_argument("--no-litesvm", action="store_true", help="skip the LiteSVM comparison")
    ap.add_argument("--profile", action="store_true", help="cProfile the translated engine")
    args = ap.parse_args()
    reps = 3 if args.quick else 7
    lite = None if args.no_litesvm else Lite()
    t_noop = 0.0
    if lite is not None:
        noop = lite.add(assemble("mov64 r0, 0\nexit").to_elf())
        for _ in range(5):
            lite.send(noop, b"")
        t_noop = statistics.median(lite.send(noop, b"")[1] for _ in range(30))
        print(f"LiteSVM no-op transaction: {t_noop * 1e6:.0f} µs (subtracted below)\n")
    hdr = (f"{'program':<24} {'kind':<14} {'insns':>8} {'interp M/s':>10} {'transl M/s':>10} "
           f"{'speedup':>7} {'1st run ms':>10} {'LiteSVM ms':>10} {'interp/Lite':>11} {'transl/Lite':>11}")
    print(hdr)
    print("-" * len(hdr))
    profiles = []
    for name, path, data, kind in CASES:
        so, exe = load(path)
        pid = bytes(32) if lite is None else None
        lite_ms, lite_cu = float("nan"), None
        if lite is not None:
            p = lite.add(so)
            pid = bytes(p)
            lite.send(p, data)  # warm the JIT cache
            times = []
            for _ in range(reps):
                res, dt = lite.send(p, data)
                times.append(dt)
                lite_cu = consumed_from_logs(res, p)
            lite_ms = max(statistics.median(times) - t_noop, 1e-7) * 1e3
        ix = data + (0).to_bytes(8, "little")
        # first run of the translated engine on a fresh program: tiering + compiling included
        T.clear_caches()
        _, fresh = load(path)
        r_first, t_first, _ = run_engine(fresh, ix, pid, "translated")
        engines = ("interpreter", "translated")
        times = {e: [] for e in engines}
        results = {}
        for engine in engines:
            run_engine(exe, ix, pid, engine)  # warm: decode (and compile the hot code) once
        for _ in range(reps):  # interleaved, so load from other processes hits both alike
            for engine in engines:
                result, dt, regs = run_engine(exe, ix, pid, engine)
                assert result.error is None, (name, engine, result.error)
                times[engine].append(dt)
                results[engine] = (result.r0, result.compute_units, result.instruction_count, regs)
        speeds = {e: statistics.median(times[e]) for e in engines}
        assert results["interpreter"] == results["translated"], f"{name}: engines disagree"
        insns = results["interpreter"][2]
        cu = results["interpreter"][1]
        if lite_cu is not None and lite_cu != cu:
            print(f"  !! CU mismatch: sbpfunc {cu} vs LiteSVM {lite_cu}")
        ti, tt = speeds["interpreter"], speeds["translated"]
        print(f"{name:<24} {kind:<14} {insns:>8} {insns / ti / 1e6:>10.2f} {insns / tt / 1e6:>10.2f} "
              f"{ti / tt:>6.2f}x {t_first * 1e3:>10.1f} {lite_ms:>10.3f} "
              f"{ti * 1e3 / lite_ms:>10.0f}x {tt * 1e3 / lite_ms:>10.0f}x")
        if args.profile:
            profiles.append((name, profile(exe, ix, pid)))
    for name, text in profiles:
        print(f"\nprofile, translated engine: {name}\n{text}")


if __name__ == "__main__":
    main()
