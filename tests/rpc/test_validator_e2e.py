"""`sbpfunc validator` as a subprocess on loopback, driven by the stock `solana` Python client."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

solana = pytest.importorskip("solana")

from solana.exceptions import SolanaRpcException  # noqa: E402
from solana.rpc.async_api import AsyncClient  # noqa: E402
from solana.rpc.core import RPCException  # noqa: E402
from solders.hash import Hash  # noqa: E402
from solders.instruction import Instruction  # noqa: E402
from solders.keypair import Keypair  # noqa: E402
from solders.message import Message, MessageV0  # noqa: E402
from solders.pubkey import Pubkey  # noqa: E402
from solders.system_program import TransferParams, transfer  # noqa: E402
from solders.transaction import Transaction, VersionedTransaction  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SOL = 1_000_000_000
HELLO_ID = Pubkey.from_string("GmaDrppBC7P5ARKV8g3djiwP89vz1jLK23V2GBjuAEGB")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Validator:
    def __init__(self, ledger: Path, *extra: str, reset: bool = False):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "sbpfunc.cli", "validator", "--rpc-port", str(self.port), "--ledger",
                str(ledger), "--slot-ms", "50", *extra] + (["--reset"] if reset else [])
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"validator exited: {self.proc.wait()}")
            if line.startswith("JSON RPC URL"):
                return
        raise RuntimeError("validator did not start")

    def raw(self, body: bytes | str) -> dict:
        req = urllib.request.Request(self.url, data=body if isinstance(body, bytes) else body.encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def call(self, method: str, params=None) -> dict:
        return self.raw(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}))

    def stop(self, sig=signal.SIGTERM) -> str:
        self.proc.send_signal(sig)
        out, _ = self.proc.communicate(timeout=20)
        return out


@pytest.fixture
def validator(tmp_path):
    v = Validator(tmp_path / "ledger", "--bpf-program", str(HELLO_ID), str(REPO / "fixtures" / "hello.so"),
                  reset=True)
    yield v
    if v.proc.poll() is None:
        v.stop()


async def confirmed(client: AsyncClient, sig, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = (await client.get_signature_statuses([sig])).value[0]
        if st is not None:
            return st
        await asyncio.sleep(0.05)
    raise AssertionError(f"{sig} not confirmed")


def test_solana_client_flow(validator):
    async def flow():
        async with AsyncClient(validator.url) as client:
            assert (await client.is_connected())
            version = await client.get_version()
            assert version.value.solana_core == "4.1.0"
            a, b = Keypair(), Keypair()
            air = await client.request_airdrop(a.pubkey(), 10 * SOL)
            st = await confirmed(client, air.value)
            assert st.err is None
            assert (await client.get_balance(a.pubkey())).value == 10 * SOL
            # legacy transfer
            bh = (await client.get_latest_blockhash()).value.blockhash
            tx = Transaction([a], Message([transfer(TransferParams(from_pubkey=a.pubkey(), to_pubkey=b.pubkey(),
                                                                   lamports=SOL))], a.pubkey()), bh)
            sig = (await client.send_transaction(tx)).value
            assert (await confirmed(client, sig)).err is None
            # v0 transfer
            bh = (await client.get_latest_blockhash()).value.blockhash
            msg = MessageV0.try_compile(a.pubkey(), [transfer(TransferParams(
                from_pubkey=a.pubkey(), to_pubkey=b.pubkey(), lamports=2 * SOL))], [], bh)
            sig0 = (await client.send_transaction(VersionedTransaction(msg, [a]))).value
            assert (await confirmed(client, sig0)).err is None
            assert (await client.get_balance(b.pubkey())).value == 3 * SOL
            assert (await client.get_balance(a.pubkey())).value == 7 * SOL - 10_000
            # getTransaction: logs, fee, balances (legacy and v0)
            got = await client.get_transaction(sig, max_supported_transaction_version=0)
            meta = got.value.transaction.meta
            assert meta.fee == 5000 and meta.err is None
            assert meta.log_messages == ["Program 11111111111111111111111111111111 invoke [1]",
                                         "Program 11111111111111111111111111111111 success"]
            assert meta.post_balances[1] == SOL
            got0 = await client.get_transaction(sig0, encoding="base64", max_supported_transaction_version=0)
            assert got0.value.transaction.meta.compute_units_consumed == 150
            # a program installed at genesis, its logs read back
            bh = (await client.get_latest_blockhash()).value.blockhash
            hello = Transaction([a], Message([Instruction(HELLO_ID, b"", [])], a.pubkey()), bh)
            sim = await client.simulate_transaction(VersionedTransaction.from_legacy(hello))
            assert "Program log: Hello, sbpfunc!" in sim.value.logs and sim.value.units_consumed == 105
            hsig = (await client.send_transaction(hello)).value
            await confirmed(client, hsig)
            logs = (await client.get_transaction(hsig)).value.transaction.meta.log_messages
            assert "Program log: Hello, sbpfunc!" in logs
            # accounts
            info = await client.get_account_info(b.pubkey())
            assert info.value.lamports == 3 * SOL and info.value.owner == Pubkey.default()
            many = await client.get_multiple_accounts([a.pubkey(), b.pubkey(), Keypair().pubkey()])
            assert [x.lamports if x else None for x in many.value] == [7 * SOL - 15_000, 3 * SOL, None]
            assert (await client.get_minimum_balance_for_rent_exemption(0)).value == 890_880
            epoch = await client.get_epoch_info()
            assert epoch.value.transaction_count == 4
            fee = await client.get_fee_for_message(tx.message)
            assert fee.value == 5000
            assert (await client.is_blockhash_valid(bh)).value if hasattr(client, "is_blockhash_valid") else True
            progs = await client.get_program_accounts(Pubkey.from_string("BPFLoaderUpgradeab1e11111111111111111111111"),
                                                      encoding="base64")
            assert len(progs.value) == 2
            return a, b

    a, b = asyncio.run(flow())
    out = validator.stop()
    assert "shut down" in out


def test_bad_input_changes_nothing(validator):
    a, b = Keypair(), Keypair()
    validator.call("requestAirdrop", [str(a.pubkey()), 10 * SOL])
    deadline = time.time() + 5
    while validator.call("getBalance", [str(a.pubkey())])["result"]["value"] == 0 and time.time() < deadline:
        time.sleep(0.05)
    count = validator.call("getTransactionCount")["result"]

    assert validator.raw(b"{not json")["error"] == {"code": -32700, "message": "Parse error"}
    err = validator.call("getFoo")["error"]
    assert err["code"] == -32601 and "getFoo" in err["data"]
    assert validator.call("getBalance", [])["error"]["code"] == -32602
    assert validator.call("getBalance", ["not-a-key"])["error"] == {"code": -32602, "message": "Invalid param: Invalid"}
    assert validator.call("getBalance", {"x": 1})["error"]["code"] == -32602
    assert validator.call("sendTransaction", ["@@@"])["error"]["code"] == -32602

    import base64

    def send(tx, **cfg):
        return validator.call("sendTransaction", [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64", **cfg}])

    bh = Hash.from_string(validator.call("getLatestBlockhash")["result"]["value"]["blockhash"])
    good = Transaction([a], Message([transfer(TransferParams(from_pubkey=a.pubkey(), to_pubkey=b.pubkey(),
                                                             lamports=SOL))], a.pubkey()), bh)
    wrong = Transaction.populate(good.message, [b.sign_message(bytes(good.message_data()))])
    assert send(wrong)["error"] == {"code": -32003, "message": "Transaction signature verification failure"}
    unsigned = Transaction.new_unsigned(good.message)
    assert send(unsigned)["error"]["code"] == -32003
    old = Transaction([a], Message([transfer(TransferParams(from_pubkey=a.pubkey(), to_pubkey=b.pubkey(),
                                                            lamports=SOL))], a.pubkey()), Hash.new_unique())
    err = send(old)["error"]
    assert err["code"] == -32002 and err["message"] == "Transaction simulation failed: Blockhash not found"
    assert err["data"]["err"] == "BlockhashNotFound"
    poor = Keypair()
    nofee = Transaction([poor], Message([transfer(TransferParams(from_pubkey=poor.pubkey(), to_pubkey=b.pubkey(),
                                                                 lamports=1))], poor.pubkey()), bh)
    err = send(nofee)["error"]
    assert err["code"] == -32002 and err["data"]["err"] == "AccountNotFound"
    failing = Transaction([a], Message([transfer(TransferParams(from_pubkey=a.pubkey(), to_pubkey=b.pubkey(),
                                                                lamports=100 * SOL))], a.pubkey()), bh)
    err = send(failing)["error"]
    assert err["message"] == "Transaction simulation failed: Error processing Instruction 0: custom program error: 0x1"
    assert err["data"]["err"] == {"InstructionError": [0, {"Custom": 1}]}
    assert any("insufficient lamports" in line for line in err["data"]["logs"])
    assert err["data"]["unitsConsumed"] == 150
    # nothing changed
    assert validator.call("getTransactionCount")["result"] == count
    assert validator.call("getBalance", [str(a.pubkey())])["result"]["value"] == 10 * SOL
    assert validator.call("getBalance", [str(b.pubkey())])["result"]["value"] == 0
    # and the solana client sees the preflight failure as an RPCException
    async def client_side():
        async with AsyncClient(validator.url) as client:
            with pytest.raises((RPCException, SolanaRpcException)):
                await client.send_transaction(failing)
    asyncio.run(client_side())


def test_restart_resumes_and_kill_9_loses_nothing(tmp_path):
    ledger = tmp_path / "ledger"
    v = Validator(ledger)
    a = Keypair()
    sigs = []
    try:
        v.call("requestAirdrop", [str(a.pubkey()), 10 * SOL])
        for i in range(5):
            bh = v.call("getLatestBlockhash")["result"]["value"]["blockhash"]
            tx = Transaction([a], Message([transfer(TransferParams(from_pubkey=a.pubkey(), to_pubkey=Keypair().pubkey(),
                                                                   lamports=SOL + i))], a.pubkey()),
                             Hash.from_string(bh))
            import base64
            r = v.call("sendTransaction", [base64.b64encode(bytes(tx)).decode(), {"encoding": "base64"}])
            sigs.append(r["result"])
        slot = v.call("getSlot")["result"]
    finally:
        v.proc.kill()  # SIGKILL right after the last confirmation
        v.proc.wait()
    again = Validator(ledger)
    try:
        statuses = again.call("getSignatureStatuses", [sigs])["result"]["value"]
        assert all(s is not None and s["err"] is None for s in statuses)
        assert again.call("getBalance", [str(a.pubkey())])["result"]["value"] == 10 * SOL - 5 * SOL - 10 - 25_000
        assert again.call("getSlot")["result"] >= slot
    finally:
        again.stop()
    fresh = Validator(ledger, reset=True)
    try:
        assert fresh.call("getBalance", [str(a.pubkey())])["result"]["value"] == 0
    finally:
        fresh.stop()


def test_ctrl_c_shuts_down_cleanly(tmp_path):
    v = Validator(tmp_path / "ledger")
    time.sleep(1.2)  # at least one status line
    out = v.stop(signal.SIGINT)
    assert v.proc.returncode == 0
    assert "shut down: slot" in out and "active modules: none" in out
    assert "Traceback" not in out
