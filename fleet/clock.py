"""Time, always timezone-aware UTC inside; the clock is injectable so tests and the SLA engine can freeze it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

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
