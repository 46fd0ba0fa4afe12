"""The sample fleet's hardware: servers placed in racks, every component they carry, the spares on the shelves.

Pure: a seeded `random.Random` and the rows built so far in, rows out. Every controller sits on a loopback address
with an unprivileged port, so polling the sample never sends a packet off the machine and needs no root.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fleet.sim.catalogue import AISLE, MODELS, PARTS, SITES, SUBSTITUTES, ModelSpec, compatibility, component_slots
from fleet.sim.rows import Rows

IPMI_PORT = 16623  # 623 + 16000: the simulators run as a normal user, who cannot bind below 1024
SNMP_PORT = 16161
WEB_PORT = 18080
DNS_PORT = 18053
ANNUAL_MONTHS_PAID = 10  # the sample's annual price: a year for ten monthly fees
IPMI_CREDENTIAL = "env:FLEET_DEMO_BMC_PASSWORD"
SNMP_CREDENTIAL = "env:FLEET_DEMO_SNMP_COMMUNITY"
RACK_TOP = 41  # highest usable U: 42U racks with the top unit kept for the switch
FIRST_INSTALL = datetime(2019, 3, 1, tzinfo=UTC)
LAST_INSTALL = datetime(2026, 4, 15, tzinfo=UTC)

_ALNUM = string.ascii_uppercase + string.digits
_DIGITS = string.digits
_HEX = "0123456789ABCDEF"
# Serial layouts: fixed text or (alphabet, length) pieces, in each vendor's style.
_SERIAL_STYLES: dict[str, tuple[tuple[str, str | None, int], ...]] = {
    "dell": (("", _ALNUM, 7),),  # a service tag
    "hpe": (("CZJ", None, 0), ("", _DIGITS, 4), ("", _ALNUM, 3)),
    "lenovo": (("J30", None, 0), ("", _ALNUM, 5)),
    "supermicro": (("S", None, 0), ("", _DIGITS, 6), ("X", None, 0), ("", _DIGITS, 1), ("", _ALNUM, 5)),
    "cisco": (("WZP", None, 0), ("", _DIGITS, 4), ("", _ALNUM, 4)),
    "fujitsu": (("YM", None, 0), ("", string.ascii_uppercase, 2), ("", _DIGITS, 6)),
    "psu": (("PS", None, 0), ("", _ALNUM, 12)),
    "fan": (("FN", None, 0), ("", _ALNUM, 10)),
    "dimm": (("", _HEX, 8),),
    "disk": (("Z", None, 0), ("", _ALNUM, 7)),
    "battery": (("BT", None, 0), ("", _ALNUM, 10)),
}


def service_host(site_index: int, n: int) -> str:
    """127.20.<site>.<n>: the server's own address, where its web page and DNS server answer (the SLA's checks)."""
    if not 1 <= n <= 254:
        raise ValueError("the sample keeps at most 254 servers per site")
    return f"127.20.{site_index}.{n}"


def controller_host(site_index: int, n: int) -> str:
    """127.10.<site>.<n>: one loopback address per server (Linux answers on all of 127.0.0.0/8)."""
    if not 1 <= n <= 254:
        raise ValueError("the sample keeps at most 254 servers per site")
    return f"127.10.{site_index}.{n}"


class Serials:
    """Unique serial numbers in each vendor's style."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.seen: set[str] = set()

    def _styled(self, style: str) -> str:
        return "".join(
            fixed if alphabet is None else "".join(self.rng.choices(alphabet, k=n))
            for fixed, alphabet, n in _SERIAL_STYLES[style]
        )

    def new(self, style: str) -> str:
        while True:
            serial = self._styled(style)
            if serial not in self.seen:
                self.seen.add(serial)
                return serial


@dataclass(slots=True)
class Catalogue:
    """Ids of the catalogue rows, by the names the generator uses."""

    site_ids: dict[str, int]
    model_ids: dict[str, int]
    part_ids: dict[str, int]
    customers_by_site: dict[str, list[int]]


def add_catalogue(rows: Rows) -> Catalogue:
    """Sites, server models, part models, what fits what, and which part may stand in for which."""
    site_ids = {s.code: rows.add("site", code=s.code, name=s.name, timezone=s.timezone) for s in SITES}
    model_ids = {
        m.key: rows.add(
            "server_model",
            vendor=m.vendor,
            name=m.name,
            u_height=m.u_height,
            psu_count=m.psu_count,
            fan_count=m.fan_count,
            fan_zones=m.fan_zones,
            dimm_slots=m.dimm_slots,
            disk_slots=m.disk_slots,
            raid_level=m.raid_level,
            raid_battery=m.raid_battery,
            controller=m.controller,
        )
        for m in MODELS
    }
    part_ids = {
        p.part_number: rows.add(
            "part_model",
            part_number=p.part_number,
            kind=p.kind,
            vendor=p.vendor,
            description=p.description,
            afr=p.afr,
            lead_time_days=p.lead_time_days,
        )
        for p in PARTS
    }
    model_by_name = {m.name: model_ids[m.key] for m in MODELS}
    for pn, model_name in compatibility():
        rows.add("part_compat", part_model_id=part_ids[pn], server_model_id=model_by_name[model_name])
    for pn, sub in SUBSTITUTES:
        rows.add("part_substitute", part_model_id=part_ids[pn], substitute_id=part_ids[sub])
    return Catalogue(site_ids, model_ids, part_ids, {})


def _plan(rng: random.Random) -> str:
    r = rng.random()
    return "dedicated" if r < 0.74 else "vm" if r < 0.88 else "vps" if r < 0.95 else "shared"


def _fee(rng: random.Random, plan: str, model: ModelSpec) -> int:
    if plan == "dedicated":
        return model.base_fee_cents + rng.choice((0, 0, 2000, 5000, 9000))
    if plan == "vm":
        return rng.choice((3900, 5900, 7900, 8900))
    if plan == "vps":
        return rng.choice((990, 1490, 2490))
    return rng.choice((590, 990, 1490))


def add_servers(rows: Rows, rng: random.Random, cat: Catalogue, serials: Serials) -> None:
    """Servers of every site, placed bottom-up in 42U racks, with their components; the first servers of a site go
    one to each customer, so every customer has a machine, the rest to customers at random (a few big ones)."""
    weights = [m.weight for m in MODELS]
    for site_index, site in enumerate(SITES, start=1):
        customers = cat.customers_by_site[site.code]
        big = customers[: max(1, len(customers) // 5)]  # a handful of customers rent many servers
        rack_no, unit = 1, 2
        for n in range(1, site.servers + 1):
            model = rng.choices(MODELS, weights=weights)[0]
            if unit + model.u_height - 1 > RACK_TOP:
                rack_no, unit = rack_no + 1, 2
            rack = f"{chr(ord('A') + (rack_no - 1) // 10)}{(rack_no - 1) % 10 + 1:02d}"
            if n <= len(customers):
                customer: int | None = customers[n - 1]
            elif rng.random() < 0.04:
                customer = None  # racked and ready, not rented yet
            else:
                customer = rng.choice(big) if rng.random() < 0.35 else rng.choice(customers)
            plan = _plan(rng) if customer is not None else "dedicated"
            snmp = rng.random() < model.snmp_share
            installed = FIRST_INSTALL + timedelta(days=rng.randint(0, (LAST_INSTALL - FIRST_INSTALL).days))
            server_id = rows.add(
                "server",
                hostname=f"{site.code.lower()}-{model.key}-{n:03d}.hosting.example.net",
                asset_tag=f"HS-{site.code}-{n:05d}",
                serial=serials.new(model.serial_style),
                model_id=cat.model_ids[model.key],
                site_id=cat.site_ids[site.code],
                rack=rack,
                unit=unit,
                customer_id=customer,
                plan=plan,
                backup_option=customer is not None and plan in ("dedicated", "vm") and rng.random() < 0.4,
                monthly_fee_cents=(fee := _fee(rng, plan, model) if customer is not None else 0),
                billing=(billing := "annual" if customer is not None and rng.random() < 0.15 else "monthly"),
                # Annual payers get two months free: the year costs ten monthly fees.
                annual_fee_cents=fee * ANNUAL_MONTHS_PAID if billing == "annual" else None,
                controller_host=controller_host(site_index, n),
                controller_port=SNMP_PORT if snmp else IPMI_PORT,
                controller_protocol="snmp" if snmp else "ipmi",
                controller_user="admin",
                credential_ref=SNMP_CREDENTIAL if snmp else IPMI_CREDENTIAL,
                service_host=service_host(site_index, n),
                web_port=WEB_PORT,
                dns_port=DNS_PORT,
                status="active",
                health="unknown",
            )
            unit += model.u_height
            for slot, kind in component_slots(model):
                rows.add(
                    "component",
                    server_id=server_id,
                    slot=slot,
                    part_model_id=cat.part_ids[model.parts[kind]],
                    serial=serials.new(kind),
                    installed_at=installed,
                )


# Stock that tells a story: a few parts at or under their reorder level, one battery gone entirely at SIN1.
LOW_STOCK: tuple[tuple[str, str], ...] = (
    ("PAR1", "0PJMDN"),
    ("PAR1", "872479-B21"),
    ("NYC1", "UCSC-PSU1-770W"),
    ("NYC1", "ST4000NM0035"),
    ("SIN1", "S26113-F575-E13"),
    ("SIN1", "7XB7A00027"),
)
OUT_OF_STOCK: tuple[str, str] = ("SIN1", "875241-B21")


def add_stock(rows: Rows, rng: random.Random, cat: Catalogue) -> None:
    """Every part at every site, binned by kind (aisle), shelf and level: "C-04-2"."""
    part_kind = {p.part_number: p.kind for p in PARTS}
    for site in SITES:
        shelf_count: dict[str, int] = {}
        for part in PARTS:
            kind = part_kind[part.part_number]
            idx = shelf_count.get(kind, 0)
            shelf_count[kind] = idx + 1
            reorder = rng.randint(1, 2) + (1 if kind in ("psu", "disk") else 0)
            on_hand = reorder + rng.randint(2, 8)
            if (site.code, part.part_number) in LOW_STOCK:
                on_hand = rng.randint(1, reorder)
            if (site.code, part.part_number) == OUT_OF_STOCK:
                on_hand = 0
            rows.add(
                "stock",
                site_id=cat.site_ids[site.code],
                part_model_id=cat.part_ids[part.part_number],
                bin=f"{AISLE[kind]}-{idx // 4 + 1:02d}-{idx % 4 + 1}",
                on_hand=on_hand,
                reserved=0,
                reorder_level=reorder,
            )
