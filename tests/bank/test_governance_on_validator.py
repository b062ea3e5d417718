"""Governance on the validator: the ML module goes from proposal to active through transactions, and the
trading agent starts working at the activation slot without a restart (sbpfunc/bank/governance_program.py)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from solders.compute_budget import set_compute_unit_limit
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.system_program import CreateAccountParams, TransferParams, create_account, transfer
from solders.transaction import Transaction, VersionedTransaction

from sbpfunc.bank import Bank, MemoryStore, SqliteStore
from sbpfunc.bank.governance_program import (
    GOVERNANCE_PROGRAM_ID,
    GovernanceErrorCode,
    cast_ballot_ix,
    close_buffer_ix,
    create_proposal_ix,
    open_voting_ix,
    write_chunks,
)
from sbpfunc.governance.audit import audit_module
from sbpfunc.governance.ballot import Ballot
from sbpfunc.governance.encoding import Keypair as GovKeypair
from sbpfunc.governance.proposal import Proposal, State
from sbpfunc.governance.stake import StakeTable
from sbpfunc.runtime.accounts import Account
from sbpfunc.syscalls.modules import load_module

ROOT = Path(__file__).resolve().parents[2]
GOV = ROOT / "governance"
ML = ROOT / "sbpfunc" / "modules" / "ml.py"
EXAMPLE = json.loads((ROOT / "examples" / "ml_agent.json").read_text())
AGENT_ID = Pubkey.from_string(next(iter(EXAMPLE["programs"])))
SOL = 1_000_000_000
SPE = 16  # slots per epoch
VOTING_START, VOTING_END, ACTIVATION = 2, 20, 30  # activation lands on the epoch boundary at slot 32
VOTERS = [GovKeypair.load(GOV / "keys" / f"validator-{i:02d}.json") for i in range(1, 21)]


@pytest.fixture(scope="module")
def audit() -> dict:
    report = audit_module(ML)
    assert report.passed, report.to_text()
    return report.to_dict()


def make_bank(store=None) -> Bank:
    bank = Bank(store, slots_per_epoch=SPE, programs=[(AGENT_ID, (ROOT / "fixtures" / "ml_trading_agent.so")
                                                        .read_bytes())],
                modules=[load_module(ML)], stake_table=StakeTable.load(GOV / "stakes.toml"))
    for a in EXAMPLE["accounts"]:
        bank.set_account(Pubkey.from_string(a["pubkey"]), Account(a["lamports"], bytearray.fromhex(a["data"]),
                                                                  Pubkey.from_string(a["owner"]), a["executable"]))
    return bank


def proposal_toml(bank: Bank, **kw) -> bytes:
    p = Proposal.load(GOV / "ml-activate.toml")
    p = dataclasses.replace(p, cluster=str(bank.genesis_hash), slots_per_epoch=SPE, voting_start=VOTING_START,
                            voting_end=VOTING_END, activation_slot=ACTIVATION, **kw)
    return p.to_toml().encode()


def send(bank: Bank, payer: Keypair, ixs, signers=(), v0=False):
    if v0:
        msg = MessageV0.try_compile(payer.pubkey(), ixs, [], bank.latest_blockhash)
        tx = VersionedTransaction(msg, [payer, *signers])
    else:
        tx = Transaction([payer, *signers], Message(ixs, payer.pubkey()), bank.latest_blockhash)
    assert len(bytes(tx)) <= 1232, len(bytes(tx))
    return bank.process_transaction(tx)


def stage(bank: Bank, payer: Keypair, payload: bytes) -> Keypair:
    """A governance buffer account holding `payload` (created, then written in chunks)."""
    buf = Keypair()
    r = send(bank, payer, [create_account(CreateAccountParams(
        from_pubkey=payer.pubkey(), to_pubkey=buf.pubkey(), lamports=bank.minimum_balance(len(payload)),
        space=len(payload), owner=GOVERNANCE_PROGRAM_ID))], [buf])
    assert r.success, r.logs
    for ix in write_chunks(buf.pubkey(), payload):
        r = send(bank, payer, [ix], [buf])
        assert r.success, r.logs
    assert bytes(bank.get_account(buf.pubkey()).data) == payload
    return buf


def run_agent(bank: Bank, payer: Keypair):
    ix = EXAMPLE["instructions"][0]
    agent = Instruction(AGENT_ID, bytes.fromhex(ix["data"]),
                        [AccountMeta(Pubkey.from_string(m["pubkey"]), m["is_signer"], m["is_writable"])
                         for m in ix["accounts"]])
    bank.advance_slot()  # a fresh blockhash: the same transaction is not "already processed"
    return send(bank, payer, [set_compute_unit_limit(EXAMPLE["compute_unit_limit"]), agent], v0=True)


def custom(r, code: int):
    return r.err == {"InstructionError": [0, {"Custom": code}]}


def test_ml_module_activated_by_governance_transactions(audit):
    bank = make_bank()
    gov = bank.governance
    payer = Keypair()
    bank.airdrop(payer.pubkey(), 100 * SOL)
    assert GOVERNANCE_PROGRAM_ID in bank.builtins and bank.get_account(GOVERNANCE_PROGRAM_ID).executable
    assert bank.active_modules() == []
    assert gov.snapshot(0) is not None and gov.snapshot(0).total == StakeTable.load(GOV / "stakes.toml").total

    # Before activation the agent fails: its SBPFunc is known but not active.
    r = run_agent(bank, payer)
    assert r.processed and r.err is not None
    assert any("is not active at slot" in line for line in r.logs), r.logs

    # Create the proposal from its TOML staged in a buffer.
    toml_buf = stage(bank, payer, proposal_toml(bank))
    r = send(bank, payer, [create_proposal_ix(toml_buf.pubkey())])
    assert r.success, r.logs
    assert any("proposal SBPF-0001-ml created" in line for line in r.logs)
    assert gov.state("SBPF-0001-ml") is State.DRAFT

    # A second create of the same id is refused with a reason, and leaves governance unchanged.
    before = gov.dump()
    bank.advance_slot()  # a new blockhash: not the same transaction again
    r = send(bank, payer, [create_proposal_ix(toml_buf.pubkey())])
    assert custom(r, GovernanceErrorCode.ProposalRejected)
    assert any("governance: proposal id 'SBPF-0001-ml' is taken" in line for line in r.logs), r.logs
    assert gov.dump() == before

    # Opening without an audit report is refused; with the audit report (staged) it opens.
    r = send(bank, payer, [open_voting_ix("SBPF-0001-ml", None)])
    assert custom(r, GovernanceErrorCode.AuditRequired), r.logs
    bank.advance_slot(VOTING_START - bank.slot)
    audit_buf = stage(bank, payer, json.dumps(audit).encode())
    r = send(bank, payer, [open_voting_ix("SBPF-0001-ml", audit_buf.pubkey())])
    assert r.success, r.logs
    assert gov.state("SBPF-0001-ml") is State.VOTING
    for buf in (toml_buf, audit_buf):  # buffers give their rent back
        assert send(bank, payer, [close_buffer_ix(buf.pubkey(), payer.pubkey())], [buf]).success
        assert bank.get_account(buf.pubkey()) is None

    pid, sha = "SBPF-0001-ml", gov.proposal("SBPF-0001-ml").proposal.module_sha256
    bank.advance_slot()
    slot = bank.slot

    # A ballot with a bad signature: Custom(BallotRejected), reason logged.
    good = Ballot.sign(VOTERS[0], gov.cluster, pid, sha, "yes", slot)
    forged = dataclasses.replace(good, choice=good.choice.__class__("no"))
    r = send(bank, payer, [cast_ballot_ix(forged)])
    assert custom(r, GovernanceErrorCode.BallotRejected)
    assert any("ballot rejected (bad-signature)" in line for line in r.logs), r.logs

    # Atomicity: a valid ballot followed by a failing instruction leaves governance unchanged.
    before = gov.dump()
    r = send(bank, payer, [cast_ballot_ix(good), transfer(TransferParams(
        from_pubkey=payer.pubkey(), to_pubkey=Keypair().pubkey(), lamports=10_000 * SOL))])
    assert r.processed and r.err is not None and r.err["InstructionError"][0] == 1
    assert gov.dump() == before
    assert gov.tally(pid) is None or gov.tally(pid).yes == 0

    # Simulation never writes governance either.
    sim = bank.simulate_transaction(Transaction([payer], Message([cast_ballot_ix(good)], payer.pubkey()),
                                                bank.latest_blockhash))
    assert sim.success, sim.logs
    assert gov.dump() == before

    # Every test validator votes yes, four ballots per transaction; anyone pays the fee.
    ballots = [Ballot.sign(kp, gov.cluster, pid, sha, "yes", slot) for kp in VOTERS]
    for i in range(0, len(ballots), 4):
        r = send(bank, payer, [cast_ballot_ix(b) for b in ballots[i:i + 4]], v0=bool(i % 8))
        assert r.success, r.logs
    assert gov.tally(pid).yes == gov.snapshot(0).total

    # A ballot replayed: refused.
    r = send(bank, payer, [cast_ballot_ix(ballots[0])])
    assert custom(r, GovernanceErrorCode.BallotRejected) and any("(duplicate)" in line for line in r.logs)

    # Past voting end: Scheduled; the agent still fails until the activation slot (epoch boundary 32).
    bank.advance_slot(VOTING_END - bank.slot)
    assert gov.state(pid, bank.slot) is State.SCHEDULED
    bank.advance_slot(31 - bank.slot - 1)
    r = run_agent(bank, payer)  # runs at slot 31
    assert bank.slot == 31 and r.err is not None and bank.active_modules() == []
    assert any("is not active at slot 31" in line for line in r.logs), r.logs

    r = run_agent(bank, payer)  # slot 32: active, no restart
    assert bank.slot == 32 and bank.active_modules() == ["ml"]
    assert r.success, r.logs
    assert any(line.startswith("Program log: AI prediction:") for line in r.logs), r.logs
    assert gov.state(pid, bank.slot) is State.ACTIVE


def test_governance_persists_with_the_ledger(tmp_path, audit):
    bank = make_bank(SqliteStore(tmp_path / "ledger"))
    payer = Keypair()
    bank.airdrop(payer.pubkey(), 10 * SOL)
    buf = stage(bank, payer, proposal_toml(bank))
    assert send(bank, payer, [create_proposal_ix(buf.pubkey())]).success
    bank.advance_slot(SPE + 1)
    dump = bank.governance.dump()
    bank.store.close()
    bank.governance.close()

    again = Bank(SqliteStore(tmp_path / "ledger"), modules=[load_module(ML)])  # no --stake-table needed
    assert again.governance is not None and again.governance.dump() == dump
    assert again.governance.state("SBPF-0001-ml") is not None
    assert again.governance.snapshot(1) is not None
    again.store.close()
    again.governance.close()

    fresh = make_bank(SqliteStore(tmp_path / "ledger", reset=True))  # --reset: governance starts over too
    assert fresh.governance.proposals() == []


def test_without_stake_table_modules_stay_statically_active():
    bank = Bank(modules=[load_module(ML)])
    assert bank.governance is None and GOVERNANCE_PROGRAM_ID not in bank.builtins
    assert bank.active_modules() == ["ml"]
    bank = Bank(MemoryStore())
    assert bank.governance is None and bank.active_modules() == []


def test_cli_stake_table_errors_are_one_line(tmp_path, capsys):
    from sbpfunc.cli import main

    bad = tmp_path / "stakes.toml"
    bad.write_text('[[validator]]\nidentity = "nope"\nstake = 1\n')
    assert main(["validator", "--stake-table", str(bad), "--rpc-port", "0"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err

    Bank(SqliteStore(tmp_path / "ledger")).store.close()  # a ledger created without a stake table
    assert main(["validator", "--ledger", str(tmp_path / "ledger"), "--stake-table",
                 str(GOV / "stakes.toml"), "--rpc-port", "0"]) == 1
    assert "--stake-table applies at genesis" in capsys.readouterr().err
