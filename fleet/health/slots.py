"""Slot names, normalised: one part has one key whatever the controller or the ticket calls it.

IPMI says "PSU2", SNMP says "Power Supply 2", a support ticket says "psu 2": all are the slot key "PSU2". Faults are
deduplicated on this key, and the inventory (components recorded in the database) is matched on it too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from fleet.health.model import Kind

_SEP = r"[\s_.#:-]*"

# Order matters: the first pattern that matches decides. Each gives the kind and a builder of the key.
_PSU = re.compile(rf"^(?:power{_SEP}supply(?:{_SEP}unit)?|psu|pws|ps){_SEP}0*(\d+)(?![\d])", re.I)
_FAN = re.compile(rf"^(?:system{_SEP}|sys{_SEP})?fan(?:{_SEP}module)?{_SEP}0*(\d+)([a-z])?(?![a-z\d])", re.I)
_DISK = re.compile(
    rf"^(?:physical{_SEP})?(?:disk|drive|hdd|ssd|pd)(?:{_SEP}bay)?{_SEP}(\d+(?:\s*:\s*\d+)*)(?![\d])",
    re.I,
)
_DIMM = re.compile(
    rf"^(?:dimm|memory{_SEP}(?:module|device)|mem){_SEP}(?:socket{_SEP})?([a-z]{{0,2}}){_SEP}0*(\d+)(?![\d])",
    re.I,
)
_CPU = re.compile(rf"^(?:cpu|processor|proc){_SEP}0*(\d+)(?![\d])", re.I)
_ARRAY = re.compile(rf"^(?:virtual{_SEP}disk|logical{_SEP}drive|vd|ld|raid{_SEP}volume){_SEP}0*(\d+)(?![\d])", re.I)
_BATTERY = re.compile(rf"^(?:(?:raid|cache|controller){_SEP})?(?:battery|bbu|bat)(?:{_SEP}0*(\d+))?$", re.I)
_NIC = re.compile(rf"^(?:nic|eth){_SEP}0*(\d+)(?![\d])", re.I)


def slot_key(slot: str) -> str:
    """The canonical key of a slot name: PSU2, FAN3, Disk 0:1:4, DIMM_A1, CPU1, VD0, BAT, NIC1; else the name in
    upper case with runs of blanks and underscores made one space. A key names a replaceable part: the rotors of a
    fan module (FAN1A, FAN1B) are its slot FAN1."""
    key, _kind = _classify(slot)
    return key


def slot_kind(slot: str) -> Kind | None:
    """The part kind a slot name implies ("PSU 2" is a psu), or None when the name says nothing."""
    return _classify(slot)[1]


def same_slot(a: str, b: str) -> bool:
    return slot_key(a) == slot_key(b)


def _classify(slot: str) -> tuple[str, Kind | None]:
    s = " ".join(slot.split())
    if m := _PSU.match(s):
        return f"PSU{int(m[1])}", Kind.PSU
    if m := _FAN.match(s):
        # Rotors of one fan module (FAN1A, FAN1B) are one replaceable part: one slot.
        return f"FAN{int(m[1])}", Kind.FAN
    if m := _DISK.match(s):
        return "Disk " + ":".join(str(int(p)) for p in m[1].split(":")), Kind.DISK
    if m := _DIMM.match(s):
        return f"DIMM_{m[1].upper()}{int(m[2])}", Kind.DIMM
    if m := _CPU.match(s):
        return f"CPU{int(m[1])}", Kind.CPU
    if m := _ARRAY.match(s):
        return f"VD{int(m[1])}", Kind.RAID
    if m := _BATTERY.match(s):
        return (f"BAT{int(m[1])}" if m[1] else "BAT"), Kind.BATTERY
    if m := _NIC.match(s):
        return f"NIC{int(m[1])}", Kind.NIC
    return re.sub(r"[\s_]+", " ", s).strip().upper(), None


_DRIVE_PATH = re.compile(r"^Disk \d+(?::\d+)+$")  # a drive named by its path: connector:enclosure:bay


def inventory_aliases(keys: Iterable[str], installed: Iterable[str]) -> dict[str, str]:
    """Controller slot key -> the inventory's key of the same part, where the two name it differently. A Dell's
    controller names a drive by its path, "Disk 0:1:4" (connector 0, enclosure 1, bay 4); an inventory by its bay,
    "Disk 4", the number on the caddy. Only when it is unambiguous: the inventory names no drive by its path, has
    that bay, and no two of the controller's paths end in the same bay (two enclosures)."""
    known = set(installed)
    if any(_DRIVE_PATH.match(k) for k in known):
        return {}
    by_bay: dict[str, list[str]] = {}
    for k in set(keys):
        if _DRIVE_PATH.match(k):
            by_bay.setdefault("Disk " + k.rsplit(":", 1)[1], []).append(k)
    return {paths[0]: bay for bay, paths in by_bay.items() if len(paths) == 1 and bay in known}


def unit_number(key: str) -> int | None:
    """The number in a key (FAN3 -> 3, PSU2 -> 2); None when there is none."""
    m = re.search(r"(\d+)", key)
    return int(m[1]) if m else None


def natural_order(key: str) -> tuple[object, ...]:
    """A sort key that puts Disk 2 before Disk 10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", key))
