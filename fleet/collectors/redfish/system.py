"""System parts: DIMMs (Memory), CPUs (Processors), drives and RAID controllers (Storage, or HPE SmartStorage when
Storage lists no drive), the system's own health and power state."""

from __future__ import annotations

import asyncio
from typing import Any

from fleet.collectors.redfish.chassis import ChassisParts, _inventory
from fleet.collectors.redfish.client import Client, path_of
from fleet.collectors.redfish.names import clean, cpu_slot, dimm_slots, disk_slots, state_of
from fleet.health.model import Kind, Reading, State

POWER = {"On": "on", "Off": "off", "PoweringOn": "on", "PoweringOff": "on", "Paused": "on"}


def _with_detail(state: State, detail: str | None, extra: str | None) -> str | None:
    if not extra or state is State.OK or state is State.ABSENT:
        return detail
    return f"{extra}; {detail}" if detail else extra


def _memory_detail(dimm: dict[str, Any]) -> str | None:
    """HPE says what is wrong with a DIMM in its own field ("Uncorrectable", "Degraded" ...)."""
    hpe = ((dimm.get("Oem") or {}).get("Hpe") or {}).get("DIMMStatus")
    return clean(hpe) if hpe and hpe not in ("GoodInUse", "NotPresent", "Unknown") else None


def memory(parts: ChassisParts, dimms: list[dict[str, Any]]) -> None:
    for dimm, slot in zip(dimms, dimm_slots(dimms), strict=True):
        state, detail = state_of(dimm.get("Status"))
        detail = _with_detail(state, detail, _memory_detail(dimm))
        name = clean(dimm.get("DeviceLocator") or dimm.get("Name") or slot, 80)
        size = dimm.get("CapacityMiB")
        value = float(size) if isinstance(size, int) and state is not State.ABSENT else None
        parts.readings.append(Reading(name, Kind.DIMM, slot, state, value, "MiB" if value else None, detail))
        if inv := _inventory(dimm, slot, Kind.DIMM):
            parts.inventory.append(inv)


def processors(parts: ChassisParts, cpus: list[dict[str, Any]]) -> None:
    for i, cpu in enumerate(c for c in cpus if c.get("ProcessorType", "CPU") == "CPU"):
        slot = cpu_slot(cpu, i)
        state, detail = state_of(cpu.get("Status"))
        name = clean(cpu.get("Socket") or cpu.get("Name") or slot, 80)
        parts.readings.append(Reading(name, Kind.CPU, slot, state, None, None, detail))
        if inv := _inventory(cpu, slot, Kind.CPU):
            parts.inventory.append(inv)


def drives(parts: ChassisParts, items: list[dict[str, Any]]) -> None:
    for drive, slot in zip(items, disk_slots(items), strict=True):
        state, detail = state_of(drive.get("Status"))
        reasons = drive.get("DiskDriveStatusReasons") or []  # HPE SmartStorage
        if drive.get("FailurePredicted") is True or "PredictiveFailure" in reasons:
            if state is State.OK:
                state = State.WARNING
            detail = _with_detail(state, detail, "predictive failure")
        elif reasons and reasons != ["None"]:
            detail = _with_detail(state, detail, clean(", ".join(map(str, reasons))))
        name = clean(drive.get("Name") or slot, 80)
        if name in ("", "HpeSmartStorageDiskDrive"):
            name = slot
        parts.readings.append(Reading(name, Kind.DISK, slot, state, None, None, detail))
        if inv := _inventory(drive, slot, Kind.DISK):
            parts.inventory.append(inv)


def controllers(parts: ChassisParts, items: list[dict[str, Any]]) -> None:
    for i, ctl in enumerate(items):
        slot = "RAID controller" if len(items) == 1 else f"RAID controller {i + 1}"
        state, detail = state_of(ctl.get("Status"))
        name = clean(ctl.get("Model") or ctl.get("Name") or slot, 80)
        parts.readings.append(Reading(name, Kind.RAID, slot, state, None, None, detail))
        if inv := _inventory(
            {**ctl, "PartNumber": ctl.get("PartNumber") or ctl.get("ControllerPartNumber")}, slot, Kind.RAID
        ):
            parts.inventory.append(inv)


async def storage(client: Client, system: dict[str, Any], parts: ChassisParts) -> None:
    """Storage/<id>: its controllers (embedded `StorageControllers` or the newer `Controllers` collection) and its
    drives. When no Storage lists a drive, HPE's SmartStorage (iLO 4/5) is where the drives are."""
    found_drives: list[dict[str, Any]] = []
    found_ctls: list[dict[str, Any]] = []
    for st in await client.members(system.get("Storage")):
        ctls = [c for c in st.get("StorageControllers") or [] if isinstance(c, dict)]
        if not ctls and st.get("Controllers"):
            ctls = await client.members(st.get("Controllers"))
        found_ctls += ctls
        links = [p for d in st.get("Drives") or [] if (p := path_of(d))]
        expanded = [d for d in st.get("Drives") or [] if isinstance(d, dict) and "Status" in d]
        # Intel BMC 1.93 lists every bay's link whether or not a drive is there: missing ones answer 404.
        found_drives += expanded or await client.get_many(dict.fromkeys(links))
    hpe = ((system.get("Oem") or {}).get("Hpe") or {}).get("Links") or {}
    if not found_drives and path_of(hpe.get("SmartStorage")):
        ss = await client.get(path_of(hpe["SmartStorage"]) or "")
        arrays = await client.members(((ss or {}).get("Links") or {}).get("ArrayControllers"))
        if arrays:
            found_ctls = arrays
            disks = await asyncio.gather(
                *(client.members((a.get("Links") or {}).get("PhysicalDrives")) for a in arrays)
            )
            found_drives = [d for ds in disks for d in ds]
    controllers(parts, found_ctls)
    drives(parts, found_drives)


async def read_system(client: Client, system: dict[str, Any], parts: ChassisParts) -> str | None:
    """Every part of one system; returns its power state ("on", "off" or None)."""
    dimms, cpus, _ = await asyncio.gather(
        client.members(system.get("Memory")),
        client.members(system.get("Processors")),
        storage(client, system, parts),
    )
    memory(parts, dimms)
    processors(parts, cpus)
    state, detail = state_of({k: v for k, v in (system.get("Status") or {}).items() if k != "HealthRollup"})
    if state is not State.ABSENT:
        # The system's own health, not its rollup (which also counts an uncabled NIC port): a rollup the rules use
        # only when no part explains it.
        name = clean(system.get("Model") or "System", 80) + " health"
        parts.readings.append(Reading(name, Kind.BOARD, "", state, None, None, detail))
    return POWER.get(str(system.get("PowerState")))
