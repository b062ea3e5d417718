"""The governance command line and dry-runs: fixed file formats in, documented outputs and exit
codes out; bad input is one line on stderr, never a traceback."""

from __future__ import annotations

import hashlib
import json
import shutil
import time

import pytest

from sbpfunc.asm import assemble
from sbpfunc.cli import main
from sbpfunc.governance.ballot import Ballot
from sbpfunc.governance.encoding import Keypair
from sbpfunc.governance.proposal import Proposal
from sbpfunc.governance.stake import StakeTable

from .conftest import CLUSTER, OUTSIDER, ROOT, SPE, STAKES, VALIDATORS, make_proposal

GOV = ROOT / "governance"
ML = ROOT / "sbpfunc" / "modules" / "ml.py"
USES_TOY = assemble("entrypoint:\n    call toy_scale_add\n    exit\n").to_elf()
PLAIN = assemble("entrypoint:\n    call sol_log_64_\n    exit\n").to_elf()


def run(args, capsys):
    rc = main([str(a) for a in args])
    out = capsys.readouterr()
    return rc, out.out, out.err


# --- the shipped ML proposal ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shipped():
    if not ML.exists():
        pytest.skip("sbpfunc/modules/ml.py is not there yet")
    p = Proposal.load(GOV / "ml-activate.toml")
    actual = hashlib.sha256(ML.read_bytes()).hexdigest()
    assert p.module_sha256 == actual, ("governance/ml-activate.toml pins an older ml.py: rerun "
                                       "`.venv/bin/python governance/make_examples.py`")
    return p


def expected_tally():
    from importlib.util import module_from_spec, spec_from_file_location

    spec = spec_from_file_location("make_examples", GOV / "make_examples.py")
    mod = module_from_spec(spec)
    spec.loader.exec_module(mod)
    latest = {}
    for n, choice, slot in mod.VOTES:
        latest[n] = choice
    stake = {n: mod.STAKES_SOL[n - 1] * mod.LAMPORTS for n in range(1, 21)}
    sums = {c: sum(stake[n] for n, ch in latest.items() if ch == c) for c in ("yes", "no", "abstain")}
    return sums, sum(stake.values())


def test_shipped_ml_proposal_dry_run(shipped, capsys):
    t0 = time.perf_counter()
    rc, out, err = run(["governance", "dry-run", GOV / "ml-activate.toml", "--stakes", GOV / "stakes.toml",
                        "--ballots", GOV / "ballots", "--programs", ROOT / "fixtures", "--json"], capsys)
    elapsed = time.perf_counter() - t0
    print(f"dry-run of the shipped ML proposal (in process, with --programs fixtures): {elapsed:.2f} s")
    assert rc == 0, err
    res = json.loads(out)
    sums, total = expected_tally()
    assert res["state"] == "Active" and res["succeeds"] is True
    assert res["activation_slot"] == 432_000  # first epoch boundary at or after slot 216000
    assert (res["yes_stake"], res["no_stake"], res["abstain_stake"], res["total_stake"]) == \
        (sums["yes"], sums["no"], sums["abstain"], total)
    assert res["absent_stake"] == total - sum(sums.values())
    assert res["rejected_ballots"] == [] and res["accepted_ballots"] == 17
    assert res["audit"]["passed"] is True and res["audit"]["module_sha256"] == shipped.module_sha256
    states = [r["state"] for r in res["timeline"]]
    assert states[0] == "Draft" and states[-3:] == ["Succeeded", "Scheduled", "Active"]
    assert sum(1 for r in res["timeline"] if " votes " in r["note"] or "changes its vote" in r["note"]) == 17
    progs = {p["program"]: p for p in res["programs"]}
    assert progs["ml_trading_agent.so"]["changes"] == [{"slot": 432_000, "change": "newly loads"}]
    assert progs["ml_trading_agent_pure.so"]["summary"] == "unchanged (loads)"
    assert progs["hello.so"]["changes"] == []


def test_shipped_ml_proposal_text(shipped, capsys):
    rc, out, _ = run(["governance", "dry-run", GOV / "ml-activate.toml", "--stakes", GOV / "stakes.toml",
                      "--ballots", GOV / "ballots"], capsys)
    assert rc == 0
    assert "audit: PASSED for sha256 " + shipped.module_sha256 in out
    assert "result: Active — activation slot 432000 (epoch 1)" in out
    assert "changes its vote from no to yes" in out
    assert "rejected ballots: none" in out
    header = next(line for line in out.splitlines() if "yes stake" in line)
    assert header.split() == ["slot", "state", "yes", "stake", "no", "stake", "abstain", "stake", "absent", "stake",
                              "yes", "%", "note"]


def test_dry_run_reports_rejected_ballots(shipped, tmp_path, capsys):
    d = tmp_path / "ballots"
    shutil.copytree(GOV / "ballots", d)
    sha, pid = shipped.module_sha256, shipped.id
    (d / "outsider.json").write_text(Ballot.sign(OUTSIDER, shipped.cluster, pid, sha, "no", 5_000).to_json())
    late = Keypair.load(GOV / "keys" / "validator-20.json")
    (d / "late.json").write_text(Ballot.sign(late, shipped.cluster, pid, sha, "no", 216_000).to_json())
    (d / "other-cluster.json").write_text(Ballot.sign(late, "mainnet", pid, sha, "no", 5_000).to_json())
    forged = json.loads((d / "validator-01-slot-001200.json").read_text())
    forged["choice"], forged["slot"] = "no", 200_000
    (d / "forged.json").write_text(json.dumps(forged))
    (d / "broken.json").write_text("{")
    rc, out, _ = run(["governance", "dry-run", GOV / "ml-activate.toml", "--stakes", GOV / "stakes.toml",
                      "--ballots", d, "--json"], capsys)
    assert rc == 0
    res = json.loads(out)
    reasons = {r["source"]: (r["code"], r["reason"]) for r in res["rejected_ballots"]}
    assert set(reasons) == {"outsider.json", "late.json", "other-cluster.json", "forged.json", "broken.json"}
    assert reasons["outsider.json"][0] == "not-a-validator"
    assert reasons["late.json"][0] == "closed"
    assert reasons["other-cluster.json"][0] == "wrong-cluster"
    assert reasons["forged.json"][0] == "bad-signature"
    assert reasons["broken.json"][0] == "malformed"
    assert res["state"] == "Active" and res["accepted_ballots"] == 17


def test_dry_run_defeated_says_why(shipped, tmp_path, capsys):
    d = tmp_path / "ballots"
    d.mkdir()
    for f in sorted((GOV / "ballots").glob("*.json"))[:5]:
        shutil.copy(f, d)
    rc, out, _ = run(["governance", "dry-run", GOV / "ml-activate.toml", "--stakes", GOV / "stakes.toml",
                      "--ballots", d, "--json"], capsys)
    res = json.loads(out)
    assert rc == 2 and res["state"] == "Defeated" and res["activation_slot"] is None
    assert "not above the 67% threshold" in res["why"]


# --- toy proposals through the CLI -------------------------------------------------------------------
@pytest.fixture
def files(tmp_path, audits, modules_dir):
    keys = tmp_path / "keys"
    keys.mkdir()
    for i, kp in enumerate(VALIDATORS, 1):
        (keys / f"v{i:02d}.json").write_text(kp.to_json())
    from .conftest import AUTHOR

    (keys / "author.json").write_text(AUTHOR.to_json())
    (tmp_path / "stakes.toml").write_text(STAKES.with_epoch(1).to_toml())
    (tmp_path / "toy.toml").write_text(make_proposal(audits["toy"]).to_toml(module_path=str(modules_dir / "toy.py")))
    progs = tmp_path / "programs"
    progs.mkdir()
    (progs / "uses_toy.so").write_bytes(USES_TOY)
    (progs / "plain.so").write_bytes(PLAIN)
    (progs / "broken.so").write_bytes(b"not an elf")
    return tmp_path


def test_ballot_command_writes_the_fixed_format(files, capsys):
    out_file = files / "b.json"
    rc, out, err = run(["governance", "ballot", "--keypair", files / "keys/v01.json", "--proposal", files / "toy.toml",
                        "--choice", "yes", "--slot", 45, "-o", out_file], capsys)
    assert rc == 0, err
    d = json.loads(out_file.read_text())
    assert set(d) == {"format", "cluster", "proposal", "module_sha256", "choice", "slot", "voter", "signature"}
    assert (d["cluster"], d["proposal"], d["choice"], d["slot"], d["voter"]) == \
        (CLUSTER, "TOY-1", "yes", 45, VALIDATORS[0].pubkey)
    assert Ballot.from_dict(d).signature_valid()
    rc, _, err = run(["governance", "ballot", "--keypair", files / "keys/v01.json", "--proposal", files / "toy.toml",
                      "--choice", "maybe", "-o", out_file], capsys)
    assert rc == 1 and err.startswith("error: --choice must be yes, no or abstain") and err.count("\n") == 1


def test_full_cli_flow(files, capsys):
    db = files / "gov.sqlite"
    assert run(["governance", "init", "--db", db, "--cluster", CLUSTER, "--slots-per-epoch", SPE], capsys)[0] == 0
    rc, out, err = run(["governance", "stake", files / "stakes.toml", "--db", db, "--slot", 0], capsys)
    assert rc == 0 and "epoch 1: 10 validators, total 1000" in out, err
    rc, out, err = run(["governance", "propose", files / "toy.toml", "--db", db, "--slot", 1], capsys)
    assert rc == 0 and "created TOY-1" in out and "voting opens at slot 40 and closes at slot 80" in out, err
    ballots = []
    for i in range(1, 8):
        b = files / f"b{i}.json"
        run(["governance", "ballot", "--keypair", files / f"keys/v{i:02d}.json", "--proposal", files / "toy.toml",
             "--choice", "yes", "--slot", 45, "-o", b], capsys)
        ballots.append(b)
    bad = files / "outsider.json"
    bad.write_text(Ballot.sign(OUTSIDER, CLUSTER, "TOY-1", make_proposal_sha(files), "yes", 45).to_json())
    rc, out, _ = run(["governance", "vote", *ballots, bad, "--db", db, "--slot", 50, "--json"], capsys)
    results = json.loads(out)
    assert rc == 2 and [r["accepted"] for r in results] == [True] * 7 + [False]
    assert results[-1]["code"] == "not-a-validator"
    rc, out, _ = run(["governance", "tally", "TOY-1", "--db", db, "--json"], capsys)
    t = json.loads(out)
    assert rc == 0 and (t["state"], t["yes_stake"], t["absent_stake"], t["total_stake"], t["yes_fraction"]) == \
        ("Voting", 700, 300, 1000, "7/10")
    rc, out, _ = run(["governance", "status", "--db", db, "--slot", 90, "--json"], capsys)
    s = json.loads(out)
    assert s["proposals"][0]["state"] == "Active" and s["modules"][0]["name"] == "toy"
    rc, out, _ = run(["governance", "status", "--db", db, "--slot", 90], capsys)
    assert "TOY-1: Active" in out and "toy 1.0.0 sha256" in out
    rc, _, err = run(["governance", "cancel", "TOY-1", "--keypair", files / "keys/author.json", "--db", db,
                      "--slot", 90], capsys)
    assert rc == 1 and "only Draft, Voting or Scheduled proposals can be cancelled" in err


def make_proposal_sha(files) -> str:
    return Proposal.load(files / "toy.toml").module_sha256


def test_cli_errors_are_one_line(files, capsys):
    db = files / "missing.sqlite"
    for args in (["governance", "tally", "X", "--db", db],
                 ["governance", "dry-run", files / "nope.toml", "--stakes", files / "stakes.toml"],
                 ["governance", "dry-run", files / "toy.toml"],
                 ["governance", "stake", files / "toy.toml", "--db", db, "--slot", 0],
                 ["module", "audit", files / "nope.py"]):
        rc, out, err = run(args, capsys)
        assert rc == 1 and err.startswith("error: ") and err.count("\n") == 1, (args, err)


def test_propose_without_audit_stays_draft(files, capsys, audits):
    db = files / "g.sqlite"
    run(["governance", "init", "--db", db, "--cluster", CLUSTER, "--slots-per-epoch", SPE], capsys)
    run(["governance", "stake", files / "stakes.toml", "--db", db, "--slot", 0], capsys)
    text = (files / "toy.toml").read_text().replace("path = ", "# path = ")
    (files / "nopath.toml").write_text(text)
    rc, out, _ = run(["governance", "propose", files / "nopath.toml", "--db", db, "--slot", 1], capsys)
    assert rc == 0 and "voting not opened: no audit" in out
    report = files / "audit.json"
    report.write_text(json.dumps(audits["other"]))
    rc, _, err = run(["governance", "open", "TOY-1", "--db", db, "--slot", 2, "--audit", report], capsys)
    assert rc == 1 and "the audit report is for module sha256" in err
    report.write_text(json.dumps(audits["toy"]))
    rc, out, err = run(["governance", "open", "TOY-1", "--db", db, "--slot", 2, "--audit", report], capsys)
    assert rc == 0 and "opens at slot 40" in out, err


def test_module_audit_command(modules_dir, tmp_path, capsys):
    report = tmp_path / "r.json"
    rc, out, _ = run(["module", "audit", modules_dir / "toy.py", "-o", report], capsys)
    assert rc == 0 and "result: PASSED" in out
    assert json.loads(report.read_text())["passed"] is True
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nMODULE = 0.5\n")
    rc, out, _ = run(["module", "audit", bad, "--json"], capsys)
    res = json.loads(out)
    assert rc == 2 and res["passed"] is False
    assert {c["check"] for c in res["checks"] if not c["passed"]} == {"floats", "imports"}


def test_dry_run_programs_and_failed_audit(files, capsys, modules_dir):
    ballots = files / "ballots"
    ballots.mkdir()
    sha = make_proposal_sha(files)
    for i, kp in enumerate(VALIDATORS[:7]):
        (ballots / f"{i}.json").write_text(Ballot.sign(kp, CLUSTER, "TOY-1", sha, "yes", 41 + i).to_json())
    rc, out, err = run(["governance", "dry-run", files / "toy.toml", "--stakes", files / "stakes.toml",
                        "--ballots", ballots, "--programs", files / "programs", "--json"], capsys)
    assert rc == 0, err
    res = json.loads(out)
    assert (res["state"], res["activation_slot"], res["yes_stake"], res["total_stake"]) == ("Active", 90, 700, 1000)
    progs = {p["program"]: p for p in res["programs"]}
    assert progs["uses_toy.so"]["changes"] == [{"slot": 90, "change": "newly loads"}]
    assert progs["plain.so"]["summary"] == "unchanged (loads)"
    assert progs["broken.so"]["error"] is not None
    # the module file changed since the proposal pinned it: the audit is for another hash
    edited = files / "edited.py"
    edited.write_bytes((modules_dir / "toy.py").read_bytes() + b"\n# edited\n")
    rc, out, _ = run(["governance", "dry-run", files / "toy.toml", "--stakes", files / "stakes.toml",
                      "--ballots", ballots, "--module", edited, "--json"], capsys)
    res = json.loads(out)
    assert rc == 2 and res["state"] == "Cancelled" and res["activation_slot"] is None
    assert res["why"].startswith("cannot enter Voting: proposal TOY-1: the audit report is for module sha256")
    assert res["audit"]["passed"] is True and res["audit"]["module_sha256"] != sha


def test_dry_run_of_a_deactivation_against_a_store(files, capsys, audits):
    db = files / "g.sqlite"
    run(["governance", "init", "--db", db, "--cluster", CLUSTER, "--slots-per-epoch", SPE], capsys)
    run(["governance", "stake", files / "stakes.toml", "--db", db, "--slot", 0], capsys)
    run(["governance", "propose", files / "toy.toml", "--db", db, "--slot", 1], capsys)
    sha = make_proposal_sha(files)
    bs = []
    for i, kp in enumerate(VALIDATORS[:7]):
        f = files / f"y{i}.json"
        f.write_text(Ballot.sign(kp, CLUSTER, "TOY-1", sha, "yes", 45).to_json())
        bs.append(f)
    assert run(["governance", "vote", *bs, "--db", db, "--slot", 45], capsys)[0] == 0
    (files / "stakes3.toml").write_text(STAKES.to_toml())  # no `epoch` in the file: given on the command line
    assert run(["governance", "stake", files / "stakes3.toml", "--db", db, "--slot", 90, "--epoch", 3], capsys)[0] == 0
    off = make_proposal(audits["toy"], id="OFF", kind="deactivate", voting_start=100, voting_end=120,
                        activation_slot=130, deprecation_slots=20)
    (files / "off.toml").write_text(off.to_toml())
    ballots = files / "off-ballots"
    ballots.mkdir()
    for i, kp in enumerate(VALIDATORS[:8]):
        (ballots / f"{i}.json").write_text(Ballot.sign(kp, CLUSTER, "OFF", sha, "yes", 100 + i).to_json())
    rc, out, err = run(["governance", "dry-run", files / "off.toml", "--db", db, "--ballots", ballots,
                        "--programs", files / "programs", "--json"], capsys)
    assert rc == 0, err
    res = json.loads(out)
    assert (res["state"], res["activation_slot"], res["deactivation_slot"]) == ("Deactivated", 130, 150)
    assert res["audit"] is None and res["yes_stake"] == 800
    progs = {p["program"]: p for p in res["programs"]}
    assert progs["uses_toy.so"]["changes"] == [{"slot": 150, "change": "stops loading"}]
    assert progs["uses_toy.so"]["loads_before"] is True
    # the store itself is untouched by the dry-run
    rc, out, _ = run(["governance", "status", "--db", db, "--json"], capsys)
    assert [p["id"] for p in json.loads(out)["proposals"]] == ["TOY-1"]


def test_keygen_test_seed_matches_the_shipped_keys(tmp_path, capsys):
    out_file = tmp_path / "k.json"
    rc, out, _ = run(["governance", "keygen", "-o", out_file, "--test-seed", "validator-01"], capsys)
    assert rc == 0 and out.strip() == Keypair.load(GOV / "keys/validator-01.json").pubkey
    rc, _, err = run(["governance", "keygen", "-o", out_file], capsys)
    assert rc == 1 and "not overwriting" in err


def test_shipped_stake_table():
    t = StakeTable.load(GOV / "stakes.toml")
    assert len(t) == 20 and t.epoch == 0
    keys = {Keypair.load(f).pubkey for f in (GOV / "keys").glob("validator-*.json")}
    assert set(t.stakes) == keys


def test_dry_run_of_a_proposal_that_cannot_be_created(files, capsys):
    text = (files / "toy.toml").read_text().replace('name = "toy_scale_add"', 'name = "sol_log_"')
    (files / "bad.toml").write_text(text)
    rc, out, _ = run(["governance", "dry-run", files / "bad.toml", "--stakes", files / "stakes.toml", "--json"],
                     capsys)
    res = json.loads(out)
    assert rc == 2 and res["state"] is None and res["activation_slot"] is None
    assert res["why"] == "the proposal cannot be created: function sol_log_ is already provided by core syscall"
