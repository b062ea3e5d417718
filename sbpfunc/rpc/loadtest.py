"""Load on a running validator over JSON-RPC: N concurrent clients, each sending M SOL transfers.

Each client is one `AsyncClient` (its own HTTP connection pool) with its own funded sender and
`RECIPIENTS` recipients. Every transfer has a distinct amount (so no two are the same transaction).
A signature counts as confirmed once getSignatureStatuses reports it `finalized` without error (this
validator commits a transaction durably before answering sendTransaction, so that is immediate);
confirmations are checked in batches as the client goes. The expected balances follow from the
confirmed transfers alone, so `verify` after a `kill -9` and restart checks that nothing confirmed
was lost and nothing else changed the accounts.

Used by `benchmarks/bench_validator.py` and the slow test `tests/rpc/test_load.py`.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from solders.keypair import Keypair
from solders.message import Message
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

SOL = 1_000_000_000
FEE = 5_000
RECIPIENTS = 8
BASE_AMOUNT = 1_000_000  # above the rent-exempt minimum of an empty account (890 880)
FUNDING = 100 * SOL
BLOCKHASH_EVERY = 50
CONFIRM_BATCH = 50


@dataclass
class LoadResult:
    clients: int
    per_client: int
    elapsed: float = 0.0
    confirmed: list[Signature] = field(default_factory=list)
    failed: int = 0
    expected: dict[Pubkey, int] = field(default_factory=dict)  # balances after the confirmed transfers

    @property
    def tps(self) -> float:
        return len(self.confirmed) / self.elapsed if self.elapsed else 0.0


async def _wait_confirmed(client, sigs: list[Signature], timeout: float = 30.0) -> dict[Signature, object]:
    out: dict[Signature, object] = {}
    deadline = time.monotonic() + timeout
    pending = list(sigs)
    while pending and time.monotonic() < deadline:
        for i in range(0, len(pending), 256):
            chunk = pending[i:i + 256]
            statuses = (await client.get_signature_statuses(chunk)).value
            for s, st in zip(chunk, statuses):
                if st is not None:
                    out[s] = st
        pending = [s for s in pending if s not in out]
        if pending:
            await asyncio.sleep(0.05)
    return out


async def run_load(url: str, clients: int = 8, per_client: int = 500, *, skip_preflight: bool = False,
                   timeout: float = 600, result: LoadResult | None = None) -> LoadResult:
    """Run the load; `result` (if given) is filled in as signatures are confirmed, so a caller that
    kills the validator midway still has what was confirmed."""
    from solana.rpc.async_api import AsyncClient
    from solana.rpc.models import TxOpts

    result = result if result is not None else LoadResult(clients, per_client)
    senders = [Keypair() for _ in range(clients)]
    recipients = [[Keypair().pubkey() for _ in range(RECIPIENTS)] for _ in range(clients)]
    async with AsyncClient(url, timeout=60) as client:  # funding (not timed)
        airdrops = [(await client.request_airdrop(s.pubkey(), FUNDING)).value for s in senders]
        got = await _wait_confirmed(client, airdrops)
        assert len(got) == clients and all(st.err is None for st in got.values()), "airdrops failed"
    opts = TxOpts(skip_preflight=skip_preflight, skip_confirmation=True)

    async def one_client(c: int) -> None:
        sender, dests = senders[c], recipients[c]
        balances = {sender.pubkey(): FUNDING, **{d: 0 for d in dests}}
        async with AsyncClient(url, timeout=60) as client:
            bh = None
            unconfirmed: list[tuple[Signature, Pubkey, int]] = []

            async def confirm():
                sts = await _wait_confirmed(client, [s for s, _, _ in unconfirmed])
                for s, dest, amount in unconfirmed:
                    st = sts.get(s)
                    if st is not None and st.err is None and st.confirmation_status is not None:
                        result.confirmed.append(s)
                        balances[sender.pubkey()] -= amount + FEE
                        balances[dest] += amount
                    else:
                        result.failed += 1
                unconfirmed.clear()

            for i in range(per_client):
                if i % BLOCKHASH_EVERY == 0:
                    bh = (await client.get_latest_blockhash()).value.blockhash
                dest, amount = dests[i % RECIPIENTS], BASE_AMOUNT + i
                tx = Transaction([sender], Message([transfer(TransferParams(
                    from_pubkey=sender.pubkey(), to_pubkey=dest, lamports=amount))], sender.pubkey()), bh)
                try:
                    sig = (await client.send_raw_transaction(bytes(tx), opts)).value
                except Exception:  # noqa: BLE001 -- a rejected send is counted, not confirmed
                    result.failed += 1
                    continue
                unconfirmed.append((sig, dest, amount))
                if len(unconfirmed) >= CONFIRM_BATCH:
                    await confirm()
            await confirm()
        result.expected.update(balances)

    t = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(one_client(c) for c in range(clients))), timeout)
    result.elapsed = time.perf_counter() - t
    return result


async def verify(url: str, result: LoadResult) -> tuple[int, list[str]]:
    """(confirmed signatures found, problems) on a (restarted) validator."""
    from solana.rpc.async_api import AsyncClient

    problems: list[str] = []
    found = 0
    async with AsyncClient(url, timeout=60) as client:
        for i in range(0, len(result.confirmed), 256):
            chunk = result.confirmed[i:i + 256]
            for s, st in zip(chunk, (await client.get_signature_statuses(chunk)).value):
                if st is None:
                    problems.append(f"confirmed signature {s} missing")
                elif st.err is not None:
                    problems.append(f"confirmed signature {s} has err {st.err}")
                else:
                    found += 1
        keys = list(result.expected)
        for i in range(0, len(keys), 100):
            chunk = keys[i:i + 100]
            accounts = (await client.get_multiple_accounts(chunk)).value
            for k, a in zip(chunk, accounts):
                have = 0 if a is None else a.lamports
                if have != result.expected[k]:
                    problems.append(f"{k}: balance {have}, expected {result.expected[k]}")
    return found, problems


def litesvm_rate(n: int = 4000) -> float:
    """LiteSVM's in-process rate for the same kind of transfers (one at a time)."""
    from solders.account import Account as SoldersAccount
    from solders.litesvm import LiteSVM

    svm = LiteSVM()
    payer = Keypair()
    svm.set_account(payer.pubkey(), SoldersAccount(10 ** 18, b"", Pubkey.default(), False, 0))
    dests = [Keypair().pubkey() for _ in range(RECIPIENTS)]
    bh = svm.latest_blockhash()
    batch = [Transaction([payer], Message([transfer(TransferParams(
        from_pubkey=payer.pubkey(), to_pubkey=dests[i % RECIPIENTS], lamports=BASE_AMOUNT + i))], payer.pubkey()), bh)
        for i in range(n)]
    t = time.perf_counter()
    for tx in batch:
        svm.send_transaction(tx)
    return n / (time.perf_counter() - t)
