"""Time, always timezone-aware UTC inside; the clock is injectable so tests and the SLA engine can freeze it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class FrozenClock:
    """A clock for tests and replays: returns the same instant until moved."""

    def __init__(self, at: datetime) -> None:
        self.now = ensure_utc(at)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def ensure_utc(dt: datetime) -> datetime:
    """Naive datetimes come back from SQLite; they were stored as UTC, so say so."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


# Times a person or a file may give: the SLA clocks add hours and days to them, and the calendar ends at year 9999.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(3000, 1, 1, tzinfo=UTC)


def parse_time(text: str, clock: Clock = utcnow) -> datetime:
    """ISO 8601 ('2026-11-27T02:10', '...Z', '...+01:00') or 'now'; a naive time is taken as UTC."""
    if text.strip().lower() == "now":
        return clock()
    try:
        dt = ensure_utc(datetime.fromisoformat(text.strip().replace("Z", "+00:00")))
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not an ISO 8601 time: {text!r}") from exc
    if not EARLIEST <= dt < LATEST:
        raise ValueError(f"time out of range (years {EARLIEST.year} to {LATEST.year - 1}): {text!r}")
    return dt


@overload
def iso(dt: datetime) -> str: ...
@overload
def iso(dt: None) -> None: ...
@overload
def iso(dt: datetime | None) -> str | None: ...
def iso(dt: datetime | None) -> str | None:
    """The one way a time is written for machines (every JSON document, report and export): ISO 8601 in UTC with
    `Z`, e.g. 2026-11-29T12:43:00Z (fractions of a second only when the time has them). People see `site_time`."""
    if dt is None:
        return None
    return ensure_utc(dt).isoformat().replace("+00:00", "Z")


def json_default(value: object) -> str:
    """`json.dumps(..., default=json_default)`: datetimes in `iso`, anything else (enums, paths) as its text."""
    return iso(value) if isinstance(value, datetime) else str(value)


def site_time(dt: datetime | None, tz: str | None, *, day: bool = True) -> str:
    """The one way a time is written for people (command line, console, customer mail): wall-clock time in the site's
    (or the customer's) zone with the zone's abbreviation: 'Sun 29 Nov 07:43 EST', or '07:43 EST' with day=False.
    UTC when the zone is unknown; '' without a time. (Here beside `iso`, not in fleet.views, because the mail in
    fleet.swaps uses it too and sits below the views.)"""
    if dt is None:
        return ""
    try:
        zone = ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return dt.astimezone(zone).strftime("%a %d %b %H:%M %Z" if day else "%H:%M %Z")
