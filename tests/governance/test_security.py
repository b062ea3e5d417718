"""Security: each test feeds one bad input and checks it is rejected with a reason and that the
store is byte-for-byte unchanged (every table, the clock included)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sbpfunc.governance.ballot import Ballot, Choice
from sbpfunc.governance.errors import AuditRequired, BallotRejected, SnapshotError
from sbpfunc.governance.proposal import State
from sbpfunc.governance.stake import StakeTable
from sbpfunc.governance.store import GovernanceStore

from .conftest import CLUSTER, OUTSIDER, SPE, STAKES, VALIDATORS, make_proposal, vote


def rejected(store, pid, ballot, slot, code):
    before = store.dump()
    with pytest.raises(BallotRejected) as e:
        store.cast(pid, ballot, slot)
    assert e.value.code == code, e.value.reason
    assert store.dump() == before
    return e.value.reason


def test_forged_signature(voting):
    store, p = voting
    v = VALIDATORS[0]
    forged = replace(Ballot.sign(OUTSIDER, CLUSTER, p.id, p.module_sha256, "yes", 45), voter=v.pubkey)
    assert "signature does not verify" in rejected(store, p.id, forged, 45, "bad-signature")
    flipped = replace(Ballot.sign(v, CLUSTER, p.id, p.module_sha256, "no", 45), choice=Choice.YES)
    rejected(store, p.id, flipped, 45, "bad-signature")
    garbage = replace(Ballot.sign(v, CLUSTER, p.id, p.module_sha256, "yes", 45), signature=bytes(64))
    rejected(store, p.id, garbage, 45, "bad-signature")


def test_replay_on_another_proposal(voting, audits):
    store, p = voting
    other = make_proposal(audits["other"], id="OTHER-1")
    store.create_proposal(other, 40)
    store.open_voting(other.id, 40, audits["other"])
    ballot = Ballot.sign(VALIDATORS[0], CLUSTER, p.id, p.module_sha256, "yes", 45)
    reason = rejected(store, other.id, ballot, 45, "wrong-proposal")
    assert "signed for proposal 'TOY-1', not 'OTHER-1'" in reason
    # rewriting the fields to the other proposal breaks the signature
    rejected(store, other.id, replace(ballot, proposal=other.id, module_sha256=other.module_sha256), 45,
             "bad-signature")
    # a ballot for the right id but another module hash (a proposal re-created under the same id
    # elsewhere) does not count either
    wrong_module = Ballot.sign(VALIDATORS[0], CLUSTER, other.id, p.module_sha256, "yes", 45)
    rejected(store, other.id, wrong_module, 45, "wrong-module")


def test_replay_on_another_cluster(voting, tmp_path, audits):
    store, p = voting
    twin = GovernanceStore(tmp_path / "twin.sqlite", cluster="other-cluster", slots_per_epoch=SPE)
    twin.record_snapshot(STAKES, 0, epoch=1)
    q = p.with_(cluster="other-cluster")
    twin.create_proposal(q, 0)
    twin.open_voting(q.id, 40, audits["toy"])
    ballot = Ballot.sign(VALIDATORS[0], CLUSTER, p.id, p.module_sha256, "yes", 45)
    store.cast(p.id, ballot, 45)  # counts where it was signed for
    reason = rejected(twin, q.id, ballot, 45, "wrong-cluster")
    assert "signed for cluster 'test-cluster', not 'other-cluster' (replay)" in reason
    rejected(twin, q.id, replace(ballot, cluster="other-cluster"), 45, "bad-signature")


def test_non_validator_voter(voting):
    store, p = voting
    ballot = Ballot.sign(OUTSIDER, CLUSTER, p.id, p.module_sha256, "yes", 45)
    assert "has no stake in the epoch 1 snapshot" in rejected(store, p.id, ballot, 45, "not-a-validator")


def test_ballot_after_close(voting):
    store, p = voting
    in_window = Ballot.sign(VALIDATORS[0], CLUSTER, p.id, p.module_sha256, "yes", 79)
    assert "voting closed at slot 80" in rejected(store, p.id, in_window, 80, "closed")
    after = Ballot.sign(VALIDATORS[0], CLUSTER, p.id, p.module_sha256, "yes", 80)
    rejected(store, p.id, after, 81, "closed")
    # once the store has seen slot 80, nobody can submit "as of" slot 79 any more
    vote(store, p.id, VALIDATORS[1:2], "yes", 60)
    store.record_snapshot(StakeTable({VALIDATORS[0].pubkey: 1}), 80, epoch=3)  # advances the clock to 80
    rejected(store, p.id, in_window, 79, "closed")


def test_ballot_outside_the_window_or_from_the_future(voting):
    store, p = voting
    early = Ballot.sign(VALIDATORS[0], CLUSTER, p.id, p.module_sha256, "yes", 39)
    assert "outside the voting window [40, 80)" in rejected(store, p.id, early, 45, "outside-window")
    future = Ballot.sign(VALIDATORS[0], CLUSTER, p.id, p.module_sha256, "yes", 70)
    rejected(store, p.id, future, 45, "future-slot")
    assert store.state(p.id, 39) is State.DRAFT


def test_ballot_before_voting_opens(store, audits):
    p = make_proposal(audits["toy"])
    store.create_proposal(p, 0)
    b = Ballot.sign(VALIDATORS[0], CLUSTER, p.id, p.module_sha256, "yes", 41)
    rejected(store, p.id, b, 41, "not-voting")  # never opened: still a Draft


def test_stale_and_duplicate_ballots(voting):
    store, p = voting
    new = Ballot.sign(VALIDATORS[0], CLUSTER, p.id, p.module_sha256, "yes", 50)
    old = Ballot.sign(VALIDATORS[0], CLUSTER, p.id, p.module_sha256, "no", 45)
    store.cast(p.id, new, 50)
    rejected(store, p.id, new, 51, "duplicate")
    # the voter's own older ballot, replayed after it changed its vote, is refused
    assert "already voted yes at slot 50" in rejected(store, p.id, old, 51, "stale")
    same_slot = Ballot.sign(VALIDATORS[0], CLUSTER, p.id, p.module_sha256, "no", 50)
    rejected(store, p.id, same_slot, 51, "stale")


def test_proposal_without_audit(store, audits, tmp_path):
    p = make_proposal(audits["toy"])
    store.create_proposal(p, 0)
    before = store.dump()
    with pytest.raises(AuditRequired, match="without a passing audit report"):
        store.open_voting(p.id, 40, None)
    with pytest.raises(AuditRequired, match="is for module sha256 .*, not the proposed"):
        store.open_voting(p.id, 40, audits["other"])
    failing = {**audits["toy"], "passed": False,
               "checks": [{"check": "floats", "passed": False, "findings": ["line 1: float literal 0.5"]}]}
    with pytest.raises(AuditRequired, match=r"did not pass \(failed: floats\)"):
        store.open_voting(p.id, 40, failing)
    with pytest.raises(AuditRequired, match="not an audit report"):
        store.open_voting(p.id, 40, {"passed": True})
    assert store.dump() == before
    assert store.state(p.id, 40) is State.DRAFT


def test_module_file_edited_after_approval(voting, modules_dir, tmp_path):
    from sbpfunc.syscalls.modules import ModuleHashMismatch, load_module

    store, p = voting
    vote(store, p.id, VALIDATORS[:7], "yes", 41)
    approved = store.schedule().approved_hash("toy", 90)
    assert approved == p.module_sha256
    copy = tmp_path / "toy.py"
    copy.write_bytes((modules_dir / "toy.py").read_bytes())
    assert load_module(copy, expected_sha256=approved).sha256 == approved
    copy.write_bytes(copy.read_bytes().replace(b"+ bias", b"+ bias + 1"))
    before = store.dump()
    with pytest.raises(ModuleHashMismatch) as e:
        load_module(copy, expected_sha256=approved)
    assert approved in str(e.value) and e.value.actual in str(e.value) and e.value.actual != approved
    assert store.dump() == before


def test_stake_moved_after_snapshot(voting):
    store, p = voting
    vote(store, p.id, VALIDATORS[:7], "yes", 41)
    before = store.dump()
    moved = StakeTable({**STAKES.stakes, VALIDATORS[0].pubkey: 1, VALIDATORS[9].pubkey: 199})
    with pytest.raises(SnapshotError, match="already has a stake snapshot .* never changes"):
        store.record_snapshot(moved, 50, epoch=1)
    assert store.dump() == before
    with pytest.raises(SnapshotError, match="not recorded retroactively"):
        store.record_snapshot(moved, 70, epoch=1)
    # the next epoch's snapshot moves stake; this proposal still uses epoch 1's
    newcomer = OUTSIDER.pubkey
    store.record_snapshot(StakeTable({**moved.stakes, newcomer: 10_000}), 60, epoch=2)
    t = store.tally(p.id)
    assert (t.yes, t.total) == (700, 1000) and t.approved
    late_joiner = Ballot.sign(OUTSIDER, CLUSTER, p.id, p.module_sha256, "no", 65)
    rejected(store, p.id, late_joiner, 65, "not-a-validator")
    assert store.state(p.id, 80) is State.SCHEDULED


@pytest.mark.parametrize("yes_stake,outcome", [(6700, State.DEFEATED), (6701, State.SCHEDULED)])
def test_threshold_exactly_67_vs_one_lamport_more(tmp_path, audits, yes_stake, outcome):
    store = GovernanceStore(tmp_path / "g.sqlite", cluster=CLUSTER, slots_per_epoch=SPE)
    a, b = VALIDATORS[0], VALIDATORS[1]
    store.record_snapshot(StakeTable({a.pubkey: yes_stake, b.pubkey: 10_000 - yes_stake}), 0, epoch=1)
    p = make_proposal(audits["toy"])
    store.create_proposal(p, 0)
    store.open_voting(p.id, 40, audits["toy"])
    vote(store, p.id, [a], "yes", 41)
    t = store.tally(p.id)
    assert (t.yes, t.total, t.approved) == (yes_stake, 10_000, yes_stake == 6701)
    assert t.yes_percent == ("67.0000%" if yes_stake == 6700 else "67.0100%")
    assert store.state(p.id, 80) is outcome
    assert (p.module_sha256 in store.schedule().statuses(90)) == (outcome is State.SCHEDULED)
