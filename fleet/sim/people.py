"""The sample fleet's people: customers (fictional, example.com addresses) and the technicians of each site.

Pure: a seeded `random.Random` in, rows out.
"""

from __future__ import annotations

import random
import re
import unicodedata
from typing import Any

from fleet.sim.catalogue import SiteSpec

_FIRST = (
    "Alice",
    "Bruno",
    "Chloé",
    "Daniel",
    "Elena",
    "Farah",
    "Gustav",
    "Hana",
    "Ivan",
    "Jonas",
    "Keiko",
    "Lars",
    "Maya",
    "Nadia",
    "Oscar",
    "Paula",
    "Quentin",
    "Rosa",
    "Samir",
    "Tomás",
    "Ursula",
    "Victor",
    "Wen",
    "Yara",
)
_LAST = (
    "Albrecht",
    "Baptiste",
    "Castillo",
    "Duarte",
    "Eriksen",
    "Fontaine",
    "Grant",
    "Haddad",
    "Ito",
    "Jansen",
    "Keller",
    "Lindqvist",
    "Moreno",
    "Novak",
    "Okafor",
    "Petrov",
    "Quinn",
    "Rossi",
    "Sato",
    "Tanaka",
    "Varga",
    "Weber",
    "Young",
    "Zhou",
)
_WORD = (
    "Blue Heron",
    "Northwind",
    "Cobalt",
    "Lumen",
    "Meridian",
    "Quartz",
    "Tidewater",
    "Orchard",
    "Summit",
    "Harbor",
    "Kestrel",
    "Granite",
    "Juniper",
    "Polaris",
    "Saffron",
    "Vertex",
    "Willow",
    "Atlas",
    "Beacon",
    "Cedar",
    "Driftwood",
    "Ember",
    "Fjord",
    "Helix",
    "Ironbark",
    "Lantern",
    "Mosaic",
    "Nimbus",
)
_TRADE = (
    "Analytics",
    "Media",
    "Games",
    "Logistics",
    "Labs",
    "Commerce",
    "Health",
    "Studio",
    "Travel",
    "Software",
    "Finance",
    "Robotics",
    "Foods",
    "Learning",
)
_FORM = {
    "Europe": ("SAS", "GmbH", "Ltd", "SARL", "S.L."),
    "America": ("Inc.", "LLC", "Corp."),
    "Asia": ("Pte. Ltd.", "K.K.", "Ltd"),
    "Australia": ("Pty Ltd",),
}
# Numbers set aside for fiction where the regulator has such a range (555-01xx in North America, 020 7946 0xxx in
# London, 030 23125 xxx in Berlin, 02 5550 xxxx in Sydney); look-alikes elsewhere.
_PHONE = {
    "Europe/Paris": "+33 1 99 00 {a:02d} {b:02d}",
    "Europe/Berlin": "+49 30 23125 {c:03d}",
    "Europe/London": "+44 20 7946 0{c:03d}",
    "Europe/Madrid": "+34 91 555 {a:02d} {b:02d}",
    "America/New_York": "+1 212 555 01{a:02d}",
    "America/Chicago": "+1 312 555 01{a:02d}",
    "America/Los_Angeles": "+1 213 555 01{a:02d}",
    "America/Toronto": "+1 416 555 01{a:02d}",
    "Asia/Singapore": "+65 6999 {a:02d}{b:02d}",
    "Asia/Tokyo": "+81 3 5555 {a:02d}{b:02d}",
    "Asia/Hong_Kong": "+852 5555 {a:02d}{b:02d}",
    "Australia/Sydney": "+61 2 5550 {a:02d}{b:02d}",
}

# Customers ask for quiet hours: early weekend mornings, late evenings, lunchtime for some offices.
_WINDOW_STARTS = ("01:00", "02:00", "03:00", "04:00", "06:00", "12:00", "19:00", "20:00")


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def preferred_windows(rng: random.Random) -> list[dict[str, Any]]:
    """1 to 3 weekly windows, each within one local day (start < end)."""
    days = rng.sample(range(7), rng.randint(1, 3))
    windows = []
    for day in sorted(days):
        start = rng.choice(_WINDOW_STARTS)
        hours = min(rng.choice((2, 3, 4)), 23 - int(start[:2]))  # ends the same day
        end = f"{int(start[:2]) + hours:02d}:{start[3:]}"
        windows.append({"weekday": day, "start": start, "end": end})
    return windows


def customers(rng: random.Random, site: SiteSpec, names_taken: set[str]) -> list[dict[str, Any]]:
    """The customers homed at a site (their servers live there), with contacts and windows."""
    out: list[dict[str, Any]] = []
    while len(out) < site.customers:
        tz = rng.choice(site.customer_timezones)
        region = tz.split("/")[0]
        name = f"{rng.choice(_WORD)} {rng.choice(_TRADE)} {rng.choice(_FORM[region])}"
        if name in names_taken:
            continue
        names_taken.add(name)
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        domain = f"{slug(name.rsplit(' ', 1)[0])}.{rng.choice(('example.com', 'example.net', 'example.org'))}"
        phone = _PHONE[tz].format(a=rng.randint(0, 99), b=rng.randint(0, 99), c=rng.randint(0, 999))
        out.append(
            {
                "name": name,
                "contact_name": f"{first} {last}",
                "email": f"{slug(first)}.{slug(last)}@{domain}",
                "phone": phone,
                "timezone": tz,
                "preferred_windows": preferred_windows(rng),
            }
        )
    return out


# Three eight-hour shifts cover the day; the night shift runs past midnight into the next day.
SHIFTS = (("06:00", "14:00"), ("14:00", "22:00"), ("22:00", "06:00"))
# Two technicians per shift: one Monday-Friday, one Wednesday-Sunday, so every day has the shift staffed.
ROTAS = ((0, 1, 2, 3, 4), (2, 3, 4, 5, 6))


def technicians(site: SiteSpec) -> list[dict[str, Any]]:
    """Six active technicians per site covering 24/7 in the site's local time; extra names are former staff."""
    out = []
    for i, name in enumerate(site.tech_names):
        first, last = name.split(" ", 1)
        row: dict[str, Any] = {"name": name, "email": f"{slug(first)}.{slug(last)}@ops.example.net"}
        if i >= len(SHIFTS) * len(ROTAS):
            row.update(shifts=[], on_call=[], active=False)
            out.append(row)
            continue
        (start, end), days = SHIFTS[i // 2], ROTAS[i % 2]
        shifts = [{"weekday": d, "start": start, "end": end} for d in days]
        # On call on two days off, during the hours of their own shift: they know that shift's work.
        off = [d for d in range(7) if d not in days][:2]
        on_call = [{"weekday": d, "start": start, "end": end} for d in off]
        row.update(shifts=shifts, on_call=on_call, active=True)
        out.append(row)
    return out
