"""The rules: one poll of one server (readings, new SEL events, inventory) plus its layout -> findings.

Pure: no I/O, no clock of its own (`now` is passed in), nothing of the project outside `fleet.health`.

A finding is critical only when the server is down or going down because of the part (the SLA's "critical"
replacement): the last PSU gone, the last fan of a cooling zone, a failed disk the array cannot survive or an array
offline, a CPU machine-check/IERR, an uncorrectable memory error that halted the host, a thermal trip. Everything
else that is wrong is non-critical. An unreachable controller, a wrong password or stale data gives no finding at
all: that is a collector problem, counted elsewhere.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fleet.health.layout import MIRRORED, RAID_TOLERANCE, Installed, Layout
from fleet.health.model import Event, Kind, PollResult, Reading, Severity, State
from fleet.health.slots import natural_order, slot_key

CRITICAL = Severity.CRITICAL
NON_CRITICAL = Severity.NON_CRITICAL

# Problems that are about the same part's health belong to one family: a fault moves from "predictive" to "failed"
# instead of opening a second fault on the same slot. Other families (identity, thermal, array) are separate faults.
FAMILY = {
    "reported": "health",  # a support ticket: something is wrong, monitoring has not said what
    "predictive": "health",
    "warning": "health",
    "ecc": "health",
    "failed": "health",
    "absent": "health",
    "uncorrectable": "health",
    "mce": "health",
    "serial-changed": "identity",
    "overtemp": "thermal",
    "thermal-trip": "thermal",
    "feed-lost": "power",
    "degraded": "array",
    "offline": "array",
}
# Within a family the worse problem replaces the milder one.
PROBLEM_RANK = {
    "reported": 0,
    "warning": 1,
    "predictive": 1,
    "ecc": 2,
    "degraded": 2,
    "overtemp": 2,
    "serial-changed": 2,
    "absent": 3,
    "failed": 3,
    "offline": 3,
    "uncorrectable": 4,
    "mce": 4,
    "thermal-trip": 4,
    "feed-lost": 4,
}

# Findings that are not a part to swap: the work order is an inspection (the site's power feed, a rack's PDU; the
# cooling of a hot CPU: fans, airflow, heatsink), no spare is reserved for them.
POWER_FEED = "power-feed"
COOLING = "cooling"
# A BMC security audit finding (fleet.faults.security): the work order is a setting changed on the controller; no
# part, no spare, and no SLA swap clock (fleet.store.models.security_fault is the same test in SQL).
SECURITY = "security"
NO_PART_KINDS = (POWER_FEED, COOLING, SECURITY)

# Part kinds whose warning means "this part is wearing out": predictive failure.
_PARTS = {Kind.PSU, Kind.FAN, Kind.DISK, Kind.DIMM, Kind.CPU, Kind.BATTERY, Kind.NIC}

_DEASSERT = re.compile(r"deassert", re.I)
_UNCORRECTABLE = re.compile(r"uncorrectable|\bUE\b|multi[- ]?bit", re.I)
_ECC_LIMIT = re.compile(r"correctable.*logging limit|logging limit reached", re.I)
_CORRECTABLE = re.compile(r"correctable|\bCE\b|single[- ]?bit", re.I)
_MCE = re.compile(r"IERR|CATERR|machine[- ]?check|\bMCE\b|\bMCERR\b", re.I)
_TRIP = re.compile(r"thermal[- ]?trip|thermtrip|non[- ]?recoverable", re.I)
_HALT = re.compile(
    r"halt|fatal|panic|shut ?down|IERR|CATERR|machine[- ]?check|\breset\b|reboot|system restart|hard reset", re.I
)
_AC_LOST = re.compile(r"AC lost|input lost|no input|power input", re.I)


@dataclass(frozen=True, slots=True)
class Finding:
    """Something wrong with one part of one server, as the rules see it in one poll."""

    server: str
    slot: str  # the slot key (fleet.health.slots.slot_key)
    kind: str  # part kind: psu, fan, disk ...
    problem: str  # failed, predictive, absent, ecc, uncorrectable, mce, overtemp, thermal-trip, serial-changed ...
    severity: Severity
    evidence: str

    @property
    def family(self) -> str:
        return FAMILY.get(self.problem, self.problem)

    @property
    def critical(self) -> bool:
        return self.severity == CRITICAL


@dataclass(frozen=True, slots=True)
class RuleParams:
    ecc_limit: int = 2
    """This many correctable ECC events of one DIMM within the window make a (non-critical) fault."""
    ecc_window: timedelta = timedelta(hours=24)


@dataclass(slots=True)
class _Slot:
    """Everything one poll says about one slot of one kind."""

    key: str
    kind: Kind
    readings: list[Reading] = field(default_factory=list)

    def has(self, state: State) -> bool:
        return any(r.state is state for r in self.readings)

    def first(self, *states: State) -> Reading | None:
        return next((r for r in self.readings if r.state in states), None)


def reading_key(reading: Reading) -> str:
    """A reading's slot key; sensors not tied to a part (slot "") are keyed by their name."""
    return slot_key(reading.slot or reading.name)


def assess(
    result: PollResult,
    layout: Layout,
    installed: Sequence[Installed] = (),
    *,
    now: datetime,
    params: RuleParams | None = None,
    ecc_history: Mapping[str, Sequence[datetime]] | None = None,
) -> list[Finding]:
    """The findings of one poll, at most one per slot and problem family (the worst).

    `ecc_history`: earlier correctable-ECC event times per DIMM slot key (the current poll's events are added here).
    """
    if not result.reachable or result.error:
        return []
    params = params or RuleParams()
    inst = {i.key: i for i in installed}
    # A controller's overall status ("System health", "Global System") only repeats what the part readings say; it
    # becomes a finding of its own only when no part explains it (a controller that does not say which part failed).
    rollups = [r for r in result.readings if r.kind is Kind.BOARD and not r.slot.strip()]
    slots = _group(r for r in result.readings if not (r.kind is Kind.BOARD and not r.slot.strip()))
    out: list[Finding] = []
    host = result.host
    halted = result.power == "off" or any(_HALT.search(e.text) and not _DEASSERT.search(e.text) for e in result.events)

    vanished = _vanished(result, inst, slots)
    lost_psu = _lost(slots, inst, Kind.PSU, vanished)
    lost_fan = _lost(slots, inst, Kind.FAN, vanished)
    lost_disk = _lost(slots, inst, Kind.DISK, vanished)
    arrays_offline = [s for s in slots.values() if s.kind is Kind.RAID and s.has(State.CRITICAL)]

    out += _psu_findings(host, layout, slots, lost_psu)
    out += _fan_findings(host, layout, slots, lost_fan)
    out += _disk_findings(host, layout, slots, inst, lost_disk, bool(arrays_offline))
    out += _array_findings(host, slots, has_disk_trouble=bool(lost_disk) or _any_bad(slots, Kind.DISK))
    out += _simple_findings(host, slots, inst, halted)
    out += _event_findings(host, result.events, now, params, ecc_history or {}, halted)
    out += _serial_findings(host, result, inst)
    if not out:
        out += _simple_findings(host, _group(rollups), inst, halted)
    return _worst_per_family(out)


# --- grouping ----------------------------------------------------------------------------------------------------


# Readings of these kinds without a slot are aggregates ("PS Redundancy", "Fan Redundancy"): the per-part readings
# say which part it is, and the layout says what redundancy is left.
_AGGREGATES = {Kind.PSU, Kind.FAN, Kind.DISK, Kind.DIMM, Kind.CPU}


def _group(readings: Iterable[Reading]) -> dict[tuple[str, Kind], _Slot]:
    slots: dict[tuple[str, Kind], _Slot] = {}
    for r in readings:
        if not r.slot.strip() and r.kind in _AGGREGATES:
            continue
        key = reading_key(r)
        slots.setdefault((key, r.kind), _Slot(key, r.kind)).readings.append(r)
    return slots


def _vanished(
    result: PollResult, inst: Mapping[str, Installed], slots: Mapping[tuple[str, Kind], _Slot]
) -> dict[str, Installed]:
    """Installed parts the controller no longer reports. Only judged for kinds the controller's inventory covers
    (a collector that never lists DIMMs says nothing about DIMMs)."""
    if not result.inventory:
        return {}
    covered = {i.kind for i in result.inventory}
    reported = {slot_key(i.slot) for i in result.inventory} | {k for (k, _kind), s in slots.items() if s.readings}
    return {k: i for k, i in inst.items() if i.kind in covered and k not in reported}


def _lost(
    slots: Mapping[tuple[str, Kind], _Slot],
    inst: Mapping[str, Installed],
    kind: Kind,
    vanished: Mapping[str, Installed],
) -> dict[str, str]:
    """Slot key -> evidence, for parts of a kind that no longer work: failed, presence cleared, or vanished."""
    lost: dict[str, str] = {}
    for s in slots.values():
        if s.kind is not kind:
            continue
        if r := s.first(State.CRITICAL):
            lost[s.key] = _describe(r)
        elif (r := s.first(State.ABSENT)) and s.key in inst:
            lost[s.key] = f"{r.name}: absent, but the inventory says {inst[s.key].slot} is populated"
    for k, i in vanished.items():
        if i.kind is kind and k not in lost:
            lost[k] = f"{i.slot}: installed{f' (serial {i.serial})' if i.serial else ''}, no longer reported"
    return lost


def _any_bad(slots: Mapping[tuple[str, Kind], _Slot], kind: Kind) -> bool:
    return any(s.kind is kind and (s.has(State.CRITICAL) or s.has(State.WARNING)) for s in slots.values())


def _describe(r: Reading) -> str:
    text = f"{r.name}: {r.state.value}"
    if r.value is not None:
        text += f" {r.value:g}{(' ' + r.unit) if r.unit else ''}"
    if r.detail:
        text += f" ({r.detail})"
    return text


def _problem(evidence: str) -> str:
    return "absent" if ("absent" in evidence or "no longer reported" in evidence) else "failed"


def _predictive(
    host: str, slots: Mapping[tuple[str, Kind], _Slot], kind: Kind, lost: Mapping[str, str]
) -> list[Finding]:
    """Warnings on parts that still work: predictive failure, always non-critical."""
    out = []
    for s in slots.values():
        if s.kind is kind and s.key not in lost and (r := s.first(State.WARNING)):
            out.append(Finding(host, s.key, kind.value, "predictive", NON_CRITICAL, _describe(r)))
    return out


# --- redundant parts ---------------------------------------------------------------------------------------------


def _psu_findings(
    host: str, layout: Layout, slots: Mapping[tuple[str, Kind], _Slot], lost: Mapping[str, str]
) -> list[Finding]:
    seen = {s.key for s in slots.values() if s.kind is Kind.PSU} | set(lost)
    total = layout.psu_count if layout.psu_count > 0 else len(seen)
    working = total - len(lost)
    if total >= 2 and working <= 0 and all(_AC_LOST.search(ev) for ev in lost.values()):
        # Every PSU of the server lost its input at once: two PSUs do not die together, the feed did. One finding
        # for the power feed (critical: the server is down), no PSU swap.
        note = f"all {total} PSUs report their input lost at once: the power feed, not the power supplies"
        return [Finding(host, "FEED", POWER_FEED, "feed-lost", CRITICAL, "; ".join([*lost.values(), note]))]
    critical = working <= 0
    note = f"{len(lost)} of {total} PSU(s) lost: no power left" if critical else f"{len(lost)} of {total} PSU(s) lost"
    out = [
        Finding(host, k, "psu", _problem(ev), CRITICAL if critical else NON_CRITICAL, f"{ev}; {note}")
        for k, ev in lost.items()
    ]
    return out + _predictive(host, slots, Kind.PSU, lost)


def _fan_findings(
    host: str, layout: Layout, slots: Mapping[tuple[str, Kind], _Slot], lost: Mapping[str, str]
) -> list[Finding]:
    seen: dict[int, set[str]] = defaultdict(set)
    gone: dict[int, set[str]] = defaultdict(set)
    for s in slots.values():
        if s.kind is Kind.FAN:
            seen[layout.fan_zone(s.key)].add(s.key)
    for k in lost:
        seen[layout.fan_zone(k)].add(k)
        gone[layout.fan_zone(k)].add(k)
    out = []
    for k, ev in lost.items():
        zone = layout.fan_zone(k)
        size = layout.fans_in_zone(zone) or len(seen[zone])
        critical = len(gone[zone]) >= size
        zone_text = f"zone {zone + 1}: " if layout.fan_zones > 1 else ""
        note = f"{zone_text}{len(gone[zone])} of {size} fan(s) lost" + (": no cooling left" if critical else "")
        out.append(Finding(host, k, "fan", _problem(ev), CRITICAL if critical else NON_CRITICAL, f"{ev}; {note}"))
    return out + _predictive(host, slots, Kind.FAN, lost)


def _disk_findings(
    host: str,
    layout: Layout,
    slots: Mapping[tuple[str, Kind], _Slot],
    inst: Mapping[str, Installed],
    lost: Mapping[str, str],
    array_offline: bool,
) -> list[Finding]:
    level = layout.raid
    tolerance = RAID_TOLERANCE.get(level, 0)
    critical_keys: set[str] = set()
    if array_offline:
        critical_keys = set(lost)
        note = f"{level}: array offline"
    elif level in MIRRORED and (pairs := _mirror_pairs(slots, inst, lost)):
        # A mirror survives one disk per pair: only a pair with every disk lost takes the array down.
        for pair in pairs:
            if all(k in lost for k in pair):
                critical_keys |= set(pair)
        note = f"{level}: {len(lost)} disk(s) lost" + (", a whole mirror pair gone" if critical_keys else "")
    else:
        if len(lost) > tolerance:
            critical_keys = set(lost)
        note = f"{level} survives {tolerance} failed disk(s): {len(lost)} lost"
    out = [
        Finding(host, k, "disk", _problem(ev), CRITICAL if k in critical_keys else NON_CRITICAL, f"{ev}; {note}")
        for k, ev in lost.items()
    ]
    return out + _predictive(host, slots, Kind.DISK, lost)


def _mirror_pairs(
    slots: Mapping[tuple[str, Kind], _Slot], inst: Mapping[str, Installed], lost: Mapping[str, str]
) -> list[tuple[str, ...]]:
    """Mirror pairs as consecutive disks in slot order (Disk 0+1, Disk 2+3 ...); an odd last disk joins the last
    pair. Empty when fewer than two disks are known: then the array's plain tolerance applies."""
    disks = {k for k, i in inst.items() if i.kind is Kind.DISK}
    disks |= {s.key for s in slots.values() if s.kind is Kind.DISK} | set(lost)
    order = sorted(disks, key=natural_order)
    if len(order) < 2:
        return []
    pairs = [tuple(order[i : i + 2]) for i in range(0, len(order) - 1, 2)]
    if len(order) % 2:
        pairs[-1] = (*pairs[-1], order[-1])
    return pairs


def _array_findings(host: str, slots: Mapping[tuple[str, Kind], _Slot], *, has_disk_trouble: bool) -> list[Finding]:
    out = []
    for s in slots.values():
        if s.kind is not Kind.RAID:
            continue
        if r := s.first(State.CRITICAL):
            out.append(Finding(host, s.key, "raid", "offline", CRITICAL, _describe(r)))
        elif (r := s.first(State.WARNING)) and not has_disk_trouble:
            # A degraded array with a failed disk is that disk's fault; alone it still needs a look.
            out.append(Finding(host, s.key, "raid", "degraded", NON_CRITICAL, _describe(r)))
    return out


# --- parts without redundancy rules, sensors ---------------------------------------------------------------------


def _simple_findings(
    host: str, slots: Mapping[tuple[str, Kind], _Slot], inst: Mapping[str, Installed], halted: bool
) -> list[Finding]:
    out = []
    for s in slots.values():
        kind = s.kind
        if kind in (Kind.PSU, Kind.FAN, Kind.DISK, Kind.RAID):
            continue
        bad = s.first(State.CRITICAL)
        warn = s.first(State.WARNING)
        if kind is Kind.TEMPERATURE:
            # A part too hot is a cooling problem (fans, airflow, heatsink): an inspection, not a swap of the part.
            if bad and (halted or _TRIP.search(bad.detail or "")):
                out.append(Finding(host, s.key, COOLING, "thermal-trip", CRITICAL, _describe(bad)))
            elif bad or warn:
                out.append(Finding(host, s.key, COOLING, "overtemp", NON_CRITICAL, _describe(bad or warn)))  # type: ignore[arg-type]
            continue
        if bad:
            detail = bad.detail or ""
            if kind is Kind.CPU:
                # A CPU that reports critical has stopped (IERR, machine check, configuration error): the host is down.
                problem = "mce" if _MCE.search(detail) else "failed"
                out.append(Finding(host, s.key, kind.value, problem, CRITICAL, _describe(bad)))
            elif kind is Kind.DIMM and (halted or _UNCORRECTABLE.search(detail)):
                sev = CRITICAL if halted else NON_CRITICAL
                out.append(Finding(host, s.key, kind.value, "uncorrectable", sev, _describe(bad)))
            else:
                out.append(Finding(host, s.key, kind.value, "failed", NON_CRITICAL, _describe(bad)))
        elif warn:
            problem = "predictive" if kind in _PARTS else "warning"
            out.append(Finding(host, s.key, kind.value, problem, NON_CRITICAL, _describe(warn)))
        elif (r := s.first(State.ABSENT)) and s.key in inst:
            ev = f"{r.name}: absent, but the inventory says {inst[s.key].slot} is populated"
            out.append(Finding(host, s.key, kind.value, "absent", NON_CRITICAL, ev))
    return out


# --- SEL events --------------------------------------------------------------------------------------------------


def is_correctable_ecc(event: Event) -> bool:
    """A correctable memory error: counted per DIMM over a window, not a fault one by one."""
    text = event.text
    if _DEASSERT.search(text) or _UNCORRECTABLE.search(text) or _ECC_LIMIT.search(text):
        return False
    return event.kind is Kind.DIMM and bool(_CORRECTABLE.search(text))


def _event_findings(
    host: str,
    events: Sequence[Event],
    now: datetime,
    params: RuleParams,
    history: Mapping[str, Sequence[datetime]],
    halted: bool,
) -> list[Finding]:
    out = []
    since = now - params.ecc_window
    ecc: dict[str, list[datetime]] = defaultdict(list)
    for k, times in history.items():
        ecc[slot_key(k)] += [t for t in times if since < t <= now]
    for e in events:
        text = e.text
        if _DEASSERT.search(text):
            continue
        key = slot_key(e.slot) if e.slot else ""
        when = e.time or now
        what = f"SEL {e.record_id if e.record_id is not None else '-'} {when.isoformat()}: {text}"
        if _TRIP.search(text):
            kind = e.kind.value if e.kind is not Kind.OTHER else "temperature"
            out.append(Finding(host, key or "THERMAL", kind, "thermal-trip", CRITICAL, what))
        elif e.kind is Kind.CPU or _MCE.search(text):
            if _MCE.search(text):
                out.append(Finding(host, key or "CPU", "cpu", "mce", CRITICAL, what))
        elif e.kind is Kind.DIMM or "memory" in text.lower() or "ecc" in text.lower():
            slot = key or "DIMM"
            if _UNCORRECTABLE.search(text):
                sev = CRITICAL if halted else NON_CRITICAL
                note = "; the host halted" if halted else "; the host is still running"
                out.append(Finding(host, slot, "dimm", "uncorrectable", sev, what + note))
            elif _ECC_LIMIT.search(text):
                out.append(Finding(host, slot, "dimm", "ecc", NON_CRITICAL, what))
            elif is_correctable_ecc(e) and since < when <= now:
                ecc[slot].append(when)
    window_h = params.ecc_window.total_seconds() / 3600
    for slot, times in ecc.items():
        if len(times) >= params.ecc_limit:
            ev = f"{len(times)} correctable ECC errors within {window_h:g} h (limit {params.ecc_limit})"
            out.append(Finding(host, slot, "dimm", "ecc", NON_CRITICAL, ev))
    return out


# --- identity ----------------------------------------------------------------------------------------------------


def _serial_findings(host: str, result: PollResult, inst: Mapping[str, Installed]) -> list[Finding]:
    out = []
    for item in result.inventory:
        key = slot_key(item.slot)
        recorded = inst.get(key)
        if recorded is None or not recorded.serial or not item.serial:
            continue
        if recorded.serial.strip().upper() != item.serial.strip().upper():
            ev = f"{item.slot}: serial {item.serial} reported, {recorded.serial} recorded, and no swap recorded"
            out.append(Finding(host, key, recorded.kind.value, "serial-changed", NON_CRITICAL, ev))
    return out


def _worst_per_family(findings: Iterable[Finding]) -> list[Finding]:
    best: dict[tuple[str, str], Finding] = {}
    for f in findings:
        k = (f.slot, f.family)
        old = best.get(k)
        if old is None or _rank(f) > _rank(old):
            best[k] = f
    return sorted(best.values(), key=lambda f: (f.severity != CRITICAL, natural_order(f.slot), f.problem))


def _rank(f: Finding) -> tuple[int, int]:
    return (f.critical, PROBLEM_RANK.get(f.problem, 0))
