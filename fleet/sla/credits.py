"""Outage credits over whole outages: overlapping records merged, monitoring gaps taken out, the month that pays.

Pure: plain intervals in aware UTC. docs/SLA.md states each rule.

- Records of one server that overlap or touch (the web and the DNS check failing together, two detectors) are one
  outage: the same minute is never counted twice, and the periods of a 3-hour outage are not split into two
  shorter records that each stay under the hour.
- An outage earns its full 60-minute periods over its whole length, even when it crosses the end of a month; the
  credit goes to the month in which the outage ended (an outage still open at the report's now: the running month,
  provisionally). A closed month's credit therefore never changes afterwards.
- Minutes inside a monitoring gap were not measured: they are taken out of the outage before its periods are counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

Interval = tuple[datetime, datetime]


@dataclass
class MergedOutage:
    start: datetime
    end: datetime  # now, when still open
    ongoing: bool
    ids: list[int] = field(default_factory=list)


def merge_outages(records: Iterable[tuple[int, datetime, datetime | None]], now: datetime) -> list[MergedOutage]:
    """(id, start, end or None) records of one server -> outages, overlapping or touching records joined."""
    out: list[MergedOutage] = []
    for rid, start, end in sorted(records, key=lambda r: (r[1], r[0])):
        stop, ongoing = (end, False) if end is not None else (max(now, start), True)
        if out and start <= out[-1].end:
            last = out[-1]
            if stop > last.end or (stop == last.end and ongoing):
                last.end = stop
            last.ongoing = last.ongoing or ongoing
            last.ids.append(rid)
        else:
            out.append(MergedOutage(start, stop, ongoing, [rid]))
    return out


def overlap_minutes(a: Interval, others: Sequence[Interval]) -> float:
    total = 0.0
    for s, e in others:
        lo, hi = max(a[0], s), min(a[1], e)
        if hi > lo:
            total += (hi - lo).total_seconds() / 60
    return total


def measured_minutes(a: Interval, gaps: Sequence[Interval]) -> float:
    """Minutes of the interval that monitoring saw (gaps are disjoint, as monitoring_gaps returns them)."""
    return (a[1] - a[0]).total_seconds() / 60 - overlap_minutes(a, gaps)


def month_key(dt: datetime) -> str:
    """The one name of a report month: the UTC month of `dt` as YYYY-MM (what `--month` takes)."""
    dt = dt.astimezone(UTC)
    return f"{dt.year:04d}-{dt.month:02d}"


def credit_month(outage: MergedOutage) -> str:
    """The month (UTC, YYYY-MM) whose report credits this outage: the month in which it ended."""
    end = outage.end
    # An outage that ended exactly at midnight on the 1st ended in the month before.
    if end == end.replace(day=1, hour=0, minute=0, second=0, microsecond=0) and end > outage.start:
        return month_key(end - timedelta(microseconds=1))
    return month_key(end)
