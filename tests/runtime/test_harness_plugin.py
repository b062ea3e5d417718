"""The `harness` fixture from sbpfunc's pytest plugin, used the way a program's test suite would."""

from __future__ import annotations

from pathlib import Path

from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

ROOT = Path(__file__).resolve().parents[2]


def test_plugin_fixture_runs_a_program(harness):
    pid = Pubkey.new_unique()
    harness.add_program(pid, ROOT / "fixtures/hello.so")
    res = harness.process_instruction(Instruction(pid, b"", []), [])
    assert res.success and res.error is None
    assert res.logs[0] == f"Program {pid} invoke [1]"
    assert "Program log: Hello, sbpfunc!" in res.logs
    assert res.compute_units_consumed == 105


def test_failed_instruction_returns_pre_state(harness):
    pid = Pubkey.new_unique()
    harness.add_program(pid, ROOT / "fixtures/readonly_write.so")
    key = Pubkey.new_unique()
    acct = Account(1_000_000, bytes(8), pid, False, 0)
    res = harness.process_instruction(Instruction(pid, b"", [AccountMeta(key, False, False)]), [(key, acct)])
    assert not res.success and res.error.kind == "ReadonlyDataModified"
    assert res.account(key) == acct
