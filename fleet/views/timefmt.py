"""How times read for people: countdowns to a deadline, the age of data, wall-clock time at the site with its zone.

Pure functions over aware datetimes; `now` is always passed in, so a frozen clock gives the same text every time.
"""

from __future__ import annotations

from datetime import datetime

from fleet.clock import site_time

__all__ = ["age", "countdown", "site_time"]  # site_time: defined with the machines' format in fleet.clock


def countdown(deadline: datetime | None, now: datetime) -> str:
    """'0:42:10' left, '-1:05:00' overdue, '' without a deadline. Seconds shown: it is what a technician watches."""
    if deadline is None:
        return ""
    seconds = int((deadline - now).total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds >= 100 * 3600:
        return f"{sign}{seconds // 86400}d"
    return f"{sign}{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def age(since: datetime | None, now: datetime) -> str:
    """'never', '12s', '5m', '3h', '2d': how old a piece of data is, coarse enough to stay readable."""
    if since is None:
        return "never"
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"
