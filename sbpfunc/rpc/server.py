"""Agave's JSON-RPC over aiohttp, served from a `Bank`.

Requests are JSON-RPC 2.0 (single or batch) POSTed to `/`. Results and errors have the shapes
Agave's RPC gives (the same solders types the `solana` client parses them with): `context`-wrapped
values for the methods that have one, `{"code", "message", "data"}` errors with Agave's codes.
Every confirmed transaction is committed durably before its response is sent, and reported
`finalized`.

sendTransaction runs a preflight simulation unless `skipPreflight`: a failing transaction is
answered with -32002 "Transaction simulation failed: <error>" and the simulation result as `data`,
and nothing changes (no fee). Bad signatures give -32003, undecodable or unsanitary transactions
-32602.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any, Callable

from aiohttp import web
from solders.hash import Hash
from solders.message import Message, MessageV0, from_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.transaction import VersionedTransaction

from .. import __version__ as SBPFUNC_VERSION
from ..bank.bank import Bank, TxResult
from ..bank.errors import TxError, display
from ..runtime.accounts import Account
from . import base58
from .errors import (
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    SEND_TRANSACTION_PREFLIGHT_FAILURE,
    TRANSACTION_SIGNATURE_VERIFICATION_FAILURE,
    UNSUPPORTED_TRANSACTION_VERSION,
    RpcError,
    invalid_param,
    invalid_params,
)

SOLANA_CORE_VERSION = "4.1.0"
FEATURE_SET = 3_640_012_085
MAX_BASE58_BYTES = 128
MAX_MULTIPLE_ACCOUNTS = 100
MAX_GET_SIGNATURE_STATUSES = 256


# --- parameter helpers ------------------------------------------------------------------------------
def _params(params, n_required: int, n_max: int) -> list:
    if params is None:
        params = []
    if not isinstance(params, list):
        raise invalid_params("expected an array of parameters")
    if len(params) < n_required:
        raise invalid_params(f"invalid length {len(params)}, expected at least {n_required} parameter(s)")
    if len(params) > n_max:
        raise invalid_params(f"invalid length {len(params)}, expected at most {n_max} parameter(s)")
    return params + [None] * (n_max - len(params))


def _config(value) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_params("invalid type: expected a configuration object")
    return value


def _pubkey(value) -> Pubkey:
    if not isinstance(value, str):
        raise invalid_params("invalid type: expected a base-58 encoded pubkey string")
    try:
        return Pubkey.from_string(value)
    except ValueError:
        raise invalid_param("Invalid") from None


def _signature(value) -> Signature:
    if not isinstance(value, str):
        raise invalid_params("invalid type: expected a base-58 encoded signature string")
    try:
        return Signature.from_string(value)
    except ValueError:
        raise invalid_param("Invalid") from None


def _uint(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid_params(f"invalid type: expected u64 for {what}")
    return value


def _decode(data, encoding: str) -> bytes:
    if not isinstance(data, str):
        raise invalid_params("invalid type: expected an encoded string")
    try:
        if encoding == "base64":
            return base64.b64decode(data, validate=True)
        if encoding == "base58":
            return base58.decode(data)
    except ValueError:
        raise invalid_params(f"invalid {encoding} encoding") from None
    raise invalid_params(f"unknown variant `{encoding}`, expected `base58` or `base64`")


def encode_account(a: Account, encoding: str, data_slice: dict | None = None) -> dict:
    data = bytes(a.data)
    if data_slice:
        off, length = int(data_slice.get("offset", 0)), int(data_slice.get("length", len(data)))
        data = data[off:off + length]
    if encoding in ("base64", "jsonParsed"):
        enc: Any = [base64.b64encode(data).decode(), "base64"]
    elif encoding == "base64+zstd":
        raise invalid_params("base64+zstd encoding is not supported by this validator")
    elif encoding in ("base58", "binary"):
        if len(data) > MAX_BASE58_BYTES:
            raise RpcError(INVALID_REQUEST, "Encoded binary (base 58) data should be less than 128 bytes, "
                                            "please use Base64 encoding.")
        enc = base58.encode(data) if encoding == "binary" else [base58.encode(data), "base58"]
    else:
        raise invalid_params(f"unknown variant `{encoding}`, expected one of `binary`, `base58`, `base64`, "
                             "`jsonParsed`, `base64+zstd`")
    return {"data": enc, "executable": a.executable, "lamports": a.lamports, "owner": str(a.owner),
            "rentEpoch": a.rent_epoch, "space": len(a.data)}


def _status_value(err) -> dict:
    return {"Ok": None} if err is None else {"Err": err}


def simulation_value(r: TxResult, replacement_blockhash: Hash | None = None) -> dict:
    return {"err": r.err, "logs": r.logs, "accounts": None, "unitsConsumed": r.compute_units_consumed,
            "loadedAccountsDataSize": 0 if r.processed else None,
            "returnData": None if r.return_data is None else {
                "programId": str(r.return_data[0]), "data": [base64.b64encode(r.return_data[1]).decode(), "base64"]},
            "innerInstructions": None,
            "replacementBlockhash": None if replacement_blockhash is None else {
                "blockhash": str(replacement_blockhash), "lastValidBlockHeight": 0},
            "fee": r.fee if r.processed else None,
            "preBalances": r.pre_balances if r.processed else None,
            "postBalances": r.post_balances if r.processed else None,
            "preTokenBalances": None, "postTokenBalances": None, "loadedAddresses": None}


def ui_transaction_json(vtx: VersionedTransaction) -> dict:
    msg = vtx.message
    h = msg.header
    ui_msg = {
        "header": {"numRequiredSignatures": h.num_required_signatures,
                   "numReadonlySignedAccounts": h.num_readonly_signed_accounts,
                   "numReadonlyUnsignedAccounts": h.num_readonly_unsigned_accounts},
        "accountKeys": [str(k) for k in msg.account_keys],
        "recentBlockhash": str(msg.recent_blockhash),
        "instructions": [{"programIdIndex": ix.program_id_index, "accounts": list(bytes(ix.accounts)),
                          "data": base58.encode(bytes(ix.data)), "stackHeight": None} for ix in msg.instructions],
    }
    if isinstance(msg, MessageV0):
        ui_msg["addressTableLookups"] = []
    return {"signatures": [str(s) for s in vtx.signatures], "message": ui_msg}


# --- the RPC service ----------------------------------------------------------------------------------
class RpcService:
    """Method name -> handler(params) over one bank; every handler runs under the bank's lock."""

    def __init__(self, bank: Bank):
        self.bank = bank
        self.methods: dict[str, Callable[[Any], Any]] = {
            name[4:]: getattr(self, name) for name in dir(self) if name.startswith("rpc_")}

    def handle(self, request: Any) -> dict | None:
        """One decoded JSON-RPC request object -> its response object."""
        req_id = request.get("id") if isinstance(request, dict) else None
        try:
            if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" \
                    or not isinstance(request.get("method"), str):
                raise RpcError(INVALID_REQUEST, "Invalid request")
            method = request["method"]
            handler = self.methods.get(method)
            if handler is None:
                raise RpcError(METHOD_NOT_FOUND, "Method not found", f"unknown method: {method}")
            with self.bank.lock:
                result = handler(request.get("params"))
            return {"jsonrpc": "2.0", "result": result, "id": req_id}
        except RpcError as e:
            return {"jsonrpc": "2.0", "error": e.to_json(), "id": req_id}
        except Exception as e:  # a bug here must not take the validator down
            return {"jsonrpc": "2.0", "error": {"code": -32603, "message": f"Internal error: {e}"}, "id": req_id}

    def handle_body(self, body: bytes) -> Any:
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return {"jsonrpc": "2.0", "error": {"code": PARSE_ERROR, "message": "Parse error"}, "id": None}
        if isinstance(payload, list):
            if not payload:
                return {"jsonrpc": "2.0", "error": {"code": INVALID_REQUEST, "message": "Invalid request"},
                        "id": None}
            return [self.handle(r) for r in payload]
        return self.handle(payload)

    def _ctx(self, value) -> dict:
        return {"context": {"apiVersion": SOLANA_CORE_VERSION, "slot": self.bank.slot}, "value": value}

    # --- cluster ---------------------------------------------------------------------------------------
    def rpc_getVersion(self, params):
        _params(params, 0, 0)
        return {"solana-core": SOLANA_CORE_VERSION, "feature-set": FEATURE_SET}

    def rpc_getHealth(self, params):
        _params(params, 0, 0)
        return "ok"

    def rpc_getIdentity(self, params):
        _params(params, 0, 0)
        return {"identity": str(self.bank.identity.pubkey())}

    def rpc_getGenesisHash(self, params):
        _params(params, 0, 0)
        return str(self.bank.genesis_hash)

    def rpc_getSlot(self, params):
        _config(_params(params, 0, 1)[0])
        return self.bank.slot

    def rpc_getBlockHeight(self, params):
        _config(_params(params, 0, 1)[0])
        return self.bank.block_height

    def rpc_getTransactionCount(self, params):
        _config(_params(params, 0, 1)[0])
        return self.bank.transaction_count

    def rpc_getEpochInfo(self, params):
        _config(_params(params, 0, 1)[0])
        b = self.bank
        return {"absoluteSlot": b.slot, "blockHeight": b.block_height, "epoch": b.epoch, "slotIndex": b.slot_index,
                "slotsInEpoch": b.slots_per_epoch, "transactionCount": b.transaction_count}

    def rpc_getEpochSchedule(self, params):
        _params(params, 0, 0)
        n = self.bank.slots_per_epoch
        return {"slotsPerEpoch": n, "leaderScheduleSlotOffset": n, "warmup": False, "firstNormalEpoch": 0,
                "firstNormalSlot": 0}

    # --- blockhashes and fees ----------------------------------------------------------------------------
    def rpc_getLatestBlockhash(self, params):
        _config(_params(params, 0, 1)[0])
        return self._ctx({"blockhash": str(self.bank.latest_blockhash),
                          "lastValidBlockHeight": self.bank.last_valid_block_height})

    def rpc_isBlockhashValid(self, params):
        p = _params(params, 1, 2)
        _config(p[1])
        if not isinstance(p[0], str):
            raise invalid_params("invalid type: expected a base-58 encoded blockhash string")
        try:
            h = Hash.from_string(p[0])
        except ValueError:
            raise invalid_param("Invalid") from None
        return self._ctx(self.bank.is_blockhash_valid(h))

    def rpc_getFeeForMessage(self, params):
        p = _params(params, 1, 2)
        _config(p[1])
        raw = _decode(p[0], "base64")
        try:
            msg = from_bytes_versioned(raw)
        except Exception:
            raise invalid_params("failed to deserialize the message") from None
        return self._ctx(self.bank.fee_for_message(msg))

    def rpc_getMinimumBalanceForRentExemption(self, params):
        p = _params(params, 1, 2)
        _config(p[1])
        return self.bank.minimum_balance(_uint(p[0], "data length"))

    # --- accounts ---------------------------------------------------------------------------------------
    def rpc_getBalance(self, params):
        p = _params(params, 1, 2)
        _config(p[1])
        return self._ctx(self.bank.get_balance(_pubkey(p[0])))

    def rpc_getAccountInfo(self, params):
        p = _params(params, 1, 2)
        cfg = _config(p[1])
        key = _pubkey(p[0])
        a = self.bank.get_account(key)
        value = None if a is None or a.lamports == 0 else \
            encode_account(a, cfg.get("encoding") or "binary", cfg.get("dataSlice"))
        return self._ctx(value)

    def rpc_getMultipleAccounts(self, params):
        p = _params(params, 1, 2)
        cfg = _config(p[1])
        if not isinstance(p[0], list):
            raise invalid_params("invalid type: expected an array of pubkeys")
        if len(p[0]) > MAX_MULTIPLE_ACCOUNTS:
            raise invalid_params(f"Too many inputs provided; max {MAX_MULTIPLE_ACCOUNTS}")
        keys = [_pubkey(k) for k in p[0]]
        enc = cfg.get("encoding") or "base64"
        out = []
        for k in keys:
            a = self.bank.get_account(k)
            out.append(None if a is None or a.lamports == 0 else encode_account(a, enc, cfg.get("dataSlice")))
        return self._ctx(out)

    def rpc_getProgramAccounts(self, params):
        p = _params(params, 1, 2)
        cfg = _config(p[1])
        owner = _pubkey(p[0])
        filters = cfg.get("filters") or []
        if not isinstance(filters, list):
            raise invalid_params("invalid type: expected an array of filters")
        checks = []
        for f in filters:
            if not isinstance(f, dict) or len(f) != 1:
                raise invalid_params("invalid filter")
            if "dataSize" in f:
                size = _uint(f["dataSize"], "dataSize")
                checks.append(lambda a, size=size: len(a.data) == size)
            elif "memcmp" in f:
                m = f["memcmp"]
                if not isinstance(m, dict) or "bytes" not in m:
                    raise invalid_params("invalid memcmp filter")
                off = _uint(m.get("offset", 0), "offset")
                want = _decode(m["bytes"], m.get("encoding") or "base58")
                if len(want) > 128:
                    raise invalid_param("filter bytes too long")
                checks.append(lambda a, off=off, want=want: bytes(a.data[off:off + len(want)]) == want)
            else:
                raise invalid_params(f"unknown filter {next(iter(f))}")
        enc = cfg.get("encoding") or "binary"
        out = [{"pubkey": str(k), "account": encode_account(a, enc, cfg.get("dataSlice"))}
               for k, a in self.bank.store.accounts_by_owner(owner) if all(c(a) for c in checks)]
        return self._ctx(out) if cfg.get("withContext") else out

    # --- transactions -------------------------------------------------------------------------------------
    def rpc_requestAirdrop(self, params):
        p = _params(params, 2, 3)
        _config(p[2])
        key = _pubkey(p[0])
        lamports = _uint(p[1], "lamports")
        r = self.bank.airdrop(key, lamports)
        if not r.success:
            raise RpcError(INTERNAL_ERROR_CODE, f"airdrop request failed: {display(r.err)}")
        return str(r.signature)

    def _decode_tx(self, data, cfg) -> VersionedTransaction:
        raw = _decode(data, cfg.get("encoding") or "base58")
        try:
            return VersionedTransaction.from_bytes(raw)
        except Exception as e:
            raise invalid_params(f"failed to deserialize solana_transaction::versioned::VersionedTransaction: {e}") \
                from None

    def _check_sanitized(self, vtx) -> None:
        try:
            self.bank._sanitize(vtx)
        except TxError as e:
            raise invalid_params(f"invalid transaction: {e}") from None

    def rpc_sendTransaction(self, params):
        p = _params(params, 1, 2)
        cfg = _config(p[1])
        vtx = self._decode_tx(p[0], cfg)
        self._check_sanitized(vtx)
        if not all(vtx.verify_with_results()):
            raise RpcError(TRANSACTION_SIGNATURE_VERIFICATION_FAILURE, "Transaction signature verification failure")
        if not cfg.get("skipPreflight"):
            sim = self.bank.simulate_transaction(vtx)
            if sim.err is None and self.bank.get_status(vtx.signatures[0]) is not None:
                sim.err = "AlreadyProcessed"
            if sim.err is not None:
                raise RpcError(SEND_TRANSACTION_PREFLIGHT_FAILURE,
                               f"Transaction simulation failed: {display(sim.err)}", simulation_value(sim))
        self.bank.process_transaction(vtx)
        return str(vtx.signatures[0])

    def rpc_simulateTransaction(self, params):
        p = _params(params, 1, 2)
        cfg = _config(p[1])
        vtx = self._decode_tx(p[0], cfg)
        sig_verify = bool(cfg.get("sigVerify"))
        replace = bool(cfg.get("replaceRecentBlockhash"))
        if sig_verify and replace:
            raise invalid_params("sigVerify may not be used with replaceRecentBlockhash")
        self._check_sanitized(vtx)
        replacement = None
        if replace:
            replacement = self.bank.latest_blockhash
            msg = vtx.message
            if isinstance(msg, Message):
                msg = Message.new_with_compiled_instructions(
                    msg.header.num_required_signatures, msg.header.num_readonly_signed_accounts,
                    msg.header.num_readonly_unsigned_accounts, list(msg.account_keys), replacement,
                    list(msg.instructions))
            else:
                msg = MessageV0(msg.header, list(msg.account_keys), replacement, list(msg.instructions),
                                list(msg.address_table_lookups))
            vtx = VersionedTransaction.populate(msg, list(vtx.signatures))
        if sig_verify and not all(vtx.verify_with_results()):
            raise RpcError(TRANSACTION_SIGNATURE_VERIFICATION_FAILURE, "Transaction signature verification failure")
        sim = self.bank.simulate_transaction(vtx, replace_recent_blockhash=replace)
        value = simulation_value(sim, replacement)
        if replacement is not None:
            value["replacementBlockhash"]["lastValidBlockHeight"] = self.bank.last_valid_block_height
        accounts_cfg = cfg.get("accounts")
        if accounts_cfg:
            enc = accounts_cfg.get("encoding") or "base64"
            value["accounts"] = []
            for k in accounts_cfg.get("addresses") or []:
                key = _pubkey(k)
                a = sim.accounts.get(key) or self.bank.get_account(key)
                value["accounts"].append(None if a is None or a.lamports == 0 else encode_account(a, enc))
        return self._ctx(value)

    def rpc_getSignatureStatuses(self, params):
        p = _params(params, 1, 2)
        _config(p[1])
        if not isinstance(p[0], list):
            raise invalid_params("invalid type: expected an array of signatures")
        if len(p[0]) > MAX_GET_SIGNATURE_STATUSES:
            raise invalid_params(f"Too many inputs provided; max {MAX_GET_SIGNATURE_STATUSES}")
        out = []
        for s in p[0]:
            st = self.bank.get_status(_signature(s))
            out.append(None if st is None else {
                "slot": st["slot"], "confirmations": None, "err": st["err"], "status": _status_value(st["err"]),
                "confirmationStatus": "finalized"})
        return self._ctx(out)

    def rpc_getSignatureStatus(self, params):  # old name some clients still use
        return self.rpc_getSignatureStatuses(params)

    def rpc_getTransaction(self, params):
        p = _params(params, 1, 2)
        cfg = p[1] if isinstance(p[1], str) else _config(p[1])
        if isinstance(cfg, str):
            cfg = {"encoding": cfg}
        st = self.bank.get_status(_signature(p[0]))
        if st is None:
            return None
        version = st.get("version", "legacy")
        max_version = cfg.get("maxSupportedTransactionVersion")
        _check_version(version, max_version)
        tx, meta = encode_transaction_with_meta(st, cfg.get("encoding") or "json")
        out = {"slot": st["slot"], "blockTime": st["blockTime"], "transaction": tx, "meta": meta}
        if max_version is not None:
            out["version"] = version
        return out


    # --- blocks and votes ---------------------------------------------------------------------------------
    def rpc_getBlock(self, params):
        """A completed slot's block: the slots with transactions are kept (their blockhash, parent's
        blockhash and time); an empty slot is answered while its blockhash is in the recent queue."""
        p = _params(params, 1, 2)
        slot = _uint(p[0], "slot")
        cfg = {"encoding": p[1]} if isinstance(p[1], str) else _config(p[1])
        if cfg.get("commitment") == "processed":
            raise invalid_params("Method does not support commitment below `confirmed`")
        encoding = cfg.get("encoding") or "json"
        details = cfg.get("transactionDetails") or "full"
        if details not in ("full", "signatures", "none", "accounts"):
            raise invalid_params(f"unknown variant `{details}`, expected one of `full`, `signatures`, `none`, "
                                 "`accounts`")
        max_version = cfg.get("maxSupportedTransactionVersion")
        bank = self.bank
        if slot >= bank.slot:  # the current slot is still open
            raise RpcError(BLOCK_NOT_AVAILABLE, f"Block not available for slot {slot}")
        raw = bank.store.get_meta(f"block:{slot}")
        if raw is not None:
            info = json.loads(raw)
        else:
            hashes = bank.blockhashes
            idx = max((i for i, (_, s) in enumerate(hashes) if s == slot), default=None)
            if idx is None or idx == 0:
                raise RpcError(SLOT_SKIPPED, f"Slot {slot} was skipped, or missing in long-term storage")
            info = {"blockhash": hashes[idx][0], "previousBlockhash": hashes[idx - 1][0], "blockTime": None}
        statuses = bank.store.statuses_in_slot(slot)
        if info["blockTime"] is None and statuses:
            info["blockTime"] = statuses[0][1]["blockTime"]
        block: dict[str, Any] = {"blockHeight": slot, "blockTime": info["blockTime"], "blockhash": info["blockhash"],
                                 "parentSlot": max(slot - 1, 0), "previousBlockhash": info["previousBlockhash"]}
        if details in ("full", "accounts"):
            txs = []
            for _, st in statuses:
                version = st.get("version", "legacy")
                _check_version(version, max_version)
                if details == "full":
                    tx, meta = encode_transaction_with_meta(st, encoding)
                else:
                    tx, meta = accounts_transaction_with_meta(st)
                entry = {"transaction": tx, "meta": meta}
                if max_version is not None:
                    entry["version"] = version
                txs.append(entry)
            block["transactions"] = txs
        elif details == "signatures":
            block["signatures"] = [sig for sig, _ in statuses]
        if cfg.get("rewards", True):
            block["rewards"] = []
        return block

    def rpc_getVoteAccounts(self, params):
        """The stake table's validators, all current (this validator does not track votes): the
        table names identities only, so each identity is reported as its own vote account."""
        cfg = _config(_params(params, 0, 1)[0])
        only = cfg.get("votePubkey")
        if only is not None:
            only = str(_pubkey(only))
        table = getattr(self.bank, "stake_table", None)
        current = []
        if table is not None:
            slot, epoch = self.bank.slot, self.bank.epoch
            for identity, stake in table.stakes.items():
                if only is not None and identity != only:
                    continue
                current.append({"votePubkey": identity, "nodePubkey": identity, "activatedStake": stake,
                                "epochVoteAccount": True, "commission": 0, "lastVote": slot, "rootSlot": slot,
                                "epochCredits": [[epoch, 0, 0]]})
        return {"current": current, "delinquent": []}


INTERNAL_ERROR_CODE = -32603
BLOCK_NOT_AVAILABLE = -32004
SLOT_SKIPPED = -32009


def _check_version(version, max_version) -> None:
    if version != "legacy" and (max_version is None or max_version < version):
        raise RpcError(UNSUPPORTED_TRANSACTION_VERSION,
                       f"Transaction version ({version}) is not supported by the requesting client. Please try "
                       f"the request again with the following configuration parameter: "
                       f"\"maxSupportedTransactionVersion\": {version}")


def _status_meta(st: dict) -> dict:
    return {"err": st["err"], "status": _status_value(st["err"]), "fee": st["fee"],
            "preBalances": st["preBalances"], "postBalances": st["postBalances"]}


def encode_transaction_with_meta(st: dict, encoding: str) -> tuple[Any, dict]:
    """A stored status record -> (encoded transaction, meta), as getTransaction and getBlock give them."""
    raw = base64.b64decode(st["transaction"])
    if encoding == "base64":
        tx: Any = [st["transaction"], "base64"]
    elif encoding == "base58":
        tx = [base58.encode(raw), "base58"]
    elif encoding in ("json", "jsonParsed"):
        tx = ui_transaction_json(VersionedTransaction.from_bytes(raw))
    else:
        raise invalid_params(f"unknown variant `{encoding}`, expected one of `binary`, `base64`, `base58`, "
                             "`json`, `jsonParsed`")
    meta = {**_status_meta(st), "innerInstructions": [], "logMessages": st["logMessages"],
            "preTokenBalances": [], "postTokenBalances": [], "rewards": [],
            "loadedAddresses": {"writable": [], "readonly": []},
            "computeUnitsConsumed": st["computeUnitsConsumed"]}
    if st.get("returnData"):
        pid, data = st["returnData"]
        meta["returnData"] = {"programId": pid, "data": [data, "base64"]}
    return tx, meta


def accounts_transaction_with_meta(st: dict) -> tuple[dict, dict]:
    """transactionDetails "accounts": signatures and account keys with their privileges."""
    from ..bank.bank import message_privileges
    vtx = VersionedTransaction.from_bytes(base64.b64decode(st["transaction"]))
    signers, writables = message_privileges(vtx.message)
    keys = [{"pubkey": str(k), "writable": w, "signer": s, "source": "transaction"}
            for k, s, w in zip(vtx.message.account_keys, signers, writables)]
    return ({"signatures": [str(s) for s in vtx.signatures], "accountKeys": keys},
            {**_status_meta(st), "preTokenBalances": [], "postTokenBalances": []})


def create_app(bank: Bank, pubsub=None) -> web.Application:
    """The JSON-RPC app (POST /); a websocket upgrade of GET / is served by `pubsub` (a new
    `PubSub` on the bank if not given), which `serve` also puts on the RPC port + 1, as Agave does."""
    from .pubsub import PubSub
    service = RpcService(bank)
    pubsub = pubsub if pubsub is not None else PubSub(bank)

    async def rpc(request: web.Request) -> web.Response:
        body = await request.read()
        response = service.handle_body(body)
        return web.Response(text=json.dumps(response, separators=(",", ":")), content_type="application/json")

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(client_max_size=1 << 20)
    app["service"] = service
    app["pubsub"] = pubsub
    app.router.add_post("/", rpc)
    app.router.add_get("/", pubsub.websocket)
    app.router.add_get("/health", health)
    return app


async def slot_ticker(bank: Bank, slot_ms: int, stop: asyncio.Event) -> None:
    """Advance the bank one slot every `slot_ms` milliseconds until `stop` is set."""
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), slot_ms / 1000)
        except asyncio.TimeoutError:
            bank.advance_slot()


__all__ = ["create_app", "RpcService", "slot_ticker", "SBPFUNC_VERSION"]
