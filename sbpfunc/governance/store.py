"""Governance persistence in SQLite (stdlib), and the rules that guard every recorded fact.

One store is one cluster's governance: its cluster id and slots-per-epoch are fixed when it is
created. Every write is one transaction (`BEGIN IMMEDIATE` ... `COMMIT`): the checks and the write
see the same data, and a refused or failed operation leaves nothing behind (not even the clock).
Ballots, stake snapshots and proposals are append-only, enforced by triggers in the schema: a
proposal's lifecycle columns (opened, cancelled) are written once, ballots and snapshots are never
updated or deleted. Reopening the file gives back exactly what was committed.

The store keeps a clock (the highest slot any write was made at) and refuses writes at an earlier
slot, so a ballot cannot be slipped in "before" a close that was already recorded.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Iterable

from .ballot import Ballot, cancel_message
from .encoding import b58decode, canonical_json, sha256_hex, verify_signature
from .errors import AuditRequired, BallotRejected, GovernanceError, ProposalRejected, SnapshotError
from .proposal import AGAVE_SYSCALLS, Kind, Proposal, State, check_collisions
from .schedule import (
    BallotRecord,
    Evaluation,
    GovernanceRecord,
    GovernanceSchedule,
    ProposalRecord,
    evaluate,
)
from .stake import StakeTable, epoch_of
from .tally import Tally

SCHEMA_VERSION = 1
AUDIT_FORMAT = "sbpfunc-audit-v1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS proposals (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    body TEXT NOT NULL,
    digest TEXT NOT NULL,
    module_path TEXT,
    created_slot INTEGER NOT NULL,
    opened_slot INTEGER,
    snapshot_epoch INTEGER,
    total_stake TEXT,
    audit TEXT,
    cancelled_slot INTEGER,
    cancel_reason TEXT
);
CREATE TABLE IF NOT EXISTS snapshots (
    epoch INTEGER PRIMARY KEY,
    total TEXT NOT NULL,
    digest TEXT NOT NULL,
    recorded_slot INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS stakes (
    epoch INTEGER NOT NULL REFERENCES snapshots(epoch),
    identity TEXT NOT NULL,
    stake TEXT NOT NULL,
    PRIMARY KEY (epoch, identity)
);
CREATE TABLE IF NOT EXISTS ballots (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    proposal_id TEXT NOT NULL REFERENCES proposals(id),
    voter TEXT NOT NULL,
    choice TEXT NOT NULL,
    ballot_slot INTEGER NOT NULL,
    received_slot INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ballots_by_proposal ON ballots (proposal_id, voter, ballot_slot);

CREATE TRIGGER IF NOT EXISTS proposals_never_deleted BEFORE DELETE ON proposals
BEGIN SELECT RAISE(ABORT, 'proposals are never deleted'); END;
CREATE TRIGGER IF NOT EXISTS proposals_write_once BEFORE UPDATE ON proposals
WHEN NEW.id IS NOT OLD.id OR NEW.seq IS NOT OLD.seq OR NEW.body IS NOT OLD.body
  OR NEW.digest IS NOT OLD.digest OR NEW.module_path IS NOT OLD.module_path
  OR NEW.created_slot IS NOT OLD.created_slot
  OR (OLD.opened_slot IS NOT NULL AND (NEW.opened_slot IS NOT OLD.opened_slot
      OR NEW.snapshot_epoch IS NOT OLD.snapshot_epoch OR NEW.total_stake IS NOT OLD.total_stake
      OR NEW.audit IS NOT OLD.audit))
  OR (OLD.cancelled_slot IS NOT NULL AND (NEW.cancelled_slot IS NOT OLD.cancelled_slot
      OR NEW.cancel_reason IS NOT OLD.cancel_reason))
BEGIN SELECT RAISE(ABORT, 'recorded proposal facts are write-once'); END;
CREATE TRIGGER IF NOT EXISTS snapshots_append_only_u BEFORE UPDATE ON snapshots
BEGIN SELECT RAISE(ABORT, 'stake snapshots are append-only'); END;
CREATE TRIGGER IF NOT EXISTS snapshots_append_only_d BEFORE DELETE ON snapshots
BEGIN SELECT RAISE(ABORT, 'stake snapshots are append-only'); END;
CREATE TRIGGER IF NOT EXISTS stakes_append_only_u BEFORE UPDATE ON stakes
BEGIN SELECT RAISE(ABORT, 'stake snapshots are append-only'); END;
CREATE TRIGGER IF NOT EXISTS stakes_append_only_d BEFORE DELETE ON stakes
BEGIN SELECT RAISE(ABORT, 'stake snapshots are append-only'); END;
CREATE TRIGGER IF NOT EXISTS ballots_append_only_u BEFORE UPDATE ON ballots
BEGIN SELECT RAISE(ABORT, 'ballots are append-only'); END;
CREATE TRIGGER IF NOT EXISTS ballots_append_only_d BEFORE DELETE ON ballots
BEGIN SELECT RAISE(ABORT, 'ballots are append-only'); END;
"""

_LIVE = {State.VOTING, State.SUCCEEDED, State.SCHEDULED, State.ACTIVE, State.DEPRECATED}


def audit_digest(report: dict) -> str:
    """SHA-256 of the canonical JSON of an audit report: what a proposal's `audit_sha256` pins."""
    return sha256_hex(canonical_json(report))


def check_audit(p: Proposal, report: dict | None) -> None:
    """A proposal may enter Voting only with a passing audit report for its exact module hash that
    audited exactly the functions (names and signature texts) the proposal lists."""
    if not p.needs_audit:
        return
    if report is None:
        raise AuditRequired(f"proposal {p.id}: voting cannot open without a passing audit report for "
                            f"{p.describe_module()} (run `sbpfunc module audit`)")
    if not isinstance(report, dict) or report.get("format") != AUDIT_FORMAT:
        raise AuditRequired(f"proposal {p.id}: not an audit report (format {AUDIT_FORMAT!r} expected)")
    audited = (report.get("module") or {}).get("sha256")
    if audited != p.module_sha256:
        raise AuditRequired(f"proposal {p.id}: the audit report is for module sha256 {audited}, "
                            f"not the proposed {p.module_sha256}")
    if report.get("passed") is not True:
        failed = [c.get("check") for c in report.get("checks", []) if not c.get("passed")]
        raise AuditRequired(f"proposal {p.id}: the audit of {p.describe_module()} did not pass"
                            + (f" (failed: {', '.join(map(str, failed))})" if failed else ""))
    if p.audit_sha256 is not None and audit_digest(report) != p.audit_sha256:
        raise AuditRequired(f"proposal {p.id}: the audit report's sha256 {audit_digest(report)} is not the "
                            f"one the proposal pins ({p.audit_sha256})")
    declared = [(f.name, f.signature) for f in p.functions]
    seen = [(f.get("name"), f.get("signature")) for f in report.get("functions", [])]
    if declared != seen:
        missing = sorted(set(declared) - set(seen))
        extra = sorted(set(seen) - set(declared))
        detail = "; ".join(
            ([f"proposal lists {n}: {s!r}" for n, s in missing] if missing else [])
            + ([f"module declares {n}: {s!r}" for n, s in extra] if extra else [])) or "order differs"
        raise AuditRequired(f"proposal {p.id}: its functions differ from the audited module's ({detail})")


class GovernanceStore:
    """Proposals, stake snapshots and ballots of one cluster, in one SQLite file (or ":memory:")."""

    def __init__(self, path: str | Path, *, cluster: str | None = None, slots_per_epoch: int | None = None):
        self.path = str(path)
        exists = self.path != ":memory:" and Path(self.path).exists() and Path(self.path).stat().st_size > 0
        self._eval_cache: tuple[int, Evaluation] | None = None
        try:
            self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.db.execute("PRAGMA foreign_keys = ON")
            self.db.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as e:
            raise GovernanceError(f"{self.path}: not a governance store ({e})") from None
        if exists:
            meta = self._meta()
            if meta.get("schema_version") != str(SCHEMA_VERSION):
                raise GovernanceError(f"{self.path}: not a governance store (schema {meta.get('schema_version')})")
            self.cluster, self.slots_per_epoch = meta["cluster"], int(meta["slots_per_epoch"])
            if cluster is not None and cluster != self.cluster:
                raise GovernanceError(f"{self.path} is the governance of cluster {self.cluster!r}, not {cluster!r}")
            if slots_per_epoch is not None and slots_per_epoch != self.slots_per_epoch:
                raise GovernanceError(f"{self.path} has {self.slots_per_epoch} slots per epoch, not {slots_per_epoch}")
            return
        if cluster is None:
            raise GovernanceError(f"{self.path} does not exist: give a cluster id to create it")
        from .proposal import _CLUSTER
        if not _CLUSTER.match(cluster):
            raise GovernanceError(f"cluster id {cluster!r}: 1-128 printable ASCII characters, no spaces")
        from .stake import DEFAULT_SLOTS_PER_EPOCH
        spe = DEFAULT_SLOTS_PER_EPOCH if slots_per_epoch is None else slots_per_epoch
        if isinstance(spe, bool) or not isinstance(spe, int) or spe < 1:
            raise GovernanceError(f"slots per epoch must be a positive integer, got {spe!r}")
        meta = [("schema_version", str(SCHEMA_VERSION)), ("cluster", cluster), ("slots_per_epoch", str(spe)),
                ("clock", "0"), ("generation", "0")]
        inserts = "".join(f"INSERT INTO meta VALUES ('{k}', '{v}');" for k, v in meta)  # validated above
        try:
            self.db.executescript("BEGIN IMMEDIATE;" + _SCHEMA + inserts + "COMMIT;")
        except sqlite3.Error as e:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise GovernanceError(f"cannot create governance store {self.path}: {e}") from None
        self.cluster, self.slots_per_epoch = cluster, spe

    def copy_in_memory(self) -> "GovernanceStore":
        """An in-memory copy (for dry-runs against the current state): writes never reach the file."""
        mem = sqlite3.connect(":memory:", isolation_level=None)
        self.db.backup(mem)
        copy = object.__new__(GovernanceStore)
        copy.path, copy.db, copy._eval_cache = ":memory:", mem, None
        copy.db.execute("PRAGMA foreign_keys = ON")
        copy.cluster, copy.slots_per_epoch = self.cluster, self.slots_per_epoch
        return copy

    # -- plumbing ---------------------------------------------------------------------------------
    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _meta(self) -> dict[str, str]:
        try:
            return dict(self.db.execute("SELECT key, value FROM meta"))
        except sqlite3.DatabaseError as e:
            raise GovernanceError(f"{self.path}: not a governance store ({e})") from None

    class _Tx:
        def __init__(self, store: "GovernanceStore"):
            self.store = store

        def __enter__(self):
            self.store.db.execute("BEGIN IMMEDIATE")
            return self.store

        def __exit__(self, exc_type, exc, tb):
            if exc_type is None:
                self.store.db.execute("COMMIT")
            else:
                self.store.db.execute("ROLLBACK")
            return False

    def _tx(self) -> "_Tx":
        return GovernanceStore._Tx(self)

    def _tick(self, slot: int) -> None:
        """Inside a transaction: refuse time going backwards, advance the clock, bump generation."""
        if isinstance(slot, bool) or not isinstance(slot, int) or slot < 0:
            raise GovernanceError(f"slot must be a non-negative integer, got {slot!r}")
        clock = int(self.db.execute("SELECT value FROM meta WHERE key='clock'").fetchone()[0])
        if slot < clock:
            raise GovernanceError(f"slot {slot} is before slot {clock}, already recorded: governance time "
                                  f"does not go backwards")
        gen = int(self.db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])
        self.db.execute("UPDATE meta SET value=? WHERE key='clock'", (str(slot),))
        self.db.execute("UPDATE meta SET value=? WHERE key='generation'", (str(gen + 1),))

    @property
    def clock(self) -> int:
        return int(self._meta()["clock"])

    @property
    def generation(self) -> int:
        return int(self.db.execute("SELECT value FROM meta WHERE key='generation'").fetchone()[0])

    def dump(self) -> list:
        """Every row of every table (for tests: 'nothing changed')."""
        out = []
        for (name,) in self.db.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"):
            out.append((name, list(self.db.execute(f"SELECT * FROM {name} ORDER BY 1, 2"))))  # noqa: S608
        return out

    # -- reading ----------------------------------------------------------------------------------
    def record(self) -> GovernanceRecord:
        rec = GovernanceRecord(self.cluster, self.slots_per_epoch)
        for row in self.db.execute(
                "SELECT body, module_path, seq, created_slot, opened_slot, snapshot_epoch, total_stake, audit, "
                "cancelled_slot, cancel_reason FROM proposals ORDER BY seq"):
            body, mpath, seq, created, opened, sepoch, total, audit, cslot, creason = row
            rec.proposals.append(ProposalRecord(
                Proposal.from_dict(json.loads(body), mpath), seq, created, opened, sepoch,
                None if total is None else int(total), None if audit is None else json.loads(audit), cslot, creason))
        stakes: dict[int, dict[str, int]] = {}
        for epoch, identity, stake in self.db.execute("SELECT epoch, identity, stake FROM stakes"):
            stakes.setdefault(epoch, {})[identity] = int(stake)
        for (epoch,) in self.db.execute("SELECT epoch FROM snapshots"):
            rec.snapshots[epoch] = StakeTable(stakes.get(epoch, {}), epoch)
        for seq, pid, body, received in self.db.execute(
                "SELECT seq, proposal_id, body, received_slot FROM ballots ORDER BY seq"):
            rec.ballots.setdefault(pid, []).append(BallotRecord(seq, Ballot.from_dict(json.loads(body)), received))
        return rec

    def evaluation(self) -> Evaluation:
        gen = self.generation
        if self._eval_cache is None or self._eval_cache[0] != gen:
            self._eval_cache = (gen, evaluate(self.record()))
        return self._eval_cache[1]

    def schedule(self) -> GovernanceSchedule:
        return GovernanceSchedule(self.evaluation())

    def activation_source(self) -> "StoreActivation":
        return StoreActivation(self)

    def proposal(self, pid: str) -> ProposalRecord:
        r = self.evaluation().record.proposal(pid)
        if r is None:
            raise GovernanceError(f"no proposal {pid!r} in this store")
        return r

    def proposals(self) -> list[ProposalRecord]:
        return list(self.evaluation().record.proposals)

    def snapshot(self, epoch: int) -> StakeTable | None:
        return self.evaluation().record.snapshots.get(epoch)

    def state(self, pid: str, slot: int | None = None) -> State | None:
        self.proposal(pid)
        return self.evaluation().view(pid).state_at(self.clock if slot is None else slot)

    def tally(self, pid: str, slot: int | None = None) -> Tally | None:
        self.proposal(pid)
        return self.evaluation().tally_at(pid, slot)

    # -- stake snapshots --------------------------------------------------------------------------
    def record_snapshot(self, table: StakeTable, slot: int, epoch: int | None = None) -> None:
        """Record epoch `epoch`'s stake (default: the table's own epoch). Once per epoch, never for an
        epoch already past at `slot`, and immutable afterwards: stake moved later changes nothing."""
        epoch = table.epoch if epoch is None else epoch
        if epoch is None:
            raise SnapshotError("the stake table names no epoch: give one")
        if table.epoch is not None and table.epoch != epoch:
            raise SnapshotError(f"the stake table is for epoch {table.epoch}, not {epoch}")
        if len(table) == 0 or table.total <= 0:
            raise SnapshotError(f"the stake snapshot of epoch {epoch} has no stake")
        if table.total >= 1 << 63:
            raise SnapshotError("total stake does not fit in 63 bits")
        with self._tx():
            self._tick(slot)
            now = epoch_of(slot, self.slots_per_epoch)
            if epoch < now:
                raise SnapshotError(f"epoch {epoch} is over (slot {slot} is in epoch {now}): snapshots are not "
                                    f"recorded retroactively")
            row = self.db.execute("SELECT digest, total FROM snapshots WHERE epoch=?", (epoch,)).fetchone()
            if row is not None:
                same = row[0] == table.digest()
                raise SnapshotError(f"epoch {epoch} already has a stake snapshot (total {row[1]})"
                                    + ("" if same else "; a snapshot never changes once recorded"))
            self.db.execute("INSERT INTO snapshots VALUES (?, ?, ?, ?)",
                            (epoch, str(table.total), table.digest(), slot))
            self.db.executemany("INSERT INTO stakes VALUES (?, ?, ?)",
                                [(epoch, k, str(v)) for k, v in table.stakes.items()])

    # -- proposals --------------------------------------------------------------------------------
    def _names_taken(self, ev: Evaluation, slot: int, p: Proposal, registered: Iterable[str]) -> dict[str, str]:
        taken = {n: "core syscall" for n in AGAVE_SYSCALLS}
        taken.update({n: "registered syscall" for n in registered if n not in taken})
        for v in ev.live_at(slot):
            q = v.proposal
            if q.id == p.id or q.kind is Kind.DEACTIVATE:
                continue
            if p.kind is Kind.UPGRADE and q.module_sha256 == p.replaces:
                continue  # the module being replaced: its names move to the new version
            state = v.state_at(slot).value.lower()
            for n in q.function_names:
                taken.setdefault(n, f"{q.describe_module()}, proposal {q.id}, {state}")
        return taken

    def _check_targets(self, ev: Evaluation, slot: int, p: Proposal) -> None:
        live = ev.live_at(slot)
        holders = [v for v in live if v.proposal.kind is not Kind.DEACTIVATE]
        if p.kind is Kind.ACTIVATE:
            for v in holders:
                q = v.proposal
                if q.module_sha256 == p.module_sha256:
                    raise ProposalRejected(f"{p.describe_module()} is already {v.state_at(slot).value.lower()} "
                                           f"(proposal {q.id})")
                if q.module_name == p.module_name:
                    raise ProposalRejected(f"module {p.module_name} is already {v.state_at(slot).value.lower()} "
                                           f"as version {q.module_version} (proposal {q.id}): propose an upgrade")
            return
        target_sha = p.target
        owner = [v for v in holders if v.proposal.module_sha256 == target_sha
                 and v.state_at(slot) in (State.SCHEDULED, State.ACTIVE)]
        if not owner:
            verb = "upgraded" if p.kind is Kind.UPGRADE else "deactivated"
            raise ProposalRejected(f"proposal {p.id}: module {target_sha[:16]}… is not active or scheduled at "
                                   f"slot {slot}, so it cannot be {verb}")
        q = owner[0].proposal
        if q.module_name != p.module_name:
            raise ProposalRejected(f"proposal {p.id}: module {target_sha[:16]}… is {q.module_name}, "
                                   f"not {p.module_name}")
        if p.kind is Kind.DEACTIVATE and (q.module_version != p.module_version
                                          or q.function_names != p.function_names):
            raise ProposalRejected(f"proposal {p.id}: a deactivation lists the target's version and functions "
                                   f"({q.module_version}: {', '.join(q.function_names)})")
        for v in live:
            o = v.proposal
            if o.id != p.id and o.target == target_sha:
                raise ProposalRejected(f"proposal {p.id}: module {target_sha[:16]}… is already targeted by "
                                       f"proposal {o.id} ({o.kind.value}, {v.state_at(slot).value.lower()})")

    def _check_names(self, ev: Evaluation, slot: int, p: Proposal, registered: Iterable[str]) -> None:
        if p.kind is Kind.DEACTIVATE:
            return
        check_collisions(p.function_names, self._names_taken(ev, slot, p, registered))

    def create_proposal(self, p: Proposal, slot: int, *, registered: Iterable[str] = ()) -> ProposalRecord:
        """Record a Draft. Refuses another cluster, a reused id, a window already over, a function
        name or murmur3 id already taken by a core or registered syscall or by a module that is
        voting, scheduled or active, and a target that is not there or already targeted."""
        if p.cluster != self.cluster:
            raise ProposalRejected(f"proposal {p.id} is for cluster {p.cluster!r}, this store is {self.cluster!r}")
        if p.slots_per_epoch != self.slots_per_epoch:
            raise ProposalRejected(f"proposal {p.id} assumes {p.slots_per_epoch} slots per epoch; the cluster "
                                   f"has {self.slots_per_epoch}")
        registered = list(registered)
        with self._tx():
            ev = self.evaluation()
            self._tick(slot)
            if self.db.execute("SELECT 1 FROM proposals WHERE id=?", (p.id,)).fetchone():
                raise ProposalRejected(f"proposal id {p.id!r} is taken (ids are never reused)")
            if p.voting_end <= slot:
                raise ProposalRejected(f"proposal {p.id}: voting would end at slot {p.voting_end}, "
                                       f"which is not after slot {slot}")
            self._check_names(ev, slot, p, registered)
            self._check_targets(ev, slot, p)
            seq = (self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM proposals").fetchone()[0]) + 1
            self.db.execute("INSERT INTO proposals (id, seq, body, digest, module_path, created_slot) "
                            "VALUES (?, ?, ?, ?, ?, ?)",
                            (p.id, seq, json.dumps(p.to_dict(), sort_keys=True), p.digest(), p.module_path, slot))
        return self.proposal(p.id)

    def open_voting(self, pid: str, slot: int, audit: dict | None = None, *,
                    registered: Iterable[str] = ()) -> ProposalRecord:
        """Draft -> Voting (from max(voting_start, slot)). Needs a passing audit report for the exact
        module hash (activations and upgrades), the stake snapshot of the epoch voting opens in, and
        the create-time checks to hold still (names and targets may have been taken meanwhile)."""
        registered = list(registered)
        with self._tx():
            ev = self.evaluation()
            r = self.proposal(pid)
            p = r.proposal
            self._tick(slot)
            state = ev.view(pid).state_at(slot)
            if r.opened_slot is not None:
                raise ProposalRejected(f"proposal {pid}: voting was already opened at slot {r.opened_slot}")
            if state is not State.DRAFT:
                raise ProposalRejected(f"proposal {pid} is {state.value if state else 'not created yet'} at "
                                       f"slot {slot}: only a Draft can open for voting")
            check_audit(p, audit)
            opens = max(p.voting_start, slot)
            epoch = epoch_of(opens, self.slots_per_epoch)
            snap = self.db.execute("SELECT total FROM snapshots WHERE epoch=?", (epoch,)).fetchone()
            if snap is None:
                raise ProposalRejected(f"proposal {pid}: voting opens at slot {opens} in epoch {epoch}, which has "
                                       f"no stake snapshot yet")
            self._check_names(ev, slot, p, registered)
            self._check_targets(ev, slot, p)
            self.db.execute("UPDATE proposals SET opened_slot=?, snapshot_epoch=?, total_stake=?, audit=? WHERE id=?",
                            (slot, epoch, snap[0], None if audit is None else json.dumps(audit, sort_keys=True), pid))
        return self.proposal(pid)

    def cancel(self, pid: str, slot: int, signature: bytes, reason: str = "cancelled by the author") -> None:
        """The author cancels (signature over `cancel_message(cluster, id, module, slot)`), any time
        before the proposal takes effect, unless another live proposal targets its module."""
        with self._tx():
            ev = self.evaluation()
            p = self.proposal(pid).proposal
            if not verify_signature(b58decode(p.author, 32),
                                    cancel_message(self.cluster, pid, p.module_sha256, slot), signature):
                raise ProposalRejected(f"proposal {pid}: the cancellation is not signed by the author {p.author} "
                                       f"for slot {slot}")
            self._tick(slot)
            state = ev.view(pid).state_at(slot)
            if state not in (State.DRAFT, State.VOTING, State.SUCCEEDED, State.SCHEDULED):
                raise ProposalRejected(f"proposal {pid} is {state.value if state else 'not created yet'} at "
                                       f"slot {slot}: only Draft, Voting or Scheduled proposals can be cancelled")
            for v in ev.live_at(slot):
                o = v.proposal
                if o.id != pid and o.target == p.module_sha256 and p.kind is not Kind.DEACTIVATE:
                    raise ProposalRejected(f"proposal {pid}: proposal {o.id} ({o.kind.value}) targets its module; "
                                           f"cancel that first")
            self.db.execute("UPDATE proposals SET cancelled_slot=?, cancel_reason=? WHERE id=?", (slot, reason, pid))

    # -- ballots ----------------------------------------------------------------------------------
    def check_ballot(self, pid: str, ballot: Ballot, slot: int) -> None:
        """Raise `BallotRejected` with a reason, or return if `ballot` would count at `slot`."""
        ev = self.evaluation()
        r = ev.record.proposal(pid)
        if r is None:
            raise BallotRejected("unknown-proposal", f"no proposal {pid!r}")
        p = r.proposal
        if not ballot.signature_valid():
            raise BallotRejected("bad-signature", f"signature does not verify for voter {ballot.voter}")
        if ballot.cluster != self.cluster:
            raise BallotRejected("wrong-cluster", f"ballot was signed for cluster {ballot.cluster!r}, not "
                                                  f"{self.cluster!r} (replay)")
        if ballot.proposal != pid:
            raise BallotRejected("wrong-proposal", f"ballot was signed for proposal {ballot.proposal!r}, not "
                                                   f"{pid!r} (replay)")
        if ballot.module_sha256 != p.module_sha256:
            raise BallotRejected("wrong-module", f"ballot was signed for module sha256 {ballot.module_sha256}, "
                                                 f"not {p.module_sha256}")
        state = ev.view(pid).state_at(slot)
        opens = r.voting_opens
        if state is not State.VOTING:
            if opens is not None and slot >= p.voting_end:
                raise BallotRejected("closed", f"voting closed at slot {p.voting_end} (now slot {slot})")
            raise BallotRejected("not-voting", f"proposal {pid} is {state.value if state else 'not created'} "
                                               f"at slot {slot}, not Voting")
        if not opens <= ballot.slot < p.voting_end:
            raise BallotRejected("outside-window", f"ballot slot {ballot.slot} is outside the voting window "
                                                   f"[{opens}, {p.voting_end})")
        if ballot.slot > slot:
            raise BallotRejected("future-slot", f"ballot slot {ballot.slot} is after the current slot {slot}")
        stake = ev.record.snapshots[r.snapshot_epoch].stake_of(ballot.voter)
        if stake is None:
            raise BallotRejected("not-a-validator", f"{ballot.voter} has no stake in the epoch {r.snapshot_epoch} "
                                                    f"snapshot")
        prev = [b for b in ev.record.ballots.get(pid, ()) if b.ballot.voter == ballot.voter]
        if prev:
            last = max(prev, key=lambda b: (b.ballot.slot, b.seq)).ballot
            if last.slot >= ballot.slot:
                code = "duplicate" if last == ballot else "stale"
                raise BallotRejected(code, f"{ballot.voter} already voted {last.choice.value} at slot {last.slot}; "
                                           f"a new ballot must have a later slot")

    def cast(self, pid: str, ballot: Ballot, slot: int) -> BallotRecord:
        """Record a ballot received at `slot`, or raise `BallotRejected` leaving the store unchanged."""
        with self._tx():
            clock = int(self.db.execute("SELECT value FROM meta WHERE key='clock'").fetchone()[0])
            if isinstance(slot, int) and slot < clock:
                raise BallotRejected("closed" if self._closed_before(pid, clock) else "late",
                                     f"slot {slot} is before slot {clock}, already recorded")
            self.check_ballot(pid, ballot, slot)
            self._tick(slot)
            cur = self.db.execute(
                "INSERT INTO ballots (proposal_id, voter, choice, ballot_slot, received_slot, body) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (pid, ballot.voter, ballot.choice.value, ballot.slot, slot,
                 json.dumps(ballot.to_dict(), sort_keys=True)))
            seq = cur.lastrowid
        return BallotRecord(seq, ballot, slot)

    def _closed_before(self, pid: str, clock: int) -> bool:
        r = self.evaluation().record.proposal(pid)
        return r is not None and clock >= r.proposal.voting_end


class StoreActivation:
    """An `ActivationSource` that follows the store: re-evaluated whenever a write lands."""

    def __init__(self, store: GovernanceStore):
        self.store = store

    def statuses(self, slot: int):
        return self.store.evaluation().statuses(slot)

    def approved_hash(self, module_name: str, slot: int) -> str | None:
        return self.store.schedule().approved_hash(module_name, slot)
