"""The simulated Redfish BMC of `fleet demo` read by the collector: sessions reused and closed, basic auth, wrong
password, injected failures and SEL entries, a swap's new serial, TLS with a pinned certificate."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleet.collectors.redfish import poll_redfish
from fleet.collectors.redfish.client import close_sessions
from fleet.collectors.targets import RedfishTarget
from fleet.health.model import Kind, State
from fleet.sim.layout import Layout, SimServer
from fleet.sim.run import SimFleet, start_simulators
from fleet.sweep.secrets import Secret
from tests.conftest import free_port
from tests.redfish.conftest import self_signed
from tests.redfish.helpers import by_slot

PASSWORD = "sim-password"


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[tuple[SimFleet, SimServer, SimServer, str]]:
    cert, key, pin = self_signed(tmp_path)
    layout = Layout(psu_count=2, fan_count=4, disks=2, dimms=4, cpus=2, raid_battery=True)
    plain = SimServer("127.0.0.1", free_port(socket.SOCK_STREAM), "redfish", layout, vendor="hpe", model="DL380")
    tls_fleet = SimServer("127.0.0.1", free_port(socket.SOCK_STREAM), "redfish", layout, vendor="dell")
    # One fleet serves plain HTTP, another TLS: the demo uses TLS with a pinned certificate.
    fleet = start_simulators([plain], users={"admin": PASSWORD})
    tls = start_simulators([tls_fleet], users={"admin": PASSWORD}, tls=(str(cert), str(key)))
    try:
        yield fleet, plain, tls_fleet, pin
    finally:
        fleet.stop()
        tls.stop()


def _poll(server: SimServer, password: str = PASSWORD, cursor=None, keep: bool = True, **kw):
    scheme = kw.pop("scheme", "http")
    target = RedfishTarget(server.host, server.port, "admin", Secret(password), scheme=scheme, **kw)
    return asyncio.run(poll_redfish(target, timeout=20, cursor=cursor, keep_session=keep))


def test_readings_follow_the_layout_and_a_session_is_reused_then_closed(sim) -> None:
    fleet, plain, _tls, _pin = sim
    bmc = fleet.redfish[plain.key]
    asyncio.run(close_sessions())  # sessions other tests of this process kept open are not this test's to count
    first = _poll(plain)
    assert first.error is None and first.power == "on"
    assert {k: len(by_slot(first, k)) for k in ("psu", "fan", "disk", "dimm", "cpu", "battery")} == {
        "psu": 2, "fan": 4, "disk": 2, "dimm": 4, "cpu": 2, "battery": 1,
    }  # fmt: skip
    assert set(by_slot(first, "dimm")) == {"DIMM_A1", "DIMM_A2", "DIMM_B1", "DIMM_B2"}
    assert set(by_slot(first, "disk")) == {"Disk 0", "Disk 1"}
    assert {r.state for r in first.readings} == {State.OK}
    second = _poll(plain, cursor=first.cursor)
    assert second.error is None and bmc.logins == 1 and len(bmc.sessions) == 1  # the token was reused
    assert asyncio.run(close_sessions()) == 1
    assert bmc.sessions == {}


def test_wrong_password_is_auth_not_a_failing_part(sim) -> None:
    _fleet, plain, _tls, _pin = sim
    result = _poll(plain, password="wrong")
    assert (result.reachable, result.error, result.readings) == (True, "auth", [])


def test_injected_failures_show_as_readings_events_and_a_new_serial(sim) -> None:
    fleet, plain, _tls, _pin = sim
    base = _poll(plain, keep=False)
    fleet.inject(plain.host, "PSU2", "failed", port=plain.port)
    fleet.inject(plain.host, "Disk 1", "predictive", port=plain.port)
    fleet.inject(plain.host, "DIMM_B1", "uncorrectable-ecc", port=plain.port)
    fleet.inject(plain.host, "FAN3", "failed", port=plain.port)
    fleet.inject(plain.host, "BAT", "failed", port=plain.port)
    broken = _poll(plain, cursor=base.cursor, keep=False)
    states = {(r.kind, r.slot): r.state for r in broken.readings if r.state is not State.OK}
    assert states == {
        (Kind.PSU, "PSU2"): State.CRITICAL,
        (Kind.DISK, "Disk 1"): State.WARNING,
        (Kind.DIMM, "DIMM_B1"): State.CRITICAL,
        (Kind.FAN, "FAN3"): State.CRITICAL,
        (Kind.BATTERY, "BAT"): State.CRITICAL,
    }
    assert [(e.slot, e.severity) for e in broken.events][:1] == [("PSU2", State.CRITICAL)]
    assert len(broken.events) == 5
    fleet.repair(plain.host, "PSU2", serial="NEWPSU0001", port=plain.port)
    fixed = _poll(plain, cursor=broken.cursor, keep=False)
    assert by_slot(fixed, "psu")["PSU2"].state is State.OK
    assert {i.slot: i.serial for i in fixed.inventory}["PSU2"] == "NEWPSU0001"
    assert [e.text for e in fixed.events] == ["PSU2: failure detected deasserted"]


def test_tls_with_the_pinned_certificate(sim) -> None:
    _fleet, _plain, tls, pin = sim
    ok = _poll(tls, scheme="https", cert_sha256=pin, keep=False)
    assert ok.error is None and ok.vendor == "Dell Inc."
    wrong = _poll(tls, scheme="https", cert_sha256="ab" * 32, keep=False)
    assert wrong.error == "protocol: TLS certificate does not match the pinned fingerprint"
