"""The system program builtin, differentially against LiteSVM (solders 0.29 = Agave 4.1.2).

Every scenario is a transaction of top-level system instructions (built with
`solders.system_program` where it has a builder, raw bincode otherwise), sent signed to LiteSVM
and run through `process_instructions` here: logs line by line, consumed units, the error and
every account's post-state must be identical. Balances are kept rent-exempt: LiteSVM's
post-transaction rent check is a transaction-level rule outside the system program.
CPI into the system program is covered by tests/runtime/test_cpi.py.
"""

from __future__ import annotations

import difflib
import hashlib
import struct
from dataclasses import dataclass, field

import pytest
import solders.system_program as sp
from solders.account import Account as SoldersAccount
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sbpfunc.runtime.accounts import SYSTEM_PROGRAM_ID, Account
from sbpfunc.runtime.builtins import default_builtins
from sbpfunc.runtime.builtins.system import SYSTEM_PROGRAM, decode_instruction
from sbpfunc.runtime.errors import InstructionError
from sbpfunc.runtime.message_processor import Ix, process_instructions
from sbpfunc.runtime.programs import ProgramCache
from sbpfunc.syscalls.core import LOGGING_SYSCALLS
from sbpfunc.syscalls.registry import SyscallRegistry

SYS = SYSTEM_PROGRAM_ID
RENT = 10**9


def _kp(i: int) -> Keypair:
    return Keypair.from_seed(bytes([100 + i]) * 32)


def _key(name: str) -> Pubkey:
    return Pubkey.from_bytes(hashlib.sha256(name.encode()).digest())


KA, KB, KC, KD, KO = (_kp(i) for i in range(5))
A, B, C, D, O = (k.pubkey() for k in (KA, KB, KC, KD, KO))  # C does not exist yet
X = _key("some program")  # an owner
SEEDED = Pubkey.create_with_seed(A, "seed", X)
SEEDED_SYS = Pubkey.create_with_seed(B, "wallet", SYS)
PDA_MARKER_OWNER = Pubkey.from_bytes(bytes(11) + b"ProgramDerivedAddress")

ACCOUNTS = {
    A: SoldersAccount(RENT, b"", SYS, False, 0),
    B: SoldersAccount(RENT, b"", SYS, False, 0),
    D: SoldersAccount(RENT, b"\x01" * 8, SYS, False, 0),  # a system account with data
    O: SoldersAccount(RENT, b"", X, False, 0),  # owned by another program
}
COMPARED = [A, B, C, D, O, SEEDED, SEEDED_SYS]


def transfer(frm, to, lamports):
    return sp.transfer(dict(from_pubkey=frm, to_pubkey=to, lamports=lamports))


def raw(data: bytes, *metas: tuple[Pubkey, bool, bool]) -> Instruction:
    return Instruction(SYS, data, [AccountMeta(k, s, w) for k, s, w in metas])


def unsigned(ix: Instruction, key: Pubkey) -> Instruction:
    """The same instruction with `key` no longer marked as a signer."""
    return Instruction(ix.program_id, bytes(ix.data),
                       [AccountMeta(m.pubkey, m.is_signer and m.pubkey != key, m.is_writable) for m in ix.accounts])


@dataclass
class Scenario:
    name: str
    instructions: list[Instruction]
    signers: list[Keypair] = field(default_factory=list)
    error: str | None = None


def _scenarios() -> list[Scenario]:
    seed_str = lambda s: struct.pack("<Q", len(s)) + s  # noqa: E731 - bincode String
    return [
        # --- Transfer ---
        Scenario("transfer", [transfer(A, B, 12345)], [KA]),
        Scenario("transfer 0", [transfer(A, B, 0)], [KA]),
        Scenario("transfer to self", [transfer(A, A, 500)], [KA]),
        Scenario("transfer to a new account", [transfer(A, C, 5_000_000)], [KA]),
        Scenario("transfer twice", [transfer(A, B, 10), transfer(B, A, 3)], [KA, KB]),
        Scenario("transfer, insufficient funds", [transfer(A, B, RENT + 1)], [KA], "Custom(1)"),
        Scenario("transfer, missing signature", [unsigned(transfer(A, B, 1), A)], [], "MissingRequiredSignature"),
        Scenario("transfer from an account with data", [transfer(D, B, 1)], [KD], "InvalidArgument"),
        Scenario("transfer from another program's account", [transfer(O, B, 1)], [KO],
                 "ExternalAccountLamportSpend"),
        Scenario("transfer to a read-only account", [raw(struct.pack("<IQ", 2, 1), (A, True, True), (B, False, False))],
                 [KA], "ReadonlyLamportChange"),
        Scenario("transfer with one account", [raw(struct.pack("<IQ", 2, 1), (A, True, True))], [KA],
                 "MissingAccount"),
        Scenario("transfer with trailing bytes", [raw(struct.pack("<IQ", 2, 7) + b"junk", (A, True, True),
                                                      (B, False, True))], [KA]),
        Scenario("transfer, truncated data", [raw(struct.pack("<I", 2) + b"\x01\x02", (A, True, True),
                                                  (B, False, True))], [KA], "InvalidInstructionData"),
        Scenario("unknown instruction", [raw(struct.pack("<I", 99), (A, True, True))], [KA], "InvalidInstructionData"),
        Scenario("empty instruction data", [raw(b"", (A, True, True))], [KA], "InvalidInstructionData"),
        # --- CreateAccount ---
        Scenario("create_account", [sp.create_account(dict(from_pubkey=A, to_pubkey=C, lamports=5_000_000,
                                                           space=64, owner=X))], [KA, KC]),
        Scenario("create_account owned by the system program", [sp.create_account(dict(
            from_pubkey=A, to_pubkey=C, lamports=5_000_000, space=0, owner=SYS))], [KA, KC]),
        Scenario("create_account, already in use", [sp.create_account(dict(
            from_pubkey=A, to_pubkey=B, lamports=5_000_000, space=64, owner=X))], [KA, KB], "Custom(0)"),
        Scenario("create_account, new account does not sign", [unsigned(sp.create_account(dict(
            from_pubkey=A, to_pubkey=C, lamports=5_000_000, space=64, owner=X)), C)], [KA],
            "MissingRequiredSignature"),
        Scenario("create_account, funder does not sign", [unsigned(sp.create_account(dict(
            from_pubkey=A, to_pubkey=C, lamports=5_000_000, space=64, owner=X)), A)], [KC],
            "MissingRequiredSignature"),
        Scenario("create_account, too large", [sp.create_account(dict(
            from_pubkey=A, to_pubkey=C, lamports=5_000_000, space=10 * 1024 * 1024 + 1, owner=X))], [KA, KC],
            "Custom(3)"),
        Scenario("create_account, insufficient funds", [sp.create_account(dict(
            from_pubkey=A, to_pubkey=C, lamports=RENT + 1, space=64, owner=X))], [KA, KC], "Custom(1)"),
        # --- Assign ---
        Scenario("assign", [sp.assign(dict(pubkey=B, owner=X))], [KB]),
        Scenario("assign to the current owner needs no signature", [unsigned(sp.assign(dict(pubkey=B, owner=SYS)), B)]),
        Scenario("assign, missing signature", [unsigned(sp.assign(dict(pubkey=B, owner=X)), B)], [],
                 "MissingRequiredSignature"),
        Scenario("assign another program's account", [sp.assign(dict(pubkey=O, owner=SYS))], [KO],
                 "ModifiedProgramId"),
        Scenario("assign an account with data", [sp.assign(dict(pubkey=D, owner=X))], [KD], "ModifiedProgramId"),
        # --- Allocate ---
        Scenario("allocate", [sp.allocate(dict(pubkey=B, space=100))], [KB]),
        Scenario("allocate, account in use", [sp.allocate(dict(pubkey=D, space=100))], [KD], "Custom(0)"),
        Scenario("allocate, owned by another program", [sp.allocate(dict(pubkey=O, space=100))], [KO], "Custom(0)"),
        Scenario("allocate, missing signature", [unsigned(sp.allocate(dict(pubkey=B, space=100)), B)], [],
                 "MissingRequiredSignature"),
        Scenario("allocate, too large", [sp.allocate(dict(pubkey=B, space=10 * 1024 * 1024 + 1))], [KB], "Custom(3)"),
        Scenario("allocate then assign", [sp.allocate(dict(pubkey=B, space=10)), sp.assign(dict(pubkey=B, owner=X))],
                 [KB]),
        # --- WithSeed variants ---
        Scenario("create_account_with_seed", [sp.create_account_with_seed(dict(
            from_pubkey=A, to_pubkey=SEEDED, base=A, seed="seed", lamports=5_000_000, space=32, owner=X))], [KA]),
        Scenario("create_account_with_seed, address mismatch", [sp.create_account_with_seed(dict(
            from_pubkey=A, to_pubkey=C, base=A, seed="seed", lamports=5_000_000, space=32, owner=X))], [KA],
            "Custom(5)"),
        Scenario("create_account_with_seed, seed too long", [raw(
            struct.pack("<I", 3) + bytes(A) + seed_str(b"s" * 33) + struct.pack("<QQ", 1, 1) + bytes(X),
            (A, True, True), (C, False, True))], [KA], "Custom(0)"),
        Scenario("create_account_with_seed, PDA-marker owner", [raw(
            struct.pack("<I", 3) + bytes(A) + seed_str(b"s") + struct.pack("<QQ", 1, 1) + bytes(PDA_MARKER_OWNER),
            (A, True, True), (C, False, True))], [KA], "Custom(2)"),
        Scenario("create_account_with_seed, seed not UTF-8", [raw(
            struct.pack("<I", 3) + bytes(A) + seed_str(b"\xff") + struct.pack("<QQ", 1, 1) + bytes(X),
            (A, True, True), (C, False, True))], [KA], "InvalidInstructionData"),
        Scenario("create_account_with_seed, base does not sign", [raw(
            struct.pack("<I", 3) + bytes(B) + seed_str(b"wallet") + struct.pack("<QQ", 5_000_000, 0) + bytes(SYS),
            (A, True, True), (SEEDED_SYS, False, True))], [KA], "MissingRequiredSignature"),
        Scenario("allocate_with_seed", [transfer(A, SEEDED, 5_000_000), sp.allocate_with_seed(dict(
            address=SEEDED, base=A, seed="seed", space=16, owner=X))], [KA]),
        Scenario("assign_with_seed", [transfer(A, SEEDED, 5_000_000), sp.assign_with_seed(dict(
            address=SEEDED, base=A, seed="seed", owner=X))], [KA]),
        Scenario("assign_with_seed, wrong seed", [transfer(A, SEEDED, 5_000_000), sp.assign_with_seed(dict(
            address=SEEDED, base=A, seed="seeds", owner=X))], [KA], "Custom(5)"),
        Scenario("transfer_with_seed", [transfer(A, SEEDED_SYS, 5_000_000), sp.transfer_with_seed(dict(
            from_pubkey=SEEDED_SYS, from_base=B, from_seed="wallet", from_owner=SYS, to_pubkey=A,
            lamports=1000))], [KA, KB]),
        Scenario("transfer_with_seed, wrong seed", [transfer(A, SEEDED_SYS, 5_000_000), sp.transfer_with_seed(dict(
            from_pubkey=SEEDED_SYS, from_base=B, from_seed="wallet2", from_owner=SYS, to_pubkey=A,
            lamports=1000))], [KA, KB], "Custom(5)"),
        Scenario("transfer_with_seed, base does not sign", [transfer(A, SEEDED_SYS, 5_000_000), unsigned(
            sp.transfer_with_seed(dict(from_pubkey=SEEDED_SYS, from_base=B, from_seed="wallet", from_owner=SYS,
                                       to_pubkey=A, lamports=1000)), B)], [KA], "MissingRequiredSignature"),
        # --- CreateAccountAllowPrefund (active in LiteSVM) ---
        Scenario("create_account_allow_prefund, prefunded", [transfer(A, C, 5_000_000), raw(
            struct.pack("<IQQ", 13, 0, 24) + bytes(X), (C, True, True))], [KA, KC]),
        Scenario("create_account_allow_prefund, funded", [raw(
            struct.pack("<IQQ", 13, 5_000_000, 24) + bytes(X), (C, True, True), (A, True, True))], [KA, KC]),
        Scenario("create_account_allow_prefund, one account", [raw(
            struct.pack("<IQQ", 13, 5_000_000, 24) + bytes(X), (C, True, True))], [KC], "MissingAccount"),
    ]


SCENARIOS = _scenarios()


@dataclass
class Outcome:
    logs: list[str]
    units: int
    error: str | None
    accounts: dict[Pubkey, SoldersAccount | None]


def _normal(acct):
    return None if acct is None or acct.lamports == 0 else acct


def _get(attr):
    return attr() if callable(attr) else attr


def run_litesvm(sc: Scenario) -> Outcome:
    from solders.litesvm import LiteSVM
    from solders.message import Message
    from solders.transaction import Transaction
    from solders.transaction_metadata import FailedTransactionMetadata

    svm = LiteSVM()
    payer = Keypair()
    svm.airdrop(payer.pubkey(), 10**12)
    for k, a in ACCOUNTS.items():
        svm.set_account(k, a)
    blockhash = svm.latest_blockhash()
    msg = Message.new_with_blockhash(sc.instructions, payer.pubkey(), blockhash)
    res = svm.send_transaction(Transaction([payer, *sc.signers], msg, blockhash))
    error = None
    if isinstance(res, FailedTransactionMetadata):
        meta, err = _get(res.meta), _get(res.err)
        inner = getattr(err, "err", None)
        assert inner is not None, f"not an instruction error: {err}"
        error = f"Custom({inner.code})" if hasattr(inner, "code") else str(inner).rsplit(".", 1)[-1]
    else:
        meta = res
    return Outcome(list(_get(meta.logs)), _get(meta.compute_units_consumed), error,
                   {k: _normal(svm.get_account(k)) for k in COMPARED})


PROGRAMS = ProgramCache(SyscallRegistry(LOGGING_SYSCALLS))


def run_sbpfunc(sc: Scenario) -> Outcome:
    state = {k: Account.from_solders(a) for k, a in ACCOUNTS.items()}
    res = process_instructions([Ix.from_solders(ix) for ix in sc.instructions], state, programs=PROGRAMS,
                               builtins=default_builtins(), compute_unit_limit=3_000 * len(sc.instructions))
    post = {}
    for k in COMPARED:
        a = res.accounts.get(k)
        post[k] = _normal(a.to_solders() if a is not None else ACCOUNTS.get(k))
    return Outcome(res.logs, res.compute_units_consumed, res.error[1].kind if res.error else None, post)


@pytest.mark.parametrize("sc", SCENARIOS, ids=[sc.name for sc in SCENARIOS])
def test_system_program_matches_litesvm(sc):
    lite = run_litesvm(sc)
    ours = run_sbpfunc(sc)
    assert lite.error == sc.error, f"scenario drifted: LiteSVM says {lite.error}"
    if lite.logs != ours.logs:
        diff = "\n".join(difflib.unified_diff(lite.logs, ours.logs, "litesvm", "sbpfunc", lineterm=""))
        pytest.fail(f"logs differ:\n{diff}")
    assert ours.units == lite.units
    if ours.error is None:
        assert ours.units == 150 * len(sc.instructions)
    assert ours.error == lite.error
    for k in COMPARED:
        assert ours.accounts[k] == lite.accounts[k], f"account {k}"


# --- details -------------------------------------------------------------------------------------
def test_logs_name_addresses_as_agave_debug_prints_them():
    ours = run_sbpfunc(next(sc for sc in SCENARIOS if sc.name == "create_account, already in use"))
    assert ours.logs == [f"Program {SYS} invoke [1]",
                         f"Create Account: account Address {{ address: {B}, base: None }} already in use",
                         f"Program {SYS} failed: custom program error: 0x0"]
    ours = run_sbpfunc(next(sc for sc in SCENARIOS if sc.name == "transfer, insufficient funds"))
    assert f"Transfer: insufficient lamports {RENT}, need {RENT + 1}" in ours.logs
    assert ours.accounts[A] == ACCOUNTS[A]  # rolled back


def test_create_account_post_state():
    ours = run_sbpfunc(next(sc for sc in SCENARIOS if sc.name == "create_account"))
    assert ours.accounts[C] == SoldersAccount(5_000_000, bytes(64), X, False, 0)
    assert ours.accounts[A].lamports == RENT - 5_000_000
    assert ours.units == 150


def test_decode_every_builder():
    cases = [
        (transfer(A, B, 5), "Transfer", {"lamports": 5}),
        (sp.create_account(dict(from_pubkey=A, to_pubkey=C, lamports=1, space=2, owner=X)), "CreateAccount",
         {"lamports": 1, "space": 2, "owner": X}),
        (sp.assign(dict(pubkey=B, owner=X)), "Assign", {"owner": X}),
        (sp.allocate(dict(pubkey=B, space=9)), "Allocate", {"space": 9}),
        (sp.create_account_with_seed(dict(from_pubkey=A, to_pubkey=SEEDED, base=A, seed="seed", lamports=1,
                                          space=2, owner=X)), "CreateAccountWithSeed",
         {"base": A, "seed": "seed", "lamports": 1, "space": 2, "owner": X}),
        (sp.allocate_with_seed(dict(address=SEEDED, base=A, seed="seed", space=3, owner=X)), "AllocateWithSeed",
         {"base": A, "seed": "seed", "space": 3, "owner": X}),
        (sp.assign_with_seed(dict(address=SEEDED, base=A, seed="seed", owner=X)), "AssignWithSeed",
         {"base": A, "seed": "seed", "owner": X}),
        (sp.transfer_with_seed(dict(from_pubkey=SEEDED_SYS, from_base=B, from_seed="wallet", from_owner=SYS,
                                    to_pubkey=A, lamports=4)), "TransferWithSeed",
         {"lamports": 4, "from_seed": "wallet", "from_owner": SYS}),
    ]
    for ix, name, fields in cases:
        assert decode_instruction(bytes(ix.data)) == (name, fields)
    with pytest.raises(InstructionError) as e:
        decode_instruction(struct.pack("<I", 14))
    assert e.value.kind == "InvalidInstructionData"


def test_nonce_instructions_are_reported_as_not_simulated():
    state = {A: Account(RENT)}
    res = process_instructions([Ix.from_solders(raw(struct.pack("<I", 4), (A, True, True), (B, False, False)))],
                               state, programs=PROGRAMS, builtins=default_builtins(), compute_unit_limit=3000)
    assert res.error[1].kind == "InvalidInstructionData"
    assert "sbpfunc: system instruction AdvanceNonceAccount is not simulated" in res.logs


def test_exported_builtin():
    assert SYSTEM_PROGRAM.program_id == SYS
    assert SYSTEM_PROGRAM.builtin.compute_units == 150
    assert default_builtins()[SYS] is SYSTEM_PROGRAM.builtin
