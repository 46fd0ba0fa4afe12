"""Weekly recurring hours (technician shifts, on-call, customers' preferred windows) turned into UTC intervals.

Pure: no database, no clock of its own. The weekly entries are wall-clock times in a named timezone, so a shift of
"22:00"-"06:00" on the night summer time ends lasts nine hours, and a customer's "Monday 09:00" stays 09:00 for the
customer on both sides of a DST change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fleet.config import Settings
from fleet.errors import InputError

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class Weekly:
    """One weekly entry: weekday (Monday 0) and wall-clock start/end; end <= start runs past midnight."""

    weekday: int
    start: time
    end: time


def _hhmm(text: object, what: str) -> time:
    if not isinstance(text, str):
        raise InputError(f"{what}: expected 'HH:MM', got {text!r}")
    try:
        hh, mm = text.strip().split(":")
        return time(int(hh), int(mm))
    except ValueError:
        raise InputError(f"{what}: expected 'HH:MM', got {text!r}") from None


def parse_weekly(raw: Sequence[Mapping[str, object]], what: str = "weekly hours") -> list[Weekly]:
    """The weekly hours stored in Technician.shifts / on_call and Customer.preferred_windows (JSON columns)."""
    if not isinstance(raw, list | tuple):
        raise InputError(f"{what}: expected a list of {{weekday, start, end}}, got {type(raw).__name__}")
    items = list(raw)
    out: list[Weekly] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("weekday"), int) or not 0 <= item["weekday"] <= 6:
            raise InputError(f"{what}: each entry needs weekday 0-6 (Monday 0), start and end: {item!r}")
        out.append(Weekly(item["weekday"], _hhmm(item.get("start"), what), _hhmm(item.get("end"), what)))
    return out


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"unknown timezone {name!r}") from None


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    # fold=0: an ambiguous wall time (the repeated hour in autumn) means its first occurrence; a time that does not
    # exist (the skipped hour in spring) lands one hour later in UTC terms, which zoneinfo does for us.
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def expand(entries: Iterable[Weekly], tz: ZoneInfo, start: datetime, end: datetime) -> list[Interval]:
    """Every occurrence of the weekly entries that overlaps [start, end), in UTC, clipped, merged and sorted."""
    entries = list(entries)
    out: list[Interval] = []
    # Start a day early: last night's shift that runs past midnight may still be going at `start`.
    day = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    while day <= last:
        for e in entries:
            if e.weekday != day.weekday():
                continue
            s = _local(day, e.start, tz)
            f = _local(day + timedelta(days=1) if e.end <= e.start else day, e.end, tz)
            s, f = max(s, start), min(f, end)
            if f > s:
                out.append((s, f))
        day += timedelta(days=1)
    return merge(out)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping or touching intervals joined (a shift followed by on-call is one stretch)."""
    out: list[Interval] = []
    for s, f in sorted(intervals):
        if out and s <= out[-1][1]:
            if f > out[-1][1]:
                out[-1] = (out[-1][0], f)
        else:
            out.append((s, f))
    return out


def subtract(intervals: Sequence[Interval], busy: Iterable[Interval]) -> list[Interval]:
    """The parts of `intervals` not covered by `busy` (work already committed)."""
    result = list(intervals)
    for b0, b1 in merge(busy):
        nxt: list[Interval] = []
        for s, f in result:
            if b1 <= s or b0 >= f:
                nxt.append((s, f))
                continue
            if s < b0:
                nxt.append((s, b0))
            if b1 < f:
                nxt.append((b1, f))
        result = nxt
    return result


def intersect(a: Sequence[Interval], b: Sequence[Interval]) -> list[Interval]:
    """Both sorted and merged; the overlap of the two."""
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        s, f = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if f > s:
            out.append((s, f))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def overlap_minutes(intervals: Iterable[Interval], start: datetime, end: datetime) -> float:
    total = 0.0
    for s, f in intervals:
        lo, hi = max(s, start), min(f, end)
        if hi > lo:
            total += (hi - lo).total_seconds() / 60
    return total


QUARTER = timedelta(minutes=15)


def ceil_quarter(t: datetime) -> datetime:
    """The first whole quarter hour at or after t (UTC quarter hours are local ones in every zone: offsets are
    multiples of 15 minutes)."""
    epoch = datetime(2000, 1, 1, tzinfo=t.tzinfo)
    n = -((epoch - t) // QUARTER)  # ceiling division
    return epoch + n * QUARTER


@dataclass(frozen=True)
class Proposal:
    """A window offered to a customer: UTC inside; `local_*` are what the customer reads."""

    start: datetime
    end: datetime
    local_start: datetime
    local_end: datetime


def propose_windows(
    preferred: Sequence[Weekly],
    customer_tz: ZoneInfo,
    technician_hours: Sequence[Sequence[Interval]],
    *,
    now: datetime,
    duration: timedelta,
    count: int,
    notice: timedelta | None = None,
    horizon: timedelta | None = None,
    spacing: timedelta = timedelta(days=1),
) -> list[Proposal]:
    """Up to `count` windows, earliest first, each inside one occurrence of the customer's preferred hours and inside
    the hours of one technician long enough for `duration`; at most one per preferred occurrence so the customer gets
    a real choice. A window starts at least `notice` after now, so the customer has time to answer, and on a whole
    quarter hour.

    Without preferred hours, any technician time is offered (the customer still has to agree), windows `spacing`
    apart. `notice` and `horizon` default to the settings' `window_notice_h` and `window_horizon_days`.
    """
    if notice is None or horizon is None:
        defaults = Settings()
        notice = timedelta(hours=defaults.window_notice_h) if notice is None else notice
        horizon = timedelta(days=defaults.window_horizon_days) if horizon is None else horizon
    earliest = now + notice
    until = now + horizon
    if preferred:
        occurrences = [[iv] for iv in expand(preferred, customer_tz, earliest, until)]
    else:
        occurrences = [[(earliest, until)]]
    out: list[Proposal] = []
    for occ in occurrences:
        best: Interval | None = None
        for hours in technician_hours:
            for s0, f in intersect(occ, list(hours)):
                s = ceil_quarter(s0)
                if f - s >= duration and (best is None or s < best[0]):
                    best = (s, f)
                    break
        if best is None:
            continue
        s, f = best
        if not preferred:
            # No preferred hours: offer distinct stretches of technician time, each just long enough.
            f = s + duration
        out.append(Proposal(s, f, s.astimezone(customer_tz), f.astimezone(customer_tz)))
        if len(out) >= count:
            break
    if not preferred and out:
        # One stretch found; add the next ones `spacing` apart so the customer can choose.
        while len(out) < count:
            nxt_from = out[-1].start + spacing
            if nxt_from >= until:
                break
            more = propose_windows(
                (), customer_tz, technician_hours, now=nxt_from - notice, duration=duration, count=1, notice=notice,
                horizon=until - nxt_from + notice, spacing=spacing,
            )  # fmt: skip
            if not more:
                break
            out.append(more[0])
    return out
