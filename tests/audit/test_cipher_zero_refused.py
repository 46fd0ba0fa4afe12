"""Cipher suite 0 refused: ipmi_sim cannot switch it off, so a relay in front of it drops (or refuses with status
0x11) every Open Session Request proposing no authentication. Through the relay the audit must report no
cipher-zero finding and still audit the controller; the same simulators reached directly do accept cipher 0."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from fleet.store.db import make_engine, write_session
from fleet.store.models import Server
from tests.audit.ipmilab import running
from tests.audit.relay import CipherZeroFilter
from tests.audit.test_audit_bmc import audit
from tests.conftest import REPO
from tests.factories import make_fleet

pytestmark = pytest.mark.ipmi
USERS = {"0_negative_control": "opsbot", "1_cipher_zero": "admin"}  # the account fleet polls with: a valid name
MODES = ("direct", "drop", "refuse")


@pytest.fixture(scope="module")
def relays(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[tuple[str, str], CipherZeroFilter | int]]:
    """(template, mode) -> the relay in front of that simulator, or for "direct" the simulator's own port."""
    with running(USERS, tmp_path_factory) as ports:
        out: dict[tuple[str, str], CipherZeroFilter | int] = {}
        try:
            for template, port in ports.items():
                out[template, "direct"] = port
                for mode in ("drop", "refuse"):
                    out[template, mode] = CipherZeroFilter(port, mode)
            yield out
        finally:
            for r in out.values():
                if isinstance(r, CipherZeroFilter):
                    r.close()


def test_cipher_zero_refused_by_the_controller_is_no_finding(
    relays: dict[tuple[str, str], CipherZeroFilter | int], tmp_path: Path
) -> None:
    db = tmp_path / "inv.db"
    assert subprocess.run([sys.executable, "-m", "fleet", "init", "--db", str(db)], cwd=REPO).returncode == 0
    engine = make_engine(str(db))
    make_fleet(engine, servers=len(relays), sites=("PAR1",))
    with write_session(engine) as s:
        for server, ((template, mode), r) in zip(s.exec(select(Server).order_by(Server.hostname)), relays.items(),
                                                 strict=True):  # fmt: skip
            server.hostname = f"{template}.{mode}.example"
            server.controller_port = r.port if isinstance(r, CipherZeroFilter) else r
            server.controller_user = USERS[template]
    # a silent refusal costs one --timeout per relayed controller; 5 s leaves room for a loaded 2-core machine
    code, report = audit(db, "--timeout", "5")
    assert report["audited"] == len(relays)
    # a controller that refuses cipher 0 (even by silence) is audited, not lost
    assert report["errors"] == [], report["errors"]
    found: dict[tuple[str, str], set[str]] = {key: set() for key in relays}
    for f in report["findings"]:
        template, mode, _ = f["server"].split(".")
        found[template, mode].add(f["code"])
    for template in USERS:
        assert "cipher-zero" in found[template, "direct"]  # ipmi_sim accepts it: the relays are what refuses
        for mode in ("drop", "refuse"):
            assert "cipher-zero" not in found[template, mode]
            relay = relays[template, mode]
            assert isinstance(relay, CipherZeroFilter) and relay.dropped >= 1  # the probe was made, and refused
    # the hardened control behind the filter: nothing at all; the cipher-0 simulator keeps its IPMI 1.5 MD5
    assert found["0_negative_control", "drop"] == found["0_negative_control", "refuse"] == set()
    assert found["0_negative_control", "direct"] == {"cipher-zero"}
    assert found["1_cipher_zero", "drop"] == found["1_cipher_zero", "refuse"] == {"ipmi15-weak"}
    assert code == 2  # the direct simulators' cipher 0 is critical


def test_a_controller_that_goes_silent_is_not_audited_rather_than_clean(
    relays: dict[tuple[str, str], CipherZeroFilter | int],
) -> None:
    """Silence to the cipher 0 request is "refused" only if the controller still answers just after; here it does
    not (the relay drops everything from that request on), so the controller is reported as not audited."""
    from fleet.collectors.audit import audit_ipmi

    direct = relays["0_negative_control", "direct"]
    assert isinstance(direct, int)
    relay = CipherZeroFilter(direct, "vanish")
    try:
        a = audit_ipmi("127.0.0.1", relay.port, "opsbot", 3.0)
    finally:
        relay.close()
    assert relay.dropped == 1 and a.findings == []
    assert a.error is not None and a.error.startswith("cipher 0 probe: timeout")
