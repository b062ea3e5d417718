"""The lifecycle and the activation schedule, computed from recorded facts.

What is recorded (by the store, or by a dry-run in memory) are only facts that someone caused:
a proposal created at a slot, voting opened with an audit report at a slot, a stake snapshot per
epoch, accepted ballots with the slot they were received at, and cancellations. Everything else —
the state of each proposal at any slot, the tally, the activation slot, and which module hashes
are callable at a slot — is a pure function of those facts (`evaluate`). So a reopened store, a
dry-run and a validator all derive the same answer, and nothing can drift.

Transitions (docs/governance.md has the same list, with the reasons):

  created                    -> Draft      at the creation slot
  Draft -> Voting            at max(voting_start, opened_slot), once opened (audit passed)
  Draft -> Cancelled         at voting_end if never opened ("expired"), or when the author cancels
  Voting -> Cancelled        when the author cancels before voting_end
  Voting -> Succeeded        at voting_end if yes*100 > threshold*total (snapshot of the open epoch)
  Voting -> Defeated         at voting_end otherwise
  Succeeded -> Scheduled     at voting_end, with effective slot E = max(activation_slot, voting_end),
                             rounded up to an epoch boundary if `epoch_boundary`; for an upgrade or
                             deactivation also E >= the target's own activation slot
  Succeeded -> Cancelled     at voting_end if it cannot be scheduled (target gone) — defensive: the
                             exclusivity rules at create/open/cancel make this unreachable
  Scheduled -> Cancelled     when the author cancels before E
  Scheduled -> Active        at E (activate, upgrade): the module hash is callable from slot E
  Active -> Deprecated       at E' of a deactivation of this hash: calls still work and log
  Deprecated -> Deactivated  at E' + deprecation_slots (rounded up to an epoch boundary if the
                             deactivation is pinned): the hash is no longer callable
  Active -> Deactivated      at E'' of an upgrade replacing this hash (swapped at that slot)
  deactivation proposals:    Scheduled -> Deprecated at E', -> Deactivated at E' + period
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from .ballot import Ballot, Choice
from .proposal import Kind, Proposal, State
from .stake import StakeTable, next_epoch_boundary
from .tally import Tally, tally


@dataclass(frozen=True)
class ProposalRecord:
    """A proposal and the lifecycle facts recorded about it."""

    proposal: Proposal
    seq: int
    created_slot: int
    opened_slot: int | None = None
    snapshot_epoch: int | None = None
    total_stake: int | None = None
    audit: dict | None = None  # the audit report (JSON dict) it was opened with
    cancelled_slot: int | None = None
    cancel_reason: str | None = None

    @property
    def id(self) -> str:
        return self.proposal.id

    @property
    def voting_opens(self) -> int | None:
        if self.opened_slot is None:
            return None
        return max(self.proposal.voting_start, self.opened_slot)


@dataclass(frozen=True)
class BallotRecord:
    seq: int
    ballot: Ballot
    received_slot: int


@dataclass
class GovernanceRecord:
    """Everything recorded about one cluster's governance."""

    cluster: str
    slots_per_epoch: int
    proposals: list[ProposalRecord] = field(default_factory=list)
    snapshots: dict[int, StakeTable] = field(default_factory=dict)
    ballots: dict[str, list[BallotRecord]] = field(default_factory=dict)

    def proposal(self, pid: str) -> ProposalRecord | None:
        for r in self.proposals:
            if r.id == pid:
                return r
        return None


@dataclass(frozen=True)
class Transition:
    slot: int
    state: State
    note: str = ""

    def to_dict(self) -> dict:
        return {"slot": self.slot, "state": self.state.value, "note": self.note}


@dataclass
class ModuleInterval:
    """When one module hash is callable: [active_from, until), deprecated from `deprecated_from`."""

    sha256: str
    name: str
    version: str
    functions: tuple[str, ...]
    proposal_id: str
    active_from: int
    deprecated_from: int | None = None
    until: int | None = None
    ended_by: str | None = None  # the proposal that deprecated/replaced it

    def status_at(self, slot: int):
        if slot < self.active_from or (self.until is not None and slot >= self.until):
            return None
        if self.deprecated_from is not None and slot >= self.deprecated_from:
            return ModuleStatus(self.sha256, True, self.until)
        return ModuleStatus(self.sha256)

    def to_dict(self) -> dict:
        return {"sha256": self.sha256, "name": self.name, "version": self.version,
                "functions": list(self.functions), "proposal": self.proposal_id, "active_from": self.active_from,
                "deprecated_from": self.deprecated_from, "until": self.until, "ended_by": self.ended_by}


@dataclass(frozen=True)
class ModuleStatus:
    """Field-for-field the `sbpfunc.syscalls.modules.ModuleStatus` the registry reads (governance
    does not import the syscall layer): callable, or deprecated until `until_slot`."""

    sha256: str
    deprecated: bool = False
    until_slot: int | None = None


@dataclass
class ProposalView:
    """A proposal's derived history."""

    record: ProposalRecord
    transitions: list[Transition]
    tally: Tally | None = None  # final tally at close (None if voting never opened)
    effective_slot: int | None = None  # when its effect starts (activation / swap / deprecation)
    until_slot: int | None = None  # deactivations: when the module stops being callable

    @property
    def proposal(self) -> Proposal:
        return self.record.proposal

    def state_at(self, slot: int) -> State | None:
        state = None
        for t in self.transitions:
            if t.slot <= slot:
                state = t.state
            else:
                break
        return state

    def transition_at(self, slot: int) -> Transition | None:
        hit = None
        for t in self.transitions:
            if t.slot <= slot:
                hit = t
        return hit

    @property
    def final_state(self) -> State:
        return self.transitions[-1].state

    def _add(self, slot: int, state: State, note: str = "") -> None:
        self.transitions.append(Transition(slot, state, note))
        self.transitions.sort(key=lambda t: t.slot)  # stable: same-slot order kept


def latest_choices(ballots: Iterable[BallotRecord], until_slot: int | None = None) -> dict[str, Choice]:
    """Each voter's latest ballot (highest ballot slot; the store accepts only increasing slots)."""
    best: dict[str, tuple[int, int, Choice]] = {}
    for b in ballots:
        if until_slot is not None and b.received_slot > until_slot:
            continue
        key = (b.ballot.slot, b.seq)
        cur = best.get(b.ballot.voter)
        if cur is None or key > cur[:2]:
            best[b.ballot.voter] = (b.ballot.slot, b.seq, b.ballot.choice)
    return {v: c for v, (_, _, c) in best.items()}


@dataclass
class Evaluation:
    record: GovernanceRecord
    views: dict[str, ProposalView]
    intervals: dict[str, ModuleInterval]

    def view(self, pid: str) -> ProposalView:
        return self.views[pid]

    def tally_at(self, pid: str, slot: int | None = None) -> Tally | None:
        """The running tally of a proposal (ballots received up to `slot`), or None before voting."""
        r = self.record.proposal(pid)
        if r is None or r.snapshot_epoch is None:
            return None
        snap = self.record.snapshots[r.snapshot_epoch]
        return tally(latest_choices(self.record.ballots.get(pid, ()), slot), snap, r.proposal.threshold_pct)

    def statuses(self, slot: int) -> dict[str, ModuleStatus]:
        out = {}
        for h, iv in self.intervals.items():
            st = iv.status_at(slot)
            if st is not None:
                out[h] = st
        return out

    def change_slots(self) -> list[int]:
        """Slots at which the callable set changes (for reloading programs)."""
        slots = set()
        for iv in self.intervals.values():
            slots.add(iv.active_from)
            if iv.deprecated_from is not None:
                slots.add(iv.deprecated_from)
            if iv.until is not None:
                slots.add(iv.until)
        return sorted(slots)

    def live_at(self, slot: int) -> list[ProposalView]:
        """Proposals that hold their function names at `slot` (voting, passed, scheduled, in force)."""
        live = {State.VOTING, State.SUCCEEDED, State.SCHEDULED, State.ACTIVE, State.DEPRECATED}
        return [v for v in self.views.values() if v.state_at(slot) in live]


def _effective(p: Proposal, slot: int) -> int:
    return next_epoch_boundary(slot, p.slots_per_epoch) if p.epoch_boundary else slot


def evaluate(record: GovernanceRecord) -> Evaluation:
    """Derive every proposal's transitions and the module intervals from the recorded facts."""
    views: dict[str, ProposalView] = {}
    intervals: dict[str, ModuleInterval] = {}
    # Decisions happen at voting_end; process in that order (creation order breaks ties) so an
    # upgrade or deactivation finds the interval of the module it targets.
    order = sorted(record.proposals, key=lambda r: (r.proposal.voting_end, r.seq))
    for r in sorted(record.proposals, key=lambda r: r.seq):
        views[r.id] = ProposalView(r, [Transition(r.created_slot, State.DRAFT, "created")])
    for r in order:
        p, v = r.proposal, views[r.id]
        c = r.cancelled_slot
        opens = r.voting_opens
        if opens is None or opens >= p.voting_end or (c is not None and c <= opens):
            if c is not None and c < p.voting_end:
                v._add(c, State.CANCELLED, r.cancel_reason or "cancelled by the author")
            else:
                v._add(p.voting_end, State.CANCELLED, "expired: voting never opened")
            continue
        v._add(opens, State.VOTING, f"stake snapshot of epoch {r.snapshot_epoch}, total {r.total_stake}")
        if c is not None and c < p.voting_end:
            v._add(c, State.CANCELLED, r.cancel_reason or "cancelled by the author")
            continue
        t = tally(latest_choices(record.ballots.get(r.id, ())), record.snapshots[r.snapshot_epoch], p.threshold_pct)
        v.tally = t
        if not t.approved:
            v._add(p.voting_end, State.DEFEATED, t.describe())
            continue
        v._add(p.voting_end, State.SUCCEEDED, t.describe())
        eff = _effective(p, max(p.activation_slot, p.voting_end))
        target = intervals.get(p.target) if p.target else None
        if p.target is not None:
            if target is None or target.until is not None:
                why = "is not active or scheduled" if target is None else f"is already ended by {target.ended_by}"
                v._add(p.voting_end, State.CANCELLED, f"cannot be scheduled: module {p.target[:16]}… {why}")
                continue
            eff = max(eff, _effective(p, target.active_from))
        if c is not None and c < eff:
            v._add(p.voting_end, State.SCHEDULED, f"effective at slot {eff}")
            v._add(c, State.CANCELLED, r.cancel_reason or "cancelled by the author")
            continue
        v.effective_slot = eff
        if p.kind is Kind.DEACTIVATE:
            until = eff + p.deprecation_slots
            if p.epoch_boundary:
                until = next_epoch_boundary(until, p.slots_per_epoch)
            v.until_slot = until
            target.deprecated_from, target.until, target.ended_by = eff, until, p.id
            v._add(p.voting_end, State.SCHEDULED, f"deprecates {target.name} {target.version} at slot {eff}, "
                                                  f"removes it at slot {until}")
            v._add(eff, State.DEPRECATED, f"{target.name} {target.version} deprecated until slot {until}")
            v._add(until, State.DEACTIVATED, f"{target.name} {target.version} removed")
            tv = views[target.proposal_id]
            tv._add(eff, State.DEPRECATED, f"deprecated by {p.id} until slot {until}")
            tv._add(until, State.DEACTIVATED, f"deactivated by {p.id}")
            continue
        v._add(p.voting_end, State.SCHEDULED, f"activates at slot {eff}")
        v._add(eff, State.ACTIVE, f"{p.describe_module()} callable")
        if target is not None:  # upgrade: swap at eff
            target.until, target.ended_by = eff, p.id
            views[target.proposal_id]._add(eff, State.DEACTIVATED, f"replaced by {p.id} ({p.module_version})")
        intervals[p.module_sha256] = ModuleInterval(p.module_sha256, p.module_name, p.module_version,
                                                    p.function_names, p.id, eff)
    return Evaluation(record, views, intervals)


class GovernanceSchedule:
    """An `ActivationSource` over one evaluation (immutable)."""

    def __init__(self, evaluation: Evaluation):
        self.evaluation = evaluation

    def statuses(self, slot: int) -> dict[str, ModuleStatus]:
        return self.evaluation.statuses(slot)

    def approved_hash(self, module_name: str, slot: int) -> str | None:
        """The hash of `module_name` callable at `slot`, if any: the only file a loader may accept."""
        for h, iv in self.evaluation.intervals.items():
            if iv.name == module_name and iv.status_at(slot) is not None:
                return h
        return None

    def modules(self) -> list[ModuleInterval]:
        return list(self.evaluation.intervals.values())

    def change_slots(self) -> list[int]:
        return self.evaluation.change_slots()
