"""SPL programs, unit for unit: LiteSVM's own SPL binaries run in LiteSVM and in sbpfunc.

The programs (SPL Token = p-token, Token-2022, Associated Token Account, Memo v3, Memo v1) are read
at run time from the accounts of a fresh `LiteSVM()` (which installs them: `with_default_programs`
is part of its constructor) and installed in sbpfunc's `Harness` under the same ids and loaders.

Each scenario gets a fresh LiteSVM. Its pre-state is built in LiteSVM by running the Initialize*
instructions (zeroed accounts of the right size set with `set_account`, then initialized by the
program itself). The instruction under test is then sent to LiteSVM as a real signed transaction
(a separate fee payer, the default compute-unit limit) and run in the Harness against the
identical pre-state (every account of the instruction, read back from LiteSVM). Asserted equal:
every log line, compute units consumed, return data, success / error kind and instruction index,
and the post-state (lamports, data, owner, executable) of every account involved.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import pytest
from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message
from solders.pubkey import Pubkey
from solders.transaction import Transaction

from sbpfunc.runtime.programs import programdata_address
from sbpfunc.testing.harness import Harness

from .spl_instructions import (
    ACCOUNT_LEN,
    ATA_PROGRAM_ID,
    MEMO_V1_PROGRAM_ID,
    MEMO_V3_PROGRAM_ID,
    MINT_LEN,
    SPL_PROGRAMS,
    SYSTEM_PROGRAM_ID,
    TOKEN_2022_PROGRAM_ID,
    TOKEN_PROGRAM_ID,
    approve,
    associated_token_address,
    blank_owned,
    burn,
    close_account,
    create_associated_token_account,
    extract_program,
    initialize_account3,
    initialize_mint2,
    keypair,
    memo,
    mint_to,
    system_account,
    transfer,
    transfer_checked,
)

SYSVAR_IDS = [Pubkey.from_string(s) for s in (
    "SysvarC1ock11111111111111111111111111111111",
    "SysvarRent111111111111111111111111111111111",
    "SysvarEpochSchedu1e111111111111111111111111",
    "SysvarEpochRewards1111111111111111111111111",
    "SysvarLastRestartS1ot1111111111111111111111",
)]
DECIMALS = 6
SOL = 10**9


# --- the two runtimes -------------------------------------------------------------------------------
@dataclass
class Outcome:
    success: bool
    error: tuple[int, str] | None  # (instruction index, variant as Agave's Debug names it)
    logs: list[str]
    compute_units: int
    return_data: tuple[Pubkey, bytes] | None
    accounts: dict[Pubkey, tuple]  # key -> (lamports, data, owner, executable)


_LITE_ERROR = re.compile(r"InstructionError\(\((\d+), (?:Fieldless\((\w+)\)|Tagged\(InstructionErrorCustom\((\d+)\)\))")


def lite_error(err) -> tuple[int, str]:
    text = re.sub(r"\s+", " ", str(err))
    m = _LITE_ERROR.search(text)
    if not m:
        return (-1, text)
    index, name, custom = m.groups()
    return int(index), name if name else f"Custom({custom})"


def account_view(acct: Account | None) -> tuple:
    """What the bank keeps: an account with no lamports does not exist (closed accounts vanish)."""
    if acct is None or acct.lamports == 0:
        return (0, b"", SYSTEM_PROGRAM_ID, False)
    return (acct.lamports, bytes(acct.data), acct.owner, acct.executable)


def involved_keys(ix: Instruction) -> list[Pubkey]:
    keys = []
    for k in [*(m.pubkey for m in ix.accounts), ix.program_id]:
        if k not in keys:
            keys.append(k)
    return keys


class World:
    """A fresh LiteSVM holding the scenario's state, and the module's sbpfunc Harness."""

    def __init__(self, harness: Harness):
        self.svm = LiteSVM()
        self.harness = harness
        self.fee_payer = keypair("spl-parity/fee-payer")
        self.svm.airdrop(self.fee_payer.pubkey(), 100 * SOL)

    def rent(self, size: int) -> int:
        return self.svm.minimum_balance_for_rent_exemption(size)

    def fund(self, key: Pubkey, lamports: int = SOL) -> Pubkey:
        self.svm.set_account(key, system_account(lamports))
        return key

    # LiteSVM: a signed transaction with one instruction and the default compute-unit limit.
    def send(self, ix: Instruction, signers: list[Keypair] = ()) -> Outcome:
        blockhash = self.svm.latest_blockhash()
        msg = Message.new_with_blockhash([ix], self.fee_payer.pubkey(), blockhash)
        tx = Transaction([self.fee_payer, *signers], msg, blockhash)
        res = self.svm.send_transaction(tx)
        self.svm.expire_blockhash()
        failed = type(res).__name__ == "FailedTransactionMetadata"
        meta = res.meta() if failed else res
        rd = meta.return_data()
        ret = (rd.program_id, bytes(rd.data)) if rd is not None and bytes(rd.data) else None
        post = {k: account_view(self.svm.get_account(k)) for k in involved_keys(ix)}
        return Outcome(not failed, lite_error(res.err()) if failed else None, list(meta.logs()),
                       meta.compute_units_consumed(), ret, post)

    def setup(self, ix: Instruction, signers: list[Keypair] = ()) -> None:
        """Build pre-state in LiteSVM only (the instruction under test is checked separately)."""
        out = self.send(ix, signers)
        assert out.success, (out.error, out.logs)

    def run_ours(self, ix: Instruction, pre: list[tuple[Pubkey, Account]]) -> Outcome:
        res = self.harness.process_instruction_chain([ix], pre)
        ret = (res.return_program_id, bytes(res.return_data)) if res.return_data else None
        err = None if res.error is None else (res.error_index, res.error.kind)
        post = {k: account_view(a) for k, a in res.accounts}
        return Outcome(res.success, err, list(res.logs), res.compute_units_consumed, ret, post)

    def check(self, ix: Instruction, signers: list[Keypair] = ()) -> Outcome:
        """Run `ix` in both runtimes from the same pre-state; assert everything observable is equal."""
        pre = []
        for k in involved_keys(ix):
            acct = self.svm.get_account(k)
            pre.append((k, acct if acct is not None else Account(0, b"", SYSTEM_PROGRAM_ID, False, 0)))
        ours = self.run_ours(ix, pre)
        lite = self.send(ix, signers)
        problems = []
        if ours.logs != lite.logs:
            first = next((i for i, (a, b) in enumerate(zip(lite.logs, ours.logs)) if a != b),
                         min(len(lite.logs), len(ours.logs)))
            problems.append(f"logs differ from line {first}:\n" + "\n".join(
                difflib.unified_diff(lite.logs, ours.logs, "litesvm", "sbpfunc", lineterm="")))
        if ours.compute_units != lite.compute_units:
            problems.append(f"compute units: litesvm {lite.compute_units}, sbpfunc {ours.compute_units}")
        if (ours.success, ours.error) != (lite.success, lite.error):
            problems.append(f"result: litesvm {lite.success} {lite.error}, sbpfunc {ours.success} {ours.error}")
        if ours.return_data != lite.return_data:
            problems.append(f"return data: litesvm {lite.return_data}, sbpfunc {ours.return_data}")
        for k, want in lite.accounts.items():
            got = ours.accounts.get(k)
            if got != want:
                problems.append(f"account {k}: litesvm {_short(want)}, sbpfunc {_short(got)}")
        assert not problems, "\n".join(problems)
        return lite


def _short(view) -> str:
    if view is None:
        return "missing"
    lamports, data, owner, executable = view
    return f"(lamports={lamports}, owner={owner}, executable={executable}, data[{len(data)}]={data[:200].hex()})"


# --- fixtures -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module", params=["interpreter", "translated"])
def spl_harness(request) -> Harness:
    """sbpfunc's Harness (each engine) with the five SPL programs from LiteSVM, and LiteSVM's sysvars."""
    svm = LiteSVM()
    h = Harness(engine=request.param)
    for pid in SPL_PROGRAMS:
        elf, loader = extract_program(svm, pid)
        assert elf[:4] == b"\x7fELF"
        h.add_program(pid, elf, loader)
        acct = svm.get_account(pid)
        if acct.data[:4] == (2).to_bytes(4, "little"):
            assert Pubkey.from_bytes(bytes(acct.data[4:36])) == programdata_address(pid)
    for sid in SYSVAR_IDS:
        acct = svm.get_account(sid)
        if acct is not None:
            h.set_sysvar(sid, bytes(acct.data))
    return h


@pytest.fixture
def world(spl_harness) -> World:
    return World(spl_harness)


def test_programs_come_from_litesvm():
    svm = LiteSVM()
    loaders = {str(pid): str(extract_program(svm, pid)[1]) for pid in SPL_PROGRAMS}
    assert loaders == {
        str(TOKEN_PROGRAM_ID): "BPFLoaderUpgradeab1e11111111111111111111111",
        str(TOKEN_2022_PROGRAM_ID): "BPFLoaderUpgradeab1e11111111111111111111111",
        str(ATA_PROGRAM_ID): "BPFLoader2111111111111111111111111111111111",
        str(MEMO_V3_PROGRAM_ID): "BPFLoader2111111111111111111111111111111111",
        str(MEMO_V1_PROGRAM_ID): "BPFLoader1111111111111111111111111111111111",
    }


# --- token scenarios ----------------------------------------------------------------------------------
TOKEN_PROGRAMS = [pytest.param(TOKEN_PROGRAM_ID, id="token"), pytest.param(TOKEN_2022_PROGRAM_ID, id="token2022")]


class Tokens:
    """Keys and pre-state builders for one token program in one World."""

    def __init__(self, world: World, program: Pubkey):
        self.w, self.p = world, program
        self.mint_authority = keypair("spl-parity/mint-authority")
        self.freeze_authority = keypair("spl-parity/freeze-authority")
        self.alice = keypair("spl-parity/alice")
        self.bob = keypair("spl-parity/bob")
        self.delegate = keypair("spl-parity/delegate")
        self.mint = keypair("spl-parity/mint").pubkey()
        self.alice_account = keypair("spl-parity/alice-token-account").pubkey()
        self.bob_account = keypair("spl-parity/bob-token-account").pubkey()
        for kp in (self.mint_authority, self.alice, self.bob):
            world.fund(kp.pubkey())

    def blank_mint(self) -> None:
        self.w.svm.set_account(self.mint, blank_owned(self.w.rent(MINT_LEN), MINT_LEN, self.p))

    def blank_account(self, key: Pubkey) -> None:
        self.w.svm.set_account(key, blank_owned(self.w.rent(ACCOUNT_LEN), ACCOUNT_LEN, self.p))

    def init_mint_ix(self) -> Instruction:
        return initialize_mint2(self.p, self.mint, DECIMALS, self.mint_authority.pubkey(),
                                self.freeze_authority.pubkey())

    def init_account_ix(self, key: Pubkey, owner: Keypair) -> Instruction:
        return initialize_account3(self.p, key, self.mint, owner.pubkey())

    def with_mint(self) -> "Tokens":
        self.blank_mint()
        self.w.setup(self.init_mint_ix())
        return self

    def with_accounts(self, alice_balance: int = 0) -> "Tokens":
        self.with_mint()
        for key, owner in ((self.alice_account, self.alice), (self.bob_account, self.bob)):
            self.blank_account(key)
            self.w.setup(self.init_account_ix(key, owner))
        if alice_balance:
            self.w.setup(mint_to(self.p, self.mint, self.alice_account, self.mint_authority.pubkey(), alice_balance),
                         [self.mint_authority])
        return self


@pytest.mark.parametrize("program", TOKEN_PROGRAMS)
def test_initialize_mint2(world, program):
    t = Tokens(world, program)
    t.blank_mint()
    world.check(t.init_mint_ix())


@pytest.mark.parametrize("program", TOKEN_PROGRAMS)
def test_initialize_account3(world, program):
    t = Tokens(world, program).with_mint()
    t.blank_account(t.alice_account)
    world.check(t.init_account_ix(t.alice_account, t.alice))


@pytest.mark.parametrize("program", TOKEN_PROGRAMS)
def test_mint_to(world, program):
    t = Tokens(world, program).with_accounts()
    world.check(mint_to(program, t.mint, t.alice_account, t.mint_authority.pubkey(), 1_000_000), [t.mint_authority])


@pytest.mark.parametrize("program", TOKEN_PROGRAMS)
def test_transfer(world, program):
    t = Tokens(world, program).with_accounts(alice_balance=1_000_000)
    world.check(transfer(program, t.alice_account, t.bob_account, t.alice.pubkey(), 250_000), [t.alice])


@pytest.mark.parametrize("program", TOKEN_PROGRAMS)
def test_transfer_checked(world, program):
    t = Tokens(world, program).with_accounts(alice_balance=1_000_000)
    world.check(transfer_checked(program, t.alice_account, t.mint, t.bob_account, t.alice.pubkey(), 250_000,
                                 DECIMALS), [t.alice])


@pytest.mark.parametrize("program", TOKEN_PROGRAMS)
def test_approve(world, program):
    t = Tokens(world, program).with_accounts(alice_balance=1_000_000)
    world.check(approve(program, t.alice_account, t.delegate.pubkey(), t.alice.pubkey(), 400_000), [t.alice])


@pytest.mark.parametrize("program", TOKEN_PROGRAMS)
def test_burn(world, program):
    t = Tokens(world, program).with_accounts(alice_balance=1_000_000)
    world.check(burn(program, t.alice_account, t.mint, t.alice.pubkey(), 300_000), [t.alice])


@pytest.mark.parametrize("program", TOKEN_PROGRAMS)
def test_close_account(world, program):
    t = Tokens(world, program).with_accounts()  # an empty account can be closed
    out = world.check(close_account(program, t.bob_account, t.bob.pubkey(), t.bob.pubkey()), [t.bob])
    assert out.success and out.accounts[t.bob_account][0] == 0


@pytest.mark.parametrize("program", TOKEN_PROGRAMS)
def test_transfer_insufficient_funds(world, program):
    t = Tokens(world, program).with_accounts(alice_balance=100)
    out = world.check(transfer(program, t.alice_account, t.bob_account, t.alice.pubkey(), 101), [t.alice])
    assert out.error == (0, "Custom(1)")  # TokenError::InsufficientFunds


@pytest.mark.parametrize("program", TOKEN_PROGRAMS)
def test_associated_token_account_create(world, program):
    """ATA Create: CPIs into the token program (GetAccountDataSize, InitializeImmutableOwner,
    InitializeAccount3) and into the system program (CreateAccount, signed for the PDA)."""
    t = Tokens(world, program).with_mint()
    funder = keypair("spl-parity/ata-funder")
    world.fund(funder.pubkey())
    ix = create_associated_token_account(funder.pubkey(), t.alice.pubkey(), t.mint, program)
    out = world.check(ix, [funder])
    assert out.success
    ata = associated_token_address(t.alice.pubkey(), t.mint, program)
    assert out.accounts[ata][2] == program


@pytest.mark.parametrize("program", TOKEN_PROGRAMS)
def test_associated_token_account_create_prefunded(world, program):
    """The address already holds lamports: ATA tops it up with Transfer, then Allocate and Assign
    (three system-program CPIs signed for the PDA) instead of CreateAccount."""
    t = Tokens(world, program).with_mint()
    funder = keypair("spl-parity/ata-funder")
    world.fund(funder.pubkey())
    ata = associated_token_address(t.alice.pubkey(), t.mint, program)
    world.fund(ata, 1_000_000)
    out = world.check(create_associated_token_account(funder.pubkey(), t.alice.pubkey(), t.mint, program), [funder])
    assert out.success and out.accounts[ata][2] == program


# --- memo -----------------------------------------------------------------------------------------------
def test_memo_v3_with_signers(world):
    signers = [keypair("spl-parity/memo-signer-1"), keypair("spl-parity/memo-signer-2")]
    for s in signers:
        world.fund(s.pubkey())
    out = world.check(memo(MEMO_V3_PROGRAM_ID, "hello from sbpfunc — ✓".encode(), [s.pubkey() for s in signers]),
                      signers)
    assert out.success


def test_memo_v3_missing_signature(world):
    """An account passed without signing: Memo v3 logs it and fails with MissingRequiredSignature."""
    unsigned = AccountMeta(keypair("spl-parity/memo-signer-1").pubkey(), False, False)
    ix = Instruction(MEMO_V3_PROGRAM_ID, b"unsigned", [unsigned])
    out = world.check(ix)
    assert out.error == (0, "MissingRequiredSignature")


def test_memo_v1_deprecated_loader(world):
    """Memo v1 runs under BPFLoader1: the unaligned input serialization."""
    signer = keypair("spl-parity/memo-signer-1")
    world.fund(signer.pubkey())
    out = world.check(memo(MEMO_V1_PROGRAM_ID, b"hello, deprecated loader", [signer.pubkey()]), [signer])
    assert out.success


def test_memo_v1_invalid_utf8(world):
    out = world.check(memo(MEMO_V1_PROGRAM_ID, b"\xff\xfeok"))
    assert out.error == (0, "InvalidInstructionData")
