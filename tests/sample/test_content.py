"""What the sample promises, checked on the rows it loads (expectations computed here, not copied from the output)."""

from __future__ import annotations

import ipaddress
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from fleet.sim.sample import load_sample
from fleet.store.db import make_engine, read_session
from fleet.store.migrate import upgrade
from fleet.store.models import (
    Audit,
    Component,
    Customer,
    Fault,
    MaintenanceWindow,
    Outage,
    PartCompat,
    PartModel,
    PartSubstitute,
    Rma,
    Server,
    ServerModel,
    Site,
    Stock,
    Swap,
    Technician,
    Ticket,
)

SAMPLE_NOW = datetime(2026, 11, 1, tzinfo=UTC)  # the brief: history lies before this date


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    path: Path = tmp_path_factory.mktemp("sample") / "inventory.db"
    eng = make_engine(str(path))
    upgrade(eng)
    load_sample(eng)
    with read_session(eng) as s:
        yield s
    eng.dispose()


def _all(session: Session, model):  # type: ignore[no-untyped-def]
    return list(session.exec(select(model)).all())


def test_three_sites_in_three_timezones(session: Session) -> None:
    sites = _all(session, Site)
    assert len(sites) == 3
    zones = [ZoneInfo(s.timezone) for s in sites]  # each a real IANA zone
    # Three different offsets at the same instant: really different places, not three names for one zone.
    assert len({z.utcoffset(datetime(2026, 7, 1, 12)) for z in zones}) == 3


def test_fleet_size_models_and_controllers(session: Session) -> None:
    servers = _all(session, Server)
    models = {m.id: m for m in _all(session, ServerModel)}
    assert len(servers) >= 300
    used = {s.model_id for s in servers}
    assert len(used) >= 6
    assert len({models[m].vendor for m in used}) >= 5
    assert {models[m].controller for m in used} >= {"idrac", "ilo", "xcc", "cimc", "irmc", "supermicro"}
    assert {m.raid_level for m in models.values()} >= {"RAID1", "RAID5", "RAID10", "RAID6"}
    assert {m.raid_level for m in models.values()} & {"RAID0", "none"}
    assert any(m.psu_count == 1 for m in models.values())
    assert all(m.psu_count == 2 for m in models.values() if m.psu_count != 1)
    protocols = Counter(s.controller_protocol for s in servers)
    assert protocols["ipmi"] > protocols["snmp"] > 0


def test_every_controller_is_on_loopback_with_an_unprivileged_port_and_a_secret_reference(session: Session) -> None:
    servers = _all(session, Server)
    hosts = [s.controller_host for s in servers]
    assert len(set(hosts)) == len(hosts)
    loopback = ipaddress.ip_network("127.0.0.0/8")
    assert all(ipaddress.ip_address(h) in loopback for h in hosts)
    assert all(1024 <= s.controller_port <= 65535 for s in servers)
    assert all(s.web_port is None or s.web_port >= 1024 for s in servers)
    refs: dict[str, set[str]] = {s.controller_protocol: set() for s in servers}
    for s in servers:
        assert s.credential_ref is not None and re.fullmatch(r"env:[A-Z][A-Z0-9_]*", s.credential_ref)
        refs[s.controller_protocol].add(s.credential_ref)
        assert s.controller_user == "admin"
    assert refs == {"ipmi": {"env:FLEET_DEMO_BMC_PASSWORD"}, "snmp": {"env:FLEET_DEMO_SNMP_COMMUNITY"}}


def test_components_follow_each_model_layout_with_unique_serials(session: Session) -> None:
    models = {m.id: m for m in _all(session, ServerModel)}
    servers = {s.id: s for s in _all(session, Server)}
    installed = [c for c in _all(session, Component) if c.removed_at is None]
    kinds = {p.id: p.kind for p in _all(session, PartModel)}
    per_server: dict[int, Counter[str]] = defaultdict(Counter)
    slots: dict[int, set[str]] = defaultdict(set)
    for c in installed:
        per_server[c.server_id][kinds[c.part_model_id]] += 1
        slots[c.server_id].add(c.slot)
    assert set(per_server) == set(servers)
    for sid, server in servers.items():
        model, got = models[server.model_id], per_server[sid]
        assert got["psu"] == model.psu_count, server.hostname
        assert got["fan"] == model.fan_count, server.hostname
        assert got["battery"] == (1 if model.raid_battery else 0), server.hostname
        assert 1 <= got["disk"] <= model.disk_slots, server.hostname
        assert 1 <= got["dimm"] <= model.dimm_slots, server.hostname
        want = {f"PSU{i}" for i in range(1, model.psu_count + 1)} | {f"FAN{i}" for i in range(1, model.fan_count + 1)}
        want |= {f"Disk {i}" for i in range(got["disk"])} | ({"BAT"} if model.raid_battery else set())
        dimms = slots[sid] - want
        assert len(dimms) == got["dimm"] and all(re.fullmatch(r"DIMM_[A-B]\d+", d) for d in dimms), dimms
    every = _all(session, Component)
    assert all(c.serial for c in every)
    assert len({c.serial for c in every}) == len(every)


def test_installed_parts_are_compatible_and_some_have_substitutes(session: Session) -> None:
    compat = {(c.part_model_id, c.server_model_id) for c in _all(session, PartCompat)}
    model_of = {s.id: s.model_id for s in _all(session, Server)}
    for c in _all(session, Component):
        assert (c.part_model_id, model_of[c.server_id]) in compat
    subs = _all(session, PartSubstitute)
    assert len(subs) >= 3
    parts = {p.id: p for p in _all(session, PartModel)}
    assert all(parts[s.part_model_id].kind == parts[s.substitute_id].kind for s in subs)
    assert all(0 < p.afr < 0.2 and p.lead_time_days > 0 for p in parts.values() if p.afr is not None)
    # Vendor numbering styles: Dell's 6-character numbers with a leading 0, HPE option kits ending in -B21.
    assert any(re.fullmatch(r"0[0-9A-Z]{5}", p.part_number) for p in parts.values() if p.vendor == "Dell")
    assert any(re.fullmatch(r"\d{6}-B21", p.part_number) for p in parts.values() if p.vendor == "HPE")


def test_customers_contacts_windows_and_plans(session: Session) -> None:
    customers = _all(session, Customer)
    assert len(customers) >= 60
    for c in customers:
        assert re.fullmatch(r"[a-z.-]+@[a-z0-9-]+\.example\.(com|net|org)", c.email), c.email
        ZoneInfo(c.timezone)
        windows = c.preferred_windows
        assert windows
        for w in windows:
            assert 0 <= w["weekday"] <= 6 and w["start"] < w["end"]
    servers = _all(session, Server)
    plans = Counter(s.plan for s in servers)
    assert plans["dedicated"] > len(servers) / 2
    assert plans["vm"] > 0 and plans["vps"] > 0 and plans["shared"] > 0
    rented = [s for s in servers if s.customer_id is not None]
    assert 0 < sum(s.backup_option for s in rented) < len(rented)
    assert 0 < sum(s.billing == "annual" for s in rented) < len(rented) / 2
    assert all(s.monthly_fee_cents > 0 for s in rented)


def _minutes_of_week(shift: dict) -> set[int]:
    """The minutes of a week (Monday 00:00 = 0) a shift covers; an end at or before the start is the next day."""
    start = shift["weekday"] * 1440 + int(shift["start"][:2]) * 60 + int(shift["start"][3:])
    end = shift["weekday"] * 1440 + int(shift["end"][:2]) * 60 + int(shift["end"][3:])
    if end <= start:
        end += 1440
    return {m % (7 * 1440) for m in range(start, end)}


def test_technicians_cover_every_hour_of_the_week_at_every_site(session: Session) -> None:
    techs = [t for t in _all(session, Technician) if t.active]
    night_shifts = 0
    for site in _all(session, Site):
        covered: set[int] = set()
        for t in techs:
            if t.site_id == site.id:
                for shift in t.shifts:
                    covered |= _minutes_of_week(shift)
                    night_shifts += shift["end"] <= shift["start"]
                assert t.on_call, t.name
        uncovered = [h for h in range(7 * 24) if not set(range(h * 60, h * 60 + 60)) <= covered]
        assert uncovered == [], f"{site.code}: no technician on shift at hours {uncovered}"
    assert night_shifts > 0


def test_stock_has_low_parts_and_one_part_out_at_one_site(session: Session) -> None:
    stock = _all(session, Stock)
    out = [s for s in stock if s.on_hand == 0]
    assert len(out) == 1
    # Still on the shelf at another site: a transfer can cover it.
    assert any(s.part_model_id == out[0].part_model_id and s.on_hand > 0 for s in stock)
    low = [s for s in stock if 0 < s.on_hand - s.reserved <= s.reorder_level]
    assert len(low) >= 3
    assert len(low) < len(stock) / 4  # low is the exception
    assert all(re.fullmatch(r"[A-Z]-\d{2}-\d", s.bin) for s in stock)
    bins = Counter((s.site_id, s.bin) for s in stock)
    assert max(bins.values()) == 1
    # Every part a server of a site carries has a stock line at that site.
    server_site = {s.id: s.site_id for s in _all(session, Server)}
    lines = {(s.site_id, s.part_model_id) for s in stock}
    assert all((server_site[c.server_id], c.part_model_id) in lines for c in _all(session, Component))


def _minutes(a: datetime, b: datetime) -> float:
    return (b - a).total_seconds() / 60


def test_history_shows_swaps_inside_and_outside_the_sla(session: Session) -> None:
    faults = {f.id: f for f in _all(session, Fault)}
    assert faults and all(f.resolved_at is not None and f.resolved_at < SAMPLE_NOW for f in faults.values())
    swaps = [s for s in _all(session, Swap) if s.critical]
    assert all(s.state == "done" and s.done_at is not None for s in swaps)
    taken = []
    for s in swaps:
        f = faults[s.fault_id]
        clock = f.critical_since or f.notified_at
        assert s.target_at == clock + timedelta(hours=1) and s.hard_limit_at == clock + timedelta(hours=4)
        taken.append(_minutes(clock, s.done_at))
    assert sum(m <= 60 for m in taken) >= 3
    assert sum(60 < m <= 240 for m in taken) >= 3
    assert sum(m > 240 for m in taken) == 1
    # A fault that became critical later: its clock starts at that moment, not at the first notification.
    assert any(f.critical_since and f.critical_since > f.notified_at for f in faults.values())
    # A ticket that came before monitoring moves the notification time earlier.
    assert any(f.source == "ticket" and f.notified_at < f.detected_at for f in faults.values())
    acks = [_minutes(f.notified_at, f.acknowledged_at) for f in faults.values() if f.acknowledged_at]
    assert sum(m <= 60 for m in acks) > sum(m > 60 for m in acks) > 0


def test_non_critical_swaps_happen_in_an_agreed_window(session: Session) -> None:
    windows = {w.id: w for w in _all(session, MaintenanceWindow)}
    planned = [s for s in _all(session, Swap) if not s.critical]
    assert planned
    for s in planned:
        w = windows[s.window_id]
        assert w.state == "agreed" and w.proposed_at < w.answered_at <= w.start_at
        assert w.start_at <= s.started_at < s.done_at <= w.end_at
    assert any(w.state == "declined" for w in windows.values())
    # A disk swap on a server without the backup option warns about it.
    servers = {s.id: s for s in _all(session, Server)}
    faults = {f.id: f for f in _all(session, Fault)}
    for s in _all(session, Swap):
        risky = faults[s.fault_id].kind == "disk" and not servers[s.server_id].backup_option
        assert (s.warning is not None) == risky


def test_swaps_replace_the_component_and_are_audited(session: Session) -> None:
    components = _all(session, Component)
    by_serial = {c.serial: c for c in components}
    audited = {(a.entity, a.entity_id, a.action) for a in _all(session, Audit)}
    for s in _all(session, Swap):
        old, new = by_serial[s.old_serial], by_serial[s.new_serial]
        assert old.removed_at == s.done_at and new.installed_at == s.done_at and new.removed_at is None
        assert old.slot == new.slot and old.server_id == new.server_id == s.server_id
        assert {("swap", s.id, "swap.done"), ("swap", s.id, "swap.start")} <= audited
    for f in _all(session, Fault):
        assert {("fault", f.id, "fault.open"), ("fault", f.id, "fault.resolve")} <= audited
    audit = _all(session, Audit)
    assert [a.at for a in sorted(audit, key=lambda a: a.id)] == sorted(a.at for a in audit)
    assert all(a.at < SAMPLE_NOW for a in audit)


def test_outages_tickets_and_rmas(session: Session) -> None:
    outages = _all(session, Outage)
    lengths = [_minutes(o.start_at, o.end_at) for o in outages]
    assert any(m < 60 for m in lengths) and any(m > 60 for m in lengths)
    assert any((o.start_at.year, o.start_at.month) != (o.end_at.year, o.end_at.month) for o in outages)
    assert all(o.end_at < SAMPLE_NOW for o in outages)
    tickets = _all(session, Ticket)
    assert len(tickets) >= 3
    assert any(t.fault_id is not None for t in tickets)
    rmas = _all(session, Rma)
    assert {r.state for r in rmas} == {"open", "shipped", "credited"}
    for r in rmas:
        assert (r.shipped_at is not None) == (r.state != "open")
        assert (r.credited_at is not None) == (r.state == "credited")
    audited = {(a.entity, a.entity_id) for a in _all(session, Audit)}
    assert all(("ticket", t.id) in audited for t in tickets)
    assert all(("outage", o.id) in audited for o in outages)
    assert all(("rma", r.id) in audited for r in rmas)
