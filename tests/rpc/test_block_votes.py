"""getBlock and getVoteAccounts in process, their results parsed with solders' GetBlockResp /
GetVoteAccountsResp; getBlock across a restart on a SQLite ledger; AsyncClient against the subprocess."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from solders.keypair import Keypair
from solders.message import Message, MessageV0
from solders.rpc.responses import GetBlockResp, GetVoteAccountsResp
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction, VersionedTransaction
from solders.transaction_status import TransactionDetails

from sbpfunc.bank import Bank, SqliteStore
from sbpfunc.governance.stake import StakeTable
from sbpfunc.rpc.server import RpcService
from sbpfunc.runtime.accounts import Account

SOL = 1_000_000_000
REPO = Path(__file__).resolve().parents[2]


def service(bank=None):
    bank = bank or Bank()
    svc = RpcService(bank)

    def call(method, params=None):
        return svc.handle_body(json.dumps({"jsonrpc": "2.0", "id": 3, "method": method,
                                           "params": params or []}).encode())
    call.bank = bank
    return call


def legacy(a, to, lamports, bh):
    return Transaction([a], Message([transfer(TransferParams(from_pubkey=a.pubkey(), to_pubkey=to,
                                                             lamports=lamports))], a.pubkey()), bh)


def v0(a, to, lamports, bh):
    return VersionedTransaction(MessageV0.try_compile(a.pubkey(), [transfer(TransferParams(
        from_pubkey=a.pubkey(), to_pubkey=to, lamports=lamports))], [], bh), [a])


def fill_block(bank):
    a = Keypair()
    bank.set_account(a.pubkey(), Account(100 * SOL))
    bank.advance_slot()
    slot, bh = bank.slot, bank.latest_blockhash
    prev = str(bh)
    txs = [legacy(a, Keypair().pubkey(), SOL, bh), legacy(a, Keypair().pubkey(), 1000 * SOL, bh)]
    for tx in txs:
        assert bank.process_transaction(tx).processed
    bank.advance_slot()
    return slot, prev, txs, a


def test_get_block_full_signatures_none():
    rpc = service()
    slot, prev, txs, _ = fill_block(rpc.bank)
    out = rpc("getBlock", [slot])
    resp = GetBlockResp.from_json(json.dumps(out))
    block = resp.value
    assert block.block_height == slot and block.parent_slot == slot - 1
    assert str(block.previous_blockhash) == prev
    assert str(block.blockhash) == str(rpc.bank.latest_blockhash)  # the slot's blockhash, registered at close
    assert block.rewards == [] and block.block_time is not None
    assert [t.transaction.signatures[0] for t in block.transactions] == [tx.signatures[0] for tx in txs]
    assert block.transactions[0].meta.err is None and block.transactions[1].meta.err is not None
    assert block.transactions[0].meta.fee == 5000
    # signatures only, no rewards
    out = rpc("getBlock", [slot, {"transactionDetails": "signatures", "rewards": False}])
    assert "transactions" not in out["result"] and "rewards" not in out["result"]
    block = GetBlockResp.from_json(json.dumps(out)).value
    assert block.signatures == [tx.signatures[0] for tx in txs]
    out = rpc("getBlock", [slot, {"transactionDetails": "none"}])
    assert "transactions" not in out["result"] and "signatures" not in out["result"]
    assert GetBlockResp.from_json(json.dumps(out)).value.transactions is None
    # base64 and accounts
    out = rpc("getBlock", [slot, {"encoding": "base64"}])
    block = GetBlockResp.from_json(json.dumps(out)).value
    assert bytes(block.transactions[0].transaction) == bytes(VersionedTransaction.from_legacy(txs[0]))
    out = rpc("getBlock", [slot, {"transactionDetails": "accounts"}])
    keys = out["result"]["transactions"][0]["transaction"]["accountKeys"]
    assert keys[0] == {"pubkey": str(txs[0].message.account_keys[0]), "writable": True, "signer": True,
                       "source": "transaction"}
    GetBlockResp.from_json(json.dumps(out))


def test_get_block_versions_and_errors():
    rpc = service()
    bank = rpc.bank
    a = Keypair()
    bank.set_account(a.pubkey(), Account(100 * SOL))
    slot = bank.slot
    assert bank.process_transaction(v0(a, Keypair().pubkey(), SOL, bank.latest_blockhash)).success
    # the open slot is not available yet
    assert rpc("getBlock", [slot])["error"] == {"code": -32004, "message": f"Block not available for slot {slot}"}
    bank.advance_slot()
    err = rpc("getBlock", [slot])["error"]
    assert err["code"] == -32015 and "maxSupportedTransactionVersion" in err["message"]
    out = rpc("getBlock", [slot, {"maxSupportedTransactionVersion": 0}])
    block = GetBlockResp.from_json(json.dumps(out)).value
    assert len(block.transactions) == 1 and block.transactions[0].version == 0
    # an empty slot still in the blockhash queue: an empty block
    bank.advance_slot()
    out = rpc("getBlock", [slot + 1, {"maxSupportedTransactionVersion": 0}])
    block = GetBlockResp.from_json(json.dumps(out)).value
    assert block.transactions == [] and block.parent_slot == slot
    assert rpc("getBlock", [slot, {"commitment": "processed"}])["error"]["code"] == -32602
    assert rpc("getBlock", ["x"])["error"]["code"] == -32602
    assert rpc("getBlock", [10 ** 6])["error"]["code"] == -32004


def test_get_block_survives_restart(tmp_path):
    bank = Bank(SqliteStore(tmp_path / "ledger"))
    slot, prev, txs, _ = fill_block(bank)
    bank.advance_slot(400)  # past the recent blockhash queue: only the stored block record remains
    expected = service(bank)("getBlock", [slot])["result"]
    bank.store.close()
    again = service(Bank(SqliteStore(tmp_path / "ledger")))
    assert again("getBlock", [slot])["result"] == expected
    assert again("getBlock", [slot + 5])["error"] == {
        "code": -32009, "message": f"Slot {slot + 5} was skipped, or missing in long-term storage"}


def test_get_vote_accounts():
    empty = service()("getVoteAccounts")
    resp = GetVoteAccountsResp.from_json(json.dumps(empty))
    assert resp.value.current == [] and resp.value.delinquent == []
    table = StakeTable.load(REPO / "governance" / "stakes.toml")
    rpc = service(Bank(stake_table=table))
    out = rpc("getVoteAccounts")
    value = GetVoteAccountsResp.from_json(json.dumps(out)).value
    assert {str(v.node_pubkey): v.activated_stake for v in value.current} == dict(table.stakes)
    assert value.delinquent == []
    first = next(iter(table.stakes))
    out = rpc("getVoteAccounts", [{"votePubkey": first}])
    assert [v["votePubkey"] for v in out["result"]["current"]] == [first]


def test_async_client_get_block_and_vote_accounts(tmp_path):
    solana = pytest.importorskip("solana")  # noqa: F841
    from solana.rpc.async_api import AsyncClient

    from sbpfunc.rpc.process import ValidatorProcess

    with ValidatorProcess(tmp_path / "ledger", "--stake-table", str(REPO / "governance" / "stakes.toml"),
                          reset=True) as v:
        async def flow():
            async with AsyncClient(v.url) as client:
                a = Keypair()
                sig = (await client.request_airdrop(a.pubkey(), 5 * SOL)).value
                st = (await client.get_signature_statuses([sig])).value[0]
                while (await client.get_slot()).value <= st.slot:
                    await asyncio.sleep(0.02)
                block = (await client.get_block(st.slot, max_supported_transaction_version=0)).value
                assert sig in [t.transaction.signatures[0] for t in block.transactions]
                sigs = (await client.get_block(st.slot, transaction_details=TransactionDetails.Signatures)).value
                assert sig in sigs.signatures
                votes = (await client.get_vote_accounts()).value
                assert len(votes.current) == len(StakeTable.load(REPO / "governance" / "stakes.toml").stakes)
        asyncio.run(asyncio.wait_for(flow(), 60))
