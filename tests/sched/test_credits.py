"""Outage credits and the SLA rules as pure functions; expected values worked out by hand from SLA.txt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fleet.config import Settings
from fleet.errors import InputError
from fleet.sla.report import credit_cents, credit_periods, monitoring_gaps, month_pieces, parse_month

S = Settings()


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


@pytest.mark.parametrize(
    ("minutes", "periods"),
    [(59, 0), (60, 0), (61, 1), (119, 1), (120, 2), (179, 2), (180, 3)],
)
def test_only_an_outage_longer_than_an_hour_earns_full_hour_periods(minutes: int, periods: int) -> None:
    assert credit_periods(minutes, S) == periods


def test_monthly_credit_is_3_3_percent_per_period() -> None:
    # 100.00 a month: one period 3.30, two periods 6.60.
    assert credit_cents(1, 10_000, "monthly", S) == (330, False)
    assert credit_cents(2, 10_000, "monthly", S) == (660, False)


def test_monthly_credit_is_capped_at_half_the_monthly_fee() -> None:
    # 15 periods = 49.5 % (under the cap); 16 periods = 52.8 % -> 50 % = 50.00.
    assert credit_cents(15, 10_000, "monthly", S) == (4_950, False)
    assert credit_cents(16, 10_000, "monthly", S) == (5_000, True)


def test_annual_credit_is_0_27_percent_of_the_annual_payment_per_period() -> None:
    # 100.00 a month billed yearly: 1,200.00 a year. Two periods: 0.54 % = 6.48.
    assert credit_cents(2, 10_000, "annual", S) == (648, False)


def test_annual_credit_is_capped_at_one_24th_of_the_annual_payment() -> None:
    # 1/24 of 1,200.00 = 50.00. 15 periods: 4.05 % = 48.60; 16 periods: 4.32 % = 51.84 -> 50.00.
    assert credit_cents(15, 10_000, "annual", S) == (4_860, False)
    assert credit_cents(16, 10_000, "annual", S) == (5_000, True)


def test_credit_rounds_to_the_cent() -> None:
    # 33.33 a month: 3.3 % = 1.09989 -> 1.10.
    assert credit_cents(1, 3_333, "monthly", S) == (110, False)


def test_an_outage_across_a_month_boundary_is_split() -> None:
    pieces = month_pieces(utc(2026, 10, 31, 22, 30), utc(2026, 11, 1, 1, 45))
    assert pieces == [
        ("2026-10", utc(2026, 10, 31, 22, 30), utc(2026, 11, 1)),
        ("2026-11", utc(2026, 11, 1), utc(2026, 11, 1, 1, 45)),
    ]
    # 90 minutes in October (one period), 105 in November (one period): not 195 minutes (three) in one month.
    assert [credit_periods((e - s).total_seconds() / 60, S) for _, s, e in pieces] == [1, 1]


def test_december_runs_into_the_next_year() -> None:
    assert parse_month("2026-12") == (utc(2026, 12, 1), utc(2027, 1, 1))


@pytest.mark.parametrize("bad", ["2026-13", "2026-1", "Oct 2026", ""])
def test_a_bad_month_is_an_input_error(bad: str) -> None:
    with pytest.raises(InputError):
        parse_month(bad)


def test_monitoring_gaps_longer_than_the_interval() -> None:
    five = timedelta(minutes=5)
    start, end = utc(2026, 11, 1), utc(2026, 11, 1, 1)
    # Sweeps every 5 minutes, except a silence from 00:20 to 00:40; the last one before the period at 23:57.
    starts = [utc(2026, 10, 31, 23, 57), *[start + timedelta(minutes=m) for m in (0, 5, 10, 15, 20, 40, 45, 50, 55)]]
    assert monitoring_gaps(starts, start, end, five) == [(utc(2026, 11, 1, 0, 20), utc(2026, 11, 1, 0, 40))]


def test_a_monitoring_that_stopped_is_a_gap_to_the_end() -> None:
    start, end = utc(2026, 11, 1), utc(2026, 11, 1, 1)
    assert monitoring_gaps([utc(2026, 11, 1, 0, 30)], start, end, timedelta(minutes=5)) == [
        (start, utc(2026, 11, 1, 0, 30)),
        (utc(2026, 11, 1, 0, 30), end),
    ]
