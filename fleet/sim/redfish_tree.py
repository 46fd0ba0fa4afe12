"""The Redfish resources of one simulated server, built from its `MachineState` (pure: state in, JSON dicts out).

The tree is small and follows the DMTF schema in its older, most common form (Power and Thermal arrays, Storage with
Drives, Memory, Processors, a Manager SEL), with HPE's SmartStorageBattery for the RAID battery. Every injected
problem shows where a real BMC shows it: a Status.Health, a FailurePredicted, a Condition message, a SEL entry.
"""

from __future__ import annotations

from typing import Any

from fleet.sim.faults import Change, MachineState, Problem
from fleet.sim.layout import BATTERY, CPU, DIMM, DISK, FAN, PSU, TEMPERATURE, VENDORS

R = "/redfish/v1"
SYSTEM, CHASSIS, MANAGER = f"{R}/Systems/1", f"{R}/Chassis/1", f"{R}/Managers/1"
SESSIONS = f"{R}/SessionService/Sessions"

_CRITICAL = {Problem.FAILED, Problem.INPUT_LOST, Problem.UNCORRECTABLE_ECC, Problem.IERR, Problem.OVER_TEMPERATURE}
_MESSAGES = {
    Problem.FAILED: "failure detected",
    Problem.REMOVED: "removed",
    Problem.PREDICTIVE: "predictive failure",
    Problem.INPUT_LOST: "AC input lost",
    Problem.BELOW_CRITICAL: "speed below lower critical threshold",
    Problem.UNCORRECTABLE_ECC: "Uncorrectable ECC error",
    Problem.CORRECTABLE_ECC: "Correctable ECC error",
    Problem.OVER_TEMPERATURE: "temperature above upper critical threshold",
    Problem.IERR: "IERR (processor internal error)",
}


def link(path: str) -> dict[str, str]:
    return {"@odata.id": path}


def status(problem: Problem | None) -> dict[str, Any]:
    if problem is Problem.REMOVED:
        return {"State": "Absent", "Health": "Warning"}  # as iLO reports an empty bay: Absent wins
    if problem is None or problem is Problem.CORRECTABLE_ECC:
        return {"State": "Enabled", "Health": "OK"}
    health = "Critical" if problem in _CRITICAL or problem is Problem.BELOW_CRITICAL else "Warning"
    return {"State": "Enabled", "Health": health, "Conditions": [{"Message": _MESSAGES[problem]}]}


def _collection(path: str, members: list[str]) -> dict[str, Any]:
    return {"@odata.id": path, "Members@odata.count": len(members), "Members": [link(m) for m in members]}


def _part(state: MachineState, slot: str) -> dict[str, Any]:
    return {"SerialNumber": state.serial(slot), "Status": status(state.problem(slot))}


class SimTree:
    """Resources by path for one server; rebuilt when the machine's state version changes."""

    def __init__(self, state: MachineState) -> None:
        self.state = state
        self.version = -1
        self.resources: dict[str, dict[str, Any]] = {}

    def get(self, path: str) -> dict[str, Any] | None:
        if self.version != self.state.version:
            self.version = self.state.version
            self.resources = build(self.state)
        return self.resources.get(path.rstrip("/") or "/")


def _slots(state: MachineState, kind: str) -> list[str]:
    return [s for s, k in state.server.layout.slots() if k == kind]


def build(state: MachineState) -> dict[str, dict[str, Any]]:
    server = state.server
    maker = VENDORS[server.vendor][0]
    out: dict[str, dict[str, Any]] = {
        R: {
            "@odata.id": R,
            "RedfishVersion": "1.15.0",
            "Vendor": maker,
            "Systems": link(f"{R}/Systems"),
            "Chassis": link(f"{R}/Chassis"),
            "Managers": link(f"{R}/Managers"),
            "SessionService": link(f"{R}/SessionService"),
            "ProtocolFeaturesSupported": {"ExpandQuery": {"Levels": True, "NoLinks": True, "MaxLevels": 1}},
        },
        f"{R}/Systems": _collection(f"{R}/Systems", [SYSTEM]),
        f"{R}/Chassis": _collection(f"{R}/Chassis", [CHASSIS]),
        f"{R}/Managers": _collection(f"{R}/Managers", [MANAGER]),
        f"{R}/SessionService": {"@odata.id": f"{R}/SessionService", "Sessions": link(SESSIONS)},
    }
    out |= _system(state, maker)
    out |= _chassis(state)
    out |= _manager(state)
    return out


def _system(state: MachineState, maker: str) -> dict[str, dict[str, Any]]:
    server = state.server
    out: dict[str, dict[str, Any]] = {}
    dimms, cpus, disks = _slots(state, DIMM), _slots(state, CPU), _slots(state, DISK)
    out[SYSTEM] = {
        "@odata.id": SYSTEM,
        "Id": "1",
        "Manufacturer": maker,
        "Model": server.model,
        "SerialNumber": server.chassis_serial,
        "PowerState": "On" if state.power_on() else "Off",
        "Status": {"State": "Enabled", "Health": "OK"},
        "Memory": link(f"{SYSTEM}/Memory"),
        "Processors": link(f"{SYSTEM}/Processors"),
        "Storage": link(f"{SYSTEM}/Storage"),
        "LogServices": link(f"{SYSTEM}/LogServices"),
    }
    out[f"{SYSTEM}/Memory"] = _collection(f"{SYSTEM}/Memory", [f"{SYSTEM}/Memory/{d}" for d in dimms])
    for d in dimms:
        out[f"{SYSTEM}/Memory/{d}"] = {
            "@odata.id": f"{SYSTEM}/Memory/{d}",
            "Id": d,
            "Name": d,
            "DeviceLocator": d,
            "CapacityMiB": 32768,
            "PartNumber": "SIM-DIMM-32G",
            **_part(state, d),
        }
    out[f"{SYSTEM}/Processors"] = _collection(f"{SYSTEM}/Processors", [f"{SYSTEM}/Processors/{c}" for c in cpus])
    for c in cpus:
        out[f"{SYSTEM}/Processors/{c}"] = {
            "@odata.id": f"{SYSTEM}/Processors/{c}",
            "Id": c,
            "ProcessorType": "CPU",
            "Socket": f"CPU {c[3:]}",
            **_part(state, c),
        }
        if state.problem(c) is Problem.OVER_TEMPERATURE:  # the probe is hot, the CPU itself still runs
            out[f"{SYSTEM}/Processors/{c}"]["Status"] = status(None)
    storage = f"{SYSTEM}/Storage/RAID"
    out[f"{SYSTEM}/Storage"] = _collection(f"{SYSTEM}/Storage", [storage] if disks else [])
    out[storage] = {
        "@odata.id": storage,
        "Id": "RAID",
        "StorageControllers": [{"Name": "Simulated RAID", "Model": "SIM-RAID", "Status": status(None)}],
        "Drives": [link(f"{storage}/Drives/{d.replace(' ', '')}") for d in disks],
    }
    for i, d in enumerate(disks):
        problem = state.problem(d)
        drive = {
            "@odata.id": f"{storage}/Drives/{d.replace(' ', '')}",
            "Id": d.replace(" ", ""),
            "Name": d,
            "PhysicalLocation": {"PartLocation": {"LocationType": "Bay", "LocationOrdinalValue": i}},
            "FailurePredicted": problem is Problem.PREDICTIVE,
            **_part(state, d),
        }
        if problem is Problem.PREDICTIVE:
            drive["Status"] = status(None)  # a drive predicting its failure still reports Health OK
        out[drive["@odata.id"]] = drive
    out[f"{SYSTEM}/LogServices"] = _collection(f"{SYSTEM}/LogServices", [])
    return out


def _chassis(state: MachineState) -> dict[str, dict[str, Any]]:
    psus, fans, bats = _slots(state, PSU), _slots(state, FAN), _slots(state, BATTERY)
    temps = [*(f"{c} Temp" for c in _slots(state, CPU)), *_slots(state, TEMPERATURE)]
    power: dict[str, Any] = {"@odata.id": f"{CHASSIS}/Power", "PowerSupplies": [], "Voltages": []}
    for i, p in enumerate(psus):
        power["PowerSupplies"].append(
            {"MemberId": str(i), "Name": f"Power Supply {p[3:]}", "Model": "SIM-PSU-800W", **_part(state, p)}
        )
    if bats:
        power["Oem"] = {"Hpe": {"SmartStorageBattery": [{"Index": 1, "Name": "RAID battery", **_part(state, bats[0])}]}}
    thermal: dict[str, Any] = {"@odata.id": f"{CHASSIS}/Thermal", "Fans": [], "Temperatures": []}
    for i, f in enumerate(fans):
        problem = state.problem(f)
        rpm = 0 if problem is Problem.FAILED else 300 if problem is Problem.BELOW_CRITICAL else 6000
        thermal["Fans"].append(
            {
                "MemberId": str(i),
                "Name": f"Fan {f[3:]}",
                "Reading": rpm,
                "ReadingUnits": "RPM",
                "LowerThresholdCritical": 500,
                **_part(state, f),
            }
        )
    for i, t in enumerate(temps):
        probe = t.removesuffix(" Temp")
        hot = state.problem(probe) is Problem.OVER_TEMPERATURE
        thermal["Temperatures"].append(
            {
                "MemberId": str(i),
                "Name": t,
                "ReadingCelsius": 97 if hot else 41,
                "UpperThresholdCritical": 90,
                "Status": status(Problem.OVER_TEMPERATURE if hot else None),
            }
        )
    return {
        CHASSIS: {
            "@odata.id": CHASSIS,
            "Id": "1",
            "Power": link(f"{CHASSIS}/Power"),
            "Thermal": link(f"{CHASSIS}/Thermal"),
        },
        f"{CHASSIS}/Power": power,
        f"{CHASSIS}/Thermal": thermal,
    }


def sel_entry(change: Change, kind: str) -> dict[str, Any]:
    what = _MESSAGES[change.problem]
    sensor = {
        PSU: "Power Supply",
        FAN: "Fan",
        DISK: "Drive Slot",
        DIMM: "Memory",
        CPU: "Processor",
        BATTERY: "Battery",
        TEMPERATURE: "Temperature",
    }.get(kind, "Other")
    severity = "OK" if not change.asserted else "Critical" if change.problem in _CRITICAL else "Warning"
    return {
        "@odata.id": f"{MANAGER}/LogServices/SEL/Entries/{change.seq}",
        "Id": str(change.seq),
        "EntryType": "SEL",
        "SensorType": sensor,
        "Severity": severity,
        "Created": change.at.isoformat().replace("+00:00", "Z"),
        "Message": f"{change.slot}: {what} {'asserted' if change.asserted else 'deasserted'}",
    }


def _manager(state: MachineState) -> dict[str, dict[str, Any]]:
    kinds = dict(state.server.layout.slots())
    kinds.update({f"{c} Temp": TEMPERATURE for c in _slots(state, CPU)})
    entries = [sel_entry(c, kinds.get(c.slot, "")) for c in state.changes()]
    logs = f"{MANAGER}/LogServices"
    return {
        MANAGER: {"@odata.id": MANAGER, "Id": "1", "LogServices": link(logs)},
        logs: _collection(logs, [f"{logs}/SEL"]),
        f"{logs}/SEL": {"@odata.id": f"{logs}/SEL", "Id": "SEL", "Entries": link(f"{logs}/SEL/Entries")},
        f"{logs}/SEL/Entries": {
            "@odata.id": f"{logs}/SEL/Entries",
            "Members@odata.count": len(entries),
            "Members": entries,
        },
    }
