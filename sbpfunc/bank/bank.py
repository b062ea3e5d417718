"""A bank: accounts, slots and epochs, a blockhash queue, and signed transactions processed as Agave does.

One transaction, in order (a rejected transaction changes nothing and is not recorded):

1. sanitize (solders' `sanitize`, at least one signature, no duplicate keys, at most 64 accounts,
   no address lookup tables);
2. signature verification (every signature against the message bytes) -> SignatureFailure;
3. already processed -> AlreadyProcessed; recent blockhash among the last 151 -> BlockhashNotFound;
4. compute budget instructions parsed (limit, price, heap frame);
5. fee payer: must exist (AccountNotFound), be a plain system account (InvalidAccountForFee), hold the
   fee (InsufficientFundsForFee: 5 000 lamports per signature plus the priority fee) and stay
   rent-exempt or empty after it (InsufficientFundsForRent {0});

6. every invoked program must be owned by a loader (InvalidProgramForExecution, also for a missing one);

then the fee is charged and the transaction is processed: the instructions
run atomically in `process_instructions`; every writable account must end in an allowed rent state
(InsufficientFundsForRent {index}). On any of those failures only the fee is charged. Either way the
status (error, fee, logs, units, balances) is stored with the accounts in one store commit.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from solders.hash import Hash
from solders.keypair import Keypair
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction, VersionedTransaction

from ..runtime.accounts import (
    BPF_LOADER_UPGRADEABLE_ID,
    BPF_LOADERS,
    LOADER_V4_ID,
    NATIVE_LOADER_ID,
    SYSTEM_PROGRAM_ID,
    SYSVAR_OWNER_ID,
    Account,
    genesis_account,
)
from ..runtime.builtins import default_builtins
from ..runtime.errors import InstructionError
from ..runtime.invoke_context import ExecutionConfig
from ..runtime.message_processor import Ix, Meta, is_reserved, process_instructions
from ..runtime.programs import ProgramCache, upgradeable_accounts
from ..runtime.syscall_set import default_registry, sbpfunc_registry
from ..runtime.sysvars import CLOCK_ID, EPOCH_SCHEDULE_ID, Clock, EpochSchedule, SysvarCache
from .compute_budget import parse_compute_budget
from .errors import TxError, display, instruction_error_json
from .governance_program import GOVERNANCE_PROGRAM_ID as _GOV_ID
from .store import MemoryStore, Store

LAMPORTS_PER_SIGNATURE = 5_000
MAX_PROCESSING_AGE = 150
MAX_RECENT_BLOCKHASHES = 300
MAX_TX_ACCOUNT_LOCKS = 64
DEFAULT_SLOTS_PER_EPOCH = 432_000
FAUCET_LAMPORTS = 500_000_000 * 1_000_000_000
SLOT_DURATION_S = 0.4


@dataclass
class TxResult:
    """What processing (or simulating) a transaction gave."""

    signature: Signature
    processed: bool  # False: rejected before the fee, nothing changed
    err: Any = None  # serde JSON value of the TransactionError, None on success
    fee: int = 0
    logs: list[str] = field(default_factory=list)
    compute_units_consumed: int = 0
    return_data: tuple[Pubkey, bytes] | None = None
    pre_balances: list[int] = field(default_factory=list)
    post_balances: list[int] = field(default_factory=list)
    slot: int = 0
    accounts: dict[Pubkey, Account] = field(default_factory=dict)  # post-state of the message accounts

    @property
    def success(self) -> bool:
        return self.processed and self.err is None

    @property
    def error_message(self) -> str | None:
        return None if self.err is None else display(self.err)


class _View:
    """Accounts as a transaction sees them: overrides first, then the bank."""

    def __init__(self, bank: "Bank", overrides: dict[Pubkey, Account]):
        self.bank, self.overrides = bank, overrides

    def get(self, key: Pubkey, default=None):
        a = self.overrides.get(key)
        if a is None:
            a = self.bank.get_account(key)
        return a if a is not None else default


def to_versioned(tx) -> VersionedTransaction:
    if isinstance(tx, VersionedTransaction):
        return tx
    if isinstance(tx, Transaction):
        return VersionedTransaction.from_legacy(tx)
    raise TypeError(f"not a transaction: {type(tx).__name__}")


def message_privileges(msg) -> tuple[list[bool], list[bool]]:
    """(is_signer, is_writable) per account key, with Agave's demotion of reserved ids and programs."""
    h = msg.header
    keys = list(msg.account_keys)
    n, nsig = len(keys), h.num_required_signatures
    invoked = {ix.program_id_index for ix in msg.instructions}
    upgradeable_present = BPF_LOADER_UPGRADEABLE_ID in keys
    signers, writables = [], []
    for i, k in enumerate(keys):
        s = i < nsig
        w = i < nsig - h.num_readonly_signed_accounts if s else i < n - h.num_readonly_unsigned_accounts
        if is_reserved(k) or (i in invoked and not upgradeable_present):
            w = False
        signers.append(s)
        writables.append(w)
    return signers, writables


def rent_state(acct: Account | None, minimum_balance) -> tuple:
    if acct is None or acct.lamports == 0:
        return ("uninitialized",)
    if acct.lamports >= minimum_balance(len(acct.data)):
        return ("exempt",)
    return ("paying", acct.lamports, len(acct.data))


def rent_transition_allowed(pre: tuple, post: tuple) -> bool:
    if post[0] != "paying":
        return True
    return pre[0] == "paying" and post[2] == pre[2] and post[1] <= pre[1]


class Bank:
    def __init__(self, store: Store | None = None, *, slots_per_epoch: int = DEFAULT_SLOTS_PER_EPOCH,
                 programs: Iterable[tuple[Pubkey, bytes]] = (), modules: Iterable = (), activation=None,
                 log_bytes_limit: int | None = 10_000, clock=time.time, stake_table=None):
        self.store: Store = store if store is not None else MemoryStore()
        self.lock = threading.RLock()
        self.clock = clock
        self.log_bytes_limit = log_bytes_limit
        self.modules = list(modules)
        self._default_registry = default_registry()
        self._caches: dict[int, tuple[Any, ProgramCache]] = {}
        self.builtins = default_builtins()
        self.sysvars = SysvarCache()
        self._slot_signatures: list[bytes] = []
        # Listeners (the RPC PubSub service): called under the lock after the store commit,
        # on_commit(result, vtx) for every committed transaction, on_slot(new_slot) for every new slot.
        self.on_commit: list = []
        self.on_slot: list = []
        fresh = self.store.get_meta("genesis_hash") is None
        if fresh:
            self._genesis(slots_per_epoch)
        self._resume()
        # Governance (sbpfunc/bank/governance_program.py): with a stake table at genesis (`--stake-table`),
        # or on a ledger created with one, the governance builtin is installed and the registry's active
        # set follows the governance store at every slot (unless an explicit `activation` is given).
        self.governance = None
        self._setup_governance(stake_table, fresh)
        if activation is None and self.governance is not None:
            activation = self.governance.activation_source()
        self.registry_source = sbpfunc_registry(self.modules, activation) if self.modules or activation else None
        for program_id, elf in programs:
            self.add_program(program_id, elf)

    # --- genesis and restart ------------------------------------------------------------------------
    def _genesis(self, slots_per_epoch: int) -> None:
        faucet_seed, identity_seed = os.urandom(32), os.urandom(32)
        now = int(self.clock())
        genesis_hash = Hash(hashlib.sha256(b"sbpfunc genesis" + faucet_seed + identity_seed
                                           + now.to_bytes(8, "little")).digest())
        faucet = Keypair.from_seed(faucet_seed)
        self.store.commit({faucet.pubkey(): Account(FAUCET_LAMPORTS)}, meta={
            "genesis_hash": str(genesis_hash), "faucet_seed": faucet_seed.hex(),
            "identity_seed": identity_seed.hex(), "slots_per_epoch": str(slots_per_epoch),
            "genesis_time": str(now), "slot": "0", "unix_timestamp": str(now), "epoch_start_timestamp": str(now),
            "blockhashes": json.dumps([[str(genesis_hash), 0]]), "transaction_count": "0"})

    def _resume(self) -> None:
        m = self.store.get_meta
        self.genesis_hash = Hash.from_string(m("genesis_hash"))
        self.faucet = Keypair.from_seed(bytes.fromhex(m("faucet_seed")))
        self.identity = Keypair.from_seed(bytes.fromhex(m("identity_seed")))
        self.slots_per_epoch = int(m("slots_per_epoch"))
        self.genesis_time = int(m("genesis_time"))
        self.slot = int(m("slot"))
        self.unix_timestamp = int(m("unix_timestamp"))
        self.epoch_start_timestamp = int(m("epoch_start_timestamp"))
        self.blockhashes: list[tuple[str, int]] = [tuple(x) for x in json.loads(m("blockhashes"))]
        self.transaction_count = int(m("transaction_count"))
        self.sysvars.set(EPOCH_SCHEDULE_ID, EpochSchedule.build(dict(
            slots_per_epoch=self.slots_per_epoch, leader_schedule_slot_offset=self.slots_per_epoch,
            warmup=False, first_normal_epoch=0, first_normal_slot=0)))
        self._update_clock()

    def _update_clock(self) -> None:
        self.sysvars.set(CLOCK_ID, Clock.build(dict(
            slot=self.slot, epoch_start_timestamp=self.epoch_start_timestamp, epoch=self.epoch,
            leader_schedule_epoch=self.epoch + 1, unix_timestamp=self.unix_timestamp)))

    # --- governance (see governance_program.py) ----------------------------------------------------
    def _setup_governance(self, stake_table, fresh: bool) -> None:
        from ..governance.stake import StakeTable
        from .governance_program import GOVERNANCE_PROGRAM_ID, make_builtin, open_store, program_account
        if stake_table is not None and not fresh and self.store.get_meta("stake_table") is None:
            raise ValueError("--stake-table applies at genesis: this ledger was created without one")
        if stake_table is not None and fresh:
            self.store.commit({GOVERNANCE_PROGRAM_ID: program_account()}, meta={
                "stake_table": json.dumps(dict(stake_table.stakes)), "governance_cluster": str(self.genesis_hash)})
        raw = self.store.get_meta("stake_table")
        if raw is None:
            return
        self.stake_table = StakeTable(json.loads(raw))
        ledger_dir = getattr(self.store, "path", None)
        self.governance = open_store(None if ledger_dir is None else ledger_dir.parent,
                                     self.store.get_meta("governance_cluster"), self.slots_per_epoch, fresh=fresh)
        self.builtins[GOVERNANCE_PROGRAM_ID] = make_builtin(self.governance, self._default_registry.names)
        self._record_stake_snapshot()

    def _record_stake_snapshot(self) -> None:
        """The stake table is the snapshot of every epoch (recorded once, when the epoch starts)."""
        if self.governance is not None and self.governance.snapshot(self.epoch) is None:
            self.governance.record_snapshot(self.stake_table.with_epoch(self.epoch),
                                            max(self.slot, self.governance.clock))

    def add_program(self, program_id: Pubkey, elf: bytes) -> None:
        """Install an upgradeable-loader program (no upgrade authority), as `--bpf-program` does."""
        with self.lock:
            program, pda, programdata = upgradeable_accounts(program_id, bytes(elf), slot=0)
            program.lamports = self.minimum_balance(len(program.data))
            programdata.lamports = self.minimum_balance(len(programdata.data))
            self.store.commit({program_id: program, pda: programdata})

    # --- slots, epochs, blockhashes -----------------------------------------------------------------
    @property
    def epoch(self) -> int:
        return self.slot // self.slots_per_epoch

    @property
    def slot_index(self) -> int:
        return self.slot % self.slots_per_epoch

    @property
    def block_height(self) -> int:
        return self.slot

    @property
    def latest_blockhash(self) -> Hash:
        return Hash.from_string(self.blockhashes[-1][0])

    @property
    def last_valid_block_height(self) -> int:
        return self.block_height + MAX_PROCESSING_AGE

    def is_blockhash_valid(self, blockhash: Hash | str) -> bool:
        h = str(blockhash)
        return any(b == h for b, _ in self.blockhashes[-(MAX_PROCESSING_AGE + 1):])

    def advance_slot(self, n: int = 1) -> int:
        """Close the current slot (register its blockhash) and start the next; returns the new slot."""
        with self.lock:
            blocks: dict[str, str] = {}
            for _ in range(n):
                prev = self.latest_blockhash
                digest = hashlib.sha256(bytes(prev) + self.slot.to_bytes(8, "little")
                                        + b"".join(self._slot_signatures)).digest()
                if self._slot_signatures:  # a block with transactions: kept for getBlock
                    blocks[f"block:{self.slot}"] = json.dumps({
                        "blockhash": str(Hash(digest)), "previousBlockhash": str(prev),
                        "blockTime": self.unix_timestamp})
                self._slot_signatures.clear()
                self.blockhashes.append((str(Hash(digest)), self.slot))
                del self.blockhashes[:-MAX_RECENT_BLOCKHASHES]
                old_epoch = self.epoch
                self.slot += 1
                self.unix_timestamp = max(self.unix_timestamp, int(self.clock()))
                if self.epoch != old_epoch:
                    self.epoch_start_timestamp = self.unix_timestamp
                    self._record_stake_snapshot()  # governance: this epoch's stake snapshot
            self._update_clock()
            self.store.commit({}, meta={
                "slot": str(self.slot), "blockhashes": json.dumps(self.blockhashes),
                "unix_timestamp": str(self.unix_timestamp), "epoch_start_timestamp": str(self.epoch_start_timestamp),
                **blocks})
            for listener in self.on_slot:
                listener(self.slot)
            return self.slot

    # --- accounts -------------------------------------------------------------------------------------
    def get_account(self, key: Pubkey) -> Account | None:
        a = self.store.get(key)
        if a is None:
            a = genesis_account(key)
        if a is None and self.sysvars.get(key) is not None:
            a = Account(1, bytearray(self.sysvars.get(key)), SYSVAR_OWNER_ID, False)
        return a

    def get_balance(self, key: Pubkey) -> int:
        a = self.get_account(key)
        return a.lamports if a is not None else 0

    def minimum_balance(self, data_len: int) -> int:
        return self.sysvars.minimum_balance(data_len)

    def set_account(self, key: Pubkey, account: Account) -> None:
        with self.lock:
            self.store.commit({key: account})

    def get_status(self, signature: Signature | str) -> dict | None:
        return self.store.get_status(str(signature))

    def syscall_registry(self):
        if self.registry_source is None:
            return self._default_registry
        return self.registry_source.registry_at(self.slot)

    def active_modules(self) -> list[str]:
        if self.registry_source is None:
            return []
        live = self.registry_source.activation.statuses(self.slot)
        return [m.name for h, m in self.registry_source.modules.items() if h in live]

    def program_cache(self) -> ProgramCache:
        reg = self.syscall_registry()
        hit = self._caches.get(id(reg))
        if hit is None or hit[0] is not reg:
            hit = self._caches[id(reg)] = (reg, ProgramCache(reg))
        return hit[1]

    # --- fees -----------------------------------------------------------------------------------------
    def fee_for_message(self, msg) -> int | None:
        """The fee a message would pay, or None if its compute budget instructions are invalid."""
        keys = list(msg.account_keys)
        try:
            limits = parse_compute_budget([(keys[ix.program_id_index], bytes(ix.data)) for ix in msg.instructions])
        except (TxError, IndexError):
            return None
        return LAMPORTS_PER_SIGNATURE * msg.header.num_required_signatures + limits.prioritization_fee

    # --- transactions ---------------------------------------------------------------------------------
    def process_transaction(self, tx) -> TxResult:
        """Process and (unless rejected) commit a transaction."""
        return self._run(to_versioned(tx), commit=True, sigverify=True, check_blockhash=True)

    def simulate_transaction(self, tx, *, sigverify: bool = False, replace_recent_blockhash: bool = False) -> TxResult:
        vtx = to_versioned(tx)
        return self._run(vtx, commit=False, sigverify=sigverify, check_blockhash=not replace_recent_blockhash)

    def airdrop(self, to: Pubkey, lamports: int) -> TxResult:
        """A transfer from the faucet, processed as any transaction (its signature can be confirmed)."""
        with self.lock:
            msg = Message.new_with_blockhash(
                [transfer(TransferParams(from_pubkey=self.faucet.pubkey(), to_pubkey=to, lamports=lamports))],
                self.faucet.pubkey(), self.latest_blockhash)
            tx = Transaction([self.faucet], msg, self.latest_blockhash)
            if self.store.get_status(str(tx.signatures[0])) is not None:  # same airdrop twice in one slot
                self.advance_slot()
                return self.airdrop(to, lamports)
            return self.process_transaction(tx)

    def _sanitize(self, vtx: VersionedTransaction) -> None:
        msg = vtx.message
        try:
            vtx.sanitize()
        except Exception:
            raise TxError("SanitizeFailure") from None
        if msg.header.num_required_signatures == 0 or not vtx.signatures:
            raise TxError("MissingSignatureForFee") if msg.header.num_required_signatures == 0 \
                else TxError("SanitizeFailure")
        if isinstance(msg, MessageV0) and msg.address_table_lookups:
            raise TxError("AddressLookupTableNotFound")
        keys = list(msg.account_keys)
        if len(set(keys)) != len(keys):
            raise TxError("AccountLoadedTwice")
        if len(keys) > MAX_TX_ACCOUNT_LOCKS:
            raise TxError("TooManyAccountLocks")

    def _run(self, vtx: VersionedTransaction, *, commit: bool, sigverify: bool, check_blockhash: bool) -> TxResult:
        with self.lock:
            signature = vtx.signatures[0] if vtx.signatures else Signature.default()
            slot = self.slot
            try:
                self._sanitize(vtx)
                if sigverify and not all(vtx.verify_with_results()):
                    raise TxError("SignatureFailure")
                if commit and self.store.get_status(str(signature)) is not None:
                    raise TxError("AlreadyProcessed")
                msg = vtx.message
                if check_blockhash and not self.is_blockhash_valid(msg.recent_blockhash):
                    raise TxError("BlockhashNotFound")
                keys = list(msg.account_keys)
                ix_pairs = [(keys[ix.program_id_index], bytes(ix.data)) for ix in msg.instructions]
                limits = parse_compute_budget(ix_pairs)
                fee = LAMPORTS_PER_SIGNATURE * msg.header.num_required_signatures + limits.prioritization_fee
                payer_key = keys[0]
                payer = self.store.get(payer_key)
                if payer is None or payer.lamports == 0:
                    raise TxError("AccountNotFound")
                if payer.owner != SYSTEM_PROGRAM_ID or payer.data:
                    raise TxError("InvalidAccountForFee")
                if payer.lamports < fee:
                    raise TxError("InsufficientFundsForFee")
                for pid, _ in ix_pairs:  # LiteSVM rejects these before charging the fee
                    program = self.get_account(pid) or Account(0)
                    if program.owner not in (NATIVE_LOADER_ID, LOADER_V4_ID, *BPF_LOADERS):
                        raise TxError("InvalidProgramForExecution")
                charged = payer.copy()
                charged.lamports -= fee
                if not rent_transition_allowed(rent_state(payer, self.minimum_balance),
                                               rent_state(charged, self.minimum_balance)):
                    raise TxError.insufficient_funds_for_rent(0)
            except TxError as e:
                return TxResult(signature, False, e.value, slot=slot)

            # Governance: a transaction naming the governance program runs its store writes in one
            # outer SQL transaction, committed only if the transaction succeeds (and is committed).
            gov = self.governance if self.governance is not None and _GOV_ID in keys else None
            if gov is not None:
                gov.begin_outer()
            try:
                view = _View(self, {payer_key: charged})
                pre_balances = [payer.lamports if k == payer_key else self._lamports(view.get(k)) for k in keys]
                signers, writables = message_privileges(msg)
                err = None
                logs: list[str] = []
                units = 0
                return_data = None
                post: dict[Pubkey, Account] = {}
                try:
                    ixs = [Ix(keys[ix.program_id_index],
                              [Meta(keys[a], signers[a], writables[a]) for a in bytes(ix.accounts)], bytes(ix.data))
                           for ix in msg.instructions]
                    res = process_instructions(
                        ixs, view, programs=self.program_cache(), builtins=self.builtins,
                        compute_unit_limit=limits.compute_unit_limit, sysvars=self.sysvars,
                        log_bytes_limit=self.log_bytes_limit, config=ExecutionConfig(heap_size=limits.heap_size),
                        fee_payer=payer_key)
                    logs, units, return_data = res.logs, res.compute_units_consumed, res.return_data
                    if res.error is not None:
                        index, ierr = res.error
                        raise TxError({"InstructionError": [index, instruction_error_json(ierr)]})
                    for i, k in enumerate(keys):
                        if writables[i] and k in res.accounts:
                            if not rent_transition_allowed(rent_state(view.get(k), self.minimum_balance),
                                                           rent_state(res.accounts[k], self.minimum_balance)):
                                raise TxError.insufficient_funds_for_rent(i)
                            post[k] = res.accounts[k]
                except TxError as e:
                    err = e.value
                    post = {payer_key: charged}
                post.setdefault(payer_key, charged)
                final = {k: post[k] if k in post else view.get(k) for k in keys}
                post_balances = [self._lamports(final[k]) for k in keys]
                result = TxResult(signature, True, err, fee, logs, units, return_data, pre_balances, post_balances,
                                  slot, {k: a for k, a in final.items() if a is not None})
                if gov is not None:
                    gov.end_outer(commit and err is None)
                if commit:
                    self.transaction_count += 1
                    self._slot_signatures.append(bytes(signature))
                    record = {"slot": slot, "err": err, "fee": fee, "preBalances": pre_balances,
                              "postBalances": post_balances, "logMessages": logs, "computeUnitsConsumed": units,
                              "returnData": None if return_data is None else
                              [str(return_data[0]), base64.b64encode(return_data[1]).decode()],
                              "blockTime": self.unix_timestamp, "transaction": base64.b64encode(bytes(vtx)).decode(),
                              "version": "legacy" if isinstance(msg, Message) else 0}
                    self.store.commit(post, {str(signature): record},
                                      {"transaction_count": str(self.transaction_count)})
                    for listener in self.on_commit:
                        listener(result, vtx)
                return result
            finally:
                if gov is not None:
                    gov.end_outer(False)  # only if still open (an unexpected exception)

    @staticmethod
    def _lamports(a: Account | None) -> int:
        return a.lamports if a is not None else 0
