"""`fleet audit bmc` against the shared lab's ipmi_sim configurations, one weakness each, and the negative control.

ipmi_sim cannot switch cipher suite 0 off, so every simulator, the hardened one included, accepts it for a valid
user name: cipher 0 is asserted on the weak ones and left aside on the control (as the lab's README says).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from fleet.store.db import make_engine, write_session
from fleet.store.models import Server, Site
from tests.audit.conftest import lab_sims
from tests.conftest import REPO, free_port
from tests.factories import make_fleet
from tests.snmp.conftest import Sim

pytestmark = pytest.mark.ipmi
# lab template -> the account fleet polls with there (a valid user name; the audit never sends its password)
BENCH = {
    "0_negative_control": "opsbot",
    "1_cipher_zero": "admin",
    "2_anonymous_null_user": "admin",
    "3_ipmi15_weak_auth": "admin",
    "3b_ipmi15_only": "admin",
    "4_default_credentials": "ADMIN",
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, int]]:
    with lab_sims(list(BENCH), tmp_path_factory) as ports:
        yield ports


@pytest.fixture(scope="module")
def fleet_db(lab: dict[str, int], tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("audit") / "inv.db"
    init = subprocess.run([sys.executable, "-m", "fleet", "init", "--db", str(db)], cwd=REPO, capture_output=True)
    assert init.returncode == 0, init.stderr
    engine = make_engine(str(db))
    make_fleet(engine, servers=len(BENCH), sites=("PAR1", "NYC1"))
    with write_session(engine) as s:
        servers = s.exec(select(Server).order_by(Server.hostname)).all()
        for server, (template, user) in zip(servers, BENCH.items(), strict=True):
            server.hostname = f"{template}.example"
            server.controller_port, server.controller_user = lab[template], user
        s.add(Site(code="EMPTY", name="no servers", timezone="UTC"))
    return db


def audit(db: Path, *args: str) -> tuple[int, dict]:
    env = {**os.environ, "FLEET_IPMI_BIND": "127.0.0.1"}  # pyghmi's logins leave from loopback only
    out = subprocess.run([sys.executable, "-m", "fleet", "audit", "bmc", "--db", str(db), "--json", *args],
                         cwd=REPO, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert "Traceback" not in out.stderr, out.stderr
    return out.returncode, json.loads(out.stdout) if out.stdout.strip() else {}


def test_each_weakness_is_found_on_its_simulator_and_not_on_the_hardened_one(fleet_db: Path) -> None:
    code, report = audit(fleet_db)
    assert code == 2  # critical exposures found
    assert report["audited"] == len(BENCH) and report["errors"] == []
    found: dict[str, set[str]] = {t: set() for t in BENCH}
    for f in report["findings"]:
        found[f["server"].removesuffix(".example")].add(f["code"])
    assert found["0_negative_control"] - {"cipher-zero"} == set()
    assert "cipher-zero" in found["1_cipher_zero"]
    assert {"anonymous-login", "ipmi15-none"} <= found["2_anonymous_null_user"]
    assert {"ipmi15-none", "ipmi15-weak"} <= found["3_ipmi15_weak_auth"]
    assert "ipmi15-only" in found["3b_ipmi15_only"] and "cipher-zero" not in found["3b_ipmi15_only"]
    weak = next(
        f for f in report["findings"] if f["code"] == "ipmi15-weak" and f["server"].startswith("3_ipmi15_weak_auth")
    )
    assert "MD2" in weak["finding"] and "MD5" in weak["finding"] and "PASSWORD" in weak["finding"]
    severities = {f["code"]: f["severity"] for f in report["findings"]}
    assert severities["cipher-zero"] == severities["anonymous-login"] == "critical"
    assert severities["ipmi15-weak"] == severities["ipmi15-only"] == "warning"
    # RAKP disclosure is a fleet-wide fact, not a finding per server
    assert any("CVE-2013-4786" in n for n in report["notes"])
    assert not any("RAKP" in f["finding"] for f in report["findings"])


def test_default_credentials_only_when_the_lockout_risk_is_accepted(fleet_db: Path) -> None:
    _code, cautious = audit(fleet_db, "--default-credentials")
    assert not any(f["code"] == "default-credentials" for f in cautious["findings"])
    assert any("lockout policy is unknown" in n for n in cautious["notes"])
    code, report = audit(fleet_db, "--default-credentials", "--lockout-unknown-ok")
    assert code == 2
    found = {(f["server"].removesuffix(".example"), f["finding"]) for f in report["findings"]
             if f["code"] == "default-credentials"}  # fmt: skip
    accounts = {finding.split("'")[1] for server, finding in found if server == "4_default_credentials"}
    assert accounts == {"ADMIN", "root", "admin", "USERID"}
    assert {server for server, _ in found} == {"4_default_credentials"}
    assert "calvin" not in json.dumps(report) and "PASSW0RD" not in json.dumps(report)


def test_site_filter_and_unknown_site(fleet_db: Path) -> None:
    code, report = audit(fleet_db, "--site", "EMPTY")
    assert code == 0 and report["audited"] == 0 and report["findings"] == []
    out = subprocess.run([sys.executable, "-m", "fleet", "audit", "bmc", "--db", str(fleet_db), "--site", "NOPE"],
                         cwd=REPO, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert out.returncode == 2 and out.stderr.startswith("fleet: no site 'NOPE'") and "Traceback" not in out.stderr


def test_an_unreachable_controller_is_not_clean(tmp_path: Path) -> None:
    db = tmp_path / "inv.db"
    assert subprocess.run([sys.executable, "-m", "fleet", "init", "--db", str(db)], cwd=REPO).returncode == 0
    engine = make_engine(str(db))
    make_fleet(engine, servers=1, sites=("PAR1",))
    with write_session(engine) as s:
        server = s.exec(select(Server)).one()
        server.controller_port = free_port()
    code, report = audit(db, "--timeout", "0.5")
    assert code == 1 and report["findings"] == [] and report["errors"][0]["error"] == "timeout"


@pytest.mark.snmp
def test_snmp_agent_answering_public_is_found(snmpsim: Sim, tmp_path: Path) -> None:
    # snmpsim answers each community named after a recording: public.snmprec makes `public` answer, not `private`
    db = tmp_path / "inv.db"
    assert subprocess.run([sys.executable, "-m", "fleet", "init", "--db", str(db)], cwd=REPO).returncode == 0
    engine = make_engine(str(db))
    make_fleet(engine, servers=1, sites=("PAR1",))
    with write_session(engine) as s:
        server = s.exec(select(Server)).one()
        server.controller_protocol, server.controller_port = "snmp", snmpsim.port
    code, report = audit(db, "--timeout", "1")
    assert code == 1 and report["errors"] == []
    assert [(f["code"], f["severity"]) for f in report["findings"]] == [("snmp-default-community", "warning")]
    assert "'public'" in report["findings"][0]["finding"]
