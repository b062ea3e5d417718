"""The bank against LiteSVM (Agave 4.1's SVM, via solders): the same signed transactions give the same
error, fee, logs, units and balances.

Each scenario funds the same accounts on both sides, builds its transactions with each side's own
latest blockhash (so signatures differ but nothing else does), and compares the outcome.
"""

from __future__ import annotations

import json

import pytest
from solders.account import Account as SoldersAccount
from solders.compute_budget import request_heap_frame, set_compute_unit_limit, set_compute_unit_price
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message, MessageV0
from solders.pubkey import Pubkey
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction, VersionedTransaction

from sbpfunc.bank import Bank
from sbpfunc.runtime.accounts import Account

SOL = 1_000_000_000


class Side:
    """One side of the comparison: `send(tx)` -> (err json, fee or None, logs, units)."""

    def fund(self, key: Pubkey, lamports: int) -> None: ...


class BankSide(Side):
    def __init__(self):
        self.bank = Bank()

    def fund(self, key, lamports):
        self.bank.set_account(key, Account(lamports))

    def blockhash(self):
        return self.bank.latest_blockhash

    def expire_blockhash(self):
        self.bank.advance_slot(151)

    def send(self, tx):
        r = self.bank.process_transaction(tx)
        return r.err, r.logs, r.compute_units_consumed

    def balance(self, key):
        return self.bank.get_balance(key)


class SvmSide(Side):
    def __init__(self):
        self.svm = LiteSVM()

    def fund(self, key, lamports):
        self.svm.set_account(key, SoldersAccount(lamports, b"", Pubkey.default(), False, 0))

    def blockhash(self):
        return self.svm.latest_blockhash()

    def expire_blockhash(self):
        self.svm.expire_blockhash()

    def send(self, tx):
        r = self.svm.send_transaction(tx)
        j = json.loads(r.to_json())
        if "err" in j:
            return j["err"], j["meta"]["logs"], j["meta"]["compute_units_consumed"]
        return None, j["logs"], j["compute_units_consumed"]

    def balance(self, key):
        return self.svm.get_balance(key) or 0


A = Keypair.from_seed(bytes([1]) * 32)
B = Keypair.from_seed(bytes([2]) * 32)
C = Keypair.from_seed(bytes([3]) * 32)
KEYS = [A.pubkey(), B.pubkey(), C.pubkey()]


def legacy(ixs, signers, bh, payer=None):
    payer = payer or signers[0].pubkey()
    return Transaction(signers, Message(ixs, payer), bh)


def v0(ixs, signers, bh, payer=None):
    payer = payer or signers[0].pubkey()
    return VersionedTransaction(MessageV0.try_compile(payer, ixs, [], bh), signers)


def xfer(src, dst, lamports):
    return transfer(TransferParams(from_pubkey=src.pubkey(), to_pubkey=dst.pubkey() if isinstance(dst, Keypair)
                                   else dst, lamports=lamports))


def run(side: Side, scenario) -> list:
    out = scenario(side)
    return [out, [side.balance(k) for k in KEYS]]


def s_transfer(build):
    def sc(side):
        side.fund(A.pubkey(), 10 * SOL)
        return [side.send(build([xfer(A, B, SOL)], [A], side.blockhash()))]
    return sc


def s_two_transfers_two_signers(side):
    side.fund(A.pubkey(), 10 * SOL)
    side.fund(C.pubkey(), 2 * SOL)
    return [side.send(legacy([xfer(A, B, SOL), xfer(C, B, SOL // 2)], [A, C], side.blockhash()))]


def s_instruction_fails(side):  # the fee is charged, nothing else
    side.fund(A.pubkey(), SOL)
    return [side.send(legacy([xfer(A, B, 2 * SOL)], [A], side.blockhash()))]


def s_second_ix_fails(side):  # the first transfer is rolled back
    side.fund(A.pubkey(), 3 * SOL)
    return [side.send(legacy([xfer(A, B, SOL), xfer(A, C, 5 * SOL)], [A], side.blockhash()))]


def s_rent_new_account(side):  # a new account below the rent-exempt minimum
    side.fund(A.pubkey(), SOL)
    return [side.send(legacy([xfer(A, B, 1000)], [A], side.blockhash()))]


def s_rent_payer_drained(side):  # the payer left rent-paying
    side.fund(A.pubkey(), SOL)
    return [side.send(legacy([xfer(A, B, SOL - 10_000)], [A], side.blockhash()))]


def s_drain_payer_completely_fails(side):  # can't close the fee payer (it pays the fee first)
    side.fund(A.pubkey(), SOL)
    return [side.send(legacy([xfer(A, B, SOL - 5000)], [A], side.blockhash()))]


def s_bad_signature(side):
    side.fund(A.pubkey(), 10 * SOL)
    tx = legacy([xfer(A, B, SOL)], [A], side.blockhash())
    tx = Transaction.populate(tx.message, [C.sign_message(bytes(tx.message_data()))])
    return [side.send(tx)]


def s_bad_signature_v0(side):
    side.fund(A.pubkey(), 10 * SOL)
    tx = v0([xfer(A, B, SOL)], [A], side.blockhash())
    tx = VersionedTransaction.populate(tx.message, [C.sign_message(b"not the message")])
    return [side.send(tx)]


def s_expired_blockhash(side):
    side.fund(A.pubkey(), 10 * SOL)
    bh = side.blockhash()
    side.expire_blockhash()
    return [side.send(legacy([xfer(A, B, SOL)], [A], bh))]


def s_unknown_blockhash(side):
    from solders.hash import Hash
    side.fund(A.pubkey(), 10 * SOL)
    return [side.send(legacy([xfer(A, B, SOL)], [A], Hash.new_unique()))]


def s_insufficient_funds_for_fee(side):
    side.fund(A.pubkey(), 4000)
    return [side.send(legacy([xfer(A, B, 1)], [A], side.blockhash()))]


def s_fee_payer_missing(side):
    return [side.send(legacy([xfer(A, B, 1)], [A], side.blockhash()))]


def s_fee_payer_left_rent_paying(side):
    side.fund(A.pubkey(), 890_880 + 1000)  # rent-exempt before the fee, not after
    side.fund(B.pubkey(), SOL)
    return [side.send(legacy([xfer(B, A, 1)], [A, B], side.blockhash()))]


def s_priority_fee(side):
    side.fund(A.pubkey(), 10 * SOL)
    return [side.send(legacy([set_compute_unit_price(1_000_000), xfer(A, B, SOL)], [A], side.blockhash())),
            side.send(legacy([set_compute_unit_limit(10_000), set_compute_unit_price(333_333), xfer(A, B, SOL)],
                             [A], side.blockhash()))]


def s_compute_budget_errors(side):
    side.fund(A.pubkey(), 10 * SOL)
    return [side.send(legacy([set_compute_unit_price(1), set_compute_unit_price(2), xfer(A, B, SOL)], [A],
                             side.blockhash())),
            side.send(legacy([request_heap_frame(1000), xfer(A, B, SOL)], [A], side.blockhash())),
            side.send(legacy([Instruction(Pubkey.from_string("ComputeBudget111111111111111111111111111111"),
                                          b"\x09", []), xfer(A, B, SOL)], [A], side.blockhash()))]


def s_compute_limit_too_low(side):
    side.fund(A.pubkey(), 10 * SOL)
    return [side.send(legacy([set_compute_unit_limit(200), xfer(A, B, SOL)], [A], side.blockhash()))]


def s_program_missing(side):
    side.fund(A.pubkey(), 10 * SOL)
    missing = Pubkey.from_seed(bytes([9]) * 32) if hasattr(Pubkey, "from_seed") else Keypair.from_seed(
        bytes([9]) * 32).pubkey()
    return [side.send(legacy([Instruction(missing, b"", [AccountMeta(B.pubkey(), False, True)])], [A],
                             side.blockhash()))]


def s_not_a_program(side):
    side.fund(A.pubkey(), 10 * SOL)
    side.fund(C.pubkey(), SOL)
    return [side.send(legacy([Instruction(C.pubkey(), b"", [])], [A], side.blockhash()))]


def s_already_processed(side):
    side.fund(A.pubkey(), 10 * SOL)
    tx = legacy([xfer(A, B, SOL)], [A], side.blockhash())
    return [side.send(tx), side.send(tx)]


SCENARIOS = {
    "transfer_legacy": s_transfer(legacy),
    "transfer_v0": s_transfer(v0),
    "two_signers": s_two_transfers_two_signers,
    "instruction_fails": s_instruction_fails,
    "second_ix_fails": s_second_ix_fails,
    "rent_new_account": s_rent_new_account,
    "rent_payer_drained": s_rent_payer_drained,
    "drain_payer": s_drain_payer_completely_fails,
    "bad_signature": s_bad_signature,
    "bad_signature_v0": s_bad_signature_v0,
    "expired_blockhash": s_expired_blockhash,
    "unknown_blockhash": s_unknown_blockhash,
    "insufficient_funds_for_fee": s_insufficient_funds_for_fee,
    "fee_payer_missing": s_fee_payer_missing,
    "fee_payer_left_rent_paying": s_fee_payer_left_rent_paying,
    "priority_fee": s_priority_fee,
    "compute_budget_errors": s_compute_budget_errors,
    "compute_limit_too_low": s_compute_limit_too_low,
    "program_missing": s_program_missing,
    "not_a_program": s_not_a_program,
    "already_processed": s_already_processed,
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_same_outcome_as_litesvm(name):
    ours = run(BankSide(), SCENARIOS[name])
    theirs = run(SvmSide(), SCENARIOS[name])
    assert ours == theirs


# --- programs installed at genesis ----------------------------------------------------------------
from pathlib import Path  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PROGRAM = Keypair.from_seed(bytes([7]) * 32).pubkey()


def with_program(fixture, data=b"", budget=None, fail_then_ok=False):
    def sc(side):
        elf = (FIXTURES / fixture).read_bytes()
        if isinstance(side, BankSide):
            side.bank.add_program(PROGRAM, elf)
        else:
            side.svm.add_program(PROGRAM, elf)
        side.fund(A.pubkey(), 10 * SOL)
        ixs = [Instruction(PROGRAM, data, [AccountMeta(A.pubkey(), True, True), AccountMeta(B.pubkey(), False, True)])]
        if budget:
            ixs.insert(0, set_compute_unit_limit(budget))
        out = [side.send(legacy(ixs, [A], side.blockhash()))]
        if fail_then_ok:  # a transfer plus a failing program: the transfer is rolled back
            out.append(side.send(legacy([xfer(A, B, SOL)] + ixs, [A], side.blockhash())))
        return out
    return sc


SCENARIOS.update({
    "program_hello": with_program("hello.so"),
    "program_hello_v0_budget": with_program("hello.so", budget=50_000),
    "program_abort_rolls_back": with_program("abort.so", fail_then_ok=True),
    "program_compute_exhausted": with_program("compute_exhaust.so", budget=5_000),
})


@pytest.mark.parametrize("name", sorted(n for n in SCENARIOS if n.startswith("program_")))
def test_program_outcome_as_litesvm(name):
    ours = run(BankSide(), SCENARIOS[name])
    theirs = run(SvmSide(), SCENARIOS[name])
    assert ours == theirs
