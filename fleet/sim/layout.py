"""What a simulated server is made of: the layout its controller reports, and the slot names used to address parts.

Pure data. The BMC and the SNMP agent both derive their sensors and tables from a `SimServer`, so the IPMI and the
SNMP view of one machine always agree on which parts exist.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from fleet.errors import InputError

# Slot kinds a simulated server has. They match `fleet.health.model.Kind` values without importing it, so the
# simulator stays usable on its own.
PSU, FAN, DISK, DIMM, CPU, TEMPERATURE, BATTERY = "psu", "fan", "disk", "dimm", "cpu", "temperature", "battery"


# Vendors a simulated controller can pose as: IPMI manufacturer name and IANA enterprise number.
VENDORS: dict[str, tuple[str, int]] = {
    "dell": ("Dell Inc.", 674),
    "hpe": ("HPE", 11),
    # Lenovo's own IANA number (19046) would switch pyghmi clients to Lenovo OEM commands the simulator lacks.
    "lenovo": ("Lenovo", 0),
    "supermicro": ("Supermicro", 10876),
    "cisco": ("Cisco", 5771),
    "fujitsu": ("FUJITSU", 10368),
    "generic": ("Simulated", 0),
}
SNMP_VENDORS = ("dell", "hpe", "lenovo", "cisco", "fujitsu")  # the table sets fleet.sim.agent serves


@dataclass(frozen=True, slots=True)
class Layout:
    """How many of each part the model has (from `ServerModel`: psu_count, fan_count, disk_slots, dimm_slots)."""

    psu_count: int = 2
    fan_count: int = 6
    disks: int = 4
    dimms: int = 8
    cpus: int = 2
    # Extra board temperature probes besides one per CPU (names without the " Temp" suffix).
    temperatures: tuple[str, ...] = ("Inlet", "Exhaust")
    raid_battery: bool = False  # slot "BAT": the RAID controller's battery / supercap
    # The populated DIMM slots by name, when they do not follow A1..An, B1..Bn (e.g. A1, B1, A2, B2 as the sample
    # fleet populates them). Empty: derived from `dimms` and `cpus`.
    dimm_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name, value, top in (
            ("psu_count", self.psu_count, 8),
            ("fan_count", self.fan_count, 16),
            ("disks", self.disks, 24),
            ("dimms", self.dimms, 48),
            ("cpus", self.cpus, 4),
        ):
            if not 0 <= value <= top:
                raise InputError(f"simulated layout: {name} must be between 0 and {top}, got {value}")
        if self.cpus == 0 and self.dimms:
            raise InputError("simulated layout: DIMMs need at least one CPU")
        if self.dimm_names and len(self.dimm_names) != self.dimms:
            raise InputError(f"simulated layout: {len(self.dimm_names)} DIMM names for {self.dimms} DIMMs")
        bad = [n for n in self.dimm_names if not re.fullmatch(r"DIMM_[A-Z]\d{1,2}", n)]
        if bad:
            raise InputError(f"simulated layout: DIMM slot names look like DIMM_A1, not {bad[0]!r}")

    @classmethod
    def from_slots(cls, slots: Iterable[str], *, cpus: int | None = None) -> Layout:
        """The layout holding exactly these slots (PSU1.., FAN1.., 'Disk 0'.., DIMM_A1.., BAT), as a server's
        installed components name them. Other slots are ignored: the simulator has no sensor for them.
        `cpus`: by default one socket per DIMM bank letter (A, B), at least one."""
        names = list(slots)
        dimms = tuple(n for n in names if re.fullmatch(r"DIMM_[A-Z]\d{1,2}", n))
        banks = {n[5] for n in dimms}
        return cls(
            psu_count=len([n for n in names if re.fullmatch(r"PSU\d+", n)]),
            fan_count=len([n for n in names if re.fullmatch(r"FAN\d+", n)]),
            disks=len([n for n in names if re.fullmatch(r"Disk \d+", n)]),
            dimms=len(dimms),
            cpus=cpus if cpus is not None else max(1, len(banks)),
            raid_battery="BAT" in names,
            dimm_names=dimms,
        )

    def slots(self) -> list[tuple[str, str]]:
        """Every addressable part as (slot, kind), in the order the controller lists them."""
        out: list[tuple[str, str]] = [(f"PSU{i}", PSU) for i in range(1, self.psu_count + 1)]
        out += [(f"FAN{i}", FAN) for i in range(1, self.fan_count + 1)]
        out += [(f"Disk {i}", DISK) for i in range(self.disks)]
        out += [(slot, DIMM) for slot in self.dimm_names or dimm_slots(self.dimms, self.cpus)]
        out += [(f"CPU{i}", CPU) for i in range(1, self.cpus + 1)]
        out += [(name, TEMPERATURE) for name in self.temperatures]
        if self.raid_battery:
            out.append(("BAT", BATTERY))
        return out


def dimm_slots(dimms: int, cpus: int) -> list[str]:
    """DIMM_A1..DIMM_An for CPU1, DIMM_B1.. for CPU2: the banks split evenly between the sockets."""
    if dimms == 0:
        return []
    per_cpu = -(-dimms // cpus)
    return [f"DIMM_{chr(ord('A') + i // per_cpu)}{i % per_cpu + 1}" for i in range(dimms)]


@dataclass(frozen=True, slots=True)
class SimServer:
    """One simulated management controller: where it listens, what it speaks, what the machine holds.

    `serials` maps a slot ("PSU1", "Disk 0", "DIMM_A1") to the serial its FRU reports; slots not given get a stable
    made-up serial derived from the host, so two runs of the demo show the same numbers.
    """

    host: str
    port: int
    protocol: str = "ipmi"  # ipmi | snmp | redfish
    layout: Layout = field(default_factory=Layout)
    vendor: str = "dell"  # one of VENDORS: the SNMP table set and the IPMI manufacturer (FRU, device id)
    model: str = "PowerEdge R640"
    serial: str = ""
    asset_tag: str = ""
    serials: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_loopback(self.host)
        if not 1 <= self.port <= 65535:
            raise InputError(f"simulated controller {self.host}: port {self.port} out of range")
        if self.protocol not in ("ipmi", "snmp", "redfish"):
            raise InputError(
                f"simulated controller {self.host}: protocol must be ipmi, snmp or redfish, not {self.protocol!r}"
            )
        if self.vendor not in VENDORS:
            raise InputError(
                f"simulated controller {self.host}: vendor must be one of {', '.join(VENDORS)}, not {self.vendor!r}"
            )
        if self.protocol == "snmp" and self.vendor not in SNMP_VENDORS:
            raise InputError(
                f"simulated SNMP agent {self.host}: no table set for {self.vendor} ({', '.join(SNMP_VENDORS)})"
            )
        known = {slot for slot, _ in self.layout.slots()}
        given = {normalize_slot(s, self.layout): v for s, v in self.serials.items()}
        object.__setattr__(self, "serials", MappingProxyType(given))
        unknown = set(given) - known
        if unknown:
            raise InputError(f"simulated controller {self.host}: no such slot(s) {sorted(unknown)}")

    @property
    def key(self) -> str:
        return f"{self.host}:{self.port}"

    def serial_of(self, slot: str) -> str:
        if slot in self.serials:
            return self.serials[slot]
        digest = hashlib.sha1(f"{self.host}:{self.port}/{slot}".encode()).hexdigest().upper()
        return f"SIM{digest[:9]}"

    @property
    def chassis_serial(self) -> str:
        return self.serial or self.serial_of("chassis")


def check_loopback(host: str) -> None:
    """Simulators only ever listen on 127.0.0.0/8: refuse anything else before a socket is opened."""
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        raise InputError(f"simulated controller address {host!r} is not an IPv4 address in 127.0.0.0/8") from None
    if addr.version != 4 or not addr.is_loopback:
        raise InputError(f"simulated controller address {host} is not in 127.0.0.0/8 (loopback only)")


_SLOT_RE = re.compile(r"^(psu|ps|fan|disk|drive|hdd|dimm|cpu|proc)[\s_-]*([a-z]?\d+)$")
_ALIASES = {"battery": "bat", "raid battery": "bat", "bbu": "bat"}


def normalize_slot(slot: str, layout: Layout) -> str:
    """The canonical slot name for what a user typed: 'psu 2', 'PSU2' -> 'PSU2'; 'Drive 1', 'disk1' -> 'Disk 1';
    'DIMM A1', 'dimm_a1' -> 'DIMM_A1'; 'inlet' -> 'Inlet'. Raises InputError for a slot the layout lacks."""
    text = slot.strip()
    canonical = {s.lower(): s for s, _ in layout.slots()}
    key = text.lower()
    if key.endswith(" temp"):
        key = key[: -len(" temp")]
    key = _ALIASES.get(key, key)
    if key in canonical:
        return canonical[key]
    m = _SLOT_RE.match(key)
    if m:
        family, index = m.groups()
        guess = {
            "psu": f"psu{index}",
            "ps": f"psu{index}",
            "fan": f"fan{index}",
            "disk": f"disk {index}",
            "drive": f"disk {index}",
            "hdd": f"disk {index}",
            "dimm": f"dimm_{index}",
            "cpu": f"cpu{index}",
            "proc": f"cpu{index}",
        }[family]
        if guess in canonical:
            return canonical[guess]
    known = ", ".join(s for s, _ in layout.slots())
    raise InputError(f"no slot {slot!r} in this simulated server (slots: {known})")


def kind_of(slot: str, layout: Layout) -> str:
    return dict(layout.slots())[slot]
