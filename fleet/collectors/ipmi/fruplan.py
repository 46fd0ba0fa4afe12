"""When a poll reads the FRU inventory again, and what it says when it does not.

FRU data is most of a poll's round trips (one request per 32-byte chunk, a dozen per FRU device) and changes only
when a part is swapped. A poll reads it when it can have changed: first contact, a new SEL entry, a sensor that
went absent or present, a serial the caller saw disagree with its records (`force_read`), or a day after the last
read. Otherwise the inventory of the last read, kept in the cursor, is returned as it is.

Cursor part (`cursor["fru"]`): {"read_at": epoch seconds, "absent": [sensor names], "items": [InventoryItem dicts],
"force": true when the caller asks for a read}.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fleet.health.model import InventoryItem, Kind
from fleet.health.slots import slot_key

FRU_MAX_AGE_S = 24 * 3600.0


def due(state: Mapping[str, Any] | None, *, now: float, new_records: bool, absent: Sequence[str]) -> str | None:
    """Why the FRU must be read now, or None when the kept inventory still holds."""
    if not state or "items" not in state:
        return "no inventory yet"
    if state.get("force"):
        return "serial mismatch"
    if new_records:
        return "new SEL entry"
    if sorted(absent) != list(state.get("absent", [])):
        return "a sensor went absent or present"
    if now - float(state.get("read_at", 0)) >= FRU_MAX_AGE_S:
        return "a day since the last read"
    return None


def remember(items: Sequence[InventoryItem], absent: Sequence[str], now: float) -> dict[str, Any]:
    return {"read_at": int(now), "absent": sorted(absent), "items": [i.to_dict() for i in items]}


def kept(state: Mapping[str, Any], absent: Sequence[str]) -> dict[str, Any]:
    """The cursor part for a poll that did not read the FRU: same inventory, same read time."""
    return {"read_at": state.get("read_at", 0), "absent": sorted(absent), "items": list(state.get("items", []))}


def cached_items(state: Mapping[str, Any]) -> list[InventoryItem]:
    out = []
    for d in state.get("items", []):
        out.append(
            InventoryItem(
                d["slot"], Kind(d["kind"]), d.get("manufacturer"), d.get("part_number"), d.get("serial"),
                d.get("description"),
            )
        )  # fmt: skip
    return out


def serials_disagree(cursor: Mapping[str, Any] | None, recorded: Mapping[str, str]) -> bool:
    """True when a serial the last FRU read reported differs from the caller's record of that slot (`recorded`:
    slot key -> serial), e.g. after a swap: the next poll then reads the FRU to verify."""
    state = (cursor or {}).get("fru") or {}
    for d in state.get("items", []):
        mine, theirs = d.get("serial"), recorded.get(slot_key(d.get("slot", "")))
        if mine and theirs and mine.strip().upper() != theirs.strip().upper():
            return True
    return False


def force_read(cursor: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(cursor)
    out["fru"] = {**(cursor.get("fru") or {}), "force": True}
    return out
