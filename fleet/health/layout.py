"""What the rules need to know about a server besides its readings: its redundancy (Layout) and what is installed.

Plain data, so the rules never import the database models; `fleet.faults` builds these from ServerModel and
Component.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from fleet.health.model import Kind, PollResult
from fleet.health.slots import inventory_aliases, slot_key, unit_number

# How many failed disks each array level survives. RAID1 and RAID10 are mirrors: they survive one disk per pair,
# which `rules` checks pair by pair; the number here is what is known without knowing the pairs.
RAID_TOLERANCE = {"RAID0": 0, "NONE": 0, "JBOD": 0, "RAID1": 1, "RAID10": 1, "RAID5": 1, "RAID6": 2}
MIRRORED = {"RAID1", "RAID10"}


def raid_level(text: str | None) -> str:
    """'raid-1', 'RAID 1', '1' and 'RAID1' are RAID1; '' and None are NONE."""
    t = "".join(ch for ch in (text or "").upper() if ch.isalnum())
    if not t:
        return "NONE"
    if t.isdigit():
        t = "RAID" + t
    return "RAID10" if t in ("RAID10", "RAID1PLUS0", "RAID1+0") else t


@dataclass(frozen=True, slots=True)
class Layout:
    """The redundancy of a server model."""

    psu_count: int = 2
    fan_count: int = 6
    fan_zones: int = 1
    disk_slots: int = 4
    raid_level: str = "RAID1"
    raid_battery: bool = True
    dimm_slots: int = 16

    @property
    def raid(self) -> str:
        return raid_level(self.raid_level)

    def fan_zone(self, key: str) -> int:
        """The cooling zone of a fan: fans are numbered 1..fan_count and the zones split them in order (with 6 fans
        in 2 zones, FAN1-3 cool zone 0 and FAN4-6 zone 1)."""
        zones = max(self.fan_zones, 1)
        n = unit_number(key)
        if zones == 1 or n is None or self.fan_count <= 0:
            return 0
        return min(zones - 1, max(n - 1, 0) * zones // self.fan_count)

    def fans_in_zone(self, zone: int) -> int:
        """How many fans the model has in a zone (0 when the model does not say)."""
        if self.fan_count <= 0:
            return 0
        return sum(1 for n in range(1, self.fan_count + 1) if self.fan_zone(f"FAN{n}") == zone)


@dataclass(frozen=True, slots=True)
class Installed:
    """A part the database says is in the server."""

    slot: str
    kind: Kind
    serial: str | None = None

    @property
    def key(self) -> str:
        return slot_key(self.slot)


def layout_slots(layout: Layout, sockets: int = 2) -> list[str]:
    """The slots a model has, named as the collectors name them: PSU1.., FAN1.., Disk 0.., DIMM_A1.. (banks A, B,
    ... split evenly between the CPU sockets), CPU1.., BAT when the RAID controller has a battery, VD0 for its array.
    The server's own controller may name more (a Dell says "Disk 0:1:4"); those come from its readings."""
    slots = [f"PSU{n}" for n in range(1, layout.psu_count + 1)]
    slots += [f"FAN{n}" for n in range(1, layout.fan_count + 1)]
    slots += [f"Disk {n}" for n in range(layout.disk_slots)]
    sockets = max(1, sockets)
    per_bank = -(-layout.dimm_slots // sockets)  # ceiling: an odd count leaves the last bank short
    slots += [f"DIMM_{chr(ord('A') + i // per_bank)}{i % per_bank + 1}" for i in range(layout.dimm_slots)]
    slots += [f"CPU{n}" for n in range(1, sockets + 1)]
    if layout.raid != "NONE":
        slots.append("VD0")
    if layout.raid_battery:
        slots.append("BAT")
    return slots


def describe_slots(slots: list[str]) -> str:
    """A one-line list of slot names with runs shortened: 'PSU1-PSU2, FAN1-FAN8, Disk 0-Disk 9, BAT'."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            out.append(run[0] if len(run) == 1 else f"{run[0]}-{run[-1]}")
            run.clear()

    for name in slots:
        if run and _prefix(name) == _prefix(run[-1]) and unit_number_last(name) == unit_number_last(run[-1]) + 1:
            run.append(name)
            continue
        flush()
        run.append(name)
    flush()
    return ", ".join(out)


def _prefix(name: str) -> str:
    return name.rstrip("0123456789")


def unit_number_last(name: str) -> int:
    digits = name[len(_prefix(name)) :]
    return int(digits) if digits else -10


def align_slots(result: PollResult, installed: Sequence[Installed]) -> tuple[PollResult, dict[str, str]]:
    """The poll with each reading's slot named as the inventory names the same part, where the controller names it
    otherwise (fleet.health.slots.inventory_aliases: a Dell's "Disk 0:1:4" is the inventory's "Disk 4"), and those
    aliases (controller key -> inventory key). The rules then match the installed part, its part number and serial,
    and a fault is opened, followed and resolved under the inventory's name, which is the one on the caddy. The
    reading's name (the controller's) stays, for the evidence."""
    if not installed or not any(":" in r.slot for r in result.readings):  # no path names: nothing to do (cheap)
        return result, {}
    by_key = {i.key: i.slot for i in installed}
    aliases = inventory_aliases((slot_key(r.slot) for r in result.readings if r.slot.strip()), by_key)
    if not aliases:
        return result, {}
    readings = [
        replace(r, slot=by_key[aliases[k]]) if r.slot.strip() and (k := slot_key(r.slot)) in aliases else r
        for r in result.readings
    ]
    return replace(result, readings=readings), aliases
