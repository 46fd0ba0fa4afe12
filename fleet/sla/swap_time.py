"""How long a technician's work on one part takes: the planner books it, and "in reach" counts it (a spare that
arrives 3.9 h into a 4 h limit cannot be fitted in time by a 15-minute swap)."""

from __future__ import annotations

from datetime import timedelta

from fleet.config import Settings


def swap_duration(kind: str, settings: Settings) -> timedelta:
    # An unknown part kind gets the longest typical time: better planned too long than too short.
    minutes = settings.swap_minutes.get(kind, max(settings.swap_minutes.values(), default=60))
    return timedelta(minutes=minutes)
