"""Redfish `Status` to a state, and Redfish names and locations to the slot names the inventory uses.

Slots follow fleet.health.slots: PSU1, FAN3, DIMM_A1, Disk 4, CPU2, BAT. Each vendor labels parts its own way
(docs/REDFISH.md lists them); the functions here turn each label into a key `slot_key` keeps distinct.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from fleet.health.model import Kind, State
from fleet.health.slots import slot_key, slot_kind

_HEALTH = {"OK": State.OK, "Warning": State.WARNING, "Critical": State.CRITICAL}
# States in which the part is not there or not in use on purpose: reported, never a failing part by themselves.
_IDLE = {"Disabled", "StandbyOffline", "StandbySpare", "InTest", "Starting", "Quiesced", "Deferring", "Updating"}


def state_of(status: Any) -> tuple[State, str | None]:
    """(state, detail) of a Redfish `Status`. Absent wins over Health: an empty bay reported with Warning (HPE) is
    an empty bay, not a failed part."""
    if not isinstance(status, dict):
        return State.UNKNOWN, "no status reported"
    st, health = status.get("State"), status.get("Health")
    if st == "Absent":
        return State.ABSENT, "not present"
    if health in _HEALTH:
        state = _HEALTH[health]
        return state, (None if state is State.OK else _conditions(status) or f"health {health.lower()}")
    if st in _IDLE or st == "UnavailableOffline":
        return State.UNKNOWN, f"state {st}"
    return State.UNKNOWN, "no health reported"


def _conditions(status: dict[str, Any]) -> str | None:
    texts = [clean(c.get("Message") or c.get("MessageId") or "") for c in status.get("Conditions") or []]
    return "; ".join(t for t in texts if t)[:200] or None


def clean(text: Any, limit: int = 300) -> str:
    """Text from a BMC, made safe to store and show: no control characters, one line, bounded."""
    s = "".join(" " if unicodedata.category(c).startswith("C") else c for c in str(text or ""))
    return " ".join(s.split())[:limit]


def number(text: Any) -> int | None:
    """The last number in a label ("Power Supply Bay 2" -> 2, "Bay1" -> 1)."""
    m = re.findall(r"\d+", str(text or ""))
    return int(m[-1]) if m else None


def _label(item: dict[str, Any]) -> str | None:
    loc = item.get("Location") or item.get("PhysicalLocation") or {}
    part = loc.get("PartLocation") if isinstance(loc, dict) else None
    return part.get("ServiceLabel") if isinstance(part, dict) else None


def unit_slot(item: dict[str, Any], kind: Kind, index: int, prefix: str) -> str:
    """PSU and fan slots: the vendor's bay number, a label the slot rules understand, the number in the Id or name,
    and last the position in the array (Power/Thermal arrays count from 0, bays from 1)."""
    bay = ((item.get("Oem") or {}).get("Hpe") or {}).get("BayNumber")
    if isinstance(bay, int):
        return f"{prefix}{bay}"
    for text in (_label(item), item.get("Name"), item.get("FanName")):
        if text and slot_kind(str(text)) is kind:
            return slot_key(str(text))
    for text in (item.get("Id"), _label(item)):
        n = number(text)
        if n is not None and not str(text).isdigit():
            return f"{prefix}{n}"
    n = number(item.get("MemberId"))
    return f"{prefix}{(n if n is not None else index) + 1}"


def cpu_slot(item: dict[str, Any], index: int) -> str:
    for text in (item.get("Socket"), _label(item), item.get("Id")):
        if text and (m := re.search(r"(?:cpu|proc(?:essor)?|socket)\s*_?(\d+)", str(text), re.I)):
            return f"CPU{int(m[1])}"
    n = number(item.get("Id"))
    return f"CPU{n if n is not None else index + 1}"


_HPE_DIMM = re.compile(r"^proc(?:essor)?\s*(\d+)\s*dimm\s*(\d+)$", re.I)  # "PROC 1 DIMM 3"
_CHANNEL_DIMM = re.compile(r"^(?:cpu|p)(\d+)[\s_-]*dimm[\s_-]*([a-z])(\d+)$", re.I)  # "CPU1_DIMM_A1", "P1-DIMMA1"
_AMI_DIMM = re.compile(r"^dimm[\s_-]*p(\d+)[\s_-]*([a-z])(\d+)$", re.I)  # "DIMM_P0_A0" (AMI MegaRAC)


def dimm_slots(items: list[dict[str, Any]]) -> list[str]:
    """Slot names for a machine's DIMMs, in order. Bank letters are the fleet's: DIMM_A<n> on the first socket,
    DIMM_B<n> on the second. Labels with a socket and a channel ("CPU1_DIMM_A1", "DIMM_P0_A0") become DIMM_<channel>
    <n> when the channel letters are unique across sockets (AMI: A-H, I-P), else "P<socket> DIMM <channel><n>"."""
    parsed: list[tuple[int | None, str | None, int] | None] = []
    for it in items:
        loc = str(it.get("DeviceLocator") or _label(it) or "").strip()
        if m := _HPE_DIMM.match(loc):
            parsed.append((int(m[1]), None, int(m[2])))
        elif m := (_CHANNEL_DIMM.match(loc) or _AMI_DIMM.match(loc)):
            parsed.append((int(m[1]), m[2].upper(), int(m[3])))
        else:
            parsed.append(None)
    channels = [(c, n) for p in parsed if p and (c := p[1]) for n in (p[2],)]
    unique_channels = len(channels) == len(set(channels))
    out: list[str] = []
    for i, (it, p) in enumerate(zip(items, parsed, strict=True)):
        if p and p[1] is None:
            out.append(f"DIMM_{chr(ord('A') + p[0] - 1)}{p[2]}" if p[0] and p[0] <= 26 else f"DIMM {p[0]}.{p[2]}")
        elif p and p[1]:
            out.append(f"DIMM_{p[1]}{p[2]}" if unique_channels else f"P{p[0]} DIMM {p[1]}{p[2]}")
        else:
            out.append(_plain_dimm(it, i))
    return _unique(out, items, "DIMM")


def _plain_dimm(item: dict[str, Any], index: int) -> str:
    for text in (item.get("DeviceLocator"), _label(item), item.get("Id"), item.get("Name")):
        if text and slot_kind(str(text)) is Kind.DIMM:
            return slot_key(str(text))
    return f"DIMM {item.get('Id') or index + 1}"


_BOX_BAY = re.compile(r"box\s*[=:]?\s*(\d+).*?bay\s*[=:]?\s*(\d+)", re.I)
_DISK_ID = re.compile(r"^(?:disk|drive|hdd|ssd|bay|pd)?[\s_.-]*(\d{1,3}(?:[\s_.:-]+\d{1,3})*)$", re.I)
_PORT_BOX_BAY = re.compile(r"^\s*\w+:(\d+):(\d+)\s*$")  # HPE SmartStorage "1I:3:4"


def disk_slots(items: list[dict[str, Any]]) -> list[str]:
    """Disk <box>:<bay> where the vendor says both (HPE), Disk <bay> where a bay ordinal is given, else the number in
    the drive's Id ("Disk-1-0" -> Disk 1:0, "HDD3" -> Disk 3), else its position among the machine's drives."""
    out: list[str] = []
    for i, it in enumerate(items):
        label = _label(it) or ""
        loc = it.get("Location") if isinstance(it.get("Location"), str) else ""
        part = ((it.get("PhysicalLocation") or it.get("Location") or {}) or {}).get("PartLocation") if not loc else None
        if m := (_BOX_BAY.search(label) or _PORT_BOX_BAY.match(str(loc))):
            out.append(f"Disk {int(m[1])}:{int(m[2])}")
        elif isinstance(part, dict) and isinstance(part.get("LocationOrdinalValue"), int):
            out.append(f"Disk {part['LocationOrdinalValue']}")
        elif m := _DISK_ID.match(str(it.get("Id") or "")):
            out.append("Disk " + ":".join(str(int(n)) for n in re.findall(r"\d+", m[1])))
        else:
            out.append(f"Disk {i}")
    return _unique(out, items, "Disk")


def _unique(slots: list[str], items: list[dict[str, Any]], word: str, shared: set[int] | None = None) -> list[str]:
    """Two parts never share a slot key: on a clash the later one is named by its Redfish Id ("Fan (CPU1)"), a form
    no slot pattern matches, so its key stays its own. `shared`: positions allowed to share a key on purpose."""
    seen: set[str] = set()
    out = []
    for i, (s, it) in enumerate(zip(slots, items, strict=True)):
        if slot_key(s) in seen and i not in (shared or set()):
            s = f"{word} ({clean(it.get('Id') or it.get('MemberId') or '', 40) or i})"
            if slot_key(s) in seen:
                s = f"{s} ({i})"
        seen.add(slot_key(s))
        out.append(s)
    return out


def unit_slots(items: list[dict[str, Any]], kind: Kind, prefix: str) -> list[str]:
    """unit_slot for every PSU or fan of a chassis, distinct."""
    word = "Fan" if kind is Kind.FAN else "PSU bay"
    # Rotors of one fan module ("Sys Fan 1A", "Sys Fan 1B") are one part by their names: they share the slot.
    named = {i for i, it in enumerate(items) if slot_kind(str(it.get("Name") or it.get("FanName") or "")) is kind}
    return _unique([unit_slot(it, kind, i, prefix) for i, it in enumerate(items)], items, word, named)


def part_number(item: dict[str, Any]) -> str | None:
    """What a spare is ordered by: PartNumber; HPE gives the option kit number ("865408-B21") as Model and the spare
    ("866729-001") as SparePartNumber, and the catalogue holds option kit numbers."""
    pn = clean(item.get("PartNumber") or "", 60)
    if pn:
        return pn
    model = clean(item.get("Model") or "", 60)
    if re.fullmatch(r"[A-Z0-9]{6}-B21", model):
        return model
    return clean(item.get("SparePartNumber") or "", 60) or None
