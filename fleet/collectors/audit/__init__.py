"""BMC security audit: observe one IPMI controller's exposure (docs/SECURITY.md). Never changes a setting, never
cracks a hash; every session opened is closed at once.

    audit_ipmi(host, port, user, timeout) -> BmcAudit
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fleet.collectors.audit.rmcp import AuthCapabilities, ProbeError, auth_capabilities, cipher_zero_session

CRITICAL, WARNING = "critical", "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    code: str  # cipher-zero, anonymous-login, null-user, ipmi15-none, ipmi15-weak, ipmi15-only, default-credentials
    severity: str  # critical: anyone gets full control; warning: an exposure short of that
    finding: str
    seen: str  # how it was observed, so an operator can repeat it
    fix: str

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity, "finding": self.finding, "seen": self.seen,
                "fix": self.fix}  # fmt: skip


@dataclass(slots=True)
class BmcAudit:
    host: str
    port: int
    error: str | None = None  # the controller could not be audited (timeout, unreachable): not "clean"
    ipmi20: bool | None = None
    self_signed: bool | None = None  # Redfish: the TLS certificate is self-signed (a fleet-wide note, not a finding)
    findings: list[Finding] = field(default_factory=list)


_CAPS_SEEN = "Get Channel Authentication Capabilities (administrator level)"
# Every code `findings_from_caps` can report: an answered capabilities request checked all of them.
CAPS_CODES = ("anonymous-login", "null-user", "ipmi15-only", "ipmi15-none", "ipmi15-weak")
CIPHER_ZERO, DEFAULT_CREDENTIALS = "cipher-zero", "default-credentials"
_FIX_USER1 = "disable user 1 (the null user) on every channel"
_FIX_15 = "disable IPMI 1.5 on the LAN channel; use IPMI 2.0 (cipher suite 17 or 3) only"


def findings_from_caps(caps: AuthCapabilities) -> list[Finding]:
    """What Get Channel Authentication Capabilities (asked for the administrator level) reveals."""
    out: list[Finding] = []

    def add(code: str, severity: str, finding: str, fix: str) -> None:
        out.append(Finding(code, severity, finding, _CAPS_SEEN, fix))

    if caps.anonymous_login:
        add(
            "anonymous-login", CRITICAL, "anonymous login (null name, null password) at administrator level", _FIX_USER1
        )
    elif caps.null_usernames:
        add("null-user", WARNING, "a null user name is accepted (with a password)", _FIX_USER1)
    if not caps.ipmi20 and caps.ipmi15:
        only = "offers only IPMI 1.5, which sends the password in clear or under MD5/MD2"
        add("ipmi15-only", WARNING, only, "update the firmware to one with IPMI 2.0, or replace the controller")
    if "NONE" in caps.ipmi15_auth_types:
        add("ipmi15-none", CRITICAL, "IPMI 1.5 auth type NONE: any password works for a valid user name", _FIX_15)
    weak = [t for t in caps.ipmi15_auth_types if t != "NONE"]
    if weak:
        clear = " (PASSWORD sends it in clear)" if "PASSWORD" in weak else ""
        add("ipmi15-weak", WARNING, f"IPMI 1.5 offered with {', '.join(weak)}{clear}", _FIX_15)
    return out


def audit_ipmi(host: str, port: int = 623, user: str | None = None, timeout: float = 2.0) -> BmcAudit:
    """Both probes against one controller. `user` is the account fleet polls with (a valid name; no password)."""
    audit = BmcAudit(host, port)
    try:
        caps = auth_capabilities(host, port, timeout)
    except ProbeError as exc:
        audit.error = str(exc)
        return audit
    audit.ipmi20 = caps.ipmi20
    audit.findings = findings_from_caps(caps)
    if caps.ipmi20 and user:
        try:
            if cipher_zero_session(host, user, port, timeout):
                audit.findings.insert(0, Finding(
                    CIPHER_ZERO, CRITICAL, f"cipher suite 0 accepted: a session as {user!r} without its password",
                    "RMCP+ Open Session with authentication none, RAKP 1-4 without a password (session closed)",
                    "disable cipher suite 0 (and any suite without authentication) on the LAN channel"))  # fmt: skip
        except ProbeError as exc:
            audit.error = f"cipher 0 probe: {exc}"
    return audit


RAKP_NOTE = (
    "IPMI 2.0 RAKP discloses a salted hash of any valid user's password to whoever asks (CVE-2013-4786): it is the "
    "protocol, not a configuration. Keep BMCs on an isolated management network and never share BMC passwords."
)
