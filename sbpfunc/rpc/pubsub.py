"""Agave's websocket PubSub over aiohttp: signature, logs and slot subscriptions.

Served like Agave's on the RPC port + 1 (and also on the RPC port itself, as a websocket upgrade of
`GET /`). Requests are JSON-RPC 2.0 text frames; a subscribe answers `{"result": <subscription id>}`,
an unsubscribe `{"result": true}` (or -32602 "Invalid subscription id."). Notifications:

    signatureNotification  {"context": {"slot"}, "value": {"err": ...}}   (then the subscription ends;
                           "receivedSignature" first if `enableReceivedNotification`)
    logsNotification       {"context": {"slot"}, "value": {"signature", "err", "logs"}}
    slotNotification       {"parent", "root", "slot"}

Every committed transaction is already final in this validator, so every commitment level is
notified at once. A `signatureSubscribe` for a signature that is already processed is answered with
its notification right away (so subscribing after `sendTransaction` returns cannot miss it).

The bank calls `on_commit`/`on_slot` under its lock; those only queue messages: each connection
has one writer task, so a subscription's confirmation always precedes its notifications, and a
client that stops reading is disconnected when its queue passes `MAX_QUEUE` messages.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web
from solders.pubkey import Pubkey
from solders.signature import Signature

from ..bank.bank import Bank, TxResult
from .errors import INVALID_PARAMS, INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR, RpcError, invalid_params

log = logging.getLogger(__name__)
VOTE_PROGRAM_ID = Pubkey.from_string("Vote111111111111111111111111111111111111111")
MAX_QUEUE = 100_000

_NOTIFICATION_METHOD = {"signature": "signatureNotification", "logs": "logsNotification",
                        "slot": "slotNotification"}


@dataclass(eq=False)
class _Conn:
    ws: web.WebSocketResponse
    queue: asyncio.Queue = field(default_factory=asyncio.Queue)
    subs: set[int] = field(default_factory=set)
    closed: bool = False


@dataclass(eq=False)
class _Sub:
    id: int
    kind: str  # signature | logs | slot
    conn: _Conn
    signature: str | None = None
    received: bool = False  # enableReceivedNotification
    logs_filter: Any = None  # "all" | "allWithVotes" | Pubkey (mentions)


class PubSub:
    def __init__(self, bank: Bank):
        self.bank = bank
        self.loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._ids = itertools.count(0)
        self.subs: dict[int, _Sub] = {}
        self.by_signature: dict[str, set[int]] = {}
        self.logs: set[int] = set()
        self.slots: set[int] = set()
        self.conns: set[_Conn] = set()
        bank.on_commit.append(self.on_commit)
        bank.on_slot.append(self.on_slot)

    def detach(self) -> None:
        for lst, fn in ((self.bank.on_commit, self.on_commit), (self.bank.on_slot, self.on_slot)):
            if fn in lst:
                lst.remove(fn)

    # --- delivery ----------------------------------------------------------------------------------
    def _send(self, conn: _Conn, message: dict) -> None:
        if conn.closed:
            return
        text = json.dumps(message, separators=(",", ":"))
        if self.loop is None or threading.get_ident() == self._loop_thread:
            self._put(conn, text)
        else:
            self.loop.call_soon_threadsafe(self._put, conn, text)

    def _put(self, conn: _Conn, text: str | None) -> None:
        if conn.closed:
            return
        if conn.queue.qsize() >= MAX_QUEUE:  # a client that does not read: drop it
            conn.closed = True
            conn.queue.put_nowait(None)
            return
        conn.queue.put_nowait(text)

    def _notify(self, sub: _Sub, result: Any) -> None:
        self._send(sub.conn, {"jsonrpc": "2.0", "method": _NOTIFICATION_METHOD[sub.kind],
                              "params": {"result": result, "subscription": sub.id}})

    def _ctx(self, slot: int, value: Any) -> dict:
        return {"context": {"slot": slot}, "value": value}

    # --- bank events ---------------------------------------------------------------------------------
    def on_commit(self, result: TxResult, vtx) -> None:
        try:  # never fail the bank's commit (it has happened already)
            self._on_commit(result, vtx)
        except Exception:  # noqa: BLE001
            log.exception("PubSub: notifying a committed transaction failed")

    def on_slot(self, slot: int) -> None:
        try:
            self._on_slot(slot)
        except Exception:  # noqa: BLE001
            log.exception("PubSub: notifying a slot failed")

    def _on_commit(self, result: TxResult, vtx) -> None:
        sig = str(result.signature)
        for sub_id in list(self.by_signature.get(sig, ())):
            sub = self.subs.get(sub_id)
            if sub is None:
                continue
            if sub.received:
                self._notify(sub, self._ctx(result.slot, "receivedSignature"))
            self._notify(sub, self._ctx(result.slot, {"err": result.err}))
            self._remove(sub_id)
        if self.logs:
            keys = list(vtx.message.account_keys)
            is_vote = VOTE_PROGRAM_ID in keys
            value = self._ctx(result.slot, {"signature": sig, "err": result.err, "logs": list(result.logs)})
            for sub_id in list(self.logs):
                f = self.subs[sub_id].logs_filter
                if f == "allWithVotes" or (f == "all" and not is_vote) or (isinstance(f, Pubkey) and f in keys):
                    self._notify(self.subs[sub_id], value)

    def _on_slot(self, slot: int) -> None:
        if self.slots:
            info = {"parent": max(slot - 1, 0), "root": max(slot - 1, 0), "slot": slot}
            for sub_id in list(self.slots):
                self._notify(self.subs[sub_id], info)

    # --- subscriptions -------------------------------------------------------------------------------
    def _add(self, conn: _Conn, kind: str, **kw) -> _Sub:
        sub = _Sub(next(self._ids), kind, conn, **kw)
        self.subs[sub.id] = sub
        conn.subs.add(sub.id)
        if kind == "signature":
            self.by_signature.setdefault(sub.signature, set()).add(sub.id)
        elif kind == "logs":
            self.logs.add(sub.id)
        else:
            self.slots.add(sub.id)
        return sub

    def _remove(self, sub_id: int) -> bool:
        sub = self.subs.pop(sub_id, None)
        if sub is None:
            return False
        sub.conn.subs.discard(sub_id)
        if sub.kind == "signature":
            ids = self.by_signature.get(sub.signature)
            if ids is not None:
                ids.discard(sub_id)
                if not ids:
                    del self.by_signature[sub.signature]
        self.logs.discard(sub_id)
        self.slots.discard(sub_id)
        return True

    def _unsubscribe(self, conn: _Conn, kind: str, params) -> bool:
        if not isinstance(params, list) or len(params) != 1 or isinstance(params[0], bool) \
                or not isinstance(params[0], int):
            raise invalid_params("expected [subscription id]")
        sub = self.subs.get(params[0])
        if sub is None or sub.conn is not conn or sub.kind != kind:
            raise RpcError(INVALID_PARAMS, "Invalid subscription id.")
        return self._remove(params[0])

    def handle(self, conn: _Conn, request: Any) -> None:
        """One JSON-RPC request from `conn`; the response (and any immediate notification) is queued."""
        req_id = request.get("id") if isinstance(request, dict) else None
        after = None
        try:
            if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" \
                    or not isinstance(request.get("method"), str):
                raise RpcError(INVALID_REQUEST, "Invalid request")
            method, params = request["method"], request.get("params")
            with self.bank.lock:
                if method == "signatureSubscribe":
                    result, after = self._signature_subscribe(conn, params)
                elif method == "logsSubscribe":
                    result = self._logs_subscribe(conn, params)
                elif method == "slotSubscribe":
                    if params not in (None, []):
                        raise invalid_params("slotSubscribe takes no parameters")
                    result = self._add(conn, "slot").id
                elif method in ("signatureUnsubscribe", "logsUnsubscribe", "slotUnsubscribe"):
                    result = self._unsubscribe(conn, method[:-len("Unsubscribe")], params)
                else:
                    raise RpcError(METHOD_NOT_FOUND, "Method not found")
            self._send(conn, {"jsonrpc": "2.0", "result": result, "id": req_id})
            if after is not None:
                after()
        except RpcError as e:
            self._send(conn, {"jsonrpc": "2.0", "error": e.to_json(), "id": req_id})
        except Exception as e:  # a bug here must not take the connection down
            self._send(conn, {"jsonrpc": "2.0", "error": {"code": -32603, "message": f"Internal error: {e}"},
                              "id": req_id})

    def _signature_subscribe(self, conn: _Conn, params):
        if not isinstance(params, list) or not 1 <= len(params) <= 2:
            raise invalid_params("expected [signature, config?]")
        if not isinstance(params[0], str):
            raise invalid_params("invalid type: expected a base-58 encoded signature string")
        try:
            sig = Signature.from_string(params[0])
        except ValueError:
            raise RpcError(INVALID_PARAMS, "Invalid Request: Invalid signature") from None
        cfg = params[1] if len(params) > 1 and params[1] is not None else {}
        if not isinstance(cfg, dict):
            raise invalid_params("invalid type: expected a configuration object")
        sub = self._add(conn, "signature", signature=str(sig), received=bool(cfg.get("enableReceivedNotification")))
        status = self.bank.get_status(sig)
        if status is None:
            return sub.id, None

        def already_processed():
            self._notify(sub, self._ctx(status["slot"], {"err": status["err"]}))
            self._remove(sub.id)
        return sub.id, already_processed

    def _logs_subscribe(self, conn: _Conn, params) -> int:
        if not isinstance(params, list) or not 1 <= len(params) <= 2:
            raise invalid_params("expected [filter, config?]")
        f = params[0]
        if f in ("all", "allWithVotes"):
            flt: Any = f
        elif isinstance(f, dict) and set(f) == {"mentions"} and isinstance(f["mentions"], list):
            if len(f["mentions"]) != 1:
                raise RpcError(INVALID_PARAMS, "Invalid Request: Only 1 address supported")
            try:
                flt = Pubkey.from_string(f["mentions"][0])
            except (ValueError, TypeError):
                raise RpcError(INVALID_PARAMS, "Invalid Request: Invalid pubkey provided") from None
        else:
            raise invalid_params("unknown variant, expected `all`, `allWithVotes` or `{\"mentions\": [pubkey]}`")
        if len(params) > 1 and params[1] is not None and not isinstance(params[1], dict):
            raise invalid_params("invalid type: expected a configuration object")
        return self._add(conn, "logs", logs_filter=flt).id

    # --- the websocket endpoint -------------------------------------------------------------------------
    async def websocket(self, request: web.Request) -> web.StreamResponse:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
            self._loop_thread = threading.get_ident()
        ws = web.WebSocketResponse(heartbeat=None, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = _Conn(ws)
        self.conns.add(conn)
        writer = asyncio.create_task(self._writer(conn))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    if msg.type == WSMsgType.ERROR:
                        break
                    continue
                try:
                    payload = json.loads(msg.data)
                except ValueError:
                    self._send(conn, {"jsonrpc": "2.0", "error": {"code": PARSE_ERROR, "message": "Parse error"},
                                      "id": None})
                    continue
                for item in payload if isinstance(payload, list) and payload else [payload]:
                    self.handle(conn, item)
                if conn.closed:
                    break
        finally:
            with self.bank.lock:
                for sub_id in list(conn.subs):
                    self._remove(sub_id)
            conn.closed = True
            conn.queue.put_nowait(None)
            await writer
            self.conns.discard(conn)
            if not ws.closed:
                await ws.close()
        return ws

    async def _writer(self, conn: _Conn) -> None:
        while True:
            text = await conn.queue.get()
            if text is None:
                if not conn.ws.closed:
                    await conn.ws.close()
                return
            try:
                await conn.ws.send_str(text)
            except (ConnectionError, RuntimeError):
                conn.closed = True
                return

    async def close_all(self) -> None:
        for conn in list(self.conns):
            conn.closed = True
            conn.queue.put_nowait(None)
        self.detach()


def create_pubsub_app(pubsub: PubSub) -> web.Application:
    app = web.Application()
    app["pubsub"] = pubsub
    app.router.add_get("/", pubsub.websocket)
    return app
