"""Dry-run: what would happen to a proposal, given a stake table and ballots.

The dry-run drives the very same store and rules as a validator, in an in-memory SQLite copy (of
an empty governance, or of an existing store): it records the stake table as the snapshot of the
epoch voting opens in, creates the proposal at the store's current slot, opens voting at
`voting_start` with the audit report, and casts every ballot at the slot it names (a dry-run
assumes each ballot arrives at the slot it was signed for), in slot order. It reports the timeline
(every transition, and the running tally after every counted ballot), the activation slot or why
there is none, each rejected ballot with its reason, and — given each program's imported symbol
names — which programs newly load or stop loading, and at which slot.

Reading imports out of `.so` files needs the ELF parser, which governance does not import: the
CLI layer (sbpfunc/cli_governance.py) reads them and passes names in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from .ballot import Ballot
from .errors import BallotRejected, GovernanceError
from .proposal import AGAVE_SYSCALLS, Kind, Proposal, State
from .schedule import Evaluation, latest_choices
from .stake import StakeTable, epoch_of
from .store import GovernanceStore
from .tally import Tally, tally

SUCCESS_STATES = {Kind.ACTIVATE: {State.ACTIVE, State.DEPRECATED, State.DEACTIVATED},
                  Kind.UPGRADE: {State.ACTIVE, State.DEPRECATED, State.DEACTIVATED},
                  Kind.DEACTIVATE: {State.DEPRECATED, State.DEACTIVATED}}


@dataclass
class TimelineRow:
    slot: int
    state: str
    tally: Tally | None
    note: str = ""

    def to_dict(self) -> dict:
        t = self.tally
        return {"slot": self.slot, "state": self.state, "note": self.note,
                "yes_stake": t.yes if t else None, "no_stake": t.no if t else None,
                "abstain_stake": t.abstain if t else None, "absent_stake": t.absent if t else None,
                "yes_percent": t.yes_percent if t else None, "yes_fraction": t.yes_fraction if t else None}


@dataclass
class ProgramChange:
    name: str
    imports: list[str]
    before: bool  # loads before the proposal's first effect
    after: bool  # loads after its last effect
    changes: list[tuple[int, str]] = field(default_factory=list)  # (slot, "newly loads" | "stops loading")
    missing_after: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def summary(self) -> str:
        if self.error:
            return f"cannot read: {self.error}"
        if self.changes:
            return "; ".join(f"{what} at slot {slot}" for slot, what in self.changes)
        if self.after:
            return "unchanged (loads)"
        return f"unchanged (does not load: missing {', '.join(self.missing_after)})"

    def to_dict(self) -> dict:
        return {"program": self.name, "imports": self.imports, "loads_before": self.before,
                "loads_after": self.after, "changes": [{"slot": s, "change": c} for s, c in self.changes],
                "missing_after": self.missing_after, "error": self.error, "summary": self.summary}


@dataclass
class DryRunResult:
    proposal: Proposal
    snapshot_epoch: int | None
    snapshot: StakeTable | None
    audit: dict | None
    timeline: list[TimelineRow]
    rejected: list[dict]
    accepted: int
    tally: Tally | None
    state: State | None
    activation_slot: int | None
    until_slot: int | None
    why: str | None
    programs: list[ProgramChange]
    active_after: list[dict] = field(default_factory=list)

    @property
    def succeeds(self) -> bool:
        return self.state in SUCCESS_STATES[self.proposal.kind]

    def to_dict(self) -> dict:
        t = self.tally
        p = self.proposal
        a = self.audit
        return {
            "proposal": p.id, "kind": p.kind.value, "cluster": p.cluster,
            "module": {"name": p.module_name, "version": p.module_version, "sha256": p.module_sha256,
                       "replaces": p.replaces},
            "state": self.state.value if self.state else None,
            "succeeds": self.succeeds,
            "activation_slot": self.activation_slot if self.succeeds or self.state is State.SCHEDULED else None,
            "deactivation_slot": self.until_slot,
            "why": self.why,
            "threshold_pct": p.threshold_pct,
            "snapshot_epoch": self.snapshot_epoch,
            "yes_stake": t.yes if t else 0, "no_stake": t.no if t else 0, "abstain_stake": t.abstain if t else 0,
            "absent_stake": t.absent if t else (self.snapshot.total if self.snapshot else 0),
            "total_stake": self.snapshot.total if self.snapshot else 0,
            "yes_percent": t.yes_percent if t else None, "yes_fraction": t.yes_fraction if t else None,
            "approved": bool(t and t.approved),
            "accepted_ballots": self.accepted,
            "rejected_ballots": self.rejected,
            "audit": None if a is None else {"passed": a.get("passed"),
                                             "module_sha256": (a.get("module") or {}).get("sha256"),
                                             "failures": _audit_failures(a)},
            "timeline": [r.to_dict() for r in self.timeline],
            "programs": [c.to_dict() for c in self.programs],
            "active_modules_after": self.active_after,
        }

    def to_text(self) -> str:
        p = self.proposal
        t = self.tally
        lines = [f"proposal {p.id}: {p.kind.value} {p.describe_module()}"
                 + (f", replacing {p.replaces[:16]}…" if p.replaces else ""),
                 f"  cluster {p.cluster} ({p.slots_per_epoch} slots per epoch); threshold {p.threshold_pct}%; "
                 f"voting slots [{p.voting_start}, {p.voting_end}); activation slot {p.activation_slot}"
                 + (" (pinned to an epoch boundary)" if p.epoch_boundary else "")]
        if self.snapshot is not None:
            lines.append(f"  stake snapshot of epoch {self.snapshot_epoch}: {len(self.snapshot)} validators, "
                         f"total {self.snapshot.total}")
        a = self.audit
        if not p.needs_audit:
            lines.append("audit: not required (a deactivation removes code)")
        elif a is None:
            lines.append("audit: none")
        else:
            verdict = "PASSED" if a.get("passed") else "FAILED"
            lines.append(f"audit: {verdict} for sha256 {(a.get('module') or {}).get('sha256')}")
            lines.extend(f"  {f}" for f in _audit_failures(a))
        lines.append("timeline:")
        lines.append(f"  {'slot':>10}  {'state':<11} {'yes stake':>18} {'no stake':>18} {'abstain stake':>18} "
                     f"{'absent stake':>18}  {'yes %':>10}  note")
        for r in self.timeline:
            if r.tally is None:
                lines.append(f"  {r.slot:>10}  {r.state:<11} {'':>18} {'':>18} {'':>18} {'':>18}  {'':>10}  {r.note}")
            else:
                t = r.tally
                lines.append(f"  {r.slot:>10}  {r.state:<11} {t.yes:>18} {t.no:>18} {t.abstain:>18} {t.absent:>18}  "
                             f"{t.yes_percent:>10}  {r.note}")
        if t is not None:
            lines.append(f"tally: yes {t.yes}, no {t.no}, abstain {t.abstain}, absent {t.absent}, total {t.total}; "
                         f"yes = {t.yes_percent} = {t.yes_fraction} of stake "
                         f"({'above' if t.approved else 'not above'} {p.threshold_pct}%; needs yes >= {t.needed_yes})")
        state = self.state.value if self.state else "not created"
        if self.succeeds:
            if p.kind is Kind.DEACTIVATE:
                lines.append(f"result: {state} — deprecated from slot {self.activation_slot}, "
                             f"removed at slot {self.until_slot}")
            else:
                epoch = epoch_of(self.activation_slot, p.slots_per_epoch)
                lines.append(f"result: {state} — activation slot {self.activation_slot} (epoch {epoch})")
        else:
            lines.append(f"result: {state} — does not take effect: {self.why}")
        if self.rejected:
            lines.append(f"rejected ballots ({len(self.rejected)}):")
            for r in self.rejected:
                lines.append(f"  {r['source']}: {r.get('voter') or '?'}: {r['code']}: {r['reason']}")
        else:
            lines.append("rejected ballots: none")
        if self.programs:
            lines.append("programs:")
            for c in self.programs:
                lines.append(f"  {c.name}: {c.summary}")
        return "\n".join(lines) + "\n"


def _audit_failures(a: dict) -> list[str]:
    out = []
    for c in a.get("checks", []):
        if c.get("skipped"):
            out.append(f"{c.get('check')}: not run ({c['skipped']})")
        for f in c.get("findings", []):
            out.append(f"{c.get('check')}: {f}")
    return out


def callable_names(ev: Evaluation, slot: int, registered: Iterable[str] = ()) -> set[str]:
    names = set(AGAVE_SYSCALLS) | set(registered)
    for h in ev.statuses(slot):
        names.update(ev.intervals[h].functions)
    return names


def program_changes(ev: Evaluation, slots: list[int], programs: Mapping[str, Iterable[str] | Exception],
                    registered: Iterable[str] = ()) -> list[ProgramChange]:
    """For each program (name -> imported symbols), whether it loads just before and at each slot."""
    registered = list(registered)
    out = []
    slots = sorted(set(s for s in slots if s is not None))
    for name, imports in sorted(programs.items()):
        if isinstance(imports, Exception):
            out.append(ProgramChange(name, [], False, False, error=str(imports)))
            continue
        imports = sorted(set(imports))
        if not slots:
            names = callable_names(ev, 0, registered)
            ok = set(imports) <= names
            out.append(ProgramChange(name, imports, ok, ok, missing_after=sorted(set(imports) - names)))
            continue
        first = slots[0]
        before = set(imports) <= callable_names(ev, max(first - 1, 0), registered) if first > 0 else False
        state = before
        change = ProgramChange(name, imports, before, before)
        for s in slots:
            names = callable_names(ev, s, registered)
            now = set(imports) <= names
            if now != state:
                change.changes.append((s, "newly loads" if now else "stops loading"))
            state = now
            change.missing_after = sorted(set(imports) - names)
        change.after = state
        out.append(change)
    return out


def dry_run(proposal: Proposal, stakes: StakeTable | None, ballots: Iterable[tuple[str, Ballot | Exception]] = (),
            *, audit: dict | None = None, programs: Mapping[str, Iterable[str] | Exception] | None = None,
            base: GovernanceStore | None = None, registered: Iterable[str] = ()) -> DryRunResult:
    """Simulate `proposal` from creation to its last effect. `ballots` are (source name, Ballot or the
    error reading it). With `base`, runs on an in-memory copy of that store (its state and clock)."""
    registered = list(registered)
    store = base.copy_in_memory() if base is not None else GovernanceStore(
        ":memory:", cluster=proposal.cluster, slots_per_epoch=proposal.slots_per_epoch)
    p = proposal
    start = store.clock
    opens = max(p.voting_start, start)
    epoch = epoch_of(opens, store.slots_per_epoch)
    rejected: list[dict] = []
    why: str | None = None
    snapshot = store.snapshot(epoch)
    if snapshot is None:
        if stakes is None:
            raise GovernanceError(f"no stake table for epoch {epoch}, in which voting opens (slot {opens})")
        if stakes.epoch is not None and stakes.epoch != epoch:
            raise GovernanceError(f"the stake table is for epoch {stakes.epoch}, but voting opens at slot {opens}, "
                                  f"in epoch {epoch}")
        store.record_snapshot(stakes, start, epoch)
        snapshot = store.snapshot(epoch)
    elif stakes is not None and stakes.digest() != snapshot.digest():
        raise GovernanceError(f"the store already has a different stake snapshot for epoch {epoch}")

    def result(state, tally=None, timeline=(), accepted=0, ev=None, view=None):
        return DryRunResult(p, epoch, snapshot, audit, list(timeline), rejected, accepted, tally, state,
                            view.effective_slot if view else None, view.until_slot if view else None, why,
                            [], [iv.to_dict() for iv in ev.intervals.values()
                                 if iv.status_at(_last_slot(p, view)) is not None] if ev and view else [])

    try:
        store.create_proposal(p, start, registered=registered)
    except GovernanceError as e:
        why = f"the proposal cannot be created: {e}"
        return _with_programs(result(None), store.evaluation(), programs, registered)

    events: list[tuple[int, int, int, object]] = [(opens, 0, 0, None)]
    for i, (source, b) in enumerate(ballots):
        if isinstance(b, Ballot):
            events.append((b.slot, 1, i, (source, b)))
        else:
            code = getattr(b, "code", "malformed")
            rejected.append({"source": source, "voter": None, "code": code, "reason": str(b)})
    events.sort(key=lambda e: e[:3])
    accepted = 0
    open_error = None
    for slot, kind, _, payload in events:
        if kind == 0:
            try:
                store.open_voting(p.id, slot, audit, registered=registered)
            except GovernanceError as e:
                open_error = str(e)
            continue
        source, b = payload
        try:
            if slot < store.clock:
                store.check_ballot(p.id, b, slot)  # raises with the real reason (e.g. not voting yet)
                raise BallotRejected("late", f"ballot slot {slot} is before slot {store.clock}, already recorded")
            store.cast(p.id, b, slot)
            accepted += 1
        except BallotRejected as e:
            rejected.append({"source": source, "voter": b.voter, "slot": b.slot, "choice": b.choice.value,
                             "code": e.code, "reason": e.reason})

    ev = store.evaluation()
    view = ev.view(p.id)
    last = _last_slot(p, view)
    state = view.state_at(last)
    timeline = _timeline(ev, view)
    if open_error is not None:
        why = f"cannot enter Voting: {open_error}"
    elif state is State.DEFEATED:
        why = view.tally.describe() if view.tally else "defeated"
    elif state is State.CANCELLED:
        why = next((t.note for t in reversed(view.transitions) if t.state is State.CANCELLED), "cancelled")
    res = result(state, view.tally, timeline, accepted, ev, view)
    return _with_programs(res, ev, programs, registered)


def _timeline(ev: Evaluation, view) -> list[TimelineRow]:
    """Every transition, and one row per counted ballot with the running tally after it. At one
    slot: Draft, the opening of Voting, ballots, then the closing states."""
    rec = view.record
    snap = ev.record.snapshots.get(rec.snapshot_epoch) if rec.snapshot_epoch is not None else None
    ballots = ev.record.ballots.get(rec.id, [])
    rows: list[tuple[int, int, int, TimelineRow]] = []
    for i, tr in enumerate(view.transitions):
        t = None
        if snap is not None and tr.state is not State.DRAFT and tr.slot >= rec.voting_opens:
            t = ev.tally_at(rec.id, tr.slot - 1 if tr.state is State.VOTING else tr.slot)
        order = {State.DRAFT: 0, State.VOTING: 1}.get(tr.state, 3)
        rows.append((tr.slot, order, i, TimelineRow(tr.slot, tr.state.value, t, tr.note)))
    previous: dict[str, str] = {}
    for b in ballots:
        t = tally(latest_choices([x for x in ballots if x.seq <= b.seq]), snap, rec.proposal.threshold_pct)
        voter, choice = b.ballot.voter, b.ballot.choice.value
        note = f"{voter} votes {choice}" if voter not in previous else \
            f"{voter} changes its vote from {previous[voter]} to {choice}"
        previous[voter] = choice
        rows.append((b.received_slot, 2, b.seq, TimelineRow(b.received_slot, State.VOTING.value, t, note)))
    rows.sort(key=lambda r: r[:3])
    return [r[3] for r in rows]


def _last_slot(p: Proposal, view) -> int:
    slots = [t.slot for t in view.transitions] if view else [p.voting_end]
    return max(slots + [p.voting_end])


def _with_programs(res: DryRunResult, ev: Evaluation, programs, registered) -> DryRunResult:
    if not programs:
        return res
    slots = [res.activation_slot, res.until_slot] if res.succeeds else []
    res.programs = program_changes(ev, slots, programs, registered)
    return res
