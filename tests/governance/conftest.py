"""Fixtures for the governance tests: test keys, a stake table, toy modules with their audits,
proposals and stores. Everything is deterministic (keys from fixed seeds)."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest

from sbpfunc.governance.audit import audit_module
from sbpfunc.governance.ballot import Ballot, cancel_message
from sbpfunc.governance.encoding import Keypair
from sbpfunc.governance.proposal import FunctionDecl, Proposal
from sbpfunc.governance.stake import StakeTable
from sbpfunc.governance.store import GovernanceStore

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = "test-cluster"
SPE = 32  # slots per epoch

# Two names with the same murmur3-32 id (found by a birthday search; asserted in test_proposal).
COLLIDING = ("toy_fn_172366", "toy_fn_188290")


def toy_source(version: str = "1.0.0", names=("toy_scale_add",), extra: str = "", name: str = "toy") -> str:
    fns = ",\n".join(f'''
    SBPFunction({n!r},
                (pointer("out", "i32", "d.n", "write"), pointer("a", "i32", "d.n"),
                 struct("d", DIMS), scalar("bias", "i64")),
                cost="100 + d.n * 2", impl=scale_add, check=_check,
                test_vectors=(
                    TestVector({{"a": [10, -20, 30], "d": {{"n": 3, "scale": 2}}, "bias": -1}}, 0,
                               {{"out": [4, -11, 14]}}),
                    TestVector({{"a": [], "d": {{"n": 0, "scale": 2}}, "bias": 0}}, EINVAL),
                ))''' for n in names)
    return textwrap.dedent('''\
        import construct as c
        from sbpfunc.syscalls.signature import EINVAL, Module, SBPFunction, TestVector, pointer, scalar, struct

        DIMS = c.Struct("n" / c.Int32ul, "scale" / c.Int32ul)


        def _check(args):
            d = args["d"]
            if d["n"] == 0 or d["scale"] == 0:
                return EINVAL
            return None


        def scale_add(out, a, d, bias):
            return 0, {"out": [(x // d["scale"]) + bias for x in a]}
        ''') + extra + f'\n\nMODULE = Module({name!r}, {version!r}, "a test module", ({fns},\n))\n'


def key_for(name: str) -> Keypair:
    return Keypair(hashlib.sha256(b"sbpfunc-test-key:" + name.encode()).digest())


VALIDATORS = [key_for(f"validator-{i:02d}") for i in range(1, 11)]
AUTHOR = key_for("author")
OUTSIDER = key_for("outsider")
STAKES = StakeTable({kp.pubkey: 100 for kp in VALIDATORS})  # 10 x 100 = 1000


@pytest.fixture(scope="session")
def modules_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("modules")
    (d / "toy.py").write_text(toy_source())
    (d / "toy2.py").write_text(toy_source("2.0.0", ("toy_scale_add", "toy_scale_add2")))
    (d / "other.py").write_text(toy_source("1.0.0", ("other_fn",), name="other"))
    (d / "collide_a.py").write_text(toy_source("1.0.0", (COLLIDING[0],), name="ca"))
    (d / "collide_b.py").write_text(toy_source("1.0.0", (COLLIDING[1],), name="cb"))
    return d


@pytest.fixture(scope="session")
def audits(modules_dir):
    """Audit reports (dicts) by module file stem; every toy module passes."""
    out = {}
    for f in sorted(modules_dir.glob("*.py")):
        report = audit_module(f)
        assert report.passed, report.to_text()
        out[f.stem] = report.to_dict()
    return out


def make_proposal(audit: dict, **kw) -> Proposal:
    fields = dict(
        id="TOY-1", kind="activate", cluster=CLUSTER, module_name=audit["module"]["name"],
        module_version=audit["module"]["version"], module_sha256=audit["module"]["sha256"],
        functions=tuple(FunctionDecl(f["name"], f["signature"]) for f in audit["functions"]),
        author=AUTHOR.pubkey, voting_start=40, voting_end=80, activation_slot=90, slots_per_epoch=SPE,
        module_path=audit["module"]["path"])
    fields.update(kw)
    return Proposal(**fields)


def vote(store: GovernanceStore, pid: str, keys, choice: str, slot: int, *, module: str | None = None):
    r = store.proposal(pid)
    for kp in keys:
        store.cast(pid, Ballot.sign(kp, store.cluster, pid, module or r.proposal.module_sha256, choice, slot), slot)


def cancel(store: GovernanceStore, pid: str, slot: int, key: Keypair = AUTHOR) -> None:
    p = store.proposal(pid).proposal
    store.cancel(pid, slot, key.sign(cancel_message(store.cluster, pid, p.module_sha256, slot)))


@pytest.fixture
def store(tmp_path):
    s = GovernanceStore(tmp_path / "gov.sqlite", cluster=CLUSTER, slots_per_epoch=SPE)
    s.record_snapshot(STAKES, 0, epoch=1)  # voting opens at slot 40, epoch 1
    yield s
    s.close()


@pytest.fixture
def voting(store, audits):
    """A toy activation proposal, open for voting over [40, 80), activation at 90."""
    p = make_proposal(audits["toy"])
    store.create_proposal(p, 0)
    store.open_voting(p.id, 40, audits["toy"])
    return store, p
