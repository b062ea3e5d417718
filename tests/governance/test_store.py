"""Persistence: SQLite, transactional writes, append-only tables, reopen loses nothing."""

from __future__ import annotations

import sqlite3

import pytest

from sbpfunc.governance.errors import GovernanceError, SnapshotError  # noqa: F401
from sbpfunc.governance.proposal import State
from sbpfunc.governance.stake import StakeTable
from sbpfunc.governance.store import GovernanceStore

from .conftest import CLUSTER, SPE, STAKES, VALIDATORS, cancel, make_proposal, vote


def test_reopen_loses_nothing(voting, audits):
    store, p = voting
    vote(store, p.id, VALIDATORS[:5], "yes", 41)
    vote(store, p.id, VALIDATORS[5:7], "no", 42)
    vote(store, p.id, VALIDATORS[5:6], "yes", 43)
    other = make_proposal(audits["other"], id="OTHER-1")
    store.create_proposal(other, 44)
    cancel(store, other.id, 45)
    dump, record, clock = store.dump(), store.record(), store.clock
    ev = store.evaluation()
    path = store.path
    store.close()
    again = GovernanceStore(path)
    assert again.dump() == dump and again.record() == record and again.clock == clock == 45
    ev2 = again.evaluation()
    for pid in (p.id, other.id):
        assert ev2.view(pid).transitions == ev.view(pid).transitions
    assert again.tally(p.id) == store_tally(ev, p.id)
    assert again.schedule().statuses(90) == ev.statuses(90)
    assert again.cluster == CLUSTER and again.slots_per_epoch == SPE
    again.close()


def store_tally(ev, pid):
    return ev.tally_at(pid)


def test_two_connections_see_each_others_writes(voting):
    store, p = voting
    other = GovernanceStore(store.path)
    src = other.activation_source()
    assert src.statuses(90) == {}
    vote(store, p.id, VALIDATORS[:7], "yes", 41)
    assert p.module_sha256 in src.statuses(90)  # re-evaluated after the other connection's commit
    other.close()


@pytest.mark.parametrize("sql", [
    "UPDATE ballots SET choice = 'no'",
    "DELETE FROM ballots",
    "UPDATE stakes SET stake = '1'",
    "DELETE FROM stakes",
    "UPDATE snapshots SET total = '1'",
    "DELETE FROM snapshots",
    "DELETE FROM proposals",
    "UPDATE proposals SET body = '{}'",
    "UPDATE proposals SET opened_slot = 41",
    "UPDATE proposals SET total_stake = '5'",
])
def test_append_only_is_enforced_by_the_schema(voting, sql):
    store, p = voting
    vote(store, p.id, VALIDATORS[:1], "yes", 41)
    before = store.dump()
    with pytest.raises(sqlite3.DatabaseError, match="append-only|never deleted|write-once"):
        store.db.execute(sql)
    assert store.dump() == before


def test_a_failed_write_leaves_nothing(store):
    """A snapshot whose 5th row fails to insert: no snapshot row, no stake rows, clock unchanged."""
    bad = VALIDATORS[4].pubkey
    store.db.execute(f"CREATE TEMP TRIGGER boom BEFORE INSERT ON stakes WHEN NEW.identity = '{bad}' "
                     "BEGIN SELECT RAISE(ABORT, 'disk on fire'); END")
    before = store.dump()
    with pytest.raises(sqlite3.DatabaseError, match="disk on fire"):
        store.record_snapshot(StakeTable({k.pubkey: 5 for k in VALIDATORS}), 10, epoch=2)
    assert store.dump() == before and store.snapshot(2) is None and store.clock == 0
    store.db.execute("DROP TRIGGER boom")
    store.record_snapshot(StakeTable({k.pubkey: 5 for k in VALIDATORS}), 10, epoch=2)
    assert store.snapshot(2).total == 50


def test_time_does_not_go_backwards(voting, audits):
    store, p = voting
    with pytest.raises(GovernanceError, match="does not go backwards"):
        store.create_proposal(make_proposal(audits["other"], id="O"), 39)
    with pytest.raises(GovernanceError, match="does not go backwards"):
        store.record_snapshot(STAKES, 10, epoch=5)
    assert store.clock == 40


def test_reopen_checks_cluster_and_file(tmp_path, voting):
    store, _ = voting
    with pytest.raises(GovernanceError, match="governance of cluster 'test-cluster', not 'x'"):
        GovernanceStore(store.path, cluster="x")
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database at all" * 10)
    with pytest.raises(GovernanceError, match="not a governance store"):
        GovernanceStore(junk)
    with pytest.raises(GovernanceError, match="give a cluster id"):
        GovernanceStore(tmp_path / "new.sqlite")


def test_snapshot_rules(store):
    with pytest.raises(SnapshotError, match="names no epoch"):
        store.record_snapshot(STAKES, 0)
    with pytest.raises(SnapshotError, match="no stake"):
        store.record_snapshot(StakeTable({}), 0, epoch=3)
    with pytest.raises(SnapshotError, match="is for epoch 4, not 3"):
        store.record_snapshot(STAKES.with_epoch(4), 0, epoch=3)
    store.record_snapshot(STAKES.with_epoch(4), 0)
    assert store.snapshot(4) == STAKES.with_epoch(4)


def test_in_memory_copy_is_independent(voting, audits):
    store, p = voting
    copy = store.copy_in_memory()
    vote(copy, p.id, VALIDATORS[:7], "yes", 41)
    assert copy.state(p.id, 80) is State.SCHEDULED
    assert store.state(p.id, 80) is State.DEFEATED  # the file is untouched
