"""A Dell controller names a drive by its path ("Physical Disk 0:1:3": connector 0, enclosure 1, bay 3); the
inventory, like the caddy, by its bay ("Disk 3"). The fault must be on the inventory's part: its part number for the
spare, its name for the technician, and it must resolve when the drive reads ok again."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from fleet.config import Settings
from fleet.faults import apply_poll
from fleet.health.slots import inventory_aliases
from fleet.stock.reserve import matching_parts
from fleet.store.db import write_session
from fleet.store.models import Fault
from tests.faults.helpers import T0, make_server, poll, rd

S = Settings()
DISKS = [
    ("Disk 0", "disk", "SER-0"),
    ("Disk 1", "disk", "SER-1"),
    ("Disk 2", "disk", "SER-2"),
    ("Disk 3", "disk", "SER-3"),
]


def test_a_drive_path_names_the_inventory_bay_only_when_unambiguous() -> None:
    bays = ["Disk 0", "Disk 1", "Disk 3"]
    assert inventory_aliases(["Disk 0:1:3", "Disk 0:1:1", "PSU1"], bays) == {
        "Disk 0:1:3": "Disk 3",
        "Disk 0:1:1": "Disk 1",
    }
    assert inventory_aliases(["Disk 0:1:2"], bays) == {}  # no such bay in the inventory
    assert inventory_aliases(["Disk 0:1:3", "Disk 0:2:3"], bays) == {}  # two enclosures: which bay 3?
    assert inventory_aliases(["Disk 0:1:3"], ["Disk 0:1:3", "Disk 3"]) == {}  # the inventory names paths itself
    assert inventory_aliases(["Disk 3"], bays) == {}  # the same names already


def _drive(state: str, detail: str | None = None):  # type: ignore[no-untyped-def]
    readings = [rd(f"Disk 0:1:{n}", "disk", name=f"Physical Disk 0:1:{n}") for n in range(4)]
    readings[3] = rd("Disk 0:1:3", "disk", state, name="Physical Disk 0:1:3", detail=detail)
    return poll(*readings, rd("VD0", "raid", "warning" if state != "ok" else "ok"), host="dell1", protocol="snmp")


def _same_fault_then_resolved(s, server, fault_id: int) -> None:  # type: ignore[no-untyped-def]
    """The next polls: the same failure is the same fault; then the drive reads ok and the fault resolves."""
    again = apply_poll(s, server, _drive("critical", "failed"), now=T0 + timedelta(minutes=5), settings=S)
    assert again.opened == []
    for i in range(S.healthy_polls_to_resolve):
        apply_poll(s, server, _drive("ok"), now=T0 + timedelta(minutes=10 + 5 * i), settings=S)
    s.flush()
    assert s.get(Fault, fault_id).resolved_at is not None
    assert s.exec(select(Fault).where(Fault.resolved_at.is_(None))).all() == []  # type: ignore[union-attr]


def _failed_drive(s):  # type: ignore[no-untyped-def]
    """A Dell server with four drives in the inventory, whose controller reports the one in bay 3 failed."""
    server = make_server(s, "dell1", raid_level="RAID5", disk_slots=4, components=DISKS)
    (fault_id,) = apply_poll(s, server, _drive("critical", "failed"), now=T0, settings=S).opened
    return server, s.get(Fault, fault_id)


def test_a_failed_drive_named_by_its_path_is_the_inventory_bay_with_its_part_and_it_resolves(engine) -> None:  # type: ignore[no-untyped-def]
    with write_session(engine) as s:
        server, fault = _failed_drive(s)
        assert (fault.slot, fault.kind) == ("Disk 3", "disk")  # the caddy's name, not the controller's path
        assert "Physical Disk 0:1:3" in fault.evidence  # what the controller said stays in the evidence
        # Its part is the installed one (without the match: "any compatible disk", and this model lists none).
        assert [p.part_number for p in matching_parts(s, fault)] == ["PN-disk"]
        _same_fault_then_resolved(s, server, fault.id)


def test_a_fault_opened_under_the_path_name_before_is_followed_not_doubled(engine) -> None:  # type: ignore[no-untyped-def]
    # Faults opened before the inventory's name was used carry the path: the same drive is the same fault.
    with write_session(engine) as s:
        server, old = _failed_drive(s)
        old.slot = "Disk 0:1:3"
        s.add(old)
        s.flush()
        _same_fault_then_resolved(s, server, old.id)
