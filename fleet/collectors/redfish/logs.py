"""Hardware event logs, read incrementally: the Manager's SEL, HPE's IML (under the System), Dell's Lifecycle log.

The cursor, per log (keyed by its Entries path, kept by the caller between polls like the IPMI SEL cursor):

    {"last": highest numeric entry Id returned, "created": newest `Created` time returned (ISO 8601)}

- No cursor (first contact): every entry is returned, as the SEL does; the caller decides what to alert on.
- Numeric Ids (iLO, AMI, Intel, DMTF): entries with a higher Id are new. A highest Id below the cursor means the log
  was cleared: every entry newer than the cursor's time is new.
- Other Ids (Dell's Lifecycle log): entries created after the cursor's time are new.

Audit and login logs (iLO's IEL, AMI's AuditLog) say nothing about parts and are not read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fleet.collectors.redfish.client import Client, path_of
from fleet.collectors.redfish.names import clean
from fleet.health.model import Event, Kind, State

HARDWARE_LOGS = {"sel", "iml", "lclog", "log", "log1", "systemlog"}
MAX_EVENTS = 500  # per log and poll: a first contact with a full log must not drown the rules

_SEVERITY = {"OK": State.OK, "Warning": State.WARNING, "Critical": State.CRITICAL}
_SENSOR_KIND = {
    "memory": Kind.DIMM,
    "processor": Kind.CPU,
    "power supply": Kind.PSU,
    "fan": Kind.FAN,
    "temperature": Kind.TEMPERATURE,
    "voltage": Kind.VOLTAGE,
    "drive slot": Kind.DISK,
    "drive slot (bay)": Kind.DISK,
    "battery": Kind.BATTERY,
}
_TEXT_SLOT: tuple[tuple[re.Pattern[str], Kind, Callable[[re.Match[str]], str]], ...] = (
    (
        re.compile(r"\bproc(?:essor)?\s*(\d+)\s*dimm\s*(\d+)", re.I),
        Kind.DIMM,
        lambda m: f"DIMM_{chr(64 + int(m[1]))}{m[2]}",
    ),
    (re.compile(r"\bdimm[\s_]*([a-z]?\d+)", re.I), Kind.DIMM, lambda m: f"DIMM_{m[1].upper()}"),
    (re.compile(r"\b(?:power supply\s*(?:bay\s*)?|psu\s*)(\d+)", re.I), Kind.PSU, lambda m: f"PSU{m[1]}"),
    (re.compile(r"\bfan\s*(\d+)", re.I), Kind.FAN, lambda m: f"FAN{m[1]}"),
    (re.compile(r"\bbox:?\s*(\d+),?\s*bay:?\s*(\d+)", re.I), Kind.DISK, lambda m: f"Disk {m[1]}:{m[2]}"),
    (re.compile(r"\b(?:disk|drive|hdd|ssd)\s*(\d+)\b", re.I), Kind.DISK, lambda m: f"Disk {m[1]}"),
    (re.compile(r"\b(?:cpu|proc(?:essor)?)\s*(\d+)", re.I), Kind.CPU, lambda m: f"CPU{m[1]}"),
    (re.compile(r"\b(?:bat|battery|bbu)\b", re.I), Kind.BATTERY, lambda m: "BAT"),
)


def wanted(service: dict[str, Any]) -> bool:
    sid = str(service.get("Id") or "").lower()
    return sid in HARDWARE_LOGS or service.get("LogEntryType") == "SEL"


async def log_entries_paths(client: Client, systems: list[dict[str, Any]], managers: list[dict[str, Any]]) -> list[str]:
    """The Entries collections of the hardware logs of every system and manager."""
    out: list[str] = []
    for owner in [*systems, *managers]:
        for service in await client.members(owner.get("LogServices")):
            if wanted(service) and (p := path_of(service.get("Entries"))):
                out.append(p)
    return out


def _time(text: Any) -> datetime | None:
    try:
        t = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    return t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)


def _numeric(entry: dict[str, Any]) -> int | None:
    sid = str(entry.get("Id") or "")
    return int(sid) if sid.isdigit() else None


_EPOCH = datetime.min.replace(tzinfo=UTC)


def _by_time(entry: dict[str, Any]) -> tuple[int, datetime]:
    return 0, _time(entry.get("Created")) or _EPOCH


def new_entries(
    entries: list[dict[str, Any]], cursor: dict[str, Any] | None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The entries after `cursor`, oldest first, and the cursor to keep."""
    ids = [_numeric(e) for e in entries]
    numeric = entries and all(i is not None for i in ids)
    key = (
        (lambda e: (_numeric(e) or 0,))
        if numeric
        else (lambda e: (_time(e.get("Created")) or datetime.min.replace(tzinfo=UTC),))
    )
    ordered = sorted(entries, key=key)
    last = (cursor or {}).get("last")
    since = _time((cursor or {}).get("created")) if cursor else None
    if cursor is None:
        new = ordered
    elif numeric and isinstance(last, int) and max(i or 0 for i in ids) >= last:
        new = [e for e in ordered if (_numeric(e) or 0) > last]
    else:  # cleared since, or Ids that are not numbers: by time
        new = [e for e in ordered if since is None or ((t := _time(e.get("Created"))) is not None and t > since)]
    new = new[-MAX_EVENTS:]
    keep = dict(cursor or {})
    if ordered:
        keep["last"] = max((i for i in ids if i is not None), default=None)
        times = [t for e in ordered if (t := _time(e.get("Created")))]
        keep["created"] = max(times).isoformat() if times else keep.get("created")
    return new, keep


def to_event(entry: dict[str, Any]) -> Event:
    text = clean(entry.get("Message") or entry.get("MessageId") or entry.get("Name") or "")
    kind = _SENSOR_KIND.get(str(entry.get("SensorType") or "").lower(), Kind.OTHER)
    slot = ""
    for pattern, k, build in _TEXT_SLOT:
        if m := pattern.search(text):
            slot = build(m)
            kind = k if kind is Kind.OTHER else kind
            break
    hpe_class = str((((entry.get("Oem") or {}).get("Hpe") or {}).get("ClassDescription")) or "").lower()
    if kind is Kind.OTHER and "memory" in hpe_class:
        kind = Kind.DIMM
    return Event(
        record_id=_numeric(entry),
        time=_time(entry.get("Created") or entry.get("EventTimestamp")),
        kind=kind,
        slot=slot,
        severity=_SEVERITY.get(str(entry.get("Severity")), State.UNKNOWN),
        text=text,
    )


async def read_logs(client: Client, paths: list[str], cursors: dict[str, Any]) -> tuple[list[Event], dict[str, Any]]:
    events: list[Event] = []
    keep: dict[str, Any] = {}
    for path in paths:
        data = await client.get(path)
        if data is None:
            continue
        entries = [e for e in await client.pages(data) if isinstance(e, dict)]
        if entries and not any("Message" in e or "Created" in e for e in entries):
            entries = await client.get_many(p for e in entries if (p := path_of(e)))  # links only: fetch them
        new, keep[path] = new_entries(entries, cursors.get(path))
        events += [to_event(e) for e in new]
    return events, keep
