"""The tally: integer arithmetic only.

Approve when `yes * 100 > threshold_pct * total`, where `total` is the whole stake of the snapshot
(the epoch in which voting opened). Voters who abstain, vote no, or do not vote at all all fail to
add to `yes`, so they count against; exactly the threshold is not enough.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Mapping

from .ballot import Choice
from .stake import StakeTable

PCT_DIGITS = 4


def percent_text(num: int, den: int, digits: int = PCT_DIGITS) -> str:
    """`num/den` as a percentage, truncated to `digits` decimals; '…' marks a truncated value."""
    if den <= 0:
        return "n/a"
    scaled, rem = divmod(num * 100 * 10 ** digits, den)
    whole, frac = divmod(scaled, 10 ** digits)
    return f"{whole}.{frac:0{digits}d}{'…' if rem else ''}%"


def fraction_text(num: int, den: int) -> str:
    if den <= 0:
        return "0/0"
    f = Fraction(num, den)
    return f"{f.numerator}/{f.denominator}"


@dataclass(frozen=True)
class Tally:
    yes: int
    no: int
    abstain: int
    total: int
    threshold_pct: int
    voters: int = 0  # validators whose latest ballot is counted

    @property
    def absent(self) -> int:
        return self.total - self.yes - self.no - self.abstain

    @property
    def approved(self) -> bool:
        return self.total > 0 and self.yes * 100 > self.threshold_pct * self.total

    @property
    def needed_yes(self) -> int:
        """The least yes stake that approves: floor(threshold * total / 100) + 1."""
        return self.threshold_pct * self.total // 100 + 1

    @property
    def yes_percent(self) -> str:
        return percent_text(self.yes, self.total)

    @property
    def yes_fraction(self) -> str:
        """The exact share of the snapshot's stake voting yes, reduced (e.g. "2/3")."""
        return fraction_text(self.yes, self.total)

    def describe(self) -> str:
        verdict = "above" if self.approved else "not above"
        return (f"yes {self.yes} of {self.total} = {self.yes_percent} ({self.yes_fraction}), {verdict} the "
                f"{self.threshold_pct}% threshold (needs yes >= {self.needed_yes})")

    def to_dict(self) -> dict:
        return {"yes_stake": self.yes, "no_stake": self.no, "abstain_stake": self.abstain,
                "absent_stake": self.absent, "total_stake": self.total, "threshold_pct": self.threshold_pct,
                "yes_percent": self.yes_percent, "yes_fraction": self.yes_fraction,
                "yes_fraction_exact": [self.yes, self.total], "needed_yes_stake": self.needed_yes,
                "approved": self.approved, "voters": self.voters}


def tally(latest: Mapping[str, Choice], snapshot: StakeTable, threshold_pct: int) -> Tally:
    """Weigh each voter's latest choice by its snapshot stake. Voters not in the snapshot never get
    here (their ballots are rejected), but are ignored if they do."""
    sums = {Choice.YES: 0, Choice.NO: 0, Choice.ABSTAIN: 0}
    voters = 0
    for voter, choice in latest.items():
        stake = snapshot.stake_of(voter)
        if stake is None:
            continue
        sums[Choice(choice)] += stake
        voters += 1
    return Tally(sums[Choice.YES], sums[Choice.NO], sums[Choice.ABSTAIN], snapshot.total, threshold_pct, voters)
