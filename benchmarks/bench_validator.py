"""Transfers per second: the bank in process (memory and SQLite stores) against LiteSVM, same run.

    .venv/bin/python benchmarks/bench_validator.py [--n 2000] [--clients 8] [--per-client 500]
                                                   [--skip-preflight] [--no-rpc]

Each side processes N signed SOL transfers (legacy messages, fresh recipients) one at a time. The
SQLite store commits every transaction durably (WAL, synchronous=FULL), so its rate includes an
fsync per transaction.

Then over JSON-RPC (sbpfunc/rpc/loadtest.py): `sbpfunc validator` as a subprocess with a SQLite
ledger, CLIENTS concurrent solana-py AsyncClients x PER_CLIENT SOL transfers (sendTransaction with
preflight unless --skip-preflight), every confirmed signature recorded; the rate is confirmed
transfers / wall time. Then `kill -9`, restart on the same ledger, and every confirmed signature
and balance is checked; LiteSVM's in-process rate for the same number of transfers is printed
from the same run.
"""

from __future__ import annotations

import argparse
import tempfile
import time

from solders.account import Account as SoldersAccount
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

from sbpfunc.bank import Bank, MemoryStore, SqliteStore
from sbpfunc.runtime.accounts import Account

SOL = 1_000_000_000


def txs(payer: Keypair, blockhash, n: int) -> list[Transaction]:
    return [Transaction([payer], Message([transfer(TransferParams(from_pubkey=payer.pubkey(),
                                                                  to_pubkey=Keypair().pubkey(), lamports=SOL))],
                                         payer.pubkey()), blockhash) for _ in range(n)]


def bench_bank(store, n: int) -> float:
    bank = Bank(store)
    payer = Keypair()
    bank.set_account(payer.pubkey(), Account(10 ** 18))
    batch = txs(payer, bank.latest_blockhash, n)
    t = time.perf_counter()
    for tx in batch:
        assert bank.process_transaction(tx).success
    return n / (time.perf_counter() - t)


def bench_litesvm(n: int) -> float:
    svm = LiteSVM()
    payer = Keypair()
    svm.set_account(payer.pubkey(), SoldersAccount(10 ** 18, b"", Pubkey.default(), False, 0))
    batch = txs(payer, svm.latest_blockhash(), n)
    t = time.perf_counter()
    for tx in batch:
        svm.send_transaction(tx)
    return n / (time.perf_counter() - t)


def bench_rpc(clients: int, per_client: int, skip_preflight: bool) -> None:
    import asyncio
    from pathlib import Path

    from sbpfunc.rpc.loadtest import litesvm_rate, run_load, verify
    from sbpfunc.rpc.process import ValidatorProcess

    with tempfile.TemporaryDirectory() as d:
        ledger = Path(d) / "ledger"
        v = ValidatorProcess(ledger, reset=True, slot_ms=400)
        try:
            result = asyncio.run(run_load(v.url, clients, per_client, skip_preflight=skip_preflight))
        finally:
            v.kill()  # kill -9 right after the last confirmation
        total = clients * per_client
        mode = "skip preflight" if skip_preflight else "with preflight"
        print(f"RPC, {clients} clients x {per_client} ({mode}): {result.tps:10.0f} tx/s  "
              f"({len(result.confirmed)}/{total} confirmed in {result.elapsed:.2f}s, {result.failed} failed)")
        t = time.perf_counter()
        with ValidatorProcess(ledger, slot_ms=400) as again:
            found, problems = asyncio.run(verify(again.url, result))
        print(f"after kill -9 + restart:    {found}/{len(result.confirmed)} confirmed signatures present, "
              f"{len(result.expected)} balances checked, {len(problems)} problems "
              f"({time.perf_counter() - t:.1f}s)")
        for p in problems[:10]:
            print("  ", p)
        print(f"LiteSVM (in process, same run, {total} transfers): {litesvm_rate(total):10.0f} tx/s")
        if problems or len(result.confirmed) != total:
            raise SystemExit(1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--per-client", type=int, default=500)
    ap.add_argument("--skip-preflight", action="store_true")
    ap.add_argument("--no-rpc", action="store_true", help="only the in-process rates")
    args = ap.parse_args()
    n = args.n
    print(f"LiteSVM (in process):       {bench_litesvm(n):10.0f} tx/s")
    print(f"bank, memory store:         {bench_bank(MemoryStore(), n):10.0f} tx/s")
    with tempfile.TemporaryDirectory() as d:
        print(f"bank, SQLite store (FULL):  {bench_bank(SqliteStore(d), n):10.0f} tx/s")
    if not args.no_rpc:
        bench_rpc(args.clients, args.per_client, args.skip_preflight)


if __name__ == "__main__":
    main()
