"""`sbpfunc governance ...` and `sbpfunc module audit`: the command line of sbpfunc.governance.

Registered in sbpfunc/cli.py with

    from .cli_governance import governance_app, module_app
    app.add_typer(governance_app, name="governance")
    app.add_typer(module_app, name="module")

Every refusal prints one line (`error: ...`) on stderr and exits 1. Results that are answers, not
errors, use exit 2: a failed audit, a dry-run whose proposal would not take effect, a ballot that
was rejected. File formats are fixed (docs/governance.md): proposals and stake tables are TOML,
ballots and audit reports JSON, keys Solana CLI keypair files (JSON array of 64 bytes).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Optional

import typer

from .governance.audit import DEFAULT_NS_PER_CU
from .governance.errors import GovernanceError

governance_app = typer.Typer(add_completion=False, no_args_is_help=True,
                             help="Stake-weighted governance of SBPFunc modules: proposals, ballots, tallies.")
module_app = typer.Typer(add_completion=False, no_args_is_help=True, help="SBPFunc module files.")

DB_HELP = "governance store (SQLite file)"


def _one_line_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except GovernanceError as e:
            typer.echo(f"error: {e}", err=True)
            raise typer.Exit(1) from None
    return wrapper


def _store(db: Path):
    from .governance.store import GovernanceStore

    if not db.exists():
        raise GovernanceError(f"no governance store at {db}: create it with `sbpfunc governance init`")
    return GovernanceStore(db)


def _echo_json(obj) -> None:
    typer.echo(json.dumps(obj, indent=2))


def _audit_for(proposal, module: Optional[Path], audit: Optional[Path], ns_per_cu: int) -> dict | None:
    """The audit report to open voting with: a given report file, or a fresh audit of the module file
    (given, or the proposal's `module.path`). None if there is neither."""
    from .governance.audit import audit_module, load_report

    if audit is not None:
        return load_report(audit)
    path = module if module is not None else (Path(proposal.module_path) if proposal.module_path else None)
    if path is None or not proposal.needs_audit:
        return None
    return audit_module(path, ns_per_cu=ns_per_cu).to_dict()


# --- program imports (ELF) --------------------------------------------------------------------------
def program_imports(data: bytes, known_names) -> list[str]:
    """The syscall names an SBPF program imports. This reads the ELF, which sbpfunc.governance must
    not import — so it lives here, in the CLI layer. v0-v2: the undefined dynamic symbols that
    R_BPF_64_32 relocations name (as the loader collects them); v3 (static syscalls): every
    `call` with src=0, its imm (murmur3 id) named from `known_names`."""
    from .elf.loader import load_elf
    from .governance.proposal import syscall_key

    exe = load_elf(data)
    if not exe.version.static_syscalls:
        return sorted(set(exe.syscall_names.values()))
    by_key = {syscall_key(n): n for n in known_names}
    names = set()
    text = exe.text
    for off in range(0, len(text) - 7, 8):
        if text[off] == 0x85 and (text[off + 1] >> 4) == 0:
            imm = int.from_bytes(text[off + 4:off + 8], "little")
            names.add(by_key.get(imm, f"<unknown syscall {imm:#010x}>"))
    return sorted(names)


def _programs(directory: Path, known_names) -> dict:
    if not directory.is_dir():
        raise GovernanceError(f"--programs {directory} is not a directory")
    out: dict = {}
    for so in sorted(directory.glob("*.so")):
        try:
            out[so.name] = program_imports(so.read_bytes(), known_names)
        except Exception as e:  # noqa: BLE001 - one unreadable program is reported, not fatal
            out[so.name] = GovernanceError(f"{type(e).__name__}: {e}")
    return out


def _ballots(directory: Path) -> list:
    from .governance.ballot import Ballot
    from .governance.errors import BallotRejected

    if not directory.is_dir():
        raise GovernanceError(f"--ballots {directory} is not a directory")
    out = []
    for f in sorted(directory.glob("*.json")):
        try:
            out.append((f.name, Ballot.load(f)))
        except BallotRejected as e:
            out.append((f.name, e))
    return out


# --- governance --------------------------------------------------------------------------------------
@governance_app.command("init")
@_one_line_errors
def init_cmd(db: Path = typer.Option(..., "--db", help=DB_HELP),
             cluster: str = typer.Option(..., "--cluster", help="cluster id ballots are signed for"),
             slots_per_epoch: int = typer.Option(432_000, "--slots-per-epoch")):
    """Create an empty governance store for one cluster."""
    from .governance.store import GovernanceStore

    if db.exists():
        raise GovernanceError(f"{db} already exists")
    GovernanceStore(db, cluster=cluster, slots_per_epoch=slots_per_epoch).close()
    typer.echo(f"created {db} for cluster {cluster} ({slots_per_epoch} slots per epoch)")


@governance_app.command("stake")
@_one_line_errors
def stake_cmd(stakes: Path = typer.Argument(..., help="stake table (TOML, [[validator]] identity/stake)"),
              db: Path = typer.Option(..., "--db", help=DB_HELP),
              slot: int = typer.Option(..., "--slot", help="current slot"),
              epoch: Optional[int] = typer.Option(None, "--epoch", help="epoch (default: the table's `epoch`)")):
    """Record the stake snapshot of an epoch (once; never retroactively)."""
    from .governance.stake import StakeTable

    table = StakeTable.load(stakes)
    with _store(db) as store:
        store.record_snapshot(table, slot, epoch)
        e = epoch if epoch is not None else table.epoch
    typer.echo(f"recorded the stake snapshot of epoch {e}: {len(table)} validators, total {table.total}")


@governance_app.command("propose")
@_one_line_errors
def propose_cmd(proposal: Path = typer.Argument(..., help="proposal (TOML)"),
                db: Path = typer.Option(..., "--db", help=DB_HELP),
                slot: int = typer.Option(..., "--slot", help="current slot"),
                module: Optional[Path] = typer.Option(None, "--module", help="module file to audit (default: "
                                                      "the proposal's module.path)"),
                audit: Optional[Path] = typer.Option(None, "--audit", help="audit report (JSON) instead of auditing"),
                open_voting: bool = typer.Option(True, "--open/--draft", help="open voting when an audit passes"),
                ns_per_cu: int = typer.Option(DEFAULT_NS_PER_CU, "--ns-per-cu",
                                              help="calibration budget for the audit")):
    """Create a proposal (Draft) and, with a passing audit for its exact hash, open voting."""
    from .governance.proposal import Proposal

    p = Proposal.load(proposal)
    with _store(db) as store:
        store.create_proposal(p, slot)
        typer.echo(f"created {p.id}: {p.kind.value} {p.describe_module()} (Draft)")
        if not open_voting:
            return
        report = _audit_for(p, module, audit, ns_per_cu)
        if report is None and p.needs_audit:
            typer.echo(f"voting not opened: no audit (give --module FILE or --audit REPORT.json, then "
                       f"`sbpfunc governance open {p.id}`)")
            return
        store.open_voting(p.id, slot, report)
        r = store.proposal(p.id)
        typer.echo(f"voting opens at slot {r.voting_opens} and closes at slot {p.voting_end}; stake snapshot of "
                   f"epoch {r.snapshot_epoch}, total {r.total_stake}; threshold {p.threshold_pct}%")


@governance_app.command("open")
@_one_line_errors
def open_cmd(proposal_id: str = typer.Argument(...),
             db: Path = typer.Option(..., "--db", help=DB_HELP),
             slot: int = typer.Option(..., "--slot", help="current slot"),
             module: Optional[Path] = typer.Option(None, "--module", help="module file to audit"),
             audit: Optional[Path] = typer.Option(None, "--audit", help="audit report (JSON)"),
             ns_per_cu: int = typer.Option(DEFAULT_NS_PER_CU, "--ns-per-cu")):
    """Open voting on a Draft (needs a passing audit for its exact module hash)."""
    with _store(db) as store:
        p = store.proposal(proposal_id).proposal
        store.open_voting(proposal_id, slot, _audit_for(p, module, audit, ns_per_cu))
        r = store.proposal(proposal_id)
        typer.echo(f"voting on {proposal_id} opens at slot {r.voting_opens}, closes at slot {p.voting_end}")


@governance_app.command("ballot")
@_one_line_errors
def ballot_cmd(keypair: Path = typer.Option(..., "--keypair", help="voter keypair (Solana CLI JSON)"),
               proposal: Path = typer.Option(..., "--proposal", help="proposal (TOML)"),
               choice: str = typer.Option(..., "--choice", help="yes | no | abstain"),
               slot: Optional[int] = typer.Option(None, "--slot", help="slot (default: voting start)"),
               output: Path = typer.Option(..., "-o", "--output", help="ballot file to write (JSON)")):
    """Sign a ballot for a proposal with a validator key."""
    from .governance.ballot import Ballot, Choice
    from .governance.encoding import Keypair
    from .governance.proposal import Proposal

    if choice not in {c.value for c in Choice}:
        raise GovernanceError(f"--choice must be yes, no or abstain, not {choice!r}")
    p = Proposal.load(proposal)
    kp = Keypair.load(keypair)
    b = Ballot.sign(kp, p.cluster, p.id, p.module_sha256, choice, p.voting_start if slot is None else slot)
    try:
        output.write_text(b.to_json())
    except OSError as e:
        raise GovernanceError(f"cannot write {output}: {e.strerror or e}") from None
    typer.echo(f"wrote {output}: {kp.pubkey} votes {choice} on {p.id} at slot {b.slot}")


@governance_app.command("vote")
@_one_line_errors
def vote_cmd(ballots: list[Path] = typer.Argument(..., help="ballot files (JSON)"),
             db: Path = typer.Option(..., "--db", help=DB_HELP),
             slot: int = typer.Option(..., "--slot", help="current slot"),
             proposal_id: Optional[str] = typer.Option(None, "--proposal", help="proposal id (default: the ballot's)"),
             as_json: bool = typer.Option(False, "--json")):
    """Submit ballots. Each is counted or rejected with a reason; exit 2 if any was rejected."""
    from .governance.ballot import Ballot
    from .governance.errors import BallotRejected

    results = []
    with _store(db) as store:
        for f in ballots:
            try:
                b = Ballot.load(f)
                pid = proposal_id or b.proposal
                store.cast(pid, b, slot)
                results.append({"ballot": str(f), "accepted": True, "voter": b.voter, "choice": b.choice.value})
            except BallotRejected as e:
                results.append({"ballot": str(f), "accepted": False, "code": e.code, "reason": e.reason})
    if as_json:
        _echo_json(results)
    else:
        for r in results:
            typer.echo(f"{r['ballot']}: " + (f"counted ({r['voter']} votes {r['choice']})" if r["accepted"]
                                             else f"rejected: {r['code']}: {r['reason']}"))
    if not all(r["accepted"] for r in results):
        raise typer.Exit(2)


@governance_app.command("cancel")
@_one_line_errors
def cancel_cmd(proposal_id: str = typer.Argument(...),
               keypair: Path = typer.Option(..., "--keypair", help="the author's keypair"),
               db: Path = typer.Option(..., "--db", help=DB_HELP),
               slot: int = typer.Option(..., "--slot", help="current slot")):
    """Cancel a proposal before it takes effect (signed by its author)."""
    from .governance.ballot import cancel_message
    from .governance.encoding import Keypair

    kp = Keypair.load(keypair)
    with _store(db) as store:
        p = store.proposal(proposal_id).proposal
        store.cancel(proposal_id, slot, kp.sign(cancel_message(store.cluster, proposal_id, p.module_sha256, slot)))
    typer.echo(f"cancelled {proposal_id} at slot {slot}")


@governance_app.command("tally")
@_one_line_errors
def tally_cmd(proposal_id: str = typer.Argument(...),
              db: Path = typer.Option(..., "--db", help=DB_HELP),
              slot: Optional[int] = typer.Option(None, "--slot", help="slot (default: the store's clock)"),
              as_json: bool = typer.Option(False, "--json")):
    """The tally of a proposal: yes/no/abstain/absent stake and the exact share."""
    with _store(db) as store:
        slot = store.clock if slot is None else slot
        t = store.tally(proposal_id, slot)
        state = store.state(proposal_id, slot)
    if t is None:
        raise GovernanceError(f"proposal {proposal_id} has not opened for voting (state {state.value})")
    if as_json:
        _echo_json({"proposal": proposal_id, "slot": slot, "state": state.value, **t.to_dict()})
        return
    typer.echo(f"{proposal_id} at slot {slot}: {state.value}")
    typer.echo(f"  yes {t.yes}  no {t.no}  abstain {t.abstain}  absent {t.absent}  total {t.total}")
    typer.echo(f"  {t.describe()}")


@governance_app.command("status")
@_one_line_errors
def status_cmd(proposal_id: Optional[str] = typer.Argument(None),
               db: Path = typer.Option(..., "--db", help=DB_HELP),
               slot: Optional[int] = typer.Option(None, "--slot", help="slot (default: the store's clock)"),
               as_json: bool = typer.Option(False, "--json")):
    """Proposals with their state and history, and the modules callable at the slot."""
    with _store(db) as store:
        slot = store.clock if slot is None else slot
        ev = store.evaluation()
        ids = [proposal_id] if proposal_id else [r.id for r in store.proposals()]
        for pid in ids:
            store.proposal(pid)
        out = {"cluster": store.cluster, "slots_per_epoch": store.slots_per_epoch, "slot": slot,
               "clock": store.clock, "proposals": [], "modules": []}
        for pid in ids:
            v = ev.view(pid)
            st = v.state_at(slot)
            t = ev.tally_at(pid, slot)
            out["proposals"].append({
                "id": pid, "kind": v.proposal.kind.value, "module": v.proposal.describe_module(),
                "state": st.value if st else None, "effective_slot": v.effective_slot, "until_slot": v.until_slot,
                "tally": t.to_dict() if t else None,
                "transitions": [tr.to_dict() for tr in v.transitions]})
        for h, s in sorted(ev.statuses(slot).items()):
            iv = ev.intervals[h]
            out["modules"].append({"name": iv.name, "version": iv.version, "sha256": h, "deprecated": s.deprecated,
                                   "until_slot": s.until_slot, "functions": list(iv.functions)})
    if as_json:
        _echo_json(out)
        return
    typer.echo(f"cluster {out['cluster']}, slot {slot} (store clock {out['clock']})")
    for p in out["proposals"]:
        typer.echo(f"{p['id']}: {p['state']} — {p['kind']} {p['module']}")
        for tr in p["transitions"]:
            mark = "*" if tr["slot"] <= slot else " "
            typer.echo(f"  {mark} slot {tr['slot']:>10}  {tr['state']:<11} {tr['note']}")
    typer.echo("callable modules:" if out["modules"] else "callable modules: none")
    for m in out["modules"]:
        dep = f" (deprecated until slot {m['until_slot']})" if m["deprecated"] else ""
        typer.echo(f"  {m['name']} {m['version']} sha256 {m['sha256']}{dep}: {', '.join(m['functions'])}")


@governance_app.command("dry-run")
@_one_line_errors
def dry_run_cmd(proposal: Path = typer.Argument(..., help="proposal (TOML)"),
                stakes: Optional[Path] = typer.Option(None, "--stakes", help="stake table (TOML)"),
                ballots: Optional[Path] = typer.Option(None, "--ballots", help="directory of ballot files (*.json)"),
                programs: Optional[Path] = typer.Option(None, "--programs", help="directory of programs (*.so)"),
                module: Optional[Path] = typer.Option(None, "--module", help="module file (default: module.path)"),
                audit: Optional[Path] = typer.Option(None, "--audit", help="audit report instead of auditing"),
                db: Optional[Path] = typer.Option(None, "--db", help="dry-run on a copy of this store"),
                ns_per_cu: int = typer.Option(DEFAULT_NS_PER_CU, "--ns-per-cu"),
                as_json: bool = typer.Option(False, "--json")):
    """Simulate a proposal: timeline, activation slot or why not, audit, programs that (stop) load.

    Exit status 0 when the proposal would take effect, 2 when it would not, 1 on bad input."""
    from .governance.dryrun import dry_run
    from .governance.proposal import AGAVE_SYSCALLS, Proposal
    from .governance.stake import StakeTable

    p = Proposal.load(proposal)
    table = StakeTable.load(stakes) if stakes is not None else None
    if table is None and db is None:
        raise GovernanceError("give --stakes STAKES.toml (or --db with a recorded snapshot)")
    report = _audit_for(p, module, audit, ns_per_cu)
    ballot_list = _ballots(ballots) if ballots is not None else []
    base = _store(db) if db is not None else None
    known = set(AGAVE_SYSCALLS) | set(p.function_names)
    if base is not None:
        for iv in base.evaluation().intervals.values():
            known |= set(iv.functions)
    progs = _programs(programs, known) if programs is not None else None
    try:
        res = dry_run(p, table, ballot_list, audit=report, programs=progs, base=base)
    finally:
        if base is not None:
            base.close()
    if as_json:
        _echo_json(res.to_dict())
    else:
        typer.echo(res.to_text(), nl=False)
    if not res.succeeds:
        raise typer.Exit(2)


@governance_app.command("keygen")
@_one_line_errors
def keygen_cmd(output: Path = typer.Option(..., "-o", "--output", help="keypair file to write"),
               test_seed: Optional[str] = typer.Option(None, "--test-seed",
                                                       help="derive the key from this text (TEST KEYS ONLY)")):
    """Write a new ed25519 keypair in the Solana CLI format (JSON array of 64 bytes)."""
    from .governance.encoding import Keypair

    seed = hashlib.sha256(b"sbpfunc-test-key:" + test_seed.encode()).digest() if test_seed else os.urandom(32)
    kp = Keypair(seed)
    if output.exists():
        raise GovernanceError(f"{output} exists; not overwriting a key")
    try:
        output.write_text(kp.to_json())
    except OSError as e:
        raise GovernanceError(f"cannot write {output}: {e.strerror or e}") from None
    typer.echo(kp.pubkey)


# --- module ---------------------------------------------------------------------------------------
@module_app.command("audit")
@_one_line_errors
def audit_cmd(module: Path = typer.Argument(..., help="module file (.py)"),
              as_json: bool = typer.Option(False, "--json", help="print the report as JSON"),
              output: Optional[Path] = typer.Option(None, "-o", "--output", help="also write the JSON report here"),
              ns_per_cu: int = typer.Option(DEFAULT_NS_PER_CU, "--ns-per-cu",
                                            help="calibration: nanoseconds one compute unit may take")):
    """Audit a module file: integer-only, allow-listed imports and builtins, full signatures, cost
    formulas, deterministic passing test vectors, costs covering calibrated time.

    Exit status 0 when it passes, 2 when it fails, 1 when the file cannot be read."""
    from .governance.audit import audit_module

    report = audit_module(module, ns_per_cu=ns_per_cu)
    if output is not None:
        try:
            output.write_text(report.to_json())
        except OSError as e:
            raise GovernanceError(f"cannot write {output}: {e.strerror or e}") from None
    typer.echo(report.to_json() if as_json else report.to_text(), nl=False)
    if not report.passed:
        raise typer.Exit(2)
