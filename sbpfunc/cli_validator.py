"""`sbpfunc validator`: a local validator (bank + JSON-RPC), like solana-test-validator.

Registered on the main Typer app by `register(app)`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def register(app: typer.Typer) -> None:
    @app.command("validator", context_settings={"allow_extra_args": True, "ignore_unknown_options": False})
    def validator_cmd(
            ctx: typer.Context,
            ledger: Optional[Path] = typer.Option(None, "--ledger", help="ledger directory (SQLite); in memory "
                                                                         "if omitted"),
            reset: bool = typer.Option(False, "--reset", help="start a fresh ledger"),
            rpc_port: int = typer.Option(8899, "--rpc-port", help="JSON-RPC port"),
            bind_address: str = typer.Option("127.0.0.1", "--bind-address", help="address to listen on"),
            bpf_program: list[str] = typer.Option([], "--bpf-program", metavar="ID PATH",
                                                  help="genesis program: its id, then its ELF path "
                                                       "(repeatable)"),
            module: list[Path] = typer.Option([], "--module", help="SBPFunc module file to activate"),
            stake_table: Optional[Path] = typer.Option(None, "--stake-table", help="stake table TOML (at genesis): "
                                                       "enables the governance program; --module files are "
                                                       "then known, and active only once governance activates "
                                                       "them"),
            slots_per_epoch: int = typer.Option(432_000, "--slots-per-epoch", help="slots per epoch (new ledgers)"),
            slot_ms: int = typer.Option(400, "--slot-ms", help="milliseconds per slot")):
        """Run a local validator: a bank with a JSON-RPC endpoint that Solana clients use unchanged."""
        import asyncio

        from solders.pubkey import Pubkey

        from .bank import Bank, MemoryStore, SqliteStore
        from .cli import CliError
        from .rpc.validator import serve
        from .syscalls.modules import load_module

        # Typer has no two-value repeatable option: each --bpf-program takes the ID, and the PATHs
        # are the extra arguments, paired with the IDs in order.
        extra = list(ctx.args)
        if len(extra) != len(bpf_program):
            raise CliError("--bpf-program takes two values: ID PATH")
        programs = []
        for pid_text, path in zip(bpf_program, extra):
            parts = [pid_text, path]
            try:
                pid = Pubkey.from_string(parts[0])
            except ValueError:
                raise CliError(f"--bpf-program: invalid program id {parts[0]!r}") from None
            try:
                programs.append((pid, Path(parts[1]).read_bytes()))
            except OSError as e:
                raise CliError(f"cannot read {parts[1]}: {e.strerror or e}") from None
        if slots_per_epoch < 1:
            raise CliError("--slots-per-epoch must be at least 1")
        store = SqliteStore(ledger, reset=reset) if ledger is not None else MemoryStore()
        # --stake-table: the governance builtin and per-epoch stake snapshots (sbpfunc/bank/governance_program.py)
        table = None
        if stake_table is not None:
            from .governance.errors import GovernanceError
            from .governance.stake import StakeTable
            try:
                table = StakeTable.load(stake_table)
            except GovernanceError as e:
                raise CliError(str(e)) from None
        try:
            bank = Bank(store, slots_per_epoch=slots_per_epoch, programs=programs,
                        modules=[load_module(m) for m in module], stake_table=table)
        except ValueError as e:
            raise CliError(str(e)) from None
        asyncio.run(serve(bank, host=bind_address, port=rpc_port, slot_ms=slot_ms))
