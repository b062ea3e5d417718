"""Issue 7 acceptance, end to end: `sbpfunc validator` as a subprocess on loopback (governance stake
table, the ML module, the trading agent and SPL Token as genesis programs), driven by the stock
`solana` AsyncClient with signed legacy and v0 transactions: SPL Token mint/transfer, and a program
deployed through the upgradeable loader's instructions, then invoked."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import importlib.util
import struct
import time
from pathlib import Path

import pytest

pytest.importorskip("solana")
litesvm = pytest.importorskip("solders.litesvm")

import solders.system_program as sp  # noqa: E402
from solana.rpc.async_api import AsyncClient  # noqa: E402
from solders.instruction import AccountMeta, Instruction  # noqa: E402
from solders.keypair import Keypair  # noqa: E402
from solders.message import Message, MessageV0  # noqa: E402
from solders.pubkey import Pubkey  # noqa: E402
from solders.transaction import Transaction, VersionedTransaction  # noqa: E402

from solders.compute_budget import set_compute_unit_limit  # noqa: E402

from sbpfunc.bank.governance_program import (  # noqa: E402
    GOVERNANCE_PROGRAM_ID,
    cast_ballot_ix,
    create_proposal_ix,
    open_voting_ix,
    write_chunks,
)
from sbpfunc.governance.audit import audit_module  # noqa: E402
from sbpfunc.governance.ballot import Ballot  # noqa: E402
from sbpfunc.governance.encoding import Keypair as GovKeypair  # noqa: E402
from sbpfunc.governance.proposal import Proposal  # noqa: E402
from sbpfunc.rpc.process import ValidatorProcess  # noqa: E402
REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("_e2e_spl_instructions", REPO / "tests" / "spl" / "spl_instructions.py")
spl = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(spl)
TOKEN_PROGRAM_ID = spl.TOKEN_PROGRAM_ID

SOL = 1_000_000_000
GOV = REPO / "governance"
ML = REPO / "sbpfunc" / "modules" / "ml.py"
EXAMPLE = json.loads((REPO / "examples" / "ml_agent.json").read_text())
AGENT_ID = Pubkey.from_string(next(iter(EXAMPLE["programs"])))
SPE = 32
LOADER = Pubkey.from_string("BPFLoaderUpgradeab1e11111111111111111111111")
RENT_ID = Pubkey.from_string("SysvarRent111111111111111111111111111111111")
CLOCK_ID = Pubkey.from_string("SysvarC1ock11111111111111111111111111111111")
SYS = Pubkey.default()
CHUNK = 900


@pytest.fixture
def validator(tmp_path):
    token_elf, _ = spl.extract_program(litesvm.LiteSVM(), TOKEN_PROGRAM_ID)
    token_path = tmp_path / "spl_token.so"
    token_path.write_bytes(token_elf)
    v = ValidatorProcess(tmp_path / "ledger", "--stake-table", str(REPO / "governance" / "stakes.toml"),
                         "--module", str(REPO / "sbpfunc" / "modules" / "ml.py"), "--slots-per-epoch", str(SPE),
                         "--bpf-program", str(AGENT_ID), str(REPO / "fixtures" / "ml_trading_agent.so"),
                         "--bpf-program", str(TOKEN_PROGRAM_ID), str(token_path), reset=True, slot_ms=50)
    yield v
    if v.proc.poll() is None:
        v.stop()


async def confirmed(client: AsyncClient, sig, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        st = (await client.get_signature_statuses([sig])).value[0]
        if st is not None:
            return st
        await asyncio.sleep(0.05)
    raise AssertionError(f"{sig} not confirmed")


async def send(client: AsyncClient, payer: Keypair, ixs: list[Instruction], signers=(), v0: bool = False):
    bh = (await client.get_latest_blockhash()).value.blockhash
    keys = [payer, *signers]
    if v0:
        tx = VersionedTransaction(MessageV0.try_compile(payer.pubkey(), ixs, [], bh), keys)
    else:
        tx = Transaction(keys, Message(ixs, payer.pubkey()), bh)
    sig = (await client.send_transaction(tx)).value
    st = await confirmed(client, sig)
    assert st.err is None, st.err
    return sig


async def create(client, payer: Keypair, new: Keypair, space: int, owner: Pubkey) -> Instruction:
    lamports = (await client.get_minimum_balance_for_rent_exemption(space)).value
    return sp.create_account(dict(from_pubkey=payer.pubkey(), to_pubkey=new.pubkey(), lamports=lamports,
                                  space=space, owner=owner))


async def token_amount(client, account: Pubkey) -> int:
    info = (await client.get_account_info(account)).value
    assert info.owner == TOKEN_PROGRAM_ID
    return struct.unpack_from("<Q", bytes(info.data), 64)[0]


def loader_ix(data: bytes, *metas: tuple[Pubkey, bool, bool]) -> Instruction:
    return Instruction(LOADER, data, [AccountMeta(k, s, w) for k, s, w in metas])


async def flow(url: str) -> None:
    async with AsyncClient(url) as client:
        payer = Keypair()
        await confirmed(client, (await client.request_airdrop(payer.pubkey(), 100 * SOL)).value)

        # --- 1. SPL Token: mint + two token accounts, MintTo, Transfer ----------------------------
        mint, acct_a, acct_b, owner_b = Keypair(), Keypair(), Keypair(), Keypair()
        await send(client, payer, [
            await create(client, payer, mint, spl.MINT_LEN, TOKEN_PROGRAM_ID),
            spl.initialize_mint2(TOKEN_PROGRAM_ID, mint.pubkey(), 6, payer.pubkey()),
            await create(client, payer, acct_a, spl.ACCOUNT_LEN, TOKEN_PROGRAM_ID),
            spl.initialize_account3(TOKEN_PROGRAM_ID, acct_a.pubkey(), mint.pubkey(), payer.pubkey()),
        ], [mint, acct_a])
        await send(client, payer, [
            await create(client, payer, acct_b, spl.ACCOUNT_LEN, TOKEN_PROGRAM_ID),
            spl.initialize_account3(TOKEN_PROGRAM_ID, acct_b.pubkey(), mint.pubkey(), owner_b.pubkey()),
        ], [acct_b], v0=True)
        await send(client, payer, [spl.mint_to(TOKEN_PROGRAM_ID, mint.pubkey(), acct_a.pubkey(), payer.pubkey(),
                                           1_000_000)])
        sig = await send(client, payer, [spl.transfer(TOKEN_PROGRAM_ID, acct_a.pubkey(), acct_b.pubkey(),
                                                        payer.pubkey(), 250_000)], v0=True)
        assert await token_amount(client, acct_a.pubkey()) == 750_000
        assert await token_amount(client, acct_b.pubkey()) == 250_000
        supply = struct.unpack_from("<Q", bytes((await client.get_account_info(mint.pubkey())).value.data), 36)[0]
        assert supply == 1_000_000
        logs = (await client.get_transaction(sig, max_supported_transaction_version=0)).value.transaction.meta \
            .log_messages
        # LiteSVM's Token is p-token: no "Instruction: Transfer" log line
        assert logs[0] == f"Program {TOKEN_PROGRAM_ID} invoke [1]" and logs[-1] == f"Program {TOKEN_PROGRAM_ID} success"

        # --- 2. deploy fixtures/hello.so through the upgradeable loader, then invoke it -----------
        elf = (REPO / "fixtures" / "hello.so").read_bytes()
        buf, prog = Keypair(), Keypair()
        pd = Pubkey.find_program_address([bytes(prog.pubkey())], LOADER)[0]
        await send(client, payer, [
            await create(client, payer, buf, 37 + len(elf), LOADER),
            loader_ix(struct.pack("<I", 0), (buf.pubkey(), False, True), (payer.pubkey(), False, False)),
        ], [buf])
        for off in range(0, len(elf), CHUNK):
            chunk = elf[off:off + CHUNK]
            await send(client, payer, [loader_ix(struct.pack("<IIQ", 1, off, len(chunk)) + chunk,
                                                 (buf.pubkey(), False, True), (payer.pubkey(), True, False))])
        await send(client, payer, [
            await create(client, payer, prog, 36, LOADER),
            loader_ix(struct.pack("<IQ", 2, 2 * len(elf)), (payer.pubkey(), True, True), (pd, False, True),
                      (prog.pubkey(), False, True), (buf.pubkey(), False, True), (RENT_ID, False, False),
                      (CLOCK_ID, False, False), (SYS, False, False), (payer.pubkey(), True, False)),
        ], [prog], v0=True)
        info = (await client.get_account_info(prog.pubkey())).value
        assert info.executable and info.owner == LOADER
        assert (await client.get_account_info(buf.pubkey())).value is None  # buffer closed by deploy
        # deployed programs become visible from the next slot on (Agave's delay-visibility)
        slot = (await client.get_slot()).value
        while (await client.get_slot()).value <= slot:
            await asyncio.sleep(0.05)
        hsig = await send(client, payer, [Instruction(prog.pubkey(), b"", [])])
        logs = (await client.get_transaction(hsig)).value.transaction.meta.log_messages
        assert logs[0] == f"Program {prog.pubkey()} invoke [1]"
        assert "Program log: Hello, sbpfunc!" in logs and logs[-1] == f"Program {prog.pubkey()} success"


async def wait_slot(client: AsyncClient, slot: int, timeout: float = 20.0) -> int:
    deadline = time.time() + timeout
    while (now := (await client.get_slot()).value) < slot:
        assert time.time() < deadline, f"slot {now} never reached {slot}"
        await asyncio.sleep(0.05)
    return now


async def stage(client: AsyncClient, payer: Keypair, payload: bytes) -> Keypair:
    """A governance-owned buffer holding `payload` (created, then written in chunks by transactions)."""
    buf = Keypair()
    await send(client, payer, [await create(client, payer, buf, len(payload), GOVERNANCE_PROGRAM_ID)], [buf])
    for ix in write_chunks(buf.pubkey(), payload):
        await send(client, payer, [ix], [buf])
    assert bytes((await client.get_account_info(buf.pubkey())).value.data) == payload
    return buf


async def governance_and_agent(client: AsyncClient) -> None:
    payer = Keypair()
    await confirmed(client, (await client.request_airdrop(payer.pubkey(), 100 * SOL)).value)
    cluster = str((await client.get_genesis_hash()).value)

    # The model account: examples/ml_agent.json's data, written by transactions into a governance
    # buffer (the validator CLI has no option to load genesis accounts; the agent reads the data only).
    model = EXAMPLE["accounts"][0]
    model_buf = await stage(client, payer, bytes.fromhex(model["data"]))
    ix = EXAMPLE["instructions"][0]
    assert [m["pubkey"] for m in ix["accounts"]] == [model["pubkey"]]
    agent = Instruction(AGENT_ID, bytes.fromhex(ix["data"]), [AccountMeta(model_buf.pubkey(), False, False)])
    cu = set_compute_unit_limit(EXAMPLE["compute_unit_limit"])

    async def agent_tx() -> VersionedTransaction:
        bh = (await client.get_latest_blockhash()).value.blockhash
        return VersionedTransaction(MessageV0.try_compile(payer.pubkey(), [cu, agent], [], bh), [payer])

    # Before activation the agent fails: sol_ml_matmul is known but not active.
    sim = (await client.simulate_transaction(await agent_tx())).value
    assert sim.err is not None and any("is not active at slot" in line for line in sim.logs), sim.logs

    # Margins in wall-clock terms (50 ms slots): ~4 s to stage the proposal and audit report
    # before voting starts, ~10 s of voting for 5 ballot transactions, so a loaded CI machine
    # does not turn this into a timing failure. The audit runs first: it spawns interpreters.
    report = audit_module(ML)
    assert report.passed
    now = (await client.get_slot()).value
    start = now + 80
    end = start + 200
    activation = -(-(end + 1) // SPE) * SPE
    p = dataclasses.replace(Proposal.load(GOV / "ml-activate.toml"), cluster=cluster, slots_per_epoch=SPE,
                            voting_start=start, voting_end=end, activation_slot=activation)
    toml_buf = await stage(client, payer, p.to_toml().encode())
    sig = await send(client, payer, [create_proposal_ix(toml_buf.pubkey())])
    logs = (await client.get_transaction(sig)).value.transaction.meta.log_messages
    assert any(f"proposal {p.id} created" in line for line in logs), logs

    audit_buf = await stage(client, payer, json.dumps(report.to_dict()).encode())
    await wait_slot(client, start)
    await send(client, payer, [open_voting_ix(p.id, audit_buf.pubkey())])

    slot = (await client.get_slot()).value
    voters = [GovKeypair.load(GOV / "keys" / f"validator-{i:02d}.json") for i in range(1, 21)]
    ballots = [Ballot.sign(kp, cluster, p.id, p.module_sha256, "yes", slot) for kp in voters]
    for i in range(0, len(ballots), 4):
        await send(client, payer, [cast_ballot_ix(b) for b in ballots[i:i + 4]], v0=bool(i % 8))
    assert (await client.get_slot()).value < end, "ballots landed after voting ended"

    # Still inactive before the activation slot ...
    await wait_slot(client, end)
    sim = (await client.simulate_transaction(await agent_tx())).value
    assert sim.err is not None and any("is not active at slot" in line for line in sim.logs), sim.logs
    # ... and working from it on, without a restart.
    await wait_slot(client, activation)
    sig = (await client.send_transaction(await agent_tx())).value
    assert (await confirmed(client, sig)).err is None
    logs = (await client.get_transaction(sig, max_supported_transaction_version=0)).value.transaction.meta \
        .log_messages
    assert any(line.startswith("Program log: AI prediction:") for line in logs), logs


async def run_all(url: str) -> None:
    await flow(url)
    async with AsyncClient(url) as client:
        await governance_and_agent(client)


def test_spl_token_deploy_governance_agent(validator):
    asyncio.run(run_all(validator.url))
    assert "shut down" in validator.stop()
