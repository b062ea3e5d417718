"""Stake tables and per-epoch snapshots.

File format (TOML, fixed so other tools can produce it):

    epoch = 3                       # optional: the epoch this table is a snapshot of
    [[validator]]
    identity = "<base58 ed25519 public key>"
    stake = 1000000000              # integer lamports, >= 0

No other keys are accepted, identities are unique, and the total stake must be positive for a
snapshot to be voted on. The epoch of a slot is `slot // slots_per_epoch` (no warm-up epochs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from .encoding import b58decode, canonical_json, dump_toml, read_toml, sha256_hex
from .errors import GovernanceError

DEFAULT_SLOTS_PER_EPOCH = 432_000  # Solana mainnet


def epoch_of(slot: int, slots_per_epoch: int) -> int:
    return slot // slots_per_epoch


def first_slot_of_epoch(epoch: int, slots_per_epoch: int) -> int:
    return epoch * slots_per_epoch


def next_epoch_boundary(slot: int, slots_per_epoch: int) -> int:
    """The first slot >= `slot` that starts an epoch."""
    return -(-slot // slots_per_epoch) * slots_per_epoch


@dataclass(frozen=True)
class StakeTable:
    """Validator identity (base58) -> stake (lamports). Immutable."""

    stakes: Mapping[str, int]
    epoch: int | None = None
    _total: int = field(default=0, repr=False, compare=False)

    def __post_init__(self):
        checked: dict[str, int] = {}
        for identity, stake in self.stakes.items():
            b58decode(identity, 32)
            if isinstance(stake, bool) or not isinstance(stake, int) or stake < 0:
                raise GovernanceError(f"validator {identity}: stake must be a non-negative integer, got {stake!r}")
            checked[identity] = stake
        if self.epoch is not None and (isinstance(self.epoch, bool) or not isinstance(self.epoch, int)
                                       or self.epoch < 0):
            raise GovernanceError(f"epoch must be a non-negative integer, got {self.epoch!r}")
        object.__setattr__(self, "stakes", MappingProxyType(dict(sorted(checked.items()))))
        object.__setattr__(self, "_total", sum(checked.values()))

    @property
    def total(self) -> int:
        return self._total

    def stake_of(self, identity: str) -> int | None:
        return self.stakes.get(identity)

    def __contains__(self, identity: str) -> bool:
        return identity in self.stakes

    def __len__(self) -> int:
        return len(self.stakes)

    def digest(self) -> str:
        """SHA-256 of the canonical (identity, stake) list: names the snapshot's content."""
        return sha256_hex(canonical_json(sorted(self.stakes.items())))

    def with_epoch(self, epoch: int) -> "StakeTable":
        return StakeTable(dict(self.stakes), epoch)

    # -- files ------------------------------------------------------------------------------------
    @classmethod
    def from_toml_dict(cls, doc: dict, source: str = "stake table") -> "StakeTable":
        extra = set(doc) - {"epoch", "validator"}
        if extra:
            raise GovernanceError(f"{source}: unknown key(s) {', '.join(sorted(extra))} "
                                  f"(expected `epoch` and [[validator]] tables)")
        rows = doc.get("validator", [])
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise GovernanceError(f"{source}: `validator` must be an array of tables ([[validator]])")
        stakes: dict[str, int] = {}
        for i, row in enumerate(rows):
            extra = set(row) - {"identity", "stake"}
            missing = {"identity", "stake"} - set(row)
            if missing or extra:
                raise GovernanceError(f"{source}: validator #{i + 1} must have exactly `identity` and `stake`"
                                      + (f" (missing {', '.join(sorted(missing))})" if missing else "")
                                      + (f" (unknown {', '.join(sorted(extra))})" if extra else ""))
            identity = row["identity"]
            if not isinstance(identity, str):
                raise GovernanceError(f"{source}: validator #{i + 1}: identity must be a base58 string")
            try:
                b58decode(identity, 32)
            except GovernanceError as e:
                raise GovernanceError(f"{source}: validator #{i + 1}: {e}") from None
            if identity in stakes:
                raise GovernanceError(f"{source}: validator {identity} is listed twice")
            stakes[identity] = row["stake"]
        try:
            return cls(stakes, doc.get("epoch"))
        except GovernanceError as e:
            raise GovernanceError(f"{source}: {e}") from None

    @classmethod
    def load(cls, path: str | Path) -> "StakeTable":
        return cls.from_toml_dict(read_toml(path), str(path))

    def to_toml(self, header: str = "") -> str:
        doc: dict = {}
        if self.epoch is not None:
            doc["epoch"] = self.epoch
        doc["validator"] = [{"identity": k, "stake": v} for k, v in self.stakes.items()]
        return dump_toml(doc, header)
