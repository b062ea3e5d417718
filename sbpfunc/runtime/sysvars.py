"""The sysvar cache: Clock, Rent and EpochSchedule as construct layouts, with LiteSVM's defaults.

Values are kept as their raw bincode bytes (what `sol_get_*_sysvar` copies out and what the sysvar
accounts hold); the parsed views are for Python callers. Rent's exemption threshold is an f64 in
the wire format; it is read as an exact fraction so rent arithmetic stays integer-only.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from fractions import Fraction

import construct as c
from solders.pubkey import Pubkey

CLOCK_ID = Pubkey.from_string("SysvarC1ock11111111111111111111111111111111")
RENT_ID = Pubkey.from_string("SysvarRent111111111111111111111111111111111")
EPOCH_SCHEDULE_ID = Pubkey.from_string("SysvarEpochSchedu1e111111111111111111111111")
EPOCH_REWARDS_ID = Pubkey.from_string("SysvarEpochRewards1111111111111111111111111")
LAST_RESTART_SLOT_ID = Pubkey.from_string("SysvarLastRestartS1ot1111111111111111111111")
INSTRUCTIONS_ID = Pubkey.from_string("Sysvar1nstructions1111111111111111111111111")
STAKE_HISTORY_ID = Pubkey.from_string("SysvarStakeHistory1111111111111111111111111")

Clock = c.Struct("slot" / c.Int64ul, "epoch_start_timestamp" / c.Int64sl, "epoch" / c.Int64ul,
                 "leader_schedule_epoch" / c.Int64ul, "unix_timestamp" / c.Int64sl)
Rent = c.Struct("lamports_per_byte_year" / c.Int64ul, "exemption_threshold" / c.Bytes(8),
                "burn_percent" / c.Int8ul)
EpochSchedule = c.Struct("slots_per_epoch" / c.Int64ul, "leader_schedule_slot_offset" / c.Int64ul,
                         "warmup" / c.Flag, "first_normal_epoch" / c.Int64ul, "first_normal_slot" / c.Int64ul)

LAYOUTS = {CLOCK_ID: Clock, RENT_ID: Rent, EPOCH_SCHEDULE_ID: EpochSchedule}

# LiteSVM's defaults (solders 0.29).
DEFAULT_CLOCK = Clock.build(dict(slot=435_888_000, epoch_start_timestamp=0, epoch=0,
                                 leader_schedule_epoch=0, unix_timestamp=0))
DEFAULT_RENT = Rent.build(dict(lamports_per_byte_year=6960, exemption_threshold=struct.pack("<d", 1.0),
                               burn_percent=50))
DEFAULT_EPOCH_SCHEDULE = EpochSchedule.build(dict(slots_per_epoch=432_000, leader_schedule_slot_offset=432_000,
                                                  warmup=True, first_normal_epoch=14, first_normal_slot=524_256))
ACCOUNT_STORAGE_OVERHEAD = 128


def _f64_fraction(raw: bytes) -> Fraction:
    """An f64's exact value as a Fraction, decoded from its bits (no float arithmetic)."""
    bits = int.from_bytes(raw, "little")
    sign = -1 if bits >> 63 else 1
    exp = (bits >> 52) & 0x7FF
    mant = bits & ((1 << 52) - 1)
    if exp == 0:
        value = Fraction(mant, 1 << (1022 + 52))
    else:
        value = Fraction((1 << 52) | mant) * (Fraction(2) ** (exp - 1075))
    return sign * value


@dataclass
class SysvarCache:
    """Raw sysvar bytes by id."""

    data: dict[Pubkey, bytes] = field(default_factory=lambda: {
        CLOCK_ID: DEFAULT_CLOCK, RENT_ID: DEFAULT_RENT, EPOCH_SCHEDULE_ID: DEFAULT_EPOCH_SCHEDULE,
        # LiteSVM's other zero-valued sysvars (EpochRewards is 81 bytes of bincode zeros)
        EPOCH_REWARDS_ID: bytes(81), LAST_RESTART_SLOT_ID: bytes(8), STAKE_HISTORY_ID: bytes(8)})

    def get(self, sysvar_id: Pubkey) -> bytes | None:
        return self.data.get(sysvar_id)

    def set(self, sysvar_id: Pubkey, raw: bytes) -> None:
        self.data[sysvar_id] = bytes(raw)

    def clock(self):
        return Clock.parse(self.data[CLOCK_ID])

    def epoch_schedule(self):
        return EpochSchedule.parse(self.data[EPOCH_SCHEDULE_ID])

    def rent(self):
        return Rent.parse(self.data[RENT_ID])

    def minimum_balance(self, data_len: int) -> int:
        """Rent-exempt minimum, as Agave computes it: ((len + 128) * lamports_per_byte_year) * threshold."""
        r = self.rent()
        exact = (data_len + ACCOUNT_STORAGE_OVERHEAD) * r.lamports_per_byte_year * _f64_fraction(r.exemption_threshold)
        return int(exact)
