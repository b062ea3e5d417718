"""Tally arithmetic: integers only, strictly above the threshold, exact fractions."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sbpfunc.governance.ballot import Choice
from sbpfunc.governance.stake import StakeTable
from sbpfunc.governance.tally import Tally, fraction_text, percent_text, tally

from .conftest import VALIDATORS


def test_exactly_the_threshold_is_not_enough():
    assert not Tally(67, 0, 0, 100, 67).approved
    assert Tally(6701, 0, 0, 10_000, 67).approved
    assert not Tally(6700, 0, 0, 10_000, 67).approved
    assert Tally(6700, 0, 0, 10_000, 67).needed_yes == 6701
    assert not Tally(95, 0, 0, 100, 95).approved and Tally(951, 0, 0, 1000, 95).approved
    assert not Tally(0, 0, 0, 0, 67).approved  # no stake: never


@given(st.integers(0, 10**19), st.integers(1, 10**19), st.integers(50, 99))
def test_approval_is_integer_exact(yes, total, threshold):
    yes = min(yes, total)
    t = Tally(yes, 0, 0, total, threshold)
    from fractions import Fraction

    assert t.approved == (Fraction(yes, total) > Fraction(threshold, 100))
    assert t.approved == (yes >= t.needed_yes)


def test_percent_and_fraction_texts():
    assert percent_text(2, 3) == "66.6666…%" and fraction_text(2, 3) == "2/3"
    assert percent_text(67, 100) == "67.0000%" and fraction_text(67, 100) == "67/100"
    assert percent_text(1, 1) == "100.0000%" and fraction_text(0, 5) == "0/1"
    assert percent_text(1, 0) == "n/a"
    t = Tally(2, 1, 0, 3, 67)
    assert t.yes_percent == "66.6666…%" and t.yes_fraction == "2/3"
    assert t.to_dict()["yes_fraction_exact"] == [2, 3]


def test_non_voters_and_abstainers_count_against():
    snap = StakeTable({VALIDATORS[0].pubkey: 70, VALIDATORS[1].pubkey: 20, VALIDATORS[2].pubkey: 10})
    t = tally({VALIDATORS[0].pubkey: Choice.YES, VALIDATORS[1].pubkey: Choice.ABSTAIN}, snap, 67)
    assert (t.yes, t.no, t.abstain, t.absent, t.total) == (70, 0, 20, 10, 100) and t.approved
    t = tally({VALIDATORS[0].pubkey: Choice.YES}, StakeTable({**snap.stakes, VALIDATORS[3].pubkey: 10}), 67)
    assert (t.yes, t.absent, t.total) == (70, 40, 110) and not t.approved  # 70/110 = 63.6%
    assert tally({VALIDATORS[5].pubkey: Choice.YES}, snap, 67).yes == 0  # not in the snapshot: ignored
