"""SPL Token speed: sbpfunc's Harness vs LiteSVM on the same SPL instructions, in one run.

    .venv/bin/python benchmarks/bench_spl.py [-n 300] [--engine interpreter] [--programs token,token2022]

The programs are LiteSVM's own binaries (read from a fresh `LiteSVM()` at run time). For each
program, a mint and two token accounts are initialized in LiteSVM; then Transfer and MintTo are
run N times:

* LiteSVM: N signed transactions (one instruction each, the default compute-unit limit, amounts
  1..N so every signature is new), timed around `send_transaction`; the median is reported raw and
  net of a system-program transfer (a transaction that runs no sBPF code), the fixed cost of a
  transaction in LiteSVM (signature check, fees, account loading).
* sbpfunc: `Harness.process_instruction` N times on the same pre-state (the Harness keeps no state
  between calls), timed around the call; plus the time spent inside `EbpfVm.execute` alone.

CU must be equal (checked every run). "ns/insn" divides sbpfunc's time by the number of sBPF
instructions executed, counted in a separate untimed pass.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from solders.litesvm import LiteSVM  # noqa: E402
from solders.message import Message  # noqa: E402
from solders.system_program import TransferParams, transfer as system_transfer  # noqa: E402
from solders.transaction import Transaction  # noqa: E402

from sbpfunc.testing.harness import Harness  # noqa: E402
from sbpfunc.vm import interpreter  # noqa: E402
from tests.spl.spl_instructions import (  # noqa: E402
    ACCOUNT_LEN,
    MINT_LEN,
    SPL_PROGRAMS,
    TOKEN_2022_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    blank_owned,
    extract_program,
    initialize_account3,
    initialize_mint2,
    keypair,
    mint_to,
    system_account,
    transfer,
)

PROGRAMS = {"token": TOKEN_PROGRAM_ID, "token2022": TOKEN_2022_PROGRAM_ID}


class Lite:
    def __init__(self):
        self.svm = LiteSVM()
        self.payer = keypair("bench-spl/fee-payer")
        self.svm.airdrop(self.payer.pubkey(), 10**12)

    def send(self, ix, signers=()):
        bh = self.svm.latest_blockhash()
        tx = Transaction([self.payer, *signers], Message.new_with_blockhash([ix], self.payer.pubkey(), bh), bh)
        t = time.perf_counter()
        res = self.svm.send_transaction(tx)
        dt = time.perf_counter() - t
        if type(res).__name__ == "FailedTransactionMetadata":
            raise RuntimeError(f"LiteSVM transaction failed: {res.err()} {res.meta().logs()}")
        return res, dt


class InsnCounter:
    """Counts executed sBPF instructions and time inside EbpfVm.execute (wraps it while active)."""

    def __init__(self):
        self.insns = 0
        self.vm_time = 0.0
        self._orig = interpreter.EbpfVm.execute

    def __enter__(self):
        orig, counter = self._orig, self

        def execute(vm, *a, **k):
            t = time.perf_counter()
            result = orig(vm, *a, **k)
            counter.vm_time += time.perf_counter() - t
            counter.insns += result.instruction_count
            return result

        interpreter.EbpfVm.execute = execute
        return self

    def __exit__(self, *exc):
        interpreter.EbpfVm.execute = self._orig


def bench_program(name: str, program, n: int, engine: str, t_base: float) -> list[tuple]:
    lite = Lite()
    svm = lite.svm
    harness = Harness(engine=engine)
    for pid in SPL_PROGRAMS:
        elf, loader = extract_program(svm, pid)
        harness.add_program(pid, elf, loader)

    authority, alice, bob = (keypair(f"bench-spl/{r}") for r in ("authority", "alice", "bob"))
    mint, a_acc, b_acc = (keypair(f"bench-spl/{r}").pubkey() for r in ("mint", "alice-account", "bob-account"))
    for kp in (authority, alice, bob):
        svm.set_account(kp.pubkey(), system_account(10**9))
    svm.set_account(mint, blank_owned(svm.minimum_balance_for_rent_exemption(MINT_LEN), MINT_LEN, program))
    lite.send(initialize_mint2(program, mint, 6, authority.pubkey()))
    for acc, owner in ((a_acc, alice), (b_acc, bob)):
        svm.set_account(acc, blank_owned(svm.minimum_balance_for_rent_exemption(ACCOUNT_LEN), ACCOUNT_LEN, program))
        lite.send(initialize_account3(program, acc, mint, owner.pubkey()))
    lite.send(mint_to(program, mint, a_acc, authority.pubkey(), 10**15), [authority])

    cases = [
        ("Transfer", lambda amount: transfer(program, a_acc, b_acc, alice.pubkey(), amount), [alice]),
        ("MintTo", lambda amount: mint_to(program, mint, b_acc, authority.pubkey(), amount), [authority]),
    ]
    rows = []
    for label, make, signers in cases:
        ix0 = make(1)
        keys = list(dict.fromkeys([*(m.pubkey for m in ix0.accounts), ix0.program_id]))
        pre = [(k, svm.get_account(k)) for k in keys]

        # sbpfunc: warm (program load + decode), count instructions, then time.
        first = harness.process_instruction(ix0, pre)
        assert first.success, first.logs
        with InsnCounter() as counter:
            harness.process_instruction(ix0, pre)
        insns = counter.insns
        ours = []
        with InsnCounter() as vm_timer:
            for _ in range(n):
                t = time.perf_counter()
                res = harness.process_instruction(ix0, pre)
                ours.append(time.perf_counter() - t)
        vm_per_run = vm_timer.vm_time / n

        # LiteSVM: warm the program cache, then N distinct transactions.
        lite.send(make(10**6), signers)
        times, lite_cu = [], set()
        for i in range(n):
            meta, dt = lite.send(make(i + 1), signers)
            times.append(dt)
            lite_cu.add(meta.compute_units_consumed())
        cu_equal = lite_cu == {res.compute_units_consumed}
        rows.append((f"{name} {label}", res.compute_units_consumed, sorted(lite_cu), cu_equal, insns,
                     statistics.median(ours), vm_per_run, statistics.median(times), t_base))
    return rows


def baseline(n: int) -> float:
    """Median LiteSVM time of a system transfer: a transaction that runs no sBPF code."""
    lite = Lite()
    dest = keypair("bench-spl/dest").pubkey()
    times = []
    for i in range(n + 5):
        _, dt = lite.send(system_transfer(TransferParams(from_pubkey=lite.payer.pubkey(), to_pubkey=dest,
                                                         lamports=10**6 + i)))
        times.append(dt)
    return statistics.median(times[5:])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=300, help="runs per instruction (default 300)")
    ap.add_argument("--engine", default="interpreter", help="sbpfunc ExecutionConfig.engine")
    ap.add_argument("--programs", default="token,token2022", help="comma list of: token, token2022")
    args = ap.parse_args()

    t_base = baseline(max(args.n, 50))
    rows = []
    for name in args.programs.split(","):
        rows += bench_program(name, PROGRAMS[name], args.n, args.engine, t_base)

    print(f"N = {args.n} per instruction, engine = {args.engine}; medians. LiteSVM system transfer "
          f"(no sBPF): {t_base * 1e6:.1f} µs")
    print(f"{'instruction':<20} {'CU':>5} {'CU=':>4} {'insns':>6} {'sbpfunc µs':>11} {'VM µs':>8} "
          f"{'ns/insn':>8} {'VM ns/insn':>10} {'LiteSVM µs':>11} {'net µs':>7} {'ratio':>7} {'ratio net':>10}")
    ok = True
    for label, cu, lite_cu, cu_equal, insns, t_ours, t_vm, t_lite, t_b in rows:
        ok &= cu_equal
        net = max(t_lite - t_b, 1e-7)
        print(f"{label:<20} {cu:>5} {'yes' if cu_equal else 'NO':>4} {insns:>6} {t_ours * 1e6:>11.1f} "
              f"{t_vm * 1e6:>8.1f} {t_ours / insns * 1e9:>8.0f} {t_vm / insns * 1e9:>10.0f} "
              f"{t_lite * 1e6:>11.1f} {net * 1e6:>7.1f} {t_ours / t_lite:>6.1f}x {t_ours / net:>9.0f}x")
        if not cu_equal:
            print(f"  !! CU differ: sbpfunc {cu}, LiteSVM {lite_cu}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
