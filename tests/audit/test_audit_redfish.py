"""Redfish controllers in `fleet audit bmc`: sushy-static serving a corpus tree over plain HTTP, over HTTPS with an
expired certificate, one not valid yet, and a current one (self-signed, as BMCs ship them); a small HTTP server for
what a controller's port 80 may answer (a redirect to HTTPS, or a 401 asking for credentials in clear)."""

from __future__ import annotations

import datetime as dt
import http.server
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from fleet.collectors.audit.redfish import audit_redfish
from fleet.store.db import make_engine, write_session
from fleet.store.models import Server
from tests.audit.test_audit_bmc import audit
from tests.conftest import REPO, free_port
from tests.factories import make_fleet
from tests.redfish.conftest import CORPUS, Served, serve, stop, wait_ready

pytestmark = pytest.mark.redfish
TREE = CORPUS / "dmtf-public-rackmount1" / "redfish" / "v1"
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)  # certificates store whole seconds
EXPIRED = (NOW - dt.timedelta(days=400), NOW - dt.timedelta(days=35))
NOT_YET = (NOW + dt.timedelta(days=3), NOW + dt.timedelta(days=400))
CURRENT = (NOW - dt.timedelta(days=1), NOW + dt.timedelta(days=30))


@pytest.fixture(scope="module")
def bmcs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Served]]:
    """name -> a served tree: plain (no TLS), expired, not-yet, current."""
    from fleet.sim.tlscert import self_signed

    if not TREE.is_dir():
        pytest.skip(f"shared Redfish corpus not found at {CORPUS} (set FLEET_SHARED)")
    servers: dict[str, Served] = {}
    try:
        servers["plain"] = serve(TREE)
        for name, valid in (("expired", EXPIRED), ("not-yet", NOT_YET), ("current", CURRENT)):
            cert, key, _pin = self_signed(tmp_path_factory.mktemp(name), valid=valid)
            servers[name] = serve(TREE, cert=(cert, key))
        for s in servers.values():
            wait_ready(s)
        yield servers
    finally:
        for s in servers.values():
            stop(s)


class _Port80(http.server.BaseHTTPRequestHandler):
    """What a controller's plain HTTP port may answer: set `status` on the server (301 to HTTPS, or 401)."""

    def do_GET(self) -> None:
        status = self.server.status  # type: ignore[attr-defined]
        self.send_response(status)
        if status == 301:
            self.send_header("Location", f"https://127.0.0.1{self.path}")
        if status == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="Redfish"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def port80() -> Iterator[http.server.HTTPServer]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Port80)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _codes(port: int, http_port: int) -> list[str]:
    a = audit_redfish("127.0.0.1", port, 5.0, http_port=http_port)
    assert a.error is None, a.error
    return [f.code for f in a.findings]


def test_fleet_audit_bmc_reports_each_redfish_finding(bmcs: dict[str, Served], tmp_path: Path) -> None:
    db = tmp_path / "inv.db"
    assert subprocess.run([sys.executable, "-m", "fleet", "init", "--db", str(db)], cwd=REPO).returncode == 0
    engine = make_engine(str(db))
    make_fleet(engine, servers=len(bmcs), sites=("PAR1",))
    with write_session(engine) as s:
        for server, (name, served) in zip(s.exec(select(Server).order_by(Server.hostname)), bmcs.items(), strict=True):
            server.hostname = f"{name}.example"
            server.controller_protocol, server.controller_port = "redfish", served.port
    code, report = audit(db, "--timeout", "5")
    assert code == 1  # warnings: none of these gives anyone full control
    assert report["audited"] == len(bmcs) and report["errors"] == []
    found = {(f["server"].removesuffix(".example"), f["code"], f["severity"]) for f in report["findings"]}
    assert found == {
        ("plain", "redfish-plain-http", "warning"),
        ("expired", "redfish-cert-expired", "warning"),
        ("not-yet", "redfish-cert-not-yet-valid", "warning"),
    }
    by_server = {f["server"].removesuffix(".example"): f for f in report["findings"]}
    assert f"port {bmcs['plain'].port}" in by_server["plain"]["finding"]
    assert EXPIRED[1].strftime("%Y-%m-%dT%H:%M:%S") in by_server["expired"]["finding"]
    assert NOT_YET[0].strftime("%Y-%m-%dT%H:%M:%S") in by_server["not-yet"]["finding"]
    # the three TLS controllers present self-signed certificates: one fleet-wide note, no finding of their own
    assert any(n.startswith("3 Redfish controller(s) present a self-signed certificate") for n in report["notes"])
    assert not any("CVE-2013-4786" in n for n in report["notes"])  # no IPMI 2.0 controller audited


def test_plain_http_beside_https_is_found_unless_it_redirects(
    bmcs: dict[str, Served], port80: http.server.HTTPServer
) -> None:
    current = bmcs["current"].port
    # the Redfish service answered in clear on the "port 80" beside a valid HTTPS service
    assert _codes(current, bmcs["plain"].port) == ["redfish-plain-http"]
    port80.status = 301  # type: ignore[attr-defined]
    assert _codes(current, port80.server_address[1]) == []
    port80.status = 401  # type: ignore[attr-defined]
    a = audit_redfish("127.0.0.1", current, 5.0, http_port=port80.server_address[1])
    assert [f.code for f in a.findings] == ["redfish-plain-http"] and "asks for credentials" in a.findings[0].finding


def test_a_silent_controller_is_not_clean() -> None:
    a = audit_redfish("127.0.0.1", free_port(socket.SOCK_STREAM), 1.0, http_port=free_port(socket.SOCK_STREAM))
    assert a.error == "unreachable" and a.findings == []


def test_a_port_that_speaks_neither_tls_nor_redfish_says_so() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def answer_garbage() -> None:
            for _ in range(2):  # the TLS attempt, then the plain HTTP one
                conn, _addr = listener.accept()
                with conn:
                    conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
                    conn.recv(4096)

        thread = threading.Thread(target=answer_garbage, daemon=True)
        thread.start()
        a = audit_redfish("127.0.0.1", port, 2.0, http_port=free_port(socket.SOCK_STREAM))
        thread.join(10)
    assert a.findings == [] and a.error is not None
    assert a.error.startswith(f"TLS handshake failed on port {port}") and "no Redfish over plain HTTP" in a.error


def test_self_signed_is_told_from_a_certificate_issued_by_a_ca(tmp_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    from fleet.collectors.audit.redfish import read_certificate
    from fleet.sim.tlscert import self_signed

    cert_path, _key, _pin = self_signed(tmp_path)
    own = x509.load_pem_x509_certificate(cert_path.read_bytes()).public_bytes(serialization.Encoding.DER)
    assert read_certificate(own).self_signed

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key, bmc_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    for subject in ("bmc.example", "Site CA"):  # the second has the CA's name but not its key: still CA-issued
        issued = (
            x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name("Site CA"))
            .public_key(bmc_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(CURRENT[0]).not_valid_after(CURRENT[1]).sign(ca_key, hashes.SHA256())
        )  # fmt: skip
        seen = read_certificate(issued.public_bytes(serialization.Encoding.DER))
        assert not seen.self_signed and (seen.not_before, seen.not_after) == CURRENT
