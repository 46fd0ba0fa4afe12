"""Weekly hours in local time: shifts past midnight, DST changes, window proposals in the customer's timezone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from fleet.errors import InputError
from fleet.swaps.windows import Weekly, expand, parse_weekly, propose_windows, subtract, zone

PARIS = zone("Europe/Paris")
NEW_YORK = zone("America/New_York")


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def test_a_shift_ending_before_it_starts_runs_past_midnight() -> None:
    # Friday 2026-11-27 in Paris (CET, UTC+1): 22:00-06:00 is 21:00Z to Saturday 05:00Z.
    hours = expand(parse_weekly([{"weekday": 4, "start": "22:00", "end": "06:00"}]), PARIS,
                   utc(2026, 11, 23), utc(2026, 11, 30))  # fmt: skip
    assert hours == [(utc(2026, 11, 27, 21), utc(2026, 11, 28, 5))]


def test_last_nights_shift_is_still_running_at_the_start() -> None:
    hours = expand([Weekly(3, time(22), time(6))], PARIS, utc(2026, 11, 27, 2), utc(2026, 11, 27, 12))
    assert hours == [(utc(2026, 11, 27, 2), utc(2026, 11, 27, 5))]


def test_the_night_summer_time_ends_a_22_to_06_shift_lasts_nine_hours() -> None:
    # Paris leaves CEST on Sunday 2026-10-25 at 03:00 local: Saturday 22:00 CEST = 20:00Z, Sunday 06:00 CET = 05:00Z.
    (iv,) = expand([Weekly(5, time(22), time(6))], PARIS, utc(2026, 10, 24), utc(2026, 10, 26))
    assert iv == (utc(2026, 10, 24, 20), utc(2026, 10, 25, 5))
    assert iv[1] - iv[0] == timedelta(hours=9)


def test_on_call_right_after_a_shift_is_one_stretch() -> None:
    hours = expand([Weekly(0, time(8), time(16)), Weekly(0, time(16), time(20))], PARIS,
                   utc(2026, 11, 23), utc(2026, 11, 24))  # fmt: skip
    assert hours == [(utc(2026, 11, 23, 7), utc(2026, 11, 23, 19))]


def test_committed_work_is_taken_out() -> None:
    hours = [(utc(2026, 1, 1, 8), utc(2026, 1, 1, 16))]
    assert subtract(hours, [(utc(2026, 1, 1, 10), utc(2026, 1, 1, 11))]) == [
        (utc(2026, 1, 1, 8), utc(2026, 1, 1, 10)),
        (utc(2026, 1, 1, 11), utc(2026, 1, 1, 16)),
    ]


@pytest.mark.parametrize("bad", ['[{"weekday": 7, "start": "08:00", "end": "09:00"}]',
                                 '[{"weekday": 1, "start": "8h", "end": "09:00"}]', "{", '{"weekday": 1}'])  # fmt: skip
def test_bad_weekly_json_is_a_clear_input_error(bad: str) -> None:
    with pytest.raises(InputError):
        parse_weekly(bad, "shifts")


def always(start: datetime, days: int = 30) -> list[list[tuple[datetime, datetime]]]:
    return [[(start, start + timedelta(days=days))]]


def test_proposals_in_paris_keep_09_local_across_the_october_change() -> None:
    # Customer prefers Friday and Monday 09:00-11:00 Paris time. Now Wednesday 2026-10-21 12:00Z, notice 24 h.
    pref = parse_weekly([{"weekday": 4, "start": "09:00", "end": "11:00"}, {"weekday": 0, "start": "09:00",
                         "end": "11:00"}])  # fmt: skip
    now = utc(2026, 10, 21, 12)
    out = propose_windows(pref, PARIS, always(now), now=now, duration=timedelta(minutes=30), count=3)
    # Fri 23 Oct (CEST, UTC+2): 07:00Z; Mon 26 Oct (CET, UTC+1): 08:00Z; Fri 30 Oct: 08:00Z.
    assert [(p.start, p.end) for p in out] == [
        (utc(2026, 10, 23, 7), utc(2026, 10, 23, 9)),
        (utc(2026, 10, 26, 8), utc(2026, 10, 26, 10)),
        (utc(2026, 10, 30, 8), utc(2026, 10, 30, 10)),
    ]
    assert all(p.local_start.hour == 9 and p.local_end.hour == 11 for p in out)


def test_proposals_in_new_york_across_the_november_change() -> None:
    # Saturday 14:00-16:00 New York; DST ends Sunday 2026-11-01. Sat 31 Oct EDT (UTC-4) -> 18:00Z; Sat 7 Nov EST
    # (UTC-5) -> 19:00Z.
    pref = [Weekly(5, time(14), time(16))]
    now = utc(2026, 10, 28)
    out = propose_windows(pref, NEW_YORK, always(now), now=now, duration=timedelta(hours=1), count=3)
    assert [p.start for p in out] == [utc(2026, 10, 31, 18), utc(2026, 11, 7, 19), utc(2026, 11, 14, 19)]
    assert {p.local_start.strftime("%H:%M") for p in out} == {"14:00"}


def test_proposals_only_where_a_technician_is_on_shift() -> None:
    # Customer: every weekday 09:00-17:00 Paris. Technician: only Thursday 13:00-15:00 Paris.
    pref = [Weekly(d, time(9), time(17)) for d in range(5)]
    now = utc(2026, 11, 23, 8)  # Monday
    tech = expand([Weekly(3, time(13), time(15))], PARIS, now, now + timedelta(days=28))
    out = propose_windows(pref, PARIS, [tech], now=now, duration=timedelta(minutes=45), count=3)
    # Thursdays 26 Nov, 3 Dec, 10 Dec, 12:00Z-14:00Z (CET).
    assert [p.start for p in out] == [utc(2026, 11, 26, 12), utc(2026, 12, 3, 12), utc(2026, 12, 10, 12)]


def test_a_window_too_short_for_the_batch_is_not_proposed() -> None:
    pref = [Weekly(0, time(9), time(10))]
    now = utc(2026, 11, 20)
    out = propose_windows(pref, PARIS, always(now), now=now, duration=timedelta(minutes=90), count=3)
    assert out == []


def test_a_window_on_the_night_new_york_falls_back_lasts_an_hour_more() -> None:
    # Sunday 01:00-03:00 New York on 2026-11-01: 01:00 is taken in its first occurrence (EDT, 05:00Z); 03:00 is EST
    # (08:00Z). Three real hours.
    pref = [Weekly(6, time(1), time(3))]
    now = utc(2026, 10, 30)
    (p, *_) = propose_windows(pref, NEW_YORK, always(now), now=now, duration=timedelta(hours=1), count=3)
    assert (p.start, p.end) == (utc(2026, 11, 1, 5), utc(2026, 11, 1, 8))


def test_without_preferred_hours_technician_time_is_offered_a_day_apart() -> None:
    # Technician Monday to Friday 09:00-17:00 Paris (08:00-16:00Z in November). Now Monday 23 Nov 10:00Z; the
    # 24 h notice makes Tuesday 10:00Z the earliest start.
    now = utc(2026, 11, 23, 10)
    tech = expand([Weekly(d, time(9), time(17)) for d in range(5)], PARIS, now, now + timedelta(days=28))
    out = propose_windows([], PARIS, [tech], now=now, duration=timedelta(hours=1), count=3)
    assert [(p.start, p.end) for p in out] == [
        (utc(2026, 11, 24, 10), utc(2026, 11, 24, 11)),
        (utc(2026, 11, 25, 10), utc(2026, 11, 25, 11)),
        (utc(2026, 11, 26, 10), utc(2026, 11, 26, 11)),
    ]
