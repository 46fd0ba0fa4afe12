"""A small, fixed fleet in the middle of a bad night, for the console's pilot and snapshot tests.

Two sites, a critical PSU fault with a swap due (target and hard limit running), a non-critical disk fault waiting
for the customer's window, stock (one line low), a transfer, an RMA, sensors, a sweep. Times are fixed relative to
NOW, which the tests freeze the clock at, so every screen is the same on every run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine

from fleet.store.db import write_session
from fleet.store.models import (
    Component,
    Customer,
    Fault,
    MaintenanceWindow,
    PartCompat,
    PartModel,
    Reservation,
    Rma,
    SensorChange,
    SensorState,
    Server,
    ServerModel,
    Site,
    Stock,
    Swap,
    SweepRun,
    Technician,
    Transfer,
)

NOW = datetime(2026, 11, 27, 2, 35, tzinfo=UTC)
DETECTED = NOW - timedelta(minutes=25)  # the PSU fault: 35 min to target, 3 h 35 min to the hard limit
ALL_WEEK = [{"weekday": d, "start": "00:00", "end": "23:59"} for d in range(7)]


@dataclass(frozen=True)
class Scene:
    psu_fault: int
    disk_fault: int
    psu_swap: int
    disk_swap: int
    psu_server: int
    psu_server_host: str
    old_psu_serial: str
    new_psu_serial: str  # free: no component has it
    spare_stock: int
    servers: int


def build_scene(engine: Engine) -> Scene:
    with write_session(engine) as s:
        par = Site(code="PAR1", name="Paris 1", timezone="Europe/Paris")
        nyc = Site(code="NYC1", name="New York 1", timezone="America/New_York")
        s.add_all([par, nyc])
        acme = Customer(
            name="Acme Hosting",
            contact_name="Ada",
            email="ada@example.com",
            timezone="Europe/Paris",
            preferred_windows=[{"weekday": 5, "start": "22:00", "end": "23:59"}],
        )
        bolt = Customer(name="Bolt Games", contact_name="Bo", email="bo@example.com", timezone="America/New_York")
        s.add_all([acme, bolt])
        r640 = ServerModel(vendor="Dell", name="PowerEdge R640", psu_count=2, disk_slots=8, raid_level="RAID1")
        dl360 = ServerModel(vendor="HPE", name="ProLiant DL360 Gen10", controller="ilo")
        s.add_all([r640, dl360])
        psu = PartModel(part_number="0PJMDN", kind="psu", vendor="Dell", description="750W PSU")
        disk = PartModel(part_number="0R95FV", kind="disk", vendor="Dell", description="1.2TB 10K SAS")
        fan = PartModel(part_number="865434-B21", kind="fan", vendor="HPE", description="DL360 fan")
        s.add_all([psu, disk, fan])
        s.flush()
        s.add_all(
            [
                PartCompat(part_model_id=psu.id, server_model_id=r640.id),
                PartCompat(part_model_id=disk.id, server_model_id=r640.id),
                PartCompat(part_model_id=fan.id, server_model_id=dl360.id),
            ]
        )
        marie = Technician(name="Marie", site_id=par.id, shifts=ALL_WEEK)
        tom = Technician(name="Tom", site_id=nyc.id, shifts=ALL_WEEK)
        s.add_all([marie, tom])
        s.flush()

        servers = []
        for i in range(12):
            site = par if i % 3 else nyc
            model = r640 if i % 2 == 0 else dl360
            servers.append(
                Server(
                    hostname=f"web{i:02d}.{site.code.lower()}",
                    asset_tag=f"AT{i:04d}",
                    serial=f"SRV{i:05d}",
                    model_id=model.id,
                    site_id=site.id,
                    rack=f"R{i % 4 + 1:02d}",
                    unit=2 * i + 1,
                    customer_id=(acme if i % 2 else bolt).id,
                    plan=("dedicated", "vm", "vps")[i % 3],
                    backup_option=i % 4 == 0,
                    monthly_fee_cents=12_000,
                    controller_host="127.0.0.1",
                    health="ok",
                    last_polled_at=NOW - timedelta(minutes=3),
                )
            )
        s.add_all(servers)
        s.flush()
        down, degraded = servers[1], servers[2]  # web01.par1 (PSUs gone), web02.par1 (a disk failing)
        down.health, down.status, degraded.health = "critical", "down", "warning"
        servers[3].health, servers[3].last_poll_error = "unknown", "timeout"

        for srv in (down, degraded):
            for slot in ("PSU1", "PSU2"):
                s.add(
                    Component(
                        server_id=srv.id,
                        slot=slot,
                        part_model_id=psu.id,
                        serial=f"PSU-{srv.id}-{slot}",
                        installed_at=NOW - timedelta(days=400),
                    )
                )
            s.add(
                Component(
                    server_id=srv.id,
                    slot="Disk 0:1:4",
                    part_model_id=disk.id,
                    serial=f"DSK-{srv.id}-4",
                    installed_at=NOW - timedelta(days=400),
                )
            )
        sensors = [
            (down, "PS1 Status", "psu", "PSU1", "critical", None, None),
            (down, "PS2 Status", "psu", "PSU2", "ok", None, None),
            (down, "Inlet Temp", "temperature", "", "ok", 23.0, "C"),
            (degraded, "Drive 4", "disk", "Disk 0:1:4", "warning", None, None),
            (degraded, "Fan1 RPM", "fan", "FAN1", "ok", 5400.0, "RPM"),
        ]
        for srv, name, kind, slot, state, value, unit in sensors:
            s.add(
                SensorState(
                    server_id=srv.id,
                    name=name,
                    kind=kind,
                    slot=slot,
                    state=state,
                    value=value,
                    unit=unit,
                    changed_at=DETECTED,
                    seen_at=NOW - timedelta(minutes=3),
                )
            )
            if state != "ok":
                s.add(SensorChange(server_id=srv.id, name=name, old_state="ok", new_state=state, at=DETECTED))

        psu_fault = Fault(
            server_id=down.id,
            slot="PSU1",
            kind="psu",
            problem="failed",
            severity="critical",
            evidence="PS1 Status: Failure detected; PS2 lost input earlier",
            detected_at=DETECTED,
            notified_at=DETECTED,
            critical_since=DETECTED,
            last_seen_at=NOW,
        )
        disk_fault = Fault(
            server_id=degraded.id,
            slot="Disk 0:1:4",
            kind="disk",
            problem="predictive",
            severity="non-critical",
            evidence="Drive 4: predictive failure (SMART)",
            detected_at=NOW - timedelta(hours=20),
            notified_at=NOW - timedelta(hours=20),
            acknowledged_at=NOW - timedelta(hours=19, minutes=30),
            acknowledged_by="Marie",
            state="acknowledged",
        )
        fan_fault = Fault(
            server_id=servers[5].id,
            slot="FAN3",
            kind="fan",
            problem="failed",
            severity="non-critical",
            evidence="Fan3: 0 RPM",
            detected_at=NOW - timedelta(hours=2),
            notified_at=NOW - timedelta(hours=2),
        )
        s.add_all([psu_fault, disk_fault, fan_fault])
        s.flush()

        psu_par = Stock(site_id=par.id, part_model_id=psu.id, bin="A-01-3", on_hand=2, reserved=1, reorder_level=1)
        disk_par = Stock(site_id=par.id, part_model_id=disk.id, bin="B-04-1", on_hand=4, reserved=0, reorder_level=2)
        psu_nyc = Stock(site_id=nyc.id, part_model_id=psu.id, bin="C-02-2", on_hand=3, reserved=0, reorder_level=1)
        fan_par = Stock(site_id=par.id, part_model_id=fan.id, bin="A-07-1", on_hand=0, reserved=0, reorder_level=1)
        s.add_all([psu_par, disk_par, psu_nyc, fan_par])
        s.flush()
        res = Reservation(stock_id=psu_par.id, fault_id=psu_fault.id, created_at=DETECTED + timedelta(minutes=1))
        s.add(res)
        s.flush()
        psu_swap = Swap(
            fault_id=psu_fault.id,
            server_id=down.id,
            technician_id=marie.id,
            reservation_id=res.id,
            critical=True,
            state="planned",
            planned_start=NOW + timedelta(minutes=5),
            target_at=DETECTED + timedelta(hours=1),
            hard_limit_at=DETECTED + timedelta(hours=4),
        )
        window = MaintenanceWindow(
            server_id=degraded.id,
            customer_id=bolt.id,
            start_at=NOW + timedelta(days=1, hours=20),
            end_at=NOW + timedelta(days=1, hours=22),
            state="proposed",
            proposed_at=NOW - timedelta(hours=18),
        )
        window2 = MaintenanceWindow(
            server_id=degraded.id,
            customer_id=bolt.id,
            start_at=NOW + timedelta(days=2, hours=20),
            end_at=NOW + timedelta(days=2, hours=22),
            state="proposed",
            proposed_at=NOW - timedelta(hours=18),
        )
        s.add_all([psu_swap, window, window2])
        s.flush()
        disk_swap = Swap(
            fault_id=disk_fault.id,
            server_id=degraded.id,
            critical=False,
            state="awaiting_customer",
            warning="no backup option: data on this disk is not backed up",
        )
        s.add(disk_swap)
        s.add(
            Transfer(
                part_model_id=fan.id,
                from_site_id=nyc.id,
                to_site_id=par.id,
                quantity=1,
                fault_id=fan_fault.id,
                state="in_transit",
                created_at=NOW - timedelta(hours=1),
                eta=NOW + timedelta(hours=23),
            )
        )
        s.add(
            Rma(
                part_model_id=psu.id,
                serial="PSU-OLD-7",
                server_id=servers[7].id,
                state="open",
                opened_at=NOW - timedelta(days=3),
            )
        )
        s.add(
            SweepRun(
                started_at=NOW - timedelta(minutes=4),
                finished_at=NOW - timedelta(minutes=3),
                servers=12,
                polled=11,
                unreachable=1,
                faults_opened=1,
                status=2,
            )
        )
        s.flush()
        assert psu_fault.id and disk_fault.id and psu_swap.id and disk_swap.id and down.id and psu_par.id
        return Scene(
            psu_fault=psu_fault.id,
            disk_fault=disk_fault.id,
            psu_swap=psu_swap.id,
            disk_swap=disk_swap.id,
            psu_server=down.id,
            psu_server_host=down.hostname,
            old_psu_serial=f"PSU-{down.id}-PSU1",
            new_psu_serial="PSU-NEW-0001",
            spare_stock=psu_par.id,
            servers=len(servers),
        )
