"""The contract between collectors and everything else (DESIGN.md, "Normalised health").

A poll of one server yields a PollResult. Collectors (IPMI, SNMP) produce it; rules, faults, the sweep, the CLI
and the TUI consume it. `PollResult.to_dict()` is what `fleet poll --json` prints; its times stay datetimes, which
the caller writes in the one machine format (`fleet.clock.iso`, ISO 8601 UTC with `Z`), since health imports nothing
of fleet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class State(StrEnum):
    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    ABSENT = "absent"
    UNKNOWN = "unknown"


class Kind(StrEnum):
    PSU = "psu"
    FAN = "fan"
    DISK = "disk"
    RAID = "raid"
    DIMM = "dimm"
    CPU = "cpu"
    TEMPERATURE = "temperature"
    VOLTAGE = "voltage"
    BATTERY = "battery"
    NIC = "nic"
    BOARD = "board"
    OTHER = "other"


class Severity(StrEnum):
    """How bad a failing part is for the SLA: critical (the server is down because of it: 1 h / 4 h swap) or
    non-critical (still running: a window agreed with the customer)."""

    CRITICAL = "critical"
    NON_CRITICAL = "non-critical"

    @property
    def rank(self) -> int:
        """Sort key, most urgent first (never sort by the text: it happens to work, until a third severity)."""
        return 0 if self is Severity.CRITICAL else 1


class PollError(StrEnum):
    """Why a poll did not give readings. A collector problem, never a failing part."""

    TIMEOUT = "timeout"
    AUTH = "auth"
    PROTOCOL = "protocol"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class Reading:
    name: str  # as the controller calls it
    kind: Kind
    slot: str  # PSU2, FAN3, Disk 0:1:4, DIMM_A1 ... ("" when the sensor is not tied to a replaceable part)
    state: State
    value: float | None = None
    unit: str | None = None
    detail: str | None = None  # e.g. "failure detected", "below lower critical (500 RPM)"
    # The controller's own thresholds for `value`, in its unit, where it publishes them (IPMI SDR, some MIBs):
    # warning outside [warn_low, warn_high], critical outside [crit_low, crit_high]; None where there is none.
    warn_low: float | None = None
    warn_high: float | None = None
    crit_low: float | None = None
    crit_high: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind.value,
            "slot": self.slot,
            "state": self.state.value,
            "value": self.value,
            "unit": self.unit,
            "detail": self.detail,
            "thresholds": {
                "warn_low": self.warn_low,
                "warn_high": self.warn_high,
                "crit_low": self.crit_low,
                "crit_high": self.crit_high,
            },
        }


@dataclass(frozen=True, slots=True)
class Event:
    """One SEL (or trap/log) entry that arrived since the last poll."""

    record_id: int | None
    time: datetime | None  # UTC; None when the controller's clock was not set ("Pre-Init")
    kind: Kind
    slot: str
    severity: State
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "time": self.time,
            "kind": self.kind.value,
            "slot": self.slot,
            "severity": self.severity.value,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class InventoryItem:
    """A field-replaceable unit as the controller reports it (FRU / entity tables)."""

    slot: str
    kind: Kind
    manufacturer: str | None = None
    part_number: str | None = None
    serial: str | None = None
    description: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "slot": self.slot,
            "kind": self.kind.value,
            "manufacturer": self.manufacturer,
            "part_number": self.part_number,
            "serial": self.serial,
            "description": self.description,
        }


@dataclass(slots=True)
class PollResult:
    host: str
    protocol: str  # "ipmi" | "snmp"
    reachable: bool
    error: str | None = None  # None, "timeout", "auth", "unreachable", "protocol: <short reason>"
    readings: list[Reading] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    inventory: list[InventoryItem] = field(default_factory=list)
    power: str | None = None  # "on" | "off" | None when unknown
    polled_at: datetime | None = None
    duration_s: float | None = None
    # Opaque per-controller state the collector wants back next time (the SEL cursor). The sweep stores it.
    cursor: dict[str, Any] | None = None
    vendor: str | None = None  # detected profile (SNMP) or manufacturer (IPMI)

    @property
    def worst(self) -> State:
        return worst_state(r.state for r in self.readings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "protocol": self.protocol,
            "reachable": self.reachable,
            "error": self.error,
            "power": self.power,
            "vendor": self.vendor,
            "polled_at": self.polled_at,
            "duration_s": round(self.duration_s, 4) if self.duration_s is not None else None,
            "readings": [r.to_dict() for r in self.readings],
            "events": [e.to_dict() for e in self.events],
            "inventory": [i.to_dict() for i in self.inventory],
        }


_RANK = {State.OK: 0, State.ABSENT: 0, State.UNKNOWN: 1, State.WARNING: 2, State.CRITICAL: 3}


def worst_state(states: Any) -> State:
    """The most severe of some states; 'absent' counts as ok here (an empty slot is not a failure)."""
    worst = State.OK
    for s in states:
        if _RANK[s] > _RANK[worst]:
            worst = s
    return worst


# Exit statuses of `fleet poll` and `fleet sweep`: the monitoring-plugin convention (Nagios/Icinga).
EXIT_OK = 0
EXIT_WARNING = 1
EXIT_CRITICAL = 2
EXIT_UNKNOWN = 3

# The longest deadline a poll may be given, seconds: past it a dead controller would hold a sweep for hours.
MAX_TIMEOUT_S = 600.0


def exit_status(result: PollResult) -> int:
    """0 all healthy, 1 warning, 2 critical, 3 unknown.

    Unknown: unreachable, auth, protocol error, no health reading at all, or a reading whose state could not be
    read while nothing is worse (an unreadable sensor is never healthy: a broken agent must not read green).
    """
    if not result.reachable or result.error or not result.readings:
        return EXIT_UNKNOWN
    worst = result.worst
    if worst is State.CRITICAL:
        return EXIT_CRITICAL
    if worst is State.WARNING:
        return EXIT_WARNING
    if worst is State.UNKNOWN:
        return EXIT_UNKNOWN
    return EXIT_OK
