"""Transfers per second: the bank in process (memory and SQLite stores) against LiteSVM, same run.

    .venv/bin/python benchmarks/bench_validator.py [--n 2000]

Each side processes N signed SOL transfers (legacy messages, fresh recipients) one at a time. The
SQLite store commits every transaction durably (WAL, synchronous=FULL), so its rate includes an
fsync per transaction. The RPC-level load test (8 clients x 500 over HTTP) is not here yet.
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    n = ap.parse_args().n
    print(f"LiteSVM (in process):       {bench_litesvm(n):10.0f} tx/s")
    print(f"bank, memory store:         {bench_bank(MemoryStore(), n):10.0f} tx/s")
    with tempfile.TemporaryDirectory() as d:
        print(f"bank, SQLite store (FULL):  {bench_bank(SqliteStore(d), n):10.0f} tx/s")


if __name__ == "__main__":
    main()
