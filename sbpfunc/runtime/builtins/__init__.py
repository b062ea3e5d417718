"""Native programs the runtime runs without a VM (system program, compute budget, upgradeable loader)."""

from __future__ import annotations

from solders.pubkey import Pubkey

from ..accounts import COMPUTE_BUDGET_ID
from ..invoke_context import BuiltinProgram
from .system import SYSTEM_PROGRAM
from .upgradeable_loader import ENTRY as UPGRADEABLE_LOADER

COMPUTE_BUDGET_UNITS = 150


def _compute_budget(ic) -> None:
    """Compute budget instructions take effect when the transaction is sanitized; executing one
    only costs its units (Agave 4.1 still runs it as a builtin)."""


def default_builtins() -> dict[Pubkey, BuiltinProgram]:
    """The builtins a transaction can invoke: compute budget and the system program."""
    return {
        COMPUTE_BUDGET_ID: BuiltinProgram("compute_budget", _compute_budget, COMPUTE_BUDGET_UNITS),
        SYSTEM_PROGRAM.program_id: SYSTEM_PROGRAM.builtin,
        **UPGRADEABLE_LOADER,
    }
