"""The upgradeable loader builtin, differentially against LiteSVM (solders 0.29 = Agave 4.1).

One deployment story runs step by step: each step is a transaction sent signed to LiteSVM and run
through `process_instructions` here on the state our previous steps produced; logs, consumed
units, the error and the compared accounts' post-states must be identical after every step.
Instructions are bincode encoded by hand (solders has no loader-v3 builders). A separate fee payer
keeps LiteSVM's fees out of the compared accounts.

Not compared: invoking a program in the transaction that deploys it. LiteSVM rejects that
transaction at load time (InvalidProgramForExecution, no logs) because the program account is not
executable when the transaction starts - a transaction-level check `process_instructions` lacks.
"""

from __future__ import annotations

import difflib
import struct
from pathlib import Path

import pytest
import solders.system_program as sp
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sbpfunc.runtime.accounts import BPF_LOADER_UPGRADEABLE_ID, SYSTEM_PROGRAM_ID, Account
from sbpfunc.runtime.builtins import default_builtins
from sbpfunc.runtime.builtins.upgradeable_loader import (
    UPGRADEABLE_LOADER,
    decode_instruction,
    get_state,
    serialize_state,
)
from sbpfunc.runtime.errors import InstructionError
from sbpfunc.runtime.message_processor import Ix, process_instructions
from sbpfunc.runtime.programs import ProgramCache
from sbpfunc.runtime.syscall_set import default_registry
from sbpfunc.runtime.sysvars import CLOCK_ID, DEFAULT_CLOCK, RENT_ID, Clock, SysvarCache

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
LOADER = BPF_LOADER_UPGRADEABLE_ID
SYS = SYSTEM_PROGRAM_ID
HELLO = (FIXTURES / "hello.so").read_bytes()
LOG64 = (FIXTURES / "log64.so").read_bytes()
FUNDS = 10**11
CHUNK = 800


def _kp(i: int) -> Keypair:
    return Keypair.from_seed(bytes([200 + i]) * 32)


FEE, KP, KAU, KAU2, KBUF, KBUF2, KBAD, KPROG, KEVIL = (_kp(i) for i in range(9))
P, AU, AU2, BUF, BUF2, BAD, PROG, EVIL = (k.pubkey() for k in (KP, KAU, KAU2, KBUF, KBUF2, KBAD, KPROG, KEVIL))
KEYPAIRS = {k.pubkey(): k for k in (KP, KAU, KAU2, KBUF, KBUF2, KBAD, KPROG, KEVIL)}
PD = Pubkey.find_program_address([bytes(PROG)], LOADER)[0]
SPILL = Pubkey.from_bytes(bytes([7]) * 32)
COMPARED = [P, AU, AU2, BUF, BUF2, BAD, PROG, PD, SPILL, EVIL]
FUNDED = [P, AU, AU2, EVIL]


# --- instructions ------------------------------------------------------------------------------
def ix(data: bytes, *metas: tuple[Pubkey, bool, bool], program: Pubkey = LOADER) -> Instruction:
    return Instruction(program, data, [AccountMeta(k, s, w) for k, s, w in metas])


def rent(n: int) -> int:
    return (n + 128) * 6960


def create(to: Pubkey, space: int) -> Instruction:
    return sp.create_account(dict(from_pubkey=P, to_pubkey=to, lamports=rent(space), space=space, owner=LOADER))


def initialize_buffer(buf: Pubkey, authority: Pubkey) -> Instruction:
    return ix(struct.pack("<I", 0), (buf, False, True), (authority, False, False))


def write(buf: Pubkey, authority: Pubkey, offset: int, data: bytes, signed: bool = True) -> Instruction:
    return ix(struct.pack("<IIQ", 1, offset, len(data)) + data, (buf, False, True), (authority, signed, False))


def deploy(buf: Pubkey, max_len: int, authority: Pubkey = AU) -> Instruction:
    return ix(struct.pack("<IQ", 2, max_len), (P, True, True), (PD, False, True), (PROG, False, True),
              (buf, False, True), (RENT_ID, False, False), (CLOCK_ID, False, False), (SYS, False, False),
              (authority, True, False))


def upgrade(buf: Pubkey, authority: Pubkey = AU) -> Instruction:
    return ix(struct.pack("<I", 3), (PD, False, True), (PROG, False, True), (buf, False, True),
              (SPILL, False, True), (RENT_ID, False, False), (CLOCK_ID, False, False), (authority, True, False))


def set_authority(account: Pubkey, current: Pubkey, new: Pubkey | None) -> Instruction:
    metas = [(account, False, True), (current, True, False)] + ([(new, False, False)] if new else [])
    return ix(struct.pack("<I", 4), *metas)


def set_authority_checked(account: Pubkey, current: Pubkey, new: Pubkey) -> Instruction:
    return ix(struct.pack("<I", 7), (account, False, True), (current, True, False), (new, True, False))


def extend(additional: int) -> Instruction:
    return ix(struct.pack("<II", 6, additional), (PD, False, True), (PROG, False, True), (SYS, False, False),
              (P, True, True))


def extend_checked(additional: int, authority: Pubkey = AU2) -> Instruction:
    return ix(struct.pack("<II", 9, additional), (PD, False, True), (PROG, False, True), (authority, True, False),
              (SYS, False, False), (P, True, True))


def close(account: Pubkey, recipient: Pubkey, authority: Pubkey, program: Pubkey | None = None) -> Instruction:
    metas = [(account, False, True), (recipient, False, True), (authority, True, False)]
    if program is not None:
        metas.append((program, False, True))
    return ix(struct.pack("<I", 5), *metas)


def invoke(program: Pubkey = PROG) -> Instruction:
    return Instruction(program, b"", [])


def buffer_steps(kbuf: Keypair, elf: bytes, authority: Pubkey = AU) -> list:
    buf = kbuf.pubkey()
    steps = [(f"create buffer {buf}", [create(buf, 37 + len(elf)), initialize_buffer(buf, authority)], [kbuf])]
    for off in range(0, len(elf), CHUNK):
        steps.append((f"write {off}", [write(buf, authority, off, elf[off:off + CHUNK])], [KAU]))
    return steps


# --- the two runtimes --------------------------------------------------------------------------
def _get(attr):
    return attr() if callable(attr) else attr


def _normal(acct):
    if acct is None or acct.lamports == 0:
        return None
    return (acct.lamports, bytes(acct.data), acct.owner, acct.executable)


class Lite:
    def __init__(self):
        from solders.litesvm import LiteSVM

        self.svm = LiteSVM()
        self.svm.airdrop(FEE.pubkey(), FUNDS)
        for k in FUNDED:
            self.svm.airdrop(k, FUNDS)

    def warp(self, slot: int) -> None:
        self.svm.warp_to_slot(slot)

    def send(self, instructions, signers):
        from solders.message import Message
        from solders.transaction import Transaction
        from solders.transaction_metadata import FailedTransactionMetadata

        self.svm.expire_blockhash()
        bh = self.svm.latest_blockhash()
        msg = Message.new_with_blockhash(instructions, FEE.pubkey(), bh)
        needed = {m.pubkey for i in instructions for m in i.accounts if m.is_signer}
        signers = [FEE, *(KEYPAIRS[k] for k in dict.fromkeys(m.pubkey for i in instructions for m in i.accounts)
                          if k in needed)]
        res = self.svm.send_transaction(Transaction(signers, msg, bh))
        error = None
        if isinstance(res, FailedTransactionMetadata):
            meta, err = _get(res.meta), _get(res.err)
            inner = getattr(err, "err", None)
            assert inner is not None, f"not an instruction error: {err}"
            error = f"Custom({inner.code})" if hasattr(inner, "code") else str(inner).rsplit(".", 1)[-1]
        else:
            meta = res
        post = {k: _normal(self.svm.get_account(k)) for k in COMPARED}
        return list(_get(meta.logs)), _get(meta.compute_units_consumed), error, post


class Ours:
    def __init__(self):
        self.state = {k: Account(FUNDS) for k in FUNDED}
        self.programs = ProgramCache(default_registry())
        self.sysvars = SysvarCache()

    def warp(self, slot: int) -> None:
        clock = Clock.parse(DEFAULT_CLOCK)
        clock.slot = slot
        self.sysvars.set(CLOCK_ID, Clock.build(clock))

    def send(self, instructions, signers):
        builtins = default_builtins()
        limit = sum(3_000 if i.program_id in builtins else 200_000 for i in instructions)
        res = process_instructions([Ix.from_solders(i) for i in instructions], self.state, programs=self.programs,
                                   builtins=builtins, compute_unit_limit=min(limit, 1_400_000),
                                   sysvars=self.sysvars)
        if res.success:
            for k, a in res.accounts.items():
                if a.lamports == 0:
                    self.state.pop(k, None)
                else:
                    self.state[k] = a
        post = {k: _normal(self.state.get(k)) for k in COMPARED}
        return res.logs, res.compute_units_consumed, res.error[1].kind if res.error else None, post


SLOT = Clock.parse(DEFAULT_CLOCK).slot


def story() -> list:
    """(name, instructions, signers, expected error) or ("warp", slot)."""
    bad_elf = HELLO[:500]
    return [
        *buffer_steps(KBUF, HELLO),
        ("initialize twice", [initialize_buffer(BUF, AU)], [], "AccountAlreadyInitialized"),
        ("write by the wrong authority", [write(BUF, EVIL, 0, b"x")], [KEVIL], "IncorrectAuthority"),
        ("write unsigned", [write(BUF, AU, 0, b"x", signed=False)], [], "MissingRequiredSignature"),
        ("write overflow", [write(BUF, AU, len(HELLO) - 2, b"abcd")], [KAU], "AccountDataTooSmall"),
        *buffer_steps(KBAD, bad_elf),
        ("deploy a broken ELF", [create(PROG, 36), deploy(BAD, 3000)], [KPROG, KAU], "InvalidAccountData"),
        ("deploy, wrong authority", [create(PROG, 36), deploy(BUF, 3000, EVIL)], [KPROG, KEVIL],
         "IncorrectAuthority"),
        ("deploy, max_data_len too small", [create(PROG, 36), deploy(BUF, 10)], [KPROG, KAU],
         "AccountDataTooSmall"),
        ("deploy", [create(PROG, 36), deploy(BUF, 3000)], [KPROG, KAU], None),
        ("invoke", [invoke()], [], None),
        *buffer_steps(KBUF2, LOG64),
        ("upgrade in the deployment slot", [upgrade(BUF2)], [KAU], "InvalidArgument"),
        ("warp", SLOT + 1),
        ("upgrade, wrong authority", [upgrade(BUF2, EVIL)], [KEVIL], "IncorrectAuthority"),
        ("upgrade then invoke in one transaction", [upgrade(BUF2), invoke()], [KAU], "UnsupportedProgramId"),
        ("upgrade", [upgrade(BUF2)], [KAU], None),
        ("invoke the upgrade", [invoke()], [], None),
        ("set the upgrade authority, wrong signer", [set_authority(PD, EVIL, AU2)], [KEVIL], "IncorrectAuthority"),
        ("set the upgrade authority", [set_authority(PD, AU, AU2)], [KAU], None),
        ("buffer authority is not optional", [set_authority(BAD, AU, None)], [KAU], "IncorrectAuthority"),
        ("set a buffer authority, checked", [set_authority_checked(BAD, AU, AU2)], [KAU, KAU2], None),
        ("set a buffer authority back", [set_authority(BAD, AU2, AU)], [KAU2], None),
        ("close a buffer, wrong authority", [close(BAD, P, AU2)], [KAU2], "IncorrectAuthority"),
        ("close the broken buffer", [close(BAD, P, AU)], [KAU], None),
        ("ExtendProgramChecked is not enabled", [extend_checked(64)], [KAU2, KP], "InvalidInstructionData"),
        ("extend by less than the minimum", [extend(1000)], [KP], "InvalidArgument"),
        ("extend in the upgrade slot", [extend(10_240)], [KP], "InvalidArgument"),
        ("close the programdata in its upgrade slot", [close(PD, P, AU2, PROG)], [KAU2], "InvalidArgument"),
        ("warp", SLOT + 2),
        ("extend by 0", [extend(0)], [KP], "InvalidInstructionData"),
        ("extend", [extend(10_240)], [KP], None),
        ("invoke the extended program", [invoke()], [], None),
        ("close the programdata in its extension slot", [close(PD, P, AU2, PROG)], [KAU2], "InvalidArgument"),
        ("warp", SLOT + 3),
        ("close the programdata, old authority", [close(PD, P, AU, PROG)], [KAU], "IncorrectAuthority"),
        ("close the programdata", [close(PD, P, AU2, PROG)], [KAU2], None),
        ("make the program immutable after closing fails", [set_authority(PD, AU2, None)], [KAU2],
         "InvalidAccountData"),
        ("invoke a closed program", [invoke()], [], "UnsupportedProgramId"),
    ]


def test_deployment_story_matches_litesvm():
    lite, ours = Lite(), Ours()
    for step in story():
        if step[0] == "warp":
            lite.warp(step[1])
            ours.warp(step[1])
            continue
        name, instructions, signers, *expected = step
        l_logs, l_units, l_err, l_post = lite.send(instructions, signers)
        o_logs, o_units, o_err, o_post = ours.send(instructions, signers)
        if expected:
            assert l_err == expected[0], f"{name}: scenario drifted, LiteSVM says {l_err}"
        if l_logs != o_logs:
            diff = "\n".join(difflib.unified_diff(l_logs, o_logs, "litesvm", "sbpfunc", lineterm=""))
            pytest.fail(f"{name}: logs differ:\n{diff}")
        assert (o_err, o_units) == (l_err, l_units), name
        for k in COMPARED:
            assert o_post[k] == l_post[k], f"{name}: account {k}"
