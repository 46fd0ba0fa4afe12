"""Six months of the sample fleet's past, so that reports have something true to show.

Faults (all resolved), their acknowledgements (most within the hour, some not), critical swaps done within 1 h,
between 1 h and 4 h and one beyond 4 h, non-critical swaps at windows the customer agreed, faults that recovered or
were cancelled, tickets, outages (short, long, one across a month boundary), transfers, RMAs in every state, and an
audit entry for each of these changes.

Pure: everything is anchored to a fixed date (`ANCHOR`), never to the current time, so regenerating gives identical
rows. A seeded `random.Random` picks servers and minutes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fleet.sim.catalogue import MODELS, SITES, SUBSTITUTES, ModelSpec
from fleet.sim.rows import Rows
from fleet.sim.servers import Catalogue, Serials

ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)  # the sample's "now": everything happened before it
HISTORY_START = datetime(2026, 5, 1, tzinfo=UTC)
SWAP_MINUTES = {"psu": 15, "fan": 15, "disk": 30, "dimm": 45, "battery": 30}

# Minutes from the SLA clock start to the swap being done, one critical swap each: within the 1 h target, between
# the target and the 4 h limit, and one beyond the limit.
CRITICAL_WITHIN_TARGET = (27, 33, 38, 41, 44, 49, 52, 55)
CRITICAL_WITHIN_LIMIT = (64, 72, 95, 130, 181, 222)
CRITICAL_LATE = 318
ACK_LATE_CRITICAL = 75
# Critical swaps (by index) placed in the last weeks before ANCHOR: their RMAs are still open or shipped.
RECENT = {
    0: (ANCHOR - timedelta(days=2), ANCHOR - timedelta(days=1)),
    5: (ANCHOR - timedelta(days=2), ANCHOR - timedelta(days=1)),
    1: (ANCHOR - timedelta(days=14), ANCHOR - timedelta(days=10)),
    6: (ANCHOR - timedelta(days=14), ANCHOR - timedelta(days=10)),
}  # the 130-minute swap was acknowledged late (outside the hour)


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def _in_sla(server: _Server) -> bool:
    return server.customer_id is not None and server.plan in ("dedicated", "vm")


def covers(shifts: list[dict[str, Any]], local: datetime) -> bool:
    """Whether a weekly shift list (local wall time; end <= start runs past midnight) covers a local instant."""
    minute = local.weekday() * 1440 + local.hour * 60 + local.minute
    for s in shifts:
        start = s["weekday"] * 1440 + int(s["start"][:2]) * 60 + int(s["start"][3:])
        end = s["weekday"] * 1440 + int(s["end"][:2]) * 60 + int(s["end"][3:])
        if end <= start:
            end += 1440
        if start <= minute < end or start <= minute + 7 * 1440 < end:
            return True
    return False


@dataclass(slots=True)
class _Server:
    id: int
    site_id: int
    site_code: str
    tz: ZoneInfo
    model: ModelSpec
    customer_id: int | None
    plan: str
    backup: bool
    billing: str


@dataclass
class History:
    rows: Rows
    rng: random.Random
    cat: Catalogue
    serials: Serials
    servers: list[_Server] = field(default_factory=list)
    used: set[tuple[int, str]] = field(default_factory=set)
    audit: list[tuple[datetime, int, dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        tz = {s.code: ZoneInfo(s.timezone) for s in SITES}
        code = {v: k for k, v in self.cat.site_ids.items()}
        model = {self.cat.model_ids[m.key]: m for m in MODELS}
        for r in self.rows["server"]:
            self.servers.append(
                _Server(
                    r["id"],
                    r["site_id"],
                    code[r["site_id"]],
                    tz[code[r["site_id"]]],
                    model[r["model_id"]],
                    r["customer_id"],
                    r["plan"],
                    r["backup_option"],
                    r["billing"],
                )
            )
        self.components = {(c["server_id"], c["slot"]): c for c in self.rows["component"]}
        self.stock = {(s["site_id"], s["part_model_id"]): s for s in self.rows["stock"]}
        self.techs = [t for t in self.rows["technician"] if t["active"]]
        self.customers = {c["id"]: c for c in self.rows["customer"]}
        self.substitute = dict(SUBSTITUTES)

    # --- helpers -----------------------------------------------------------------------------------------------

    def at(self, lo: datetime, hi: datetime) -> datetime:
        """A whole minute between lo and hi."""
        return lo + timedelta(minutes=self.rng.randint(0, int((hi - lo).total_seconds() // 60)))

    def log(
        self,
        at: datetime,
        actor: str,
        action: str,
        entity: str,
        entity_id: int | None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        entry = {
            "at": at,
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "before": before,
            "after": after,
        }
        self.audit.append((at, len(self.audit), entry))

    def tech_on_shift(self, server: _Server, when: datetime) -> dict[str, Any]:
        local = when.astimezone(server.tz)
        on = [t for t in self.techs if t["site_id"] == server.site_id and covers(t["shifts"], local)]
        if not on:  # cannot happen with the sample's rota; a clear failure if someone edits it wrongly
            raise ValueError(f"no technician on shift at {server.site_code} at {local}")
        return on[self.rng.randrange(len(on))]

    def pick(self, want: Any, slot_of: Any) -> tuple[_Server, str]:
        """A server matching `want` and one of its slots not already used by the history."""
        candidates = [s for s in self.servers if want(s)]
        while True:
            server = candidates[self.rng.randrange(len(candidates))]
            slot = slot_of(server)
            if (server.id, slot) not in self.used:
                self.used.add((server.id, slot))
                return server, slot

    # --- faults and swaps -----------------------------------------------------------------------------------------

    def fault(
        self,
        server: _Server,
        slot: str,
        kind: str,
        problem: str,
        severity: str,
        evidence: str,
        detected: datetime,
        notified: datetime,
        source: str = "monitoring",
    ) -> dict[str, Any]:
        fid = self.rows.add(
            "fault",
            server_id=server.id,
            slot=slot,
            kind=kind,
            problem=problem,
            severity=severity,
            state="open",
            evidence=evidence,
            source=source,
            detected_at=detected,
            notified_at=notified,
            critical_since=notified if severity == "critical" else None,
            last_seen_at=detected,
        )
        row = self.rows["fault"][fid - 1]
        self.log(
            detected,
            "sweep" if source == "monitoring" else "support",
            "fault.open",
            "fault",
            fid,
            None,
            {"server_id": server.id, "slot": slot, "problem": problem, "severity": severity},
        )
        return row

    def acknowledge(self, fault: dict[str, Any], server: _Server, when: datetime) -> str:
        tech = self.tech_on_shift(server, when)
        fault.update(state="acknowledged", acknowledged_at=when, acknowledged_by=tech["name"])
        self.log(
            when,
            tech["name"],
            "fault.acknowledge",
            "fault",
            fault["id"],
            {"state": "open"},
            {"state": "acknowledged", "acknowledged_by": tech["name"]},
        )
        return str(tech["name"])

    def resolve(self, fault: dict[str, Any], when: datetime, resolution: str, actor: str) -> None:
        before = {"state": fault["state"]}
        state = "cancelled" if resolution == "cancelled" else "resolved"
        fault.update(
            state=state, resolved_at=when, resolution=resolution, healthy_polls=3 if resolution != "cancelled" else 0
        )
        fault["last_seen_at"] = max(fault["last_seen_at"], when - timedelta(minutes=15))
        self.log(when, actor, "fault.resolve", "fault", fault["id"], before, {"state": state, "resolution": resolution})

    def swap(
        self,
        fault: dict[str, Any],
        server: _Server,
        *,
        critical: bool,
        started: datetime,
        done: datetime,
        planned: datetime,
        reserved_at: datetime,
        window_id: int | None = None,
        note: str | None = None,
        use_substitute: bool = False,
    ) -> int:
        slot, kind = fault["slot"], fault["kind"]
        old = self.components[(server.id, slot)]
        part_number = server.model.parts[kind]
        if use_substitute and part_number in self.substitute:
            part_number = self.substitute[part_number]
        part_id = self.cat.part_ids[part_number]
        stock = self.stock[(server.site_id, part_id)]
        rid = self.rows.add(
            "reservation",
            stock_id=stock["id"],
            fault_id=fault["id"],
            quantity=1,
            state="consumed",
            created_at=reserved_at,
            closed_at=done,
            actor="system",
        )
        self.log(
            reserved_at,
            "system",
            "stock.reserve",
            "stock",
            stock["id"],
            {"reserved": 0},
            {"reserved": 1, "reservation_id": rid, "fault_id": fault["id"]},
        )
        tech = self.tech_on_shift(server, started)
        clock = fault["critical_since"] or fault["notified_at"]
        warning = None
        if kind == "disk" and not server.backup:
            warning = "no backup option: data on this disk is not backed up"
        new_serial = self.serials.new(kind)
        sid = self.rows.add(
            "swap",
            fault_id=fault["id"],
            server_id=server.id,
            technician_id=tech["id"],
            reservation_id=rid,
            window_id=window_id,
            critical=critical,
            state="done",
            planned_start=planned,
            target_at=clock + timedelta(hours=1) if critical else None,
            hard_limit_at=clock + timedelta(hours=4) if critical else None,
            started_at=started,
            done_at=done,
            old_serial=old["serial"],
            new_serial=new_serial,
            warning=warning,
            note=note,
        )
        self.log(
            reserved_at,
            "scheduler",
            "swap.plan",
            "swap",
            sid,
            None,
            {"fault_id": fault["id"], "planned_start": _iso(planned), "technician": tech["name"]},
        )
        fault["state"] = "scheduled"
        self.log(started, tech["name"], "swap.start", "swap", sid, {"state": "planned"}, {"state": "in_progress"})
        old["removed_at"] = done
        self.rows.add(
            "component", server_id=server.id, slot=slot, part_model_id=part_id, serial=new_serial, installed_at=done
        )
        self.log(
            done,
            tech["name"],
            "swap.done",
            "swap",
            sid,
            {"state": "in_progress", "serial": old["serial"]},
            {"state": "done", "serial": new_serial},
        )
        self.log(
            done,
            tech["name"],
            "stock.consume",
            "stock",
            stock["id"],
            {"reserved": 1},
            {"reserved": 0, "on_hand": "-1", "reservation_id": rid},
        )
        self.resolve(fault, done + timedelta(minutes=10), "swapped", "sweep")
        if kind != "battery":  # batteries are consumables: scrapped, not returned
            self.rma(old, server, fault, done)
        return sid

    def rma(self, old: dict[str, Any], server: _Server, fault: dict[str, Any], done: datetime) -> None:
        # Stores open the RMA the same day, ship within a week, the vendor credits two to three weeks later.
        opened = done + timedelta(hours=self.rng.randint(2, 20))
        shipped = opened + timedelta(days=self.rng.randint(2, 6))
        credited = shipped + timedelta(days=self.rng.randint(14, 20))
        state = "credited" if credited < ANCHOR else "shipped" if shipped < ANCHOR else "open"
        rid = self.rows.add(
            "rma",
            part_model_id=old["part_model_id"],
            serial=old["serial"],
            server_id=server.id,
            fault_id=fault["id"],
            state=state,
            opened_at=opened,
            shipped_at=shipped if state != "open" else None,
            credited_at=credited if state == "credited" else None,
        )
        self.log(opened, "stores", "rma.open", "rma", rid, None, {"serial": old["serial"], "state": "open"})
        if state != "open":
            self.log(shipped, "stores", "rma.ship", "rma", rid, {"state": "open"}, {"state": "shipped"})
        if state == "credited":
            self.log(credited, "stores", "rma.credit", "rma", rid, {"state": "shipped"}, {"state": "credited"})

    def outage(self, server: _Server, start: datetime, end: datetime, cause: str) -> None:
        self.rows.add("outage", server_id=server.id, start_at=start, end_at=end, cause=cause, detected_by="monitoring")

    # --- scenarios ----------------------------------------------------------------------------------------------

    def critical_swaps(self) -> None:
        """Parts whose failure took the server down: the only PSU, a disk outside any redundant array, a DIMM
        whose uncorrectable error halted the host. One ECC fault escalates from non-critical to critical."""
        durations = [*CRITICAL_WITHIN_TARGET, *CRITICAL_WITHIN_LIMIT, CRITICAL_LATE]
        for i, minutes in enumerate(durations):
            # A few recent ones, so that some returned parts are still on their way back to the vendor.
            lo, hi = RECENT.get(i, (HISTORY_START, ANCHOR - timedelta(days=3)))
            t0 = self.at(lo, hi)
            variant = i % 3
            if minutes == 95:
                self.escalated_ecc(t0, minutes)
                continue
            if variant == 0:
                server, slot = self.pick(lambda s: s.model.psu_count == 1, lambda s: "PSU1")
                kind, problem = "psu", "failed"
                evidence = "PSU1 Status: AC lost; the only power supply, host powered off"
            elif variant == 1:
                server, slot = self.pick(
                    lambda s: s.model.raid_level in ("none", "RAID0"),
                    lambda s: f"Disk {self.rng.randrange(s.model.disks)}",
                )
                kind, problem = "disk", "failed"
                evidence = f"{slot}: drive failed; not in a redundant array, file systems offline"
            else:
                server, slot = self.pick(lambda s: s.model.dimms >= 8, lambda s: f"DIMM_B{self.rng.randint(1, 4)}")
                kind, problem = "dimm", "uncorrectable"
                evidence = f"{slot}: uncorrectable ECC error, host halted (machine check)"
            ticket_first = i == 4
            notified = t0 - timedelta(minutes=6) if ticket_first else t0
            fault = self.fault(
                server,
                slot,
                kind,
                problem,
                "critical",
                evidence,
                t0,
                notified,
                source="ticket" if ticket_first else "monitoring",
            )
            if ticket_first:
                self.rows.add(
                    "ticket",
                    server_id=server.id,
                    fault_id=fault["id"],
                    slot=slot,
                    critical=True,
                    text="Server does not answer ping nor SSH since a few minutes, please check",
                    opened_at=notified,
                    opened_by="customer",
                )
            done = notified + timedelta(minutes=minutes)
            work = SWAP_MINUTES[kind] + self.rng.randint(-3, 5)
            started = done - timedelta(minutes=work)
            late_ack = minutes == 130
            ack = notified + timedelta(minutes=ACK_LATE_CRITICAL if late_ack else self.rng.randint(2, 8))
            self.acknowledge(fault, server, ack)
            note = None
            if minutes == CRITICAL_LATE:
                note = "the only night technician was on another critical swap; the spare was found in the wrong bin"
            self.swap(
                fault,
                server,
                critical=True,
                started=max(started, ack + timedelta(minutes=2)),
                done=done,
                planned=ack + timedelta(minutes=1),
                reserved_at=ack + timedelta(minutes=1),
                note=note,
            )
            self.outage(server, notified, done + timedelta(minutes=4), "hardware")

    def escalated_ecc(self, t0: datetime, minutes: int) -> None:
        server, slot = self.pick(
            lambda s: s.model.dimms >= 8 and s.customer_id is not None, lambda s: f"DIMM_A{self.rng.randint(1, 4)}"
        )
        fault = self.fault(
            server, slot, "dimm", "ecc", "non-critical", f"{slot}: 3 correctable ECC errors in 24 h", t0, t0
        )
        self.acknowledge(fault, server, t0 + timedelta(minutes=self.rng.randint(5, 25)))
        became = t0 + timedelta(hours=5, minutes=self.rng.randint(0, 50))
        fault.update(
            severity="critical",
            critical_since=became,
            evidence=f"{slot}: uncorrectable ECC error, host halted (after correctable errors)",
        )
        self.log(
            became,
            "sweep",
            "fault.escalate",
            "fault",
            fault["id"],
            {"severity": "non-critical"},
            {"severity": "critical", "critical_since": _iso(became)},
        )
        done = became + timedelta(minutes=minutes)
        self.swap(
            fault,
            server,
            critical=True,
            started=done - timedelta(minutes=SWAP_MINUTES["dimm"]),
            done=done,
            planned=became + timedelta(minutes=5),
            reserved_at=became + timedelta(minutes=3),
        )
        self.outage(server, became, done + timedelta(minutes=4), "hardware")

    def windows(self, server: _Server, after: datetime) -> list[tuple[datetime, datetime]]:
        """The customer's next three preferred windows starting a day or more after `after` (customer's tz)."""
        customer = self.customers[server.customer_id] if server.customer_id else None
        tz = ZoneInfo(customer["timezone"]) if customer else server.tz
        prefs = customer["preferred_windows"] if customer else [{"weekday": 6, "start": "02:00", "end": "05:00"}]
        earliest = after + timedelta(days=1)
        out: list[tuple[datetime, datetime]] = []
        day: date = earliest.astimezone(tz).date()
        while len(out) < 3:
            for p in sorted(prefs, key=lambda p: p["start"]):
                if p["weekday"] != day.weekday():
                    continue
                start = datetime.combine(day, time.fromisoformat(p["start"]), tz).astimezone(UTC)
                end = datetime.combine(day, time.fromisoformat(p["end"]), tz).astimezone(UTC)
                if start >= earliest and len(out) < 3:
                    out.append((start, end))
            day += timedelta(days=1)
        return out

    def non_critical_swaps(self) -> None:
        """A lost redundant PSU, one fan of many, a disk in a degraded array, a predictive failure, a RAID battery,
        correctable ECC: the customer is asked first and the swap happens at the window they agreed."""
        kinds = ("psu", "fan", "disk", "disk", "battery", "dimm")
        late_acks = {3: 95, 8: 70, 12: 180, 16: 64}
        for i in range(18):
            kind = kinds[i % len(kinds)]
            if kind == "psu":
                server, slot = self.pick(
                    lambda s: _in_sla(s) and s.model.psu_count == 2, lambda s: f"PSU{self.rng.randint(1, 2)}"
                )
                problem, evidence = (
                    "failed",
                    (f"{slot}: failure detected; the other PSU carries the load (redundancy lost)"),
                )
            elif kind == "fan":
                server, slot = self.pick(lambda s: _in_sla(s), lambda s: f"FAN{self.rng.randint(1, s.model.fan_count)}")
                problem, evidence = "failed", f"{slot}: 0 RPM, below lower critical (600 RPM); other fans compensating"
            elif kind == "disk":
                server, slot = self.pick(
                    lambda s: _in_sla(s) and s.model.raid_level not in ("none", "RAID0"),
                    lambda s: f"Disk {self.rng.randrange(s.model.disks)}",
                )
                if i % 4 == 2:
                    problem, evidence = "failed", f"{slot}: drive failed; array {server.model.raid_level} degraded"
                else:
                    problem, evidence = "predictive", f"{slot}: predictive failure (SMART threshold exceeded)"
            elif kind == "battery":
                server, slot = self.pick(lambda s: _in_sla(s) and s.model.raid_battery, lambda s: "BAT")
                problem, evidence = "failed", "BAT: cache battery failed; controller cache in write-through"
            else:
                server, slot = self.pick(lambda s: _in_sla(s), lambda s: f"DIMM_A{self.rng.randint(1, 2)}")
                problem, evidence = "ecc", f"{slot}: 4 correctable ECC errors in 24 h"
            t0 = self.at(HISTORY_START, ANCHOR - timedelta(days=24))
            ticket_first = i == 7 and kind != "disk"
            notified = t0
            if ticket_first:
                notified = t0 - timedelta(minutes=20)
                self.rows.add(
                    "ticket",
                    server_id=server.id,
                    slot=slot,
                    critical=False,
                    opened_at=notified,
                    text="Loud noise from our server since this morning, one fan seems to be stuck",
                    opened_by="customer",
                )
            fault = self.fault(
                server,
                slot,
                kind,
                problem,
                "non-critical",
                evidence,
                t0,
                notified,
                source="ticket" if ticket_first else "monitoring",
            )
            if ticket_first:
                self.rows["ticket"][-1]["fault_id"] = fault["id"]
            ack = notified + timedelta(minutes=late_acks.get(i, self.rng.randint(3, 45)))
            self.acknowledge(fault, server, ack)
            proposed = ack + timedelta(minutes=self.rng.randint(5, 30))
            options = self.windows(server, proposed)
            chosen = 1 if i % 5 == 4 else 0  # some customers decline the first proposal
            window_id, win_start = 0, options[chosen][0]
            for k, (start, end) in enumerate(options):
                answered = proposed + timedelta(hours=self.rng.randint(1, 20))
                state = "agreed" if k == chosen else "declined"
                wid = self.rows.add(
                    "maintenance_window",
                    server_id=server.id,
                    customer_id=server.customer_id,
                    start_at=start,
                    end_at=end,
                    state=state,
                    proposed_at=proposed,
                    answered_at=answered,
                )
                self.log(
                    proposed,
                    "scheduler",
                    "window.propose",
                    "maintenance_window",
                    wid,
                    None,
                    {"start_at": _iso(start), "end_at": _iso(end)},
                )
                self.log(
                    answered,
                    "customer",
                    f"window.{'agree' if state == 'agreed' else 'decline'}",
                    "maintenance_window",
                    wid,
                    {"state": "proposed"},
                    {"state": state},
                )
                if k == chosen:
                    window_id = wid
            started = win_start + timedelta(minutes=self.rng.randint(5, 25))
            done = started + timedelta(minutes=SWAP_MINUTES[kind] + self.rng.randint(-3, 8))
            self.swap(
                fault,
                server,
                critical=False,
                started=started,
                done=done,
                planned=win_start,
                reserved_at=ack + timedelta(minutes=2),
                window_id=window_id,
                use_substitute=kind in ("disk", "dimm") and i % 2 == 0,
            )

    def recovered_and_cancelled(self) -> None:
        """Faults that went away by themselves (a PDU feed back, a fan that spun up again) and false alarms from
        tickets that the controller contradicted."""
        for i in range(6):
            server, slot = self.pick(
                lambda s: s.model.fan_count >= 6, lambda s: f"FAN{self.rng.randint(1, s.model.fan_count)}"
            )
            t0 = self.at(HISTORY_START, ANCHOR - timedelta(days=2))
            flapping = i < 2
            fault = self.fault(
                server, slot, "fan", "failed", "non-critical", f"{slot}: below lower critical (420 RPM)", t0, t0
            )
            if i != 5:  # one recovered before anyone looked at it
                self.acknowledge(fault, server, t0 + timedelta(minutes=self.rng.randint(4, 50)))
            fault.update(flaps=4 if flapping else 0, flapping=flapping)
            self.resolve(fault, t0 + timedelta(minutes=self.rng.randint(90, 600)), "recovered", "sweep")
        for text in (
            "Customer sees I/O errors in dmesg on sdb, please check the disk",
            "Customer reports the server rebooted, suspects the power supply",
        ):
            disk = text.startswith("Customer sees")
            server, slot = self.pick(
                lambda s: s.customer_id is not None, (lambda s: "Disk 1") if disk else (lambda s: "PSU1")
            )
            opened = self.at(HISTORY_START, ANCHOR - timedelta(days=2))
            tid = self.rows.add(
                "ticket",
                server_id=server.id,
                slot=slot,
                critical=False,
                text=text,
                opened_at=opened,
                opened_by="customer",
            )
            fault = self.fault(
                server,
                slot,
                "disk" if disk else "psu",
                "reported",
                "non-critical",
                f"ticket #{tid}: {text}",
                opened,
                opened,
                source="ticket",
            )
            self.rows["ticket"][tid - 1]["fault_id"] = fault["id"]
            tech = self.acknowledge(fault, server, opened + timedelta(minutes=self.rng.randint(10, 40)))
            self.resolve(fault, opened + timedelta(minutes=self.rng.randint(60, 180)), "cancelled", tech)
        server = self.servers[self.rng.randrange(len(self.servers))]
        self.rows.add(
            "ticket",
            server_id=server.id,
            slot="",
            critical=False,
            opened_by="customer",
            opened_at=self.at(HISTORY_START, ANCHOR - timedelta(days=2)),
            text="Can you tell us which power feeds our server is connected to?",
        )

    def network_outages(self) -> None:
        """Network outages: some under the hour (no credit), some over, one across the September/October boundary,
        one rack switch taking five servers down together, one on a VPS (outside the SLA)."""
        for minutes in (12, 25, 48, 55, 61, 75, 130, 190, 262):
            server = self.servers[self.rng.randrange(len(self.servers))]
            start = self.at(HISTORY_START, ANCHOR - timedelta(days=2))
            self.outage(server, start, start + timedelta(minutes=minutes), "network")
        annual = [s for s in self.servers if s.billing == "annual" and s.customer_id is not None]
        start = self.at(HISTORY_START, ANCHOR - timedelta(days=2))
        self.outage(annual[self.rng.randrange(len(annual))], start, start + timedelta(minutes=145), "network")
        crossing = datetime(2026, 9, 30, 23, 10, tzinfo=UTC)
        server = self.servers[self.rng.randrange(len(self.servers))]
        self.outage(server, crossing, crossing + timedelta(minutes=150), "network")
        vps = [s for s in self.servers if s.plan == "vps"]
        start = self.at(HISTORY_START, ANCHOR - timedelta(days=2))
        self.outage(vps[self.rng.randrange(len(vps))], start, start + timedelta(minutes=180), "network")
        rack_of = {r["id"]: (r["site_id"], r["rack"]) for r in self.rows["server"]}
        first = self.servers[self.rng.randrange(len(self.servers))]
        same_rack = [s for s in self.servers if rack_of[s.id] == rack_of[first.id]][:5]
        start = self.at(HISTORY_START, ANCHOR - timedelta(days=2))
        for server in same_rack:
            self.outage(server, start, start + timedelta(minutes=95), "network")

    def transfers(self) -> None:
        """Spares moved between sites to refill a store room."""
        for pn, src, dst in (("872479-B21", "NYC1", "PAR1"), ("UCSC-PSU1-770W", "SIN1", "NYC1")):
            created = self.at(HISTORY_START, ANCHOR - timedelta(days=10))
            received = created + timedelta(days=self.rng.randint(2, 5))
            tid = self.rows.add(
                "transfer",
                part_model_id=self.cat.part_ids[pn],
                from_site_id=self.cat.site_ids[src],
                to_site_id=self.cat.site_ids[dst],
                quantity=2,
                state="received",
                created_at=created,
                eta=created + timedelta(days=4),
                received_at=received,
            )
            self.log(created, "stores", "transfer.create", "transfer", tid, None, {"part": pn, "from": src, "to": dst})
            self.log(
                received, "stores", "transfer.receive", "transfer", tid, {"state": "in_transit"}, {"state": "received"}
            )

    def finish(self) -> None:
        """Audit entries go in time order, so ids and times agree."""
        for t in self.rows["ticket"]:
            self.log(t["opened_at"], t["opened_by"], "ticket.open", "ticket", t["id"], None,
                     {"server_id": t["server_id"], "slot": t["slot"], "fault_id": t["fault_id"]})  # fmt: skip
        for o in self.rows["outage"]:
            self.log(o["end_at"], o["detected_by"], "outage.close", "outage", o["id"], None,
                     {"server_id": o["server_id"], "start_at": _iso(o["start_at"]), "end_at": _iso(o["end_at"]),
                      "cause": o["cause"]})  # fmt: skip
        for _, _, entry in sorted(self.audit, key=lambda a: (a[0], a[1])):
            self.rows.add("audit", **entry)


def add_history(rows: Rows, rng: random.Random, cat: Catalogue, serials: Serials) -> None:
    history = History(rows, rng, cat, serials)
    history.critical_swaps()
    history.non_critical_swaps()
    history.recovered_and_cancelled()
    history.network_outages()
    history.transfers()
    history.finish()
