"""The governance builtin: SBPFunc governance driven by transactions on the local validator.

Program id: `SbpfuncGovernance11111111111111111111111111` (a fixed vanity id, like the native
`Config1111…` ids; the account is owned by the native loader and created at genesis when the bank
has a stake table).

Instructions (one tag byte, then little-endian fields; `str8` = u8 length + ASCII bytes):

    0 Write        u32 offset, u32 len, len bytes
                   accounts: [0] buffer (writable, signer, owned by this program)
                   Stages bytes in a buffer account (created beforehand with the system program's
                   CreateAccount, owner = this program, space = the payload's size), because a
                   proposal's TOML and an audit report do not fit in one 1232-byte transaction.
    1 CreateProposal
                   accounts: [0] buffer holding the proposal's TOML (UTF-8; trailing NUL bytes ignored)
                   Records a Draft (GovernanceStore.create_proposal) at the current slot.
    2 OpenVoting   str8 proposal id
                   accounts: [0] buffer holding the audit report JSON (`sbpfunc module audit`);
                   optional for a deactivation. Draft -> Voting (GovernanceStore.open_voting).
    3 CastBallot   str8 proposal id, [32] module sha256, u8 choice (0 no, 1 yes, 2 abstain),
                   u64 ballot slot, [32] voter identity, [64] ed25519 signature
                   accounts: none. The signature is the ballot's (over `ballot.ballot_message(cluster,
                   id, module, choice, slot)`, the cluster id being the bank's); it alone authorizes
                   the vote — whoever signs the transaction only pays the fee.
    4 CloseBuffer  accounts: [0] buffer (writable, signer, owned by this program), [1] recipient
                   (writable): moves the buffer's lamports to the recipient and empties it.

Errors: malformed instruction data -> InvalidInstructionData; otherwise `Custom(code)` with a
`governance: <reason>` log line:

    0 ProposalMalformed   the buffer is not a valid proposal TOML
    1 ProposalRejected    create/open refused by the rules (collision, cluster, window, ...)
    2 AuditRequired       no/invalid/failed audit report for the proposal's module
    3 BallotRejected      the ballot does not count (log names its code: bad-signature, closed, ...)
    4 GovernanceFailure   any other governance refusal (unknown proposal, time going backwards, ...)
    5 InvalidBuffer       buffer not owned by this program, not a signer, or write out of range

Atomicity: the bank opens one SQL transaction on the governance store around every transaction
that names this program (`BankGovernanceStore.begin_outer`); each store operation then runs in a
SAVEPOINT, and the whole is committed only if the transaction succeeds (else rolled back, so a
failed transaction leaves governance unchanged).
"""

from __future__ import annotations

import json
import sqlite3
import struct
import tomllib
from pathlib import Path
from typing import Callable, Iterable

from solders.instruction import AccountMeta, Instruction
from solders.pubkey import Pubkey

from ..governance.ballot import Ballot, Choice
from ..governance.errors import AuditRequired, BallotRejected, GovernanceError, ProposalRejected
from ..governance.proposal import Proposal
from ..governance.store import GovernanceStore
from ..runtime.accounts import NATIVE_LOADER_ID, Account
from ..runtime.errors import InstructionError
from ..runtime.invoke_context import BuiltinProgram

GOVERNANCE_PROGRAM_ID = Pubkey.from_string("SbpfuncGovernance11111111111111111111111111")
GOVERNANCE_PROGRAM_NAME = b"sbpfunc_governance_program"
COMPUTE_UNITS = 1_000
GOVERNANCE_FILE = "governance.sqlite3"

WRITE, CREATE_PROPOSAL, OPEN_VOTING, CAST_BALLOT, CLOSE_BUFFER = range(5)


class GovernanceErrorCode:
    ProposalMalformed = 0
    ProposalRejected = 1
    AuditRequired = 2
    BallotRejected = 3
    GovernanceFailure = 4
    InvalidBuffer = 5


def program_account() -> Account:
    """The builtin's program account (what genesis stores at GOVERNANCE_PROGRAM_ID)."""
    return Account(1, bytearray(GOVERNANCE_PROGRAM_NAME), NATIVE_LOADER_ID, True)


# --- the store, with an outer transaction per bank transaction -----------------------------------
class BankGovernanceStore(GovernanceStore):
    """A GovernanceStore whose writes can be held in one outer SQL transaction (the bank's)."""

    def __init__(self, path: str | Path, **kw):
        super().__init__(path, **kw)
        # The bank is shared with the RPC server's threads (serialized by the bank's lock).
        old = self.db
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
        if self.path == ":memory:":
            old.backup(self.db)
        old.close()
        self.db.execute("PRAGMA foreign_keys = ON")
        self.db.execute("PRAGMA synchronous = FULL")
        self._outer = False
        self._sp = 0

    def begin_outer(self) -> None:
        if self.db.in_transaction:  # left over by an interrupted transaction
            self.db.execute("ROLLBACK")
        self.db.execute("BEGIN IMMEDIATE")
        self._outer = True

    def end_outer(self, commit: bool) -> None:
        if not self._outer:
            return
        self._outer = False
        if commit:
            self.db.execute("COMMIT")
        else:
            self.db.execute("ROLLBACK")
            self._eval_cache = None  # the cached evaluation may include rolled-back writes

    class _Savepoint:
        def __init__(self, store: "BankGovernanceStore"):
            self.store = store

        def __enter__(self):
            s = self.store
            s._sp += 1
            self.name = f"gov_sp_{s._sp}"
            s.db.execute(f"SAVEPOINT {self.name}")
            return s

        def __exit__(self, exc_type, exc, tb):
            s = self.store
            if exc_type is not None:
                s.db.execute(f"ROLLBACK TO {self.name}")
                s._eval_cache = None
            s.db.execute(f"RELEASE {self.name}")
            return False

    def _tx(self):
        if self._outer:
            return BankGovernanceStore._Savepoint(self)
        return super()._tx()


def open_store(ledger_dir: Path | None, cluster: str, slots_per_epoch: int, *, fresh: bool) -> BankGovernanceStore:
    """The governance store of a bank: `DIR/governance.sqlite3` next to the ledger, or in memory."""
    if ledger_dir is None:
        return BankGovernanceStore(":memory:", cluster=cluster, slots_per_epoch=slots_per_epoch)
    path = Path(ledger_dir) / GOVERNANCE_FILE
    if fresh:  # a new ledger (or --reset): governance of an older ledger does not carry over
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    return BankGovernanceStore(path, cluster=cluster, slots_per_epoch=slots_per_epoch)


# --- instruction builders (clients and tests) ----------------------------------------------------
def _str8(text: str) -> bytes:
    raw = text.encode("ascii")
    if len(raw) > 255:
        raise ValueError("id longer than 255 bytes")
    return bytes([len(raw)]) + raw


def write_ix(buffer: Pubkey, offset: int, data: bytes) -> Instruction:
    return Instruction(GOVERNANCE_PROGRAM_ID, bytes([WRITE]) + struct.pack("<II", offset, len(data)) + data,
                       [AccountMeta(buffer, True, True)])


def write_chunks(buffer: Pubkey, payload: bytes, chunk: int = 900) -> list[Instruction]:
    return [write_ix(buffer, o, payload[o:o + chunk]) for o in range(0, len(payload), chunk)]


def create_proposal_ix(buffer: Pubkey) -> Instruction:
    return Instruction(GOVERNANCE_PROGRAM_ID, bytes([CREATE_PROPOSAL]), [AccountMeta(buffer, False, False)])


def open_voting_ix(proposal_id: str, audit_buffer: Pubkey | None) -> Instruction:
    accounts = [] if audit_buffer is None else [AccountMeta(audit_buffer, False, False)]
    return Instruction(GOVERNANCE_PROGRAM_ID, bytes([OPEN_VOTING]) + _str8(proposal_id), accounts)


def cast_ballot_ix(ballot: Ballot) -> Instruction:
    from ..governance.encoding import b58decode
    data = (bytes([CAST_BALLOT]) + _str8(ballot.proposal) + bytes.fromhex(ballot.module_sha256)
            + bytes([ballot.choice.code]) + struct.pack("<Q", ballot.slot) + b58decode(ballot.voter, 32)
            + bytes(ballot.signature))
    return Instruction(GOVERNANCE_PROGRAM_ID, data, [])


def close_buffer_ix(buffer: Pubkey, recipient: Pubkey) -> Instruction:
    return Instruction(GOVERNANCE_PROGRAM_ID, bytes([CLOSE_BUFFER]),
                       [AccountMeta(buffer, True, True), AccountMeta(recipient, False, True)])


# --- the builtin ---------------------------------------------------------------------------------
class _Bad(Exception):
    pass


class _Reader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise _Bad()
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack("<Q", self.take(8))[0]

    def str8(self) -> str:
        raw = self.take(self.u8())
        if not raw.isascii():
            raise _Bad()
        return raw.decode("ascii")


def _fail(ic, code: int, reason: str) -> InstructionError:
    ic.log(f"governance: {reason}")
    return InstructionError.custom(code)


def make_builtin(store: GovernanceStore, registered: Callable[[], Iterable[str]]) -> BuiltinProgram:
    """The builtin bound to `store`; `registered()` names the syscalls a proposal may not take."""

    def account(ic, i: int):
        ctx = ic.tx.current
        if len(ctx.instruction_accounts) <= i:
            raise InstructionError("MissingAccount")
        return ic.tx.borrow(ctx, i)

    def buffer_bytes(ic, i: int) -> bytes:
        acct = account(ic, i)
        if acct.owner != GOVERNANCE_PROGRAM_ID:
            raise _fail(ic, GovernanceErrorCode.InvalidBuffer,
                        f"buffer {acct.key} is owned by {acct.owner}, not the governance program")
        return bytes(acct.data).rstrip(b"\0")

    def process(ic) -> None:
        data = ic.tx.current.data
        slot = ic.sysvars.clock().slot
        r = _Reader(bytes(data))
        try:
            tag = r.u8()
            if tag == WRITE:
                offset, n = r.u32(), r.u32()
                payload = r.take(n)
            elif tag == OPEN_VOTING:
                pid = r.str8()
            elif tag == CAST_BALLOT:
                pid, module, choice, bslot = r.str8(), r.take(32).hex(), r.u8(), r.u64()
                voter, sig = r.take(32), r.take(64)
                if choice > 2:
                    raise _Bad()
            elif tag not in (CREATE_PROPOSAL, CLOSE_BUFFER):
                raise _Bad()
        except _Bad:
            raise InstructionError("InvalidInstructionData") from None

        try:
            if tag == WRITE:
                acct = account(ic, 0)
                if acct.owner != GOVERNANCE_PROGRAM_ID or not acct.is_signer:
                    raise _fail(ic, GovernanceErrorCode.InvalidBuffer,
                                f"buffer {acct.key} must be owned by the governance program and sign")
                if offset + n > len(acct.data):
                    raise _fail(ic, GovernanceErrorCode.InvalidBuffer,
                                f"write of {n} bytes at offset {offset} is beyond the buffer's "
                                f"{len(acct.data)} bytes")
                acct.can_data_be_changed()
                acct.data[offset:offset + n] = payload
            elif tag == CLOSE_BUFFER:
                buf, dest = account(ic, 0), account(ic, 1)
                if buf.owner != GOVERNANCE_PROGRAM_ID or not buf.is_signer:
                    raise _fail(ic, GovernanceErrorCode.InvalidBuffer,
                                f"buffer {buf.key} must be owned by the governance program and sign")
                lamports = buf.lamports
                buf.set_data_length(0)
                buf.set_lamports(0)
                dest.checked_add_lamports(lamports)
            elif tag == CREATE_PROPOSAL:
                raw = buffer_bytes(ic, 0)
                try:
                    p = Proposal.from_toml_dict(tomllib.loads(raw.decode("utf-8")), "proposal")
                except (UnicodeDecodeError, tomllib.TOMLDecodeError, GovernanceError) as e:
                    raise _fail(ic, GovernanceErrorCode.ProposalMalformed, f"not a proposal: {e}") from None
                store.create_proposal(p, slot, registered=registered())
                ic.log(f"governance: proposal {p.id} created at slot {slot} "
                       f"({p.kind.value} {p.module_name} {p.module_version}, sha256 {p.module_sha256})")
            elif tag == OPEN_VOTING:
                audit = None
                if len(ic.tx.current.instruction_accounts) > 0:
                    try:
                        audit = json.loads(buffer_bytes(ic, 0).decode("utf-8"))
                    except (UnicodeDecodeError, ValueError) as e:
                        raise _fail(ic, GovernanceErrorCode.AuditRequired,
                                    f"the audit buffer is not JSON ({e})") from None
                rec = store.open_voting(pid, slot, audit, registered=registered())
                ic.log(f"governance: voting on {pid} opened at slot {slot} (stake snapshot of epoch "
                       f"{rec.snapshot_epoch}, total {rec.total_stake})")
            elif tag == CAST_BALLOT:
                from ..governance.encoding import b58encode
                ballot = Ballot(store.cluster, pid, module, Choice(["no", "yes", "abstain"][choice]), bslot,
                                b58encode(voter), sig)
                store.cast(pid, ballot, slot)
                ic.log(f"governance: {ballot.voter} voted {ballot.choice.value} on {pid} (ballot slot {bslot})")
        except AuditRequired as e:
            raise _fail(ic, GovernanceErrorCode.AuditRequired, str(e)) from None
        except ProposalRejected as e:
            raise _fail(ic, GovernanceErrorCode.ProposalRejected, str(e)) from None
        except BallotRejected as e:
            raise _fail(ic, GovernanceErrorCode.BallotRejected, f"ballot rejected ({e.code}): {e.reason}") from None
        except GovernanceError as e:
            raise _fail(ic, GovernanceErrorCode.GovernanceFailure, str(e)) from None

    return BuiltinProgram("sbpfunc_governance", process, COMPUTE_UNITS)
