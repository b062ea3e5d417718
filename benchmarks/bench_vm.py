"""VM speed: sbpfunc's interpreter vs LiteSVM (Agave's JIT) on the same programs, in one run.

    .venv/bin/python benchmarks/bench_vm.py [--quick]

For each CPU-bound program it prints the executed instructions, this interpreter's instructions per
second, LiteSVM's median wall time per transaction for the same work (net of a no-op transaction),
and the ratio. CU equals executed instructions for these programs (no syscalls), and the run checks
that both VMs report the same CU.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from solders.instruction import Instruction  # noqa: E402
from solders.keypair import Keypair  # noqa: E402
from solders.litesvm import LiteSVM  # noqa: E402
from solders.message import Message  # noqa: E402
from solders.pubkey import Pubkey  # noqa: E402
from solders.transaction import Transaction  # noqa: E402

from sbpfunc.asm import assemble  # noqa: E402
from sbpfunc.elf.loader import load_elf  # noqa: E402
from sbpfunc.syscalls.core import logging_registry  # noqa: E402
from sbpfunc.vm.interpreter import BudgetMeter, EbpfVm, standard_regions  # noqa: E402
from sbpfunc.vm.isa import MM_INPUT_START  # noqa: E402

PROGRAMS = ROOT / "benchmarks" / "programs"
CASES = [  # (name, program, instruction data, kind)
    ("alu_loop 20k iters", "alu_loop.s", (20_000).to_bytes(8, "little"), "register-only"),
    ("mem_sort 200 u64", "mem_sort.s", (200).to_bytes(8, "little"), "memory-heavy"),
]


def serialize_input(data: bytes, program_id: bytes) -> tuple[bytes, int]:
    """Agave's aligned input with no accounts; returns (bytes, vaddr of the instruction data)."""
    buf = (0).to_bytes(8, "little") + len(data).to_bytes(8, "little") + data + program_id
    return buf, MM_INPUT_START + 16


def run_ours(exe, data: bytes, pid: bytes, budget: int = 1_400_000):
    """One run on a loaded executable (loaded and decoded once, as LiteSVM caches programs)."""
    inp, ix_vaddr = serialize_input(data, pid)
    vm = EbpfVm(exe, standard_regions(exe, input_data=inp), BudgetMeter(budget))
    t = time.perf_counter()
    result = vm.execute(vm.initial_registers(ix_vaddr))
    return result, time.perf_counter() - t


class Lite:
    def __init__(self):
        self.svm = LiteSVM()
        self.payer = Keypair()
        self.svm.airdrop(self.payer.pubkey(), 10**12)
        self.n = 0

    def add(self, so: bytes) -> Pubkey:
        pid = Pubkey.new_unique()
        self.svm.add_program(pid, so)
        return pid

    def send(self, pid: Pubkey, data: bytes):
        from solders.compute_budget import set_compute_unit_limit

        self.n += 1  # distinct data keeps signatures distinct
        ixs = [set_compute_unit_limit(1_400_000), Instruction(pid, data + self.n.to_bytes(8, "little"), [])]
        msg = Message.new_with_blockhash(ixs, self.payer.pubkey(), self.svm.latest_blockhash())
        tx = Transaction([self.payer], msg, self.svm.latest_blockhash())
        t = time.perf_counter()
        res = self.svm.send_transaction(tx)
        return res, time.perf_counter() - t


def consumed_from_logs(res, pid: Pubkey) -> int:
    from solders.transaction_metadata import FailedTransactionMetadata

    if isinstance(res, FailedTransactionMetadata):
        raise RuntimeError(f"LiteSVM transaction failed: {res.err} {res.meta.logs}")
    logs = res.logs() if callable(res.logs) else res.logs
    for line in logs:
        if line.startswith(f"Program {pid} consumed "):
            return int(line.split()[3])
    raise RuntimeError(f"no consumed line in {logs}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = ap.parse_args()
    reps = 3 if args.quick else 7
    lite = Lite()
    noop = lite.add(assemble("mov64 r0, 0\nexit").to_elf())
    for _ in range(5):
        lite.send(noop, b"")
    t_noop = statistics.median(lite.send(noop, b"")[1] for _ in range(30))
    print(f"LiteSVM no-op transaction: {t_noop * 1e6:.0f} µs (subtracted below)\n")
    print(f"{'program':<22} {'kind':<14} {'insns':>9} {'sbpfunc M insn/s':>17} "
          f"{'sbpfunc ms':>11} {'LiteSVM ms':>11} {'ratio':>8}")
    for name, prog, data, kind in CASES:
        so = assemble((PROGRAMS / prog).read_text()).to_elf()
        pid = lite.add(so)
        lite.send(pid, data)  # warm the JIT cache
        lite_times, lite_cu = [], None
        for _ in range(reps):
            res, dt = lite.send(pid, data)
            lite_times.append(dt)
            lite_cu = consumed_from_logs(res, pid)
        ours_times, ours_cu, insns = [], None, 0
        exe = load_elf(so, logging_registry())
        run_ours(exe, data + (0).to_bytes(8, "little"), bytes(pid))  # warm: decode once
        for _ in range(reps):
            result, dt = run_ours(exe, data + (0).to_bytes(8, "little"), bytes(pid))
            assert result.error is None, result.error
            ours_times.append(dt)
            ours_cu, insns = result.compute_units, result.instruction_count
        if ours_cu != lite_cu:
            print(f"  !! CU mismatch: sbpfunc {ours_cu} vs LiteSVM {lite_cu}")
        t_ours = statistics.median(ours_times)
        t_lite = max(statistics.median(lite_times) - t_noop, 1e-7)
        print(f"{name:<22} {kind:<14} {insns:>9} {insns / t_ours / 1e6:>17.2f} "
              f"{t_ours * 1e3:>11.2f} {t_lite * 1e3:>11.3f} {t_ours / t_lite:>7.0f}x")


if __name__ == "__main__":
    main()
