"""Websocket PubSub (signature, logs, slot subscriptions) on `sbpfunc validator` as a subprocess,
driven by solana-py's `SolanaWsClient` (on the RPC port + 1, as Agave) and `AsyncClient`:
confirmations arrive as notifications, no polling."""

from __future__ import annotations

import asyncio
import json

import pytest

solana = pytest.importorskip("solana")

from solana.rpc.async_api import AsyncClient  # noqa: E402
from solana.rpc.models import TxOpts  # noqa: E402
from solana.rpc.websocket_api import SolanaWsClient  # noqa: E402
from solders.keypair import Keypair  # noqa: E402
from solders.message import Message  # noqa: E402
from solders.pubkey import Pubkey  # noqa: E402
from solders.rpc.config import RpcTransactionLogsFilter, RpcTransactionLogsFilterMentions  # noqa: E402
from solders.rpc.responses import LogsNotification, SignatureNotification, SlotNotification  # noqa: E402
from solders.system_program import TransferParams, transfer  # noqa: E402
from solders.transaction import Transaction  # noqa: E402

from sbpfunc.rpc.process import REPO, ValidatorProcess  # noqa: E402

SOL = 1_000_000_000
HELLO_ID = Pubkey.from_string("GmaDrppBC7P5ARKV8g3djiwP89vz1jLK23V2GBjuAEGB")


@pytest.fixture(scope="module")
def validator(tmp_path_factory):
    v = ValidatorProcess(tmp_path_factory.mktemp("ledger"), "--bpf-program", str(HELLO_ID),
                         str(REPO / "fixtures" / "hello.so"), reset=True)
    yield v
    if v.proc.poll() is None:
        v.stop()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


def xfer(a: Keypair, to: Pubkey, lamports: int, bh) -> Transaction:
    return Transaction([a], Message([transfer(TransferParams(from_pubkey=a.pubkey(), to_pubkey=to,
                                                             lamports=lamports))], a.pubkey()), bh)


async def funded(client: AsyncClient, ws: SolanaWsClient, lamports=10 * SOL) -> Keypair:
    """An airdrop confirmed by its signature notification."""
    kp = Keypair()
    sig = (await client.request_airdrop(kp.pubkey(), lamports)).value
    await ws.signature_subscribe(signature=sig)  # already processed: notified at once
    note = await ws.recv()
    assert isinstance(note, SignatureNotification) and note.result.value.err is None
    return kp


def test_banner_names_pubsub_url(validator):
    assert any(line.strip() == f"WebSocket PubSub URL: {validator.ws_url}" for line in validator.banner)


def test_signature_subscribe_confirms_without_polling(validator):
    async def flow():
        async with AsyncClient(validator.url) as client, SolanaWsClient(validator.ws_url) as ws:
            a = await funded(client, ws)
            b = Keypair().pubkey()
            bh = (await client.get_latest_blockhash()).value.blockhash
            tx = xfer(a, b, SOL, bh)
            sub = await ws.signature_subscribe(signature=tx.signatures[0], commitment="confirmed")
            await client.send_raw_transaction(bytes(tx), TxOpts(skip_confirmation=True))
            note = await ws.recv()
            assert isinstance(note, SignatureNotification)
            assert note.subscription == sub.subscription_id
            assert note.result.value.err is None
            st = (await client.get_signature_statuses([tx.signatures[0]])).value[0]
            assert note.result.context.slot == st.slot
            assert (await client.get_balance(b)).value == SOL
            # one-shot: the server ended the subscription, unsubscribing it again is refused
            with pytest.raises(ValueError):
                await ws.unsubscribe(sub)
            # a failing transaction (skip preflight): the notification carries its error. (A Custom
            # instruction error is not used here: solders 0.29's parse_websocket_message rejects
            # {"InstructionError": [i, {"Custom": n}]}, which getSignatureStatuses parses; the raw-frame
            # test below checks that shape.)
            from solders.instruction import AccountMeta, Instruction
            from solders.system_program import ID as SYSTEM
            data = bytes(transfer(TransferParams(from_pubkey=b, to_pubkey=a.pubkey(), lamports=1)).data)
            steal = Instruction(SYSTEM, data, [AccountMeta(b, False, True), AccountMeta(a.pubkey(), False, True)])
            tx2 = Transaction([a], Message([steal], a.pubkey()), bh)
            await ws.signature_subscribe(signature=tx2.signatures[0])
            await client.send_raw_transaction(bytes(tx2), TxOpts(skip_preflight=True, skip_confirmation=True))
            note = await ws.recv()
            assert isinstance(note, SignatureNotification)
            assert "MissingRequiredSignature" in str(note.result.value.err)
    run(flow())


def test_signature_subscribe_received_notification_raw(validator):
    """enableReceivedNotification: "receivedSignature" first, then the processed result; raw frames
    checked against Agave's shapes."""
    import websockets

    async def flow():
        async with AsyncClient(validator.url) as client, SolanaWsClient(validator.ws_url) as ws:
            a = await funded(client, ws)
        bh = (await AsyncClient(validator.url).get_latest_blockhash()).value.blockhash
        tx = xfer(a, Keypair().pubkey(), SOL, bh)
        async with websockets.connect(validator.ws_url) as raw, AsyncClient(validator.url) as client:
            await raw.send(json.dumps({"jsonrpc": "2.0", "id": 9, "method": "signatureSubscribe",
                                       "params": [str(tx.signatures[0]), {"commitment": "finalized",
                                                                          "enableReceivedNotification": True}]}))
            ack = json.loads(await raw.recv())
            assert ack["id"] == 9 and isinstance(ack["result"], int) and ack["jsonrpc"] == "2.0"
            await client.send_raw_transaction(bytes(tx), TxOpts(skip_confirmation=True))
            first, second = json.loads(await raw.recv()), json.loads(await raw.recv())
            for m in (first, second):
                assert m["method"] == "signatureNotification" and m["params"]["subscription"] == ack["result"]
            assert first["params"]["result"]["value"] == "receivedSignature"
            assert second["params"]["result"]["value"] == {"err": None}
            assert set(second["params"]["result"]["context"]) == {"slot"}
            # a failing one (insufficient lamports: system error Custom(1)), in Agave's error shape
            tx3 = xfer(a, Keypair().pubkey(), 1000 * SOL, bh)
            await raw.send(json.dumps({"jsonrpc": "2.0", "id": 10, "method": "signatureSubscribe",
                                       "params": [str(tx3.signatures[0])]}))
            ack = json.loads(await raw.recv())
            await client.send_raw_transaction(bytes(tx3), TxOpts(skip_preflight=True, skip_confirmation=True))
            m = json.loads(await raw.recv())
            assert m["params"] == {"result": {"context": {"slot": m["params"]["result"]["context"]["slot"]},
                                              "value": {"err": {"InstructionError": [0, {"Custom": 1}]}}},
                                   "subscription": ack["result"]}
    run(flow())


def test_logs_subscribe_filters_and_unsubscribe(validator):
    async def flow():
        async with AsyncClient(validator.url) as client, SolanaWsClient(validator.ws_url) as ws:
            a = await funded(client, ws)
            b = Keypair().pubkey()
            sub_all = await ws.logs_subscribe()  # "all"
            sub_votes = await ws.logs_subscribe(filter_=RpcTransactionLogsFilter.AllWithVotes)
            sub_b = await ws.logs_subscribe(filter_=RpcTransactionLogsFilterMentions(b))
            sub_hello = await ws.logs_subscribe(filter_=RpcTransactionLogsFilterMentions(HELLO_ID))
            bh = (await client.get_latest_blockhash()).value.blockhash
            sig = (await client.send_raw_transaction(bytes(xfer(a, b, SOL, bh)))).value
            got = {}
            for _ in range(3):  # all, allWithVotes, mentions b -- not mentions hello
                note = await ws.recv()
                assert isinstance(note, LogsNotification)
                got[note.subscription] = note.result.value
            assert set(got) == {sub_all.subscription_id, sub_votes.subscription_id, sub_b.subscription_id}
            for value in got.values():
                assert value.signature == sig and value.err is None
                assert value.logs == ["Program 11111111111111111111111111111111 invoke [1]",
                                      "Program 11111111111111111111111111111111 success"]
            for s in (sub_all, sub_votes, sub_b):
                await ws.unsubscribe(s)
            # a program's logs reach the subscription that mentions it
            from solders.instruction import Instruction
            bh = (await client.get_latest_blockhash()).value.blockhash
            hello = Transaction([a], Message([Instruction(HELLO_ID, b"", [])], a.pubkey()), bh)
            sig2 = (await client.send_raw_transaction(bytes(hello))).value
            note = await ws.recv()
            assert isinstance(note, LogsNotification) and note.subscription == sub_hello.subscription_id
            assert note.result.value.signature == sig2
            assert any("Hello" in line or "hello" in line for line in note.result.value.logs), \
                note.result.value.logs
            await ws.unsubscribe(sub_hello)
            # after unsubscribing: nothing more arrives
            bh = (await client.get_latest_blockhash()).value.blockhash
            await client.send_raw_transaction(bytes(xfer(a, b, 2 * SOL, bh)))
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(ws.recv(), 0.5)
    run(flow())


def test_slot_subscribe(validator):
    async def flow():
        async with SolanaWsClient(validator.ws_url) as ws:
            sub = await ws.slot_subscribe()
            slots = []
            for _ in range(3):
                note = await ws.recv()
                assert isinstance(note, SlotNotification) and note.subscription == sub.subscription_id
                info = note.result
                assert info.parent == info.slot - 1 and info.root <= info.slot
                slots.append(info.slot)
            assert slots == sorted(slots) and len(set(slots)) == 3
            await ws.unsubscribe(sub)
    run(flow())


def test_pubsub_also_on_rpc_port_and_errors(validator):
    import websockets

    async def flow():
        async with websockets.connect(validator.url.replace("http", "ws")) as raw:
            async def call(method, params=None, id_=1):
                await raw.send(json.dumps({"jsonrpc": "2.0", "id": id_, "method": method, "params": params or []}))
                while True:  # skip notifications
                    m = json.loads(await raw.recv())
                    if "id" in m:
                        return m
            sub = await call("slotSubscribe")
            assert isinstance(sub["result"], int)
            assert (await call("slotUnsubscribe", [sub["result"]]))["result"] is True
            err = (await call("slotUnsubscribe", [sub["result"]]))["error"]
            assert err == {"code": -32602, "message": "Invalid subscription id."}
            assert (await call("nopeSubscribe"))["error"]["code"] == -32601
            err = (await call("logsSubscribe", [{"mentions": [str(HELLO_ID), str(HELLO_ID)]}]))["error"]
            assert err == {"code": -32602, "message": "Invalid Request: Only 1 address supported"}
            assert (await call("logsSubscribe", ["bogus"]))["error"]["code"] == -32602
            assert (await call("signatureSubscribe", ["not-a-signature"]))["error"]["code"] == -32602
            await raw.send("{nope")
            assert json.loads(await raw.recv())["error"]["code"] == -32700
    run(flow())
