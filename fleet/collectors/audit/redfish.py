"""Redfish controllers: the service answering over plain HTTP, and a TLS certificate outside its validity dates.

Observe only and no login: each probe is one GET of the service root `/redfish/v1` (which Redfish serves without
authentication), with no credentials. The TLS probe does not verify the certificate (it reads it: a BMC's is
usually self-signed), so it works on every controller; its dates are judged against this host's clock.

- On the controller's own port: a TLS handshake. When the handshake fails, the same port is asked once over plain
  HTTP, since a controller set up without TLS answers there.
- On port 80: one plain HTTP GET. A redirect to `https://` is the hardened answer; a Redfish answer (200, or 401
  asking for credentials) is the finding: a client following it sends its password in clear.

A self-signed certificate is not a finding: nearly every BMC ships one, and the defence against an impostor is to
pin each controller's certificate (fleet's `controller_cert_sha256`), which checks more than a CA chain would. The
audit counts them (`BmcAudit.self_signed`) for one fleet-wide note instead of a line per server.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import socket
import ssl
from dataclasses import dataclass
from datetime import datetime

from fleet.clock import Clock, iso, utcnow
from fleet.collectors.audit import WARNING, BmcAudit, Finding

ROOT = "/redfish/v1"
PLAIN_HTTP = "redfish-plain-http"
CERT_EXPIRED = "redfish-cert-expired"
CERT_NOT_YET_VALID = "redfish-cert-not-yet-valid"
# An audit without `error` checked all of these (a silent port 80 is no plain HTTP): a finding gone is fixed
CODES = (PLAIN_HTTP, CERT_EXPIRED, CERT_NOT_YET_VALID)
HTTP_PORT = 80
_FIX_HTTP = "switch the controller's plain HTTP service off, or make it redirect to HTTPS; use HTTPS only"
_FIX_CERT = "install a current certificate on the controller (from the site's CA, or a new self-signed one, pinned)"


@dataclass(frozen=True, slots=True)
class Certificate:
    not_before: datetime
    not_after: datetime
    self_signed: bool


class _NoTls(Exception):
    """Something answered the TCP connection but the TLS handshake failed (`reason`)."""


class _NotAudited(Exception):
    """Nothing usable on that port: refused, unreachable, timed out or unreadable (`reason` is the audit error)."""


@functools.cache
def _context() -> ssl.SSLContext:
    # no CA store: loading the system's cost ~20 ms of CPU per controller, and nothing here verifies a chain
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # read the certificate, do not judge its chain: BMCs' are self-signed
    return ctx


def _get_root(conn: http.client.HTTPConnection) -> int:
    """One GET of the service root, no credentials: its HTTP status."""
    conn.request("GET", ROOT, headers={"Accept": "application/json", "OData-Version": "4.0"})
    return conn.getresponse().status


def tls_probe(host: str, port: int, timeout: float) -> tuple[Certificate, int | None]:
    """The controller's certificate and the status of GET /redfish/v1 over TLS (None when it did not answer)."""
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise _NotAudited("timeout" if isinstance(exc, TimeoutError) else "unreachable") from None
    try:
        # connected: whatever fails from here on (an alert, a reset, a plain HTTP answer) is "not TLS"
        tls = _context().wrap_socket(raw, server_hostname=host)
    except OSError as exc:
        raw.close()
        reason = exc.reason if isinstance(exc, ssl.SSLError) and exc.reason else type(exc).__name__
        raise _NoTls(reason) from None
    conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=_context())
    conn.sock = tls  # the handshake is done: the GET goes over this very connection
    try:
        der = tls.getpeercert(binary_form=True)
        if not der:
            raise _NoTls("no certificate")
        status: int | None = None
        with contextlib.suppress(OSError, http.client.HTTPException):
            status = _get_root(conn)
        try:
            return read_certificate(der), status
        except ValueError:
            raise _NotAudited(f"protocol: the TLS certificate on port {port} cannot be read") from None
    finally:
        conn.close()


def read_certificate(der: bytes) -> Certificate:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature

    cert = x509.load_der_x509_certificate(der)
    self_signed = cert.issuer == cert.subject
    if self_signed:
        try:
            cert.verify_directly_issued_by(cert)
        except (ValueError, TypeError, InvalidSignature):
            self_signed = False  # same names, another key: issued by a CA of the same name
    return Certificate(cert.not_valid_before_utc, cert.not_valid_after_utc, self_signed)


def plain_http(host: str, port: int, timeout: float) -> int | None:
    """The HTTP status of GET /redfish/v1 in clear when it is Redfish answering (2xx, or 401 asking for credentials);
    None when nothing answers, it redirects (to HTTPS, the hardened answer) or the path is not there."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        status = _get_root(conn)
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()
    return status if 200 <= status < 300 or status == 401 else None


def cert_findings(cert: Certificate, now: datetime, port: int) -> list[Finding]:
    seen = f"TLS handshake on port {port} (certificate read, not verified), then one GET {ROOT}"
    if now > cert.not_after:
        return [Finding(CERT_EXPIRED, WARNING, f"TLS certificate expired on {iso(cert.not_after)}", seen,
                        _FIX_CERT)]  # fmt: skip
    if now < cert.not_before:
        return [Finding(CERT_NOT_YET_VALID, WARNING,
                        f"TLS certificate not valid before {iso(cert.not_before)} (check the controller's clock too)",
                        seen, _FIX_CERT)]  # fmt: skip
    return []


def _http_finding(port: int, status: int) -> Finding:
    asks = "asks for credentials" if status == 401 else "answers"
    return Finding(
        PLAIN_HTTP,
        WARNING,
        f"the Redfish service {asks} over plain HTTP on port {port}: passwords and session tokens cross in clear",
        f"one GET {ROOT} over plain HTTP on port {port} (HTTP {status}, no credentials sent)",
        _FIX_HTTP,
    )


def audit_redfish(
    host: str, port: int = 443, timeout: float = 2.0, *, http_port: int = HTTP_PORT, clock: Clock = utcnow
) -> BmcAudit:
    """Both probes against one controller. `port` is the one fleet polls; `http_port` where plain HTTP usually is."""
    audit = BmcAudit(host, port)
    clear_ports = [http_port] if http_port != port else []
    try:
        cert, _status = tls_probe(host, port, timeout)
        audit.self_signed = cert.self_signed
        audit.findings += cert_findings(cert, clock(), port)
    except _NoTls as exc:
        # not TLS on the controller's own port: maybe the service runs in clear there
        if (status := plain_http(host, port, timeout)) is not None:
            audit.findings.append(_http_finding(port, status))
        else:
            audit.error = f"TLS handshake failed on port {port} ({exc}) and no Redfish over plain HTTP there"
    except _NotAudited as exc:
        audit.error = str(exc)
    for p in clear_ports:
        if (status := plain_http(host, p, timeout)) is not None:
            audit.findings.append(_http_finding(p, status))
    return audit


def self_signed_note(count: int) -> str:
    return (
        f"{count} Redfish controller(s) present a self-signed certificate, as BMCs ship them: not a finding, but pin "
        "each one's fingerprint in fleet (or install one from the site's CA) so a poll notices an impostor"
    )
