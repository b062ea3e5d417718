"""The bank on its own: slots, epochs, the blockhash queue, the clock, statuses, simulation, persistence."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from solders.keypair import Keypair
from solders.message import Message
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction

from sbpfunc.bank import Bank, MemoryStore, SqliteStore
from sbpfunc.bank.bank import MAX_PROCESSING_AGE
from sbpfunc.runtime.sysvars import CLOCK_ID, Clock

SOL = 1_000_000_000


def send(bank, payer, to, lamports, blockhash=None):
    bh = blockhash or bank.latest_blockhash
    tx = Transaction([payer], Message([transfer(TransferParams(from_pubkey=payer.pubkey(), to_pubkey=to,
                                                               lamports=lamports))], payer.pubkey()), bh)
    return bank.process_transaction(tx)


def test_slots_epochs_and_clock():
    bank = Bank(slots_per_epoch=32, clock=lambda: 1_700_000_000)
    assert (bank.slot, bank.epoch, bank.block_height) == (0, 0, 0)
    bank.advance_slot(33)
    assert (bank.slot, bank.epoch, bank.slot_index) == (33, 1, 1)
    clock = Clock.parse(bank.get_account(CLOCK_ID).data)
    assert (clock.slot, clock.epoch, clock.leader_schedule_epoch, clock.unix_timestamp) == (33, 1, 2, 1_700_000_000)
    assert bank.sysvars.epoch_schedule().slots_per_epoch == 32


def test_blockhash_expires_after_150_newer_blockhashes():
    bank = Bank()
    a = Keypair()
    bank.airdrop(a.pubkey(), 10 * SOL)
    bh = bank.latest_blockhash
    bank.advance_slot(MAX_PROCESSING_AGE)
    assert bank.is_blockhash_valid(bh)
    assert send(bank, a, Keypair().pubkey(), SOL, bh).success
    bank.advance_slot()
    assert not bank.is_blockhash_valid(bh)
    r = send(bank, a, Keypair().pubkey(), SOL, bh)
    assert (r.processed, r.err) == (False, "BlockhashNotFound")
    assert bank.last_valid_block_height == bank.block_height + 150


def test_each_slot_has_a_new_blockhash():
    bank = Bank()
    seen = {str(bank.latest_blockhash)}
    for _ in range(5):
        bank.advance_slot()
        seen.add(str(bank.latest_blockhash))
    assert len(seen) == 6


def test_status_records_metadata():
    bank = Bank()
    a, b = Keypair(), Keypair()
    air = bank.airdrop(a.pubkey(), 10 * SOL)
    assert air.success and bank.get_balance(a.pubkey()) == 10 * SOL
    r = send(bank, a, b.pubkey(), SOL)
    st = bank.get_status(r.signature)
    assert st["err"] is None and st["fee"] == 5000 and st["computeUnitsConsumed"] == 150
    assert st["preBalances"][:2] == [10 * SOL, 0] and st["postBalances"][:2] == [9 * SOL - 5000, SOL]
    assert st["logMessages"][0].endswith("invoke [1]")
    assert bank.transaction_count == 2
    failed = send(bank, a, b.pubkey(), 100 * SOL)
    assert bank.get_status(failed.signature)["err"] == {"InstructionError": [0, {"Custom": 1}]}
    assert bank.get_balance(a.pubkey()) == 9 * SOL - 10_000


def test_rejected_transaction_is_not_recorded():
    bank = Bank()
    r = send(bank, Keypair(), Keypair().pubkey(), 1)
    assert (r.processed, r.err) == (False, "AccountNotFound")
    assert bank.get_status(r.signature) is None and bank.transaction_count == 0


def test_simulation_changes_nothing():
    bank = Bank()
    a, b = Keypair(), Keypair()
    bank.airdrop(a.pubkey(), 10 * SOL)
    tx = Transaction([a], Message([transfer(TransferParams(from_pubkey=a.pubkey(), to_pubkey=b.pubkey(),
                                                           lamports=SOL))], a.pubkey()), bank.latest_blockhash)
    sim = bank.simulate_transaction(tx)
    assert sim.success and sim.accounts[b.pubkey()].lamports == SOL
    assert bank.get_balance(b.pubkey()) == 0 and bank.get_status(tx.signatures[0]) is None
    assert bank.process_transaction(tx).success


def test_genesis_program_is_upgradeable(tmp_path):
    from pathlib import Path

    from solders.instruction import Instruction

    from sbpfunc.runtime.accounts import BPF_LOADER_UPGRADEABLE_ID
    from sbpfunc.runtime.programs import programdata_address
    elf = (Path(__file__).resolve().parents[2] / "fixtures" / "hello.so").read_bytes()
    pid = Keypair().pubkey()
    bank = Bank(programs=[(pid, elf)])
    prog = bank.get_account(pid)
    assert prog.owner == BPF_LOADER_UPGRADEABLE_ID and prog.executable
    assert bank.get_account(programdata_address(pid)).data[45:] == elf
    a = Keypair()
    bank.airdrop(a.pubkey(), SOL)
    tx = Transaction([a], Message([Instruction(pid, b"", [])], a.pubkey()), bank.latest_blockhash)
    r = bank.process_transaction(tx)
    assert r.success and "Program log: Hello, sbpfunc!" in r.logs


def test_memory_and_sqlite_store_agree(tmp_path):
    results = []
    for store in (MemoryStore(), SqliteStore(tmp_path / "ledger")):
        bank = Bank(store)
        a, b = Keypair.from_seed(bytes([1]) * 32), Keypair.from_seed(bytes([2]) * 32)
        bank.airdrop(a.pubkey(), 5 * SOL)
        send(bank, a, b.pubkey(), SOL)
        send(bank, a, b.pubkey(), 50 * SOL)
        results.append([bank.get_balance(a.pubkey()), bank.get_balance(b.pubkey()), bank.transaction_count])
    assert results[0] == results[1] == [4 * SOL - 10_000, SOL, 3]


def test_sqlite_reopen_resumes_same_state(tmp_path):
    ledger = tmp_path / "ledger"
    bank = Bank(SqliteStore(ledger), slots_per_epoch=64)
    a, b = Keypair(), Keypair()
    bank.airdrop(a.pubkey(), 5 * SOL)
    bank.advance_slot(7)
    r = send(bank, a, b.pubkey(), SOL)
    state = (bank.slot, str(bank.latest_blockhash), str(bank.genesis_hash), bank.transaction_count,
             bank.get_balance(a.pubkey()), bank.get_balance(b.pubkey()), str(bank.faucet.pubkey()))
    bank.store.close()
    again = Bank(SqliteStore(ledger), slots_per_epoch=8)  # the ledger's own epoch schedule wins
    assert (again.slot, str(again.latest_blockhash), str(again.genesis_hash), again.transaction_count,
            again.get_balance(a.pubkey()), again.get_balance(b.pubkey()), str(again.faucet.pubkey())) == state
    assert again.slots_per_epoch == 64
    assert again.get_status(r.signature)["postBalances"][1] == SOL
    # the same transaction again is rejected: its signature is in the reopened status store
    tx_again = send(again, a, b.pubkey(), SOL, blockhash=bank.latest_blockhash)
    assert (tx_again.signature, tx_again.err) == (r.signature, "AlreadyProcessed")
    again.store.close()
    fresh = Bank(SqliteStore(ledger, reset=True))
    assert fresh.slot == 0 and fresh.get_balance(a.pubkey()) == 0 and str(fresh.genesis_hash) != state[2]


def test_kill_9_after_confirmation_loses_nothing(tmp_path):
    """A child process confirms transactions one by one (printing each signature after the commit
    returns) and is killed with SIGKILL; every printed signature is in the reopened ledger."""
    ledger = tmp_path / "ledger"
    script = textwrap.dedent(f"""
        import sys
        from solders.keypair import Keypair
        from solders.message import Message
        from solders.system_program import TransferParams, transfer
        from solders.transaction import Transaction
        from sbpfunc.bank import Bank, SqliteStore
        bank = Bank(SqliteStore({str(ledger)!r}))
        a = Keypair.from_seed(bytes([5]) * 32)
        bank.airdrop(a.pubkey(), 10**12)
        i = 0
        while True:
            i += 1
            to = Keypair().pubkey()
            tx = Transaction([a], Message([transfer(TransferParams(from_pubkey=a.pubkey(), to_pubkey=to,
                              lamports=10**6 + i))], a.pubkey()), bank.latest_blockhash)
            r = bank.process_transaction(tx)
            assert r.success, r.err
            print(r.signature, to, 10**6 + i, flush=True)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    confirmed = []
    for line in proc.stdout:
        confirmed.append(line.split())
        if len(confirmed) == 40:
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait()
    bank = Bank(SqliteStore(ledger))
    for sig, to, lamports in confirmed:
        assert bank.get_status(sig)["err"] is None
        from solders.pubkey import Pubkey
        assert bank.get_balance(Pubkey.from_string(to)) == int(lamports)
