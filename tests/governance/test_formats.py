"""Encodings and fixed file formats: base58, Solana CLI keypairs, stake tables, proposals, ballots."""

from __future__ import annotations

import json

import mmh3
import pytest
from solders.keypair import Keypair as SoldersKeypair
from solders.pubkey import Pubkey

from sbpfunc.governance.ballot import BALLOT_PREFIX, Ballot, Choice, ballot_message
from sbpfunc.governance.encoding import Keypair, b58decode, b58encode, dump_toml
from sbpfunc.governance.errors import BallotRejected, GovernanceError
from sbpfunc.governance.proposal import THRESHOLD_PRESETS, Kind, Proposal, syscall_key
from sbpfunc.governance.stake import StakeTable, epoch_of, next_epoch_boundary

from .conftest import AUTHOR, CLUSTER, COLLIDING, STAKES, VALIDATORS, key_for, make_proposal


@pytest.mark.parametrize("raw", [b"", b"\0", b"\0\0\1", bytes(range(32)), b"\xff" * 64])
def test_base58_roundtrip(raw):
    assert b58decode(b58encode(raw)) == raw


def test_base58_matches_solana():
    kp = SoldersKeypair()
    assert b58encode(bytes(kp.pubkey())) == str(kp.pubkey())
    assert Pubkey.from_string(b58encode(bytes(range(32)))) == Pubkey(bytes(range(32)))
    with pytest.raises(GovernanceError, match="bad character"):
        b58decode("0OIl")
    with pytest.raises(GovernanceError, match="expected 32"):
        b58decode("abc", 32)


def test_keypair_file_is_the_solana_cli_format(tmp_path):
    sk = SoldersKeypair()
    path = tmp_path / "k.json"
    path.write_text(json.dumps(list(bytes(sk))))  # what `solana-keygen new -o` writes
    kp = Keypair.load(path)
    assert kp.pubkey == str(sk.pubkey())
    assert SoldersKeypair.from_bytes(bytes(json.loads(kp.to_json()))).pubkey() == sk.pubkey()
    msg = b"hello"
    assert kp.sign(msg) == bytes(sk.sign_message(msg))


@pytest.mark.parametrize("content,match", [
    ("[1, 2, 3]", "64 bytes"), ("not json", "not JSON"), (json.dumps([0] * 64), "does not match"),
    (json.dumps([256] + [0] * 63), "64 bytes")])
def test_bad_keypair_files(tmp_path, content, match):
    p = tmp_path / "k.json"
    p.write_text(content)
    with pytest.raises(GovernanceError, match=match):
        Keypair.load(p)


def test_stake_table_toml_roundtrip(tmp_path):
    t = StakeTable(dict(STAKES.stakes), epoch=3)
    p = tmp_path / "s.toml"
    p.write_text(t.to_toml("header"))
    back = StakeTable.load(p)
    assert back == t and back.total == 1000 and back.epoch == 3 and len(back) == 10


@pytest.mark.parametrize("toml,match", [
    ('[[validator]]\nidentity = "x"\nstake = 1\n', "base58"),
    (f'[[validator]]\nidentity = "{VALIDATORS[0].pubkey}"\nstake = -1\n', "non-negative"),
    (f'[[validator]]\nidentity = "{VALIDATORS[0].pubkey}"\nstake = 1.5\n', "non-negative integer"),
    (f'[[validator]]\nidentity = "{VALIDATORS[0].pubkey}"\n', "missing stake"),
    (f'[[validator]]\nidentity = "{VALIDATORS[0].pubkey}"\nstake = 1\nname = "a"\n', "unknown name"),
    (f'[[validator]]\nidentity = "{VALIDATORS[0].pubkey}"\nstake = 1\n' * 2, "listed twice"),
    ('foo = 1\n', "unknown key"),
    ('validator = 3\n', "array of tables"),
])
def test_bad_stake_tables(tmp_path, toml, match):
    p = tmp_path / "s.toml"
    p.write_text(toml)
    with pytest.raises(GovernanceError, match=match):
        StakeTable.load(p)


def test_epochs():
    assert epoch_of(0, 32) == 0 and epoch_of(31, 32) == 0 and epoch_of(32, 32) == 1
    assert next_epoch_boundary(0, 32) == 0 and next_epoch_boundary(1, 32) == 32 and next_epoch_boundary(64, 32) == 64


def test_toml_writer_escapes():
    import tomllib

    doc = {"a": 'q"uote\\back\nline\x01', "b": [1, 2], "t": {"x": True, "y": None}, "arr": [{"k": "v"}, {"k": "w"}]}
    back = tomllib.loads(dump_toml(doc))
    assert back == {"a": doc["a"], "b": [1, 2], "t": {"x": True}, "arr": [{"k": "v"}, {"k": "w"}]}


def test_proposal_toml_roundtrip(tmp_path, audits):
    p = make_proposal(audits["toy"], epoch_boundary=True, threshold_pct=95, title="t")
    f = tmp_path / "p.toml"
    f.write_text(p.to_toml("a proposal", module_path="toy.py"))
    back = Proposal.load(f)
    assert back == p and back.digest() == p.digest()
    assert back.module_path == str((tmp_path / "toy.py").resolve())


def test_threshold_presets(tmp_path, audits):
    p = make_proposal(audits["toy"])
    text = p.to_toml().replace("threshold_pct = 67", 'threshold = "core"')
    f = tmp_path / "p.toml"
    f.write_text(text)
    assert Proposal.load(f).threshold_pct == 95 == THRESHOLD_PRESETS["core"]
    assert make_proposal(audits["toy"]).threshold_pct == 67  # the default
    f.write_text(text.replace('"core"', '"nope"'))
    with pytest.raises(GovernanceError, match="unknown threshold preset"):
        Proposal.load(f)


@pytest.mark.parametrize("changes,match", [
    ({"voting_end": 40}, "end after it starts"),
    ({"activation_slot": 79}, "before voting ends"),
    ({"threshold_pct": 49}, "outside 50"),
    ({"threshold_pct": 100}, "outside 50"),
    ({"id": "has space"}, "proposal id"),
    ({"cluster": "a b"}, "cluster id"),
    ({"module_sha256": "abc"}, "SHA-256"),
    ({"author": "nope"}, "base58"),
    ({"functions": ()}, "at least one function"),
    ({"kind": "upgrade"}, "names the module hash it `replaces`"),
    ({"replaces": "0" * 64}, "only an upgrade"),
    ({"deprecation_slots": 5}, "only a deactivation"),
    ({"kind": "bogus"}, "bogus"),
])
def test_proposal_validation(audits, changes, match):
    with pytest.raises((GovernanceError, ValueError), match=match):
        make_proposal(audits["toy"], **changes)


def test_proposal_kinds(audits):
    d = make_proposal(audits["toy"], kind="deactivate")
    assert d.kind is Kind.DEACTIVATE and d.deprecation_slots == 32 and not d.needs_audit and d.target == d.module_sha256
    u = make_proposal(audits["toy2"], kind="upgrade", replaces=audits["toy"]["module"]["sha256"])
    assert u.target == audits["toy"]["module"]["sha256"] and u.needs_audit


def test_murmur3_ids_match_the_vm():
    from sbpfunc.vm.executable import hash_symbol_name

    for name in ("sol_log_", "entrypoint", "toy_scale_add", *COLLIDING):
        assert syscall_key(name) == hash_symbol_name(name) == mmh3.hash(name.encode(), 0, signed=False)
    assert syscall_key(COLLIDING[0]) == syscall_key(COLLIDING[1])


# --- ballots --------------------------------------------------------------------------------------
def test_ballot_message_layout():
    sha = "ab" * 32
    msg = ballot_message("c1", "P-1", sha, "yes", 0x0102)
    assert msg == (BALLOT_PREFIX + b"\x02\x00c1" + b"\x03\x00P-1" + bytes.fromhex(sha) + b"\x01"
                   + (0x0102).to_bytes(8, "little"))
    assert ballot_message("c1", "P-1", sha, "no", 1)[-9] == 0
    assert ballot_message("c1", "P-1", sha, "abstain", 1)[-9] == 2
    # length prefixes keep fields apart: ("c1", "P-1") and ("c1P", "-1") differ
    assert ballot_message("c1P", "-1", sha, "yes", 1) != ballot_message("c1", "P-1", sha, "yes", 1)


def test_ballot_signature_binds_every_field():
    kp = VALIDATORS[0]
    b = Ballot.sign(kp, CLUSTER, "P-1", "cd" * 32, Choice.YES, 50)
    assert b.signature_valid()
    from dataclasses import replace

    for change in ({"cluster": "other"}, {"proposal": "P-2"}, {"module_sha256": "ce" * 32},
                   {"choice": Choice.NO}, {"slot": 51}, {"voter": VALIDATORS[1].pubkey},
                   {"signature": bytes(64)}):
        assert not replace(b, **change).signature_valid(), change


def test_ballot_json_roundtrip_and_malformed(tmp_path):
    b = Ballot.sign(VALIDATORS[0], CLUSTER, "P-1", "cd" * 32, "abstain", 7)
    f = tmp_path / "b.json"
    f.write_text(b.to_json())
    assert Ballot.load(f) == b
    d = b.to_dict()
    for bad in ({**d, "format": "x"}, {**d, "choice": "maybe"}, {**d, "slot": -1}, {**d, "slot": True},
                {**d, "extra": 1}, {k: v for k, v in d.items() if k != "voter"}, {**d, "signature": "abc"},
                {**d, "module_sha256": "zz"}, [1, 2]):
        with pytest.raises(BallotRejected) as e:
            Ballot.from_dict(bad)
        assert e.value.code == "malformed"
    f.write_text("{")
    with pytest.raises(BallotRejected, match="not JSON"):
        Ballot.load(f)


def test_example_keys_are_the_shipped_ones():
    shipped = Keypair.load(__import__("pathlib").Path(__file__).parents[2] / "governance/keys/validator-01.json")
    assert shipped.pubkey == key_for("validator-01").pubkey
    assert Keypair.load(__import__("pathlib").Path(__file__).parents[2] / "governance/keys/author.json").pubkey \
        == AUTHOR.pubkey
