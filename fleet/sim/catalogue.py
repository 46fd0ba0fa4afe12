"""The sample fleet's fixed catalogue: sites, server models with their component layout, and spare parts.

Pure data. Layouts follow the real machines (PSU pair or single PSU, fan count and zones, DIMM and drive population,
RAID level and cache battery); part numbers follow each vendor's numbering style. Nothing here is read at run time
by anything but the sample generator.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SiteSpec:
    code: str
    name: str
    timezone: str
    servers: int  # how many servers the sample puts there
    customers: int  # how many customers are homed there
    customer_timezones: tuple[str, ...]
    tech_names: tuple[str, ...]


SITES: tuple[SiteSpec, ...] = (
    SiteSpec(
        "PAR1",
        "Paris 1 (Saint-Denis)",
        "Europe/Paris",
        126,
        26,
        ("Europe/Paris", "Europe/Berlin", "Europe/London", "Europe/Madrid"),
        (
            "Camille Moreau",
            "Julien Lefebvre",
            "Sofiane Benali",
            "Léa Garnier",
            "Hugo Marchand",
            "Inès Roussel",
            "Thierry Vasseur",
        ),
    ),
    SiteSpec(
        "NYC1",
        "New York 1 (Secaucus)",
        "America/New_York",
        108,
        22,
        ("America/New_York", "America/Chicago", "America/Los_Angeles", "America/Toronto"),
        ("Marcus Hill", "Dana Kowalski", "Luis Ortega", "Priya Raman", "Tyler Brooks", "Jasmine Price"),
    ),
    SiteSpec(
        "SIN1",
        "Singapore 1 (Jurong)",
        "Asia/Singapore",
        90,
        16,
        ("Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "Asia/Hong_Kong"),
        ("Wei Ling Tan", "Arjun Nair", "Siti Rahman", "Kenneth Goh", "Mei Chen Lim", "Farid Ismail"),
    ),
)


@dataclass(frozen=True, slots=True)
class ModelSpec:
    key: str  # short name used in hostnames
    vendor: str
    name: str
    u_height: int
    psu_count: int
    fan_count: int
    fan_zones: int
    dimm_slots: int
    dimms: int  # populated DIMMs (filled A1.., B1.. alternately per socket, the vendors' population order)
    disk_slots: int
    disks: int  # populated drive bays
    raid_level: str
    raid_battery: bool
    controller: str  # management controller family
    snmp_share: float  # fraction of these servers watched over SNMP instead of IPMI
    weight: float  # share of the fleet
    base_fee_cents: int  # monthly price of a dedicated server of this model
    parts: dict[str, str]  # kind -> part number installed
    serial_style: str  # how the vendor's chassis serials look


MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("r640", "Dell", "PowerEdge R640", 1, 2, 8, 1, 24, 12, 10, 2, "RAID1", True, "idrac", 0.1, 0.17, 14900,
              {"psu": "0PJMDN", "fan": "04VXP3", "dimm": "A9781929", "disk": "0G2G54", "battery": "0M9XMH"},
              "dell"),
    ModelSpec("r740xd", "Dell", "PowerEdge R740xd", 2, 2, 6, 2, 24, 12, 12, 12, "RAID6", True, "idrac", 0.1, 0.11,
              27900, {"psu": "0CMPGM", "fan": "03YDJG", "dimm": "A9781929", "disk": "0F4CN8", "battery": "0M9XMH"},
              "dell"),
    ModelSpec("dl360", "HPE", "ProLiant DL360 Gen10", 1, 2, 7, 1, 24, 8, 8, 2, "RAID1", True, "ilo", 0.4, 0.15,
              15900, {"psu": "865408-B21", "fan": "867810-B21", "dimm": "815100-B21", "disk": "872479-B21",
                      "battery": "875241-B21"}, "hpe"),
    ModelSpec("dl380", "HPE", "ProLiant DL380 Gen10", 2, 2, 6, 2, 24, 12, 12, 8, "RAID5", True, "ilo", 0.4, 0.12,
              25900, {"psu": "865414-B21", "fan": "867032-B21", "dimm": "815100-B21", "disk": "872479-B21",
                      "battery": "875241-B21"}, "hpe"),
    ModelSpec("sr650", "Lenovo", "ThinkSystem SR650", 2, 2, 6, 2, 24, 12, 8, 6, "RAID10", True, "xcc", 0.15, 0.10,
              23900, {"psu": "7N67A00883", "fan": "01KN461", "dimm": "7X77A01304", "disk": "7XB7A00027",
                      "battery": "01KN507"}, "lenovo"),
    ModelSpec("1029p", "Supermicro", "SYS-1029P-WTR", 1, 2, 8, 1, 12, 8, 4, 2, "none", False, "supermicro", 0.0,
              0.09, 9900, {"psu": "PWS-751P-1R", "fan": "FAN-0154L4", "dimm": "MEM-DR432L-SL02-ER26",
                           "disk": "ST4000NM0035"}, "supermicro"),
    ModelSpec("5019c", "Supermicro", "SYS-5019C-M", 1, 1, 4, 1, 4, 2, 4, 2, "RAID1", False, "supermicro", 0.0, 0.08,
              5900, {"psu": "PWS-351-1H", "fan": "FAN-0065L4", "dimm": "MEM-DR416L-CV02-EU26",
                     "disk": "MZ7LH480HAHQ"}, "supermicro"),
    ModelSpec("c220", "Cisco", "UCS C220 M5", 1, 2, 7, 1, 24, 12, 10, 4, "RAID10", True, "cimc", 0.2, 0.10, 16900,
              {"psu": "UCSC-PSU1-770W", "fan": "UCSC-FAN-C220M5", "dimm": "UCS-MR-X32G2RS-H",
               "disk": "UCS-HD12TB10K12N", "battery": "UCSC-SCAP-M5"}, "cisco"),
    ModelSpec("rx2540", "Fujitsu", "PRIMERGY RX2540 M5", 2, 2, 6, 2, 24, 12, 12, 8, "RAID6", True, "irmc", 0.5, 0.08,
              24900, {"psu": "S26113-F575-E13", "fan": "S26361-F4530-L231", "dimm": "S26361-F4083-L332",
                      "disk": "S26361-F5568-L112", "battery": "S26361-F5243-L115"}, "fujitsu"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PartSpec:
    part_number: str
    kind: str
    vendor: str
    description: str
    afr: float
    lead_time_days: float


PARTS: tuple[PartSpec, ...] = (
    # Dell
    PartSpec("0PJMDN", "psu", "Dell", "750W Platinum hot-plug power supply", 0.02, 3),
    PartSpec("0CMPGM", "psu", "Dell", "1100W Platinum hot-plug power supply", 0.02, 4),
    PartSpec("04VXP3", "fan", "Dell", "PowerEdge R640 standard cooling fan", 0.015, 3),
    PartSpec("03YDJG", "fan", "Dell", "PowerEdge R740/R740xd high-performance fan", 0.015, 3),
    PartSpec("A9781929", "dimm", "Dell", "32GB DDR4-2666 RDIMM 2Rx4", 0.004, 5),
    PartSpec("0G2G54", "disk", "Dell", "1.2TB 10K RPM SAS 12Gbps 2.5in hot-plug drive", 0.015, 4),
    PartSpec("0F4CN8", "disk", "Dell", "8TB 7.2K RPM NL-SAS 12Gbps 3.5in hot-plug drive", 0.018, 6),
    PartSpec("0M9XMH", "battery", "Dell", "PERC H730P/H740P controller battery", 0.05, 5),
    # HPE: option kits (-B21) and the equivalent spare numbers (-001)
    PartSpec("865408-B21", "psu", "HPE", "500W Flex Slot Platinum hot-plug low-halogen power supply", 0.02, 4),
    PartSpec("865414-B21", "psu", "HPE", "800W Flex Slot Platinum hot-plug low-halogen power supply", 0.02, 4),
    PartSpec("866730-001", "psu", "HPE", "800W Flex Slot Platinum power supply (spare)", 0.02, 7),
    PartSpec("867810-B21", "fan", "HPE", "DL360 Gen10 high-performance fan kit", 0.015, 5),
    PartSpec("867032-B21", "fan", "HPE", "DL380 Gen10 high-performance fan kit", 0.015, 5),
    PartSpec("815100-B21", "dimm", "HPE", "32GB 2Rx4 PC4-2666V-R Smart Memory kit", 0.004, 6),
    PartSpec("872479-B21", "disk", "HPE", "1.2TB SAS 12G 10K SFF SC DS hard drive", 0.015, 5),
    PartSpec("872737-001", "disk", "HPE", "1.2TB SAS 12G 10K SFF SC hard drive (spare)", 0.015, 8),
    PartSpec("875241-B21", "battery", "HPE", "96W Smart Storage Battery, 145mm cable", 0.05, 6),
    # Lenovo
    PartSpec("7N67A00883", "psu", "Lenovo", "ThinkSystem 750W (230/115V) Platinum hot-swap power supply", 0.02, 5),
    PartSpec("01KN461", "fan", "Lenovo", "ThinkSystem SR650 standard fan module", 0.015, 5),
    PartSpec("7X77A01304", "dimm", "Lenovo", "ThinkSystem 32GB TruDDR4 2666 MHz (2Rx4 1.2V) RDIMM", 0.004, 7),
    PartSpec("7XB7A00027", "disk", "Lenovo", "ThinkSystem 2.5in 1.2TB 10K SAS 12Gb hot-swap HDD", 0.015, 6),
    PartSpec("01KN507", "battery", "Lenovo", "ThinkSystem RAID 930 supercap module", 0.05, 7),
    # Supermicro and second sources
    PartSpec("PWS-751P-1R", "psu", "Supermicro", "750W 1U redundant Titanium power supply module", 0.02, 10),
    PartSpec("PWS-351-1H", "psu", "Supermicro", "350W 1U Gold single power supply", 0.025, 10),
    PartSpec("FAN-0154L4", "fan", "Supermicro", "40x56mm counter-rotating 1U fan", 0.015, 10),
    PartSpec("FAN-0065L4", "fan", "Supermicro", "40x28mm 1U chassis fan", 0.015, 10),
    PartSpec("MEM-DR432L-SL02-ER26", "dimm", "Supermicro", "32GB DDR4-2666 2Rx4 ECC RDIMM", 0.004, 8),
    PartSpec("MEM-DR416L-CV02-EU26", "dimm", "Supermicro", "16GB DDR4-2666 ECC UDIMM", 0.004, 8),
    PartSpec("M393A4K40CB2-CTD", "dimm", "Samsung", "32GB DDR4-2666 2Rx4 ECC RDIMM (second source)", 0.004, 3),
    PartSpec("ST4000NM0035", "disk", "Seagate", "Exos 7E8 4TB 7200 RPM SATA 6Gb/s 3.5in", 0.012, 3),
    PartSpec("ST4000NM000A", "disk", "Seagate", "Exos 7E8 4TB 7200 RPM SATA 6Gb/s 3.5in (rev. A)", 0.012, 3),
    PartSpec("MZ7LH480HAHQ", "disk", "Samsung", "PM883 480GB SATA 6Gb/s 2.5in enterprise SSD", 0.005, 4),
    # Cisco
    PartSpec("UCSC-PSU1-770W", "psu", "Cisco", "770W AC hot-plug power supply for 1U C-Series", 0.02, 8),
    PartSpec("UCSC-FAN-C220M5", "fan", "Cisco", "C220 M5 fan module (one rotor)", 0.015, 8),
    PartSpec("UCS-MR-X32G2RS-H", "dimm", "Cisco", "32GB DDR4-2666 RDIMM dual rank x4 1.2V", 0.004, 9),
    PartSpec("UCS-HD12TB10K12N", "disk", "Cisco", "1.2TB 12G SAS 10K RPM SFF HDD", 0.015, 8),
    PartSpec("UCSC-SCAP-M5", "battery", "Cisco", "Supercap for 12G SAS RAID controller (M5)", 0.05, 8),
    # Fujitsu
    PartSpec("S26113-F575-E13", "psu", "Fujitsu", "Modular PSU 800W Platinum hot-plug", 0.02, 12),
    PartSpec("S26361-F4530-L231", "fan", "Fujitsu", "PRIMERGY RX2540 M5 redundant fan module", 0.015, 12),
    PartSpec("S26361-F4083-L332", "dimm", "Fujitsu", "32GB (1x32GB) 2Rx4 DDR4-2666 R ECC", 0.004, 12),
    PartSpec("S26361-F5568-L112", "disk", "Fujitsu", "HD SAS 12G 1.2TB 10K 512n hot-plug 2.5in EP", 0.015, 12),
    PartSpec("S26361-F5243-L115", "battery", "Fujitsu", "FBU option for PRAID EP5xx (55cm)", 0.05, 14),
)

# (part, its substitute): a spare number equal to the option kit, a second source, a newer revision.
SUBSTITUTES: tuple[tuple[str, str], ...] = (
    ("865414-B21", "866730-001"),
    ("872479-B21", "872737-001"),
    ("A9781929", "M393A4K40CB2-CTD"),
    ("MEM-DR432L-SL02-ER26", "M393A4K40CB2-CTD"),
    ("ST4000NM0035", "ST4000NM000A"),
)

# Bin aisle per kind: spares of one kind share an aisle in every store room.
AISLE = {"psu": "A", "fan": "B", "disk": "C", "dimm": "D", "battery": "E"}


def compatibility() -> list[tuple[str, str]]:
    """(part number, server model name) pairs: the parts each model ships with, plus their substitutes."""
    subs: dict[str, list[str]] = {}
    for part, sub in SUBSTITUTES:
        subs.setdefault(part, []).append(sub)
    pairs: list[tuple[str, str]] = []
    for model in MODELS:
        fitted: list[str] = []
        for part in model.parts.values():
            for pn in (part, *subs.get(part, ())):
                if pn not in fitted:
                    fitted.append(pn)
        pairs.extend((pn, model.name) for pn in fitted)
    return pairs


def dimm_slots(model: ModelSpec) -> list[str]:
    """Populated DIMM slots in the vendors' order: A1, B1, A2, B2 ... (one channel per socket at a time)."""
    sockets = "AB" if model.dimm_slots > 12 or model.dimms > 4 else "A"
    per_socket = -(-model.dimms // len(sockets))
    slots = [f"DIMM_{s}{i}" for i in range(1, per_socket + 1) for s in sockets]
    return slots[: model.dimms]


def component_slots(model: ModelSpec) -> list[tuple[str, str]]:
    """(slot, kind) for every replaceable part the model carries, in the order a BMC lists them."""
    slots = [(f"PSU{i}", "psu") for i in range(1, model.psu_count + 1)]
    slots += [(f"FAN{i}", "fan") for i in range(1, model.fan_count + 1)]
    slots += [(s, "dimm") for s in dimm_slots(model)]
    slots += [(f"Disk {i}", "disk") for i in range(model.disks)]
    if model.raid_battery:
        slots.append(("BAT", "battery"))
    return slots
