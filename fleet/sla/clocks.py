"""The SLA's clocks and scope: the one place that knows when an alert must be looked at, when a critical swap is due
and which servers the SLA covers. Every deadline shown or counted anywhere (the sweep, the planner, the spare
search, the console, the command line, the monthly report, the JSON) comes from these functions.

- notification: the earliest of monitoring detection and a support ticket for the fault (`Fault.notified_at`, kept
  by fleet.faults);
- acknowledge by: notification + `ack_within_min` (1 h): "our technicians will check ... within one hour";
- critical swap: its clock starts at the earliest report of the *critical* condition (`Fault.critical_since`);
  target = clock + `critical_target_min` (1 h), hard limit = clock + `critical_limit_min` (4 h);
- scope: dedicated servers and VMs; VPS and shared hosting are outside the SLA; security faults (a BMC audit
  finding: a setting to change, no failing part) have no swap clock and are outside the SLA's figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from fleet.config import Settings
from fleet.health.model import Severity
from fleet.health.rules import SECURITY
from fleet.store.models import Fault, Plan

IN_SCOPE = frozenset({Plan.DEDICATED, Plan.VM})  # SLA: "any Dedicated Server or Virtual Machine"
OUT_OF_SCOPE_REASON = "VPS and shared hosting are outside the SLA"


def in_scope(plan: str) -> bool:
    """Whether the SLA covers a server on this plan (its checks, its figures, its credits)."""
    return plan in IN_SCOPE


class AckStatus(StrEnum):
    DUE = "due"  # not looked at yet, still inside the hour
    OVERDUE = "overdue"  # not looked at, the hour has passed
    DONE = "done"  # acknowledged
    NONE = "none"  # no acknowledgement clock: a security fault (outside the SLA, see `ack_deadline`)


def ack_due(notified_at: datetime, settings: Settings) -> datetime:
    """When a technician must have looked at the alert."""
    return notified_at + timedelta(minutes=settings.ack_within_min)


def ack_in_time(notified_at: datetime, acknowledged_at: datetime, settings: Settings) -> bool:
    return acknowledged_at <= ack_due(notified_at, settings)


def ack_deadline(fault: Fault, settings: Settings) -> datetime | None:
    """The fault's acknowledge-by time; None for a security fault (a BMC audit finding is not a hardware
    notification: the SLA's hour does not run for it, and the SLA report does not count it)."""
    return None if fault.kind == SECURITY else ack_due(fault.notified_at, settings)


def ack_status(fault: Fault, now: datetime, settings: Settings) -> AckStatus:
    if fault.acknowledged_at is not None:
        return AckStatus.DONE
    due = ack_deadline(fault, settings)
    if due is None:
        return AckStatus.NONE
    return AckStatus.OVERDUE if now > due else AckStatus.DUE


def clock_start(fault: Fault) -> datetime:
    """When the critical swap clock started: the first report of the critical condition (`critical_since`); the
    notification for a fault without one (non-critical, or a row written before `critical_since` existed)."""
    return fault.critical_since or fault.notified_at


@dataclass(frozen=True, slots=True)
class Deadlines:
    start: datetime  # the clock start
    target: datetime  # "usually within the hour"
    limit: datetime  # "within 4 hours following a notification"


def deadlines_from(start: datetime, settings: Settings) -> Deadlines:
    return Deadlines(
        start=start,
        target=start + timedelta(minutes=settings.critical_target_min),
        limit=start + timedelta(minutes=settings.critical_limit_min),
    )


def swap_deadlines(fault: Fault, settings: Settings) -> Deadlines:
    """Target and hard limit of the fault's swap were it critical (the planner asks only for critical ones)."""
    return deadlines_from(clock_start(fault), settings)


def critical_deadlines(fault: Fault, settings: Settings) -> Deadlines | None:
    """Target and hard limit of a critical fault's swap; None for a non-critical one (it waits for a window) and for
    a security fault (no part to swap: its work order has no SLA clock)."""
    if fault.severity != Severity.CRITICAL or fault.kind == SECURITY:
        return None
    return swap_deadlines(fault, settings)


def hard_limit(fault: Fault, settings: Settings) -> datetime | None:
    d = critical_deadlines(fault, settings)
    return d.limit if d else None


class SwapOutcome(StrEnum):
    """How a critical fault's swap measures against its clock, for the monthly report."""

    WITHIN_TARGET = "within_target"
    WITHIN_LIMIT = "within_limit"  # after the target, inside the hard limit
    LATE = "late"  # done after the limit, or not done and past it
    PENDING = "pending"  # not done, limit not reached


def swap_outcome(start: datetime, done_at: datetime | None, now: datetime, settings: Settings) -> SwapOutcome:
    d = deadlines_from(start, settings)
    if done_at is None:
        return SwapOutcome.LATE if now > d.limit else SwapOutcome.PENDING
    if done_at <= d.target:
        return SwapOutcome.WITHIN_TARGET
    return SwapOutcome.WITHIN_LIMIT if done_at <= d.limit else SwapOutcome.LATE
