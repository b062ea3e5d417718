"""RPC methods in process (`RpcService.handle_body`), their results parsed with solders' response types."""

from __future__ import annotations

import base64
import json

import pytest
from solders.keypair import Keypair
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.rpc.responses import (
    GetAccountInfoResp,
    GetLatestBlockhashResp,
    GetProgramAccountsResp,
    GetSignatureStatusesResp,
    GetTransactionResp,
    SimulateTransactionResp,
)
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction, VersionedTransaction

from sbpfunc.bank import Bank
from sbpfunc.rpc import base58
from sbpfunc.rpc.server import RpcService
from sbpfunc.runtime.accounts import Account

SOL = 1_000_000_000
OWNER = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")


@pytest.fixture
def rpc():
    bank = Bank()
    svc = RpcService(bank)

    def call(method, params=None, raw=False):
        body = json.dumps({"jsonrpc": "2.0", "id": 7, "method": method, "params": params or []})
        out = svc.handle_body(body.encode())
        return json.dumps(out) if raw else out
    call.bank = bank
    return call


def b64(x) -> str:
    return base64.b64encode(bytes(x)).decode()


def test_account_encodings(rpc):
    k = Keypair().pubkey()
    rpc.bank.set_account(k, Account(5 * SOL, bytearray(b"\x01\x02hello"), OWNER))
    r = rpc("getAccountInfo", [str(k), {"encoding": "base64"}])
    assert GetAccountInfoResp.from_json(json.dumps(r)).value.data == b"\x01\x02hello"
    v = rpc("getAccountInfo", [str(k), {"encoding": "base58"}])["result"]["value"]
    assert v["data"] == [base58.encode(b"\x01\x02hello"), "base58"] and v["space"] == 7
    assert rpc("getAccountInfo", [str(k)])["result"]["value"]["data"] == base58.encode(b"\x01\x02hello")
    assert rpc("getAccountInfo", [str(Keypair().pubkey())])["result"]["value"] is None
    big = Keypair().pubkey()
    rpc.bank.set_account(big, Account(SOL, bytearray(200)))
    assert rpc("getAccountInfo", [str(big), {"encoding": "base58"}])["error"]["code"] == -32600
    assert rpc("getAccountInfo", [str(k), {"encoding": "base64", "dataSlice": {"offset": 2, "length": 3}}])[
        "result"]["value"]["data"] == [b64(b"hel"), "base64"]


def test_program_accounts_filters(rpc):
    keys = [Keypair().pubkey() for _ in range(4)]
    datas = [b"\xaa" * 8, b"\xaa\xbb" + bytes(6), b"\xaa\xbb" + bytes(10), b"\xcc" * 8]
    for k, d in zip(keys, datas):
        rpc.bank.set_account(k, Account(SOL, bytearray(d), OWNER))
    rpc.bank.set_account(Keypair().pubkey(), Account(SOL, bytearray(b"\xaa\xbb" * 4)))  # other owner

    def pga(filters, **cfg):
        r = rpc("getProgramAccounts", [str(OWNER), {"encoding": "base64", "filters": filters, **cfg}])
        return sorted(x["pubkey"] for x in r["result"]["value" if cfg.get("withContext") else slice(None)]) \
            if not cfg.get("withContext") else sorted(x["pubkey"] for x in r["result"]["value"])

    assert pga([]) == sorted(map(str, keys))
    assert pga([{"dataSize": 8}]) == sorted(map(str, [keys[0], keys[1], keys[3]]))
    assert pga([{"memcmp": {"offset": 0, "bytes": base58.encode(b"\xaa\xbb")}}]) == sorted(map(str, keys[1:3]))
    assert pga([{"memcmp": {"offset": 1, "bytes": b64(b"\xbb"), "encoding": "base64"}}, {"dataSize": 12}]) == \
        [str(keys[2])]
    assert pga([{"dataSize": 8}], withContext=True) == sorted(map(str, [keys[0], keys[1], keys[3]]))
    r = rpc("getProgramAccounts", [str(OWNER), {"encoding": "base64"}])
    assert len(GetProgramAccountsResp.from_json(json.dumps(r)).value) == 4
    assert rpc("getProgramAccounts", [str(OWNER), {"filters": [{"bogus": 1}]}])["error"]["code"] == -32602


def test_transactions_statuses_and_versions(rpc):
    bank = rpc.bank
    a, b = Keypair(), Keypair()
    bank.airdrop(a.pubkey(), 10 * SOL)
    bh = GetLatestBlockhashResp.from_json(rpc("getLatestBlockhash", raw=True)).value
    assert bh.last_valid_block_height == bank.block_height + 150
    assert rpc("isBlockhashValid", [str(bh.blockhash)])["result"]["value"] is True
    msg = MessageV0.try_compile(a.pubkey(), [transfer(TransferParams(from_pubkey=a.pubkey(), to_pubkey=b.pubkey(),
                                                                    lamports=SOL))], [], bh.blockhash)
    tx = VersionedTransaction(msg, [a])
    assert rpc("getFeeForMessage", [b64(b"\x80" + bytes(msg))])["result"]["value"] == 5000
    sim = SimulateTransactionResp.from_json(rpc("simulateTransaction", [b64(tx), {"encoding": "base64"}], raw=True))
    assert sim.value.err is None and sim.value.units_consumed == 150
    sig = rpc("sendTransaction", [base58.encode(bytes(tx))])["result"]
    assert sig == str(tx.signatures[0])
    st = GetSignatureStatusesResp.from_json(rpc("getSignatureStatuses", [[sig, str(Keypair().sign_message(b""))]],
                                                raw=True)).value
    assert st[0].err is None and st[1] is None
    err = rpc("getTransaction", [sig])["error"]
    assert err["code"] == -32015 and "maxSupportedTransactionVersion" in err["message"]
    for enc in ("json", "base64", "base58"):
        got = GetTransactionResp.from_json(rpc("getTransaction", [sig, {"encoding": enc,
                                                                        "maxSupportedTransactionVersion": 0}],
                                               raw=True)).value
        assert got.transaction.meta.fee == 5000 and got.transaction.version == 0
    assert rpc("getTransaction", [str(Keypair().sign_message(b""))])["result"] is None
    # simulate with replaceRecentBlockhash: an unknown blockhash is replaced
    from solders.hash import Hash
    stale = Transaction.new_unsigned(Message([transfer(TransferParams(from_pubkey=a.pubkey(), to_pubkey=b.pubkey(),
                                                                      lamports=1))], a.pubkey()))
    r = rpc("simulateTransaction", [b64(stale), {"encoding": "base64", "replaceRecentBlockhash": True}])["result"]
    assert r["value"]["err"] is None and r["value"]["replacementBlockhash"]["blockhash"] == str(bank.latest_blockhash)
    r = rpc("simulateTransaction", [b64(stale), {"encoding": "base64"}])["result"]
    assert r["value"]["err"] == "BlockhashNotFound"
    assert Hash.default() != bank.latest_blockhash


def test_batch_and_invalid_requests(rpc):
    svc = RpcService(rpc.bank)
    out = svc.handle_body(json.dumps([{"jsonrpc": "2.0", "id": 1, "method": "getSlot"},
                                      {"jsonrpc": "2.0", "id": 2, "method": "nope"}]).encode())
    assert out[0]["result"] == 0 and out[1]["error"]["code"] == -32601
    assert svc.handle_body(b"[]")["error"]["code"] == -32600
    assert svc.handle_body(b'{"id": 1}')["error"]["code"] == -32600
    assert rpc("getMinimumBalanceForRentExemption", [-1])["error"]["code"] == -32602
    assert rpc("getMinimumBalanceForRentExemption", [165])["result"] == rpc.bank.minimum_balance(165)
    assert rpc("getIdentity")["result"]["identity"] == str(rpc.bank.identity.pubkey())
    assert rpc("getGenesisHash")["result"] == str(rpc.bank.genesis_hash)
    assert rpc("getHealth")["result"] == "ok"
