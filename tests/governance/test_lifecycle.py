"""Every lifecycle transition (docs/governance.md lists the same rules), the schedule as an
ActivationSource, and the create/open/cancel checks (collisions, targets, snapshots)."""

from __future__ import annotations

import pytest

from sbpfunc.governance.errors import AuditRequired, ProposalRejected, SyscallCollision
from sbpfunc.governance.proposal import State
from sbpfunc.governance.schedule import GovernanceRecord, ProposalRecord, evaluate
from sbpfunc.governance.stake import StakeTable

from .conftest import COLLIDING, SPE, STAKES, VALIDATORS, cancel, make_proposal, vote

YES7 = VALIDATORS[:7]  # 700 of 1000 stake: 70% > 67%


def states(store, pid, slots):
    return [store.state(pid, s) for s in slots]


def test_created_is_draft_then_voting_from_voting_start(store, audits):
    p = make_proposal(audits["toy"])
    store.create_proposal(p, 5)
    assert store.state(p.id, 4) is None and store.state(p.id, 5) is State.DRAFT
    store.open_voting(p.id, 10, audits["toy"])  # opened early: voting still starts at voting_start
    assert states(store, p.id, [10, 39, 40, 79]) == [State.DRAFT, State.DRAFT, State.VOTING, State.VOTING]
    r = store.proposal(p.id)
    assert (r.opened_slot, r.voting_opens, r.snapshot_epoch, r.total_stake) == (10, 40, 1, 1000)


def test_opened_late_votes_from_the_open_slot(store, audits):
    p = make_proposal(audits["toy"])
    store.create_proposal(p, 0)
    store.open_voting(p.id, 50, audits["toy"])
    assert states(store, p.id, [49, 50]) == [State.DRAFT, State.VOTING]


def test_draft_never_opened_expires_at_voting_end(store, audits):
    p = make_proposal(audits["toy"])
    store.create_proposal(p, 0)
    assert states(store, p.id, [79, 80]) == [State.DRAFT, State.CANCELLED]
    assert store.evaluation().view(p.id).transitions[-1].note == "expired: voting never opened"
    with pytest.raises(ProposalRejected, match="only a Draft"):
        store.open_voting(p.id, 80, audits["toy"])


def test_author_cancels_a_draft(store, audits):
    p = make_proposal(audits["toy"])
    store.create_proposal(p, 0)
    cancel(store, p.id, 20)
    assert states(store, p.id, [19, 20, 100]) == [State.DRAFT, State.CANCELLED, State.CANCELLED]
    with pytest.raises(ProposalRejected, match="only a Draft"):
        store.open_voting(p.id, 30, audits["toy"])


def test_author_cancels_during_voting(voting):
    store, p = voting
    vote(store, p.id, YES7, "yes", 45)
    cancel(store, p.id, 60)
    assert states(store, p.id, [59, 60, 200]) == [State.VOTING, State.CANCELLED, State.CANCELLED]
    assert store.schedule().statuses(200) == {}


def test_only_the_author_cancels(voting):
    store, p = voting
    before = store.dump()
    with pytest.raises(ProposalRejected, match="not signed by the author"):
        cancel(store, p.id, 50, key=VALIDATORS[0])
    assert store.dump() == before


def test_succeeded_scheduled_active(voting):
    store, p = voting
    vote(store, p.id, YES7, "yes", 41)
    view = store.evaluation().view(p.id)
    assert [(t.slot, t.state) for t in view.transitions] == [
        (0, State.DRAFT), (40, State.VOTING), (80, State.SUCCEEDED), (80, State.SCHEDULED), (90, State.ACTIVE)]
    assert states(store, p.id, [79, 80, 89, 90]) == [State.VOTING, State.SCHEDULED, State.SCHEDULED, State.ACTIVE]
    sched = store.schedule()
    assert sched.statuses(89) == {}
    st = sched.statuses(90)[p.module_sha256]
    assert (st.sha256, st.deprecated, st.until_slot) == (p.module_sha256, False, None)
    assert sched.approved_hash("toy", 90) == p.module_sha256 and sched.approved_hash("toy", 89) is None
    assert view.effective_slot == 90 and view.tally.approved


def test_activation_pinned_to_an_epoch_boundary(store, audits):
    p = make_proposal(audits["toy"], epoch_boundary=True)
    store.create_proposal(p, 0)
    store.open_voting(p.id, 40, audits["toy"])
    vote(store, p.id, YES7, "yes", 41)
    assert store.evaluation().view(p.id).effective_slot == 96  # first epoch start >= 90 (32 slots per epoch)
    assert store.schedule().statuses(95) == {} and p.module_sha256 in store.schedule().statuses(96)


def test_defeated_below_threshold(voting):
    store, p = voting
    vote(store, p.id, VALIDATORS[:6], "yes", 41)  # 600/1000 = 60%
    vote(store, p.id, VALIDATORS[6:], "no", 42)
    assert states(store, p.id, [79, 80]) == [State.VOTING, State.DEFEATED]
    assert store.schedule().statuses(10**6) == {}
    assert "not above the 67% threshold" in store.evaluation().view(p.id).transitions[-1].note


def test_core_preset_needs_95(store, audits):
    p = make_proposal(audits["toy"], threshold_pct=95)
    store.create_proposal(p, 0)
    store.open_voting(p.id, 40, audits["toy"])
    vote(store, p.id, VALIDATORS[:9], "yes", 41)  # 90%
    assert store.state(p.id, 80) is State.DEFEATED


def test_cancel_scheduled_before_activation_only(voting):
    store, p = voting
    vote(store, p.id, YES7, "yes", 41)
    cancel(store, p.id, 85)
    assert states(store, p.id, [84, 85, 90]) == [State.SCHEDULED, State.CANCELLED, State.CANCELLED]
    assert store.schedule().statuses(90) == {}


def test_cannot_cancel_once_active(voting):
    store, p = voting
    vote(store, p.id, YES7, "yes", 41)
    with pytest.raises(ProposalRejected, match="Active"):
        cancel(store, p.id, 90)


def activate(store, audits, stem="toy", pid="TOY-1", start=40, end=80, act=90, **kw):
    p = make_proposal(audits[stem], id=pid, voting_start=start, voting_end=end, activation_slot=act, **kw)
    store.create_proposal(p, store.clock)
    store.open_voting(p.id, max(start, store.clock), audits[stem])
    vote(store, p.id, YES7, "yes", max(start, store.clock))
    return p


def test_deactivation_deprecates_then_removes(store, audits):
    a = activate(store, audits)
    store.record_snapshot(STAKES, 90, epoch=3)  # slots 96..127
    d = make_proposal(audits["toy"], id="TOY-OFF", kind="deactivate", voting_start=100, voting_end=110,
                      activation_slot=120, deprecation_slots=25)
    store.create_proposal(d, 95)
    store.open_voting(d.id, 100, None)  # a deactivation needs no audit
    vote(store, d.id, YES7, "yes", 100)
    sched = store.schedule()
    assert sched.statuses(119)[a.module_sha256].deprecated is False
    st = sched.statuses(120)[a.module_sha256]
    assert (st.deprecated, st.until_slot) == (True, 145)
    assert a.module_sha256 in sched.statuses(144) and sched.statuses(145) == {}
    assert states(store, a.id, [119, 120, 144, 145]) == [State.ACTIVE, State.DEPRECATED, State.DEPRECATED,
                                                         State.DEACTIVATED]
    assert states(store, d.id, [109, 110, 120, 145]) == [State.VOTING, State.SCHEDULED, State.DEPRECATED,
                                                         State.DEACTIVATED]
    assert sched.change_slots() == [90, 120, 145]


def test_deactivation_pinned_rounds_both_ends(store, audits):
    a = activate(store, audits)
    store.record_snapshot(STAKES, 90, epoch=3)
    d = make_proposal(audits["toy"], id="TOY-OFF", kind="deactivate", voting_start=100, voting_end=110,
                      activation_slot=120, deprecation_slots=25, epoch_boundary=True)
    store.create_proposal(d, 95)
    store.open_voting(d.id, 100, None)
    vote(store, d.id, YES7, "yes", 100)
    v = store.evaluation().view(d.id)
    assert (v.effective_slot, v.until_slot) == (128, 160)  # 120 -> 128; 128 + 25 = 153 -> 160
    assert store.schedule().statuses(127)[a.module_sha256].deprecated is False


def test_upgrade_swaps_the_hash_at_the_slot(store, audits):
    a = activate(store, audits)
    store.record_snapshot(STAKES, 90, epoch=3)
    u = make_proposal(audits["toy2"], id="TOY-2", kind="upgrade", replaces=a.module_sha256, voting_start=100,
                      voting_end=110, activation_slot=115)
    store.create_proposal(u, 95)  # reuses toy_scale_add: the replaced module's names move over
    store.open_voting(u.id, 100, audits["toy2"])
    vote(store, u.id, YES7, "yes", 100)
    sched = store.schedule()
    assert set(sched.statuses(114)) == {a.module_sha256}
    assert set(sched.statuses(115)) == {u.module_sha256}
    assert sched.approved_hash("toy", 115) == u.module_sha256
    assert states(store, a.id, [114, 115]) == [State.ACTIVE, State.DEACTIVATED]
    assert states(store, u.id, [110, 115]) == [State.SCHEDULED, State.ACTIVE]


def test_defensive_rule_succeeded_but_target_gone_is_cancelled(audits):
    """Unreachable through the store (exclusivity rules), but the evaluation never schedules an
    upgrade whose target is not there."""
    u = make_proposal(audits["toy2"], id="TOY-2", kind="upgrade", replaces="00" * 32)
    rec = GovernanceRecord("test-cluster", SPE, [ProposalRecord(u, 1, 0, 40, 1, 1000)], {1: STAKES}, {})
    from sbpfunc.governance.ballot import Ballot
    from sbpfunc.governance.schedule import BallotRecord

    rec.ballots[u.id] = [BallotRecord(i, Ballot.sign(k, "test-cluster", u.id, u.module_sha256, "yes", 41), 41)
                         for i, k in enumerate(YES7)]
    v = evaluate(rec).view(u.id)
    assert v.state_at(80) is State.CANCELLED and "cannot be scheduled" in v.transitions[-1].note


# --- create / open checks ----------------------------------------------------------------------------
def test_collision_with_a_core_syscall_is_refused(store, audits):
    p = make_proposal(audits["toy"])
    from sbpfunc.governance.proposal import FunctionDecl

    bad = p.with_(functions=(FunctionDecl("sol_log_", "u64 sol_log_()"),))
    before = store.dump()
    with pytest.raises(SyscallCollision, match="sol_log_ is already provided by core syscall"):
        store.create_proposal(bad, 0)
    assert store.dump() == before


def test_murmur3_collision_with_an_active_module_is_refused(store, audits):
    activate(store, audits, "collide_a", pid="CA")
    p = make_proposal(audits["collide_b"], id="CB", voting_start=100, voting_end=120, activation_slot=130)
    with pytest.raises(SyscallCollision, match=rf"{COLLIDING[1]} collides with {COLLIDING[0]} .*active.*murmur3 id"):
        store.create_proposal(p, 95)


def test_collision_with_a_scheduled_or_voting_module_is_refused(store, audits):
    a = make_proposal(audits["collide_a"], id="CA")
    store.create_proposal(a, 0)
    store.open_voting(a.id, 40, audits["collide_a"])
    b = make_proposal(audits["collide_b"], id="CB")
    with pytest.raises(SyscallCollision, match="voting"):
        store.create_proposal(b, 41)
    vote(store, a.id, YES7, "yes", 41)
    with pytest.raises(SyscallCollision, match="scheduled"):
        store.create_proposal(b.with_(voting_start=82, voting_end=90, activation_slot=95), 81)


def test_collision_with_registered_names(store, audits):
    p = make_proposal(audits["collide_b"], id="CB")
    with pytest.raises(SyscallCollision, match="registered syscall"):
        store.create_proposal(p, 0, registered=[COLLIDING[0]])


def test_collision_rechecked_at_open(store, audits):
    a = make_proposal(audits["collide_a"], id="CA")
    b = make_proposal(audits["collide_b"], id="CB")
    store.create_proposal(a, 0)
    store.create_proposal(b, 0)  # drafts do not hold names
    store.open_voting(a.id, 40, audits["collide_a"])
    before = store.dump()
    with pytest.raises(SyscallCollision):
        store.open_voting(b.id, 41, audits["collide_b"])
    assert store.dump() == before


def test_two_colliding_names_in_one_proposal(store, audits):
    from sbpfunc.governance.proposal import FunctionDecl

    p = make_proposal(audits["toy"]).with_(functions=tuple(FunctionDecl(n, "u64 x()") for n in COLLIDING))
    with pytest.raises(SyscallCollision, match="of this proposal both have"):
        store.create_proposal(p, 0)


def test_same_module_name_needs_an_upgrade(store, audits):
    activate(store, audits)
    p = make_proposal(audits["toy2"], id="TOY-2", voting_start=100, voting_end=120, activation_slot=130)
    with pytest.raises(ProposalRejected, match="propose an upgrade|already provided"):
        store.create_proposal(p, 95)


def test_targets_must_be_there_and_free(store, audits):
    d = make_proposal(audits["toy"], id="OFF", kind="deactivate")
    with pytest.raises(ProposalRejected, match="not active or scheduled"):
        store.create_proposal(d, 0)
    a = activate(store, audits)
    store.record_snapshot(STAKES, 90, epoch=3)
    d = d.with_(voting_start=100, voting_end=110, activation_slot=120)
    store.create_proposal(d, 95)
    store.open_voting(d.id, 100, None)
    with pytest.raises(ProposalRejected, match="already targeted by proposal OFF"):
        store.create_proposal(d.with_(id="OFF2"), 100)
    u = make_proposal(audits["toy2"], id="UP", kind="upgrade", replaces=a.module_sha256, voting_start=100,
                      voting_end=110, activation_slot=120)
    with pytest.raises(ProposalRejected, match="already targeted"):
        store.create_proposal(u, 100)
    with pytest.raises(ProposalRejected, match="lists the target's version and functions"):
        store.create_proposal(d.with_(id="OFF3", module_version="9"), 100)


def test_cannot_cancel_a_scheduled_module_someone_targets(store, audits):
    a = make_proposal(audits["toy"], activation_slot=200)
    store.create_proposal(a, 0)
    store.open_voting(a.id, 40, audits["toy"])
    vote(store, a.id, YES7, "yes", 41)
    d = make_proposal(audits["toy"], id="OFF", kind="deactivate", voting_start=90, voting_end=100,
                      activation_slot=210)
    store.record_snapshot(STAKES, 85, epoch=2)
    store.create_proposal(d, 85)
    store.open_voting(d.id, 90, None)
    with pytest.raises(ProposalRejected, match="targets its module; cancel that first"):
        cancel(store, a.id, 95)
    cancel(store, d.id, 95)
    cancel(store, a.id, 96)
    assert store.state(a.id, 96) is State.CANCELLED


def test_open_needs_the_snapshot_of_the_open_epoch(tmp_path, audits):
    from sbpfunc.governance.store import GovernanceStore

    s = GovernanceStore(tmp_path / "g.sqlite", cluster="test-cluster", slots_per_epoch=SPE)
    p = make_proposal(audits["toy"])
    s.create_proposal(p, 0)
    with pytest.raises(ProposalRejected, match="epoch 1, which has no stake snapshot"):
        s.open_voting(p.id, 10, audits["toy"])
    s.record_snapshot(STAKES, 10, epoch=1)
    s.open_voting(p.id, 10, audits["toy"])


def test_open_refuses_a_mismatching_audit(store, audits):
    p = make_proposal(audits["toy"])
    store.create_proposal(p, 0)
    with pytest.raises(AuditRequired, match="functions differ"):
        store.open_voting(p.id, 40, {**audits["toy"], "functions": audits["toy2"]["functions"]})
    with pytest.raises(AuditRequired, match="pins"):
        store.create_proposal(p.with_(id="PIN", audit_sha256="00" * 32), 0)
        store.open_voting("PIN", 40, audits["toy"])


def test_audit_pin_matches(store, audits):
    from sbpfunc.governance.store import audit_digest

    p = make_proposal(audits["toy"], audit_sha256=audit_digest(audits["toy"]))
    store.create_proposal(p, 0)
    store.open_voting(p.id, 40, audits["toy"])
    assert store.state(p.id, 40) is State.VOTING


def test_ids_are_never_reused(store, audits):
    p = make_proposal(audits["toy"])
    store.create_proposal(p, 0)
    cancel(store, p.id, 1)
    with pytest.raises(ProposalRejected, match="never reused"):
        store.create_proposal(p, 2)


def test_cluster_and_epoch_length_must_match(store, audits):
    with pytest.raises(ProposalRejected, match="cluster"):
        store.create_proposal(make_proposal(audits["toy"], cluster="elsewhere"), 0)
    with pytest.raises(ProposalRejected, match="slots per epoch"):
        store.create_proposal(make_proposal(audits["toy"], slots_per_epoch=64), 0)


def test_latest_vote_counts_until_close(voting):
    store, p = voting
    vote(store, p.id, VALIDATORS[:6], "yes", 41)
    vote(store, p.id, VALIDATORS[6:7], "no", 42)
    assert not store.tally(p.id, 42).approved
    vote(store, p.id, VALIDATORS[6:7], "yes", 50)  # changes its mind
    t = store.tally(p.id)
    assert (t.yes, t.no, t.voters) == (700, 0, 7) and t.approved
    assert store.tally(p.id, 45).no == 100  # the tally as it stood at slot 45
    assert store.state(p.id, 80) is State.SCHEDULED


def test_snapshot_total_frozen_on_the_proposal(voting):
    store, p = voting
    assert store.proposal(p.id).total_stake == 1000
    store.record_snapshot(StakeTable({k.pubkey: 1 for k in VALIDATORS}), 50, epoch=2)
    assert store.tally(p.id).total == 1000
