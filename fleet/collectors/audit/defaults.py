"""Vendor default credentials: one login attempt per account, opt-in, closed at once (docs/SECURITY.md).

A login is the collector's own read-only poll (IPMI 2.0, cipher suite 17 then 3), logged out when done. Some
BMCs lock an account after failed logins, so the caller tries only when the operator accepted that risk, and each
account once per audit. The passwords tried are public vendor defaults; an operator's extra list is read from an
owner-only file and never printed: a finding names the account, not its password.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from fleet.collectors.targets import IpmiOptions
from fleet.errors import SecretError

VENDOR_DEFAULTS: tuple[tuple[str, str], ...] = (
    ("ADMIN", "ADMIN"),  # Supermicro
    ("root", "calvin"),  # Dell iDRAC
    ("admin", "admin"),  # many
    ("USERID", "PASSW0RD"),  # IBM / Lenovo IMM, XCC
    ("Administrator", "admin"),  # Fujitsu iRMC (factory default password varies: sticker on newer units)
)


def read_extra(path: str) -> list[tuple[str, str]]:
    """`user:password` per line from an owner-only file (blank lines and # comments skipped)."""
    p = Path(path)
    try:
        st = p.stat()
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO) or st.st_uid != os.getuid():
            raise SecretError(f"{p} must be owned by you and readable by you only (chmod 600)")
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SecretError(f"cannot read {p}: {exc.strerror}") from None
    pairs = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, password = line.partition(":")
        if not sep or not user:
            raise SecretError(f"{p}:{number}: expected user:password")
        pairs.append((user, password))
    return pairs


def working_defaults(
    host: str, port: int, pairs: list[tuple[str, str]], timeout: float, options: IpmiOptions | None = None
) -> list[str]:
    """The user names whose given password opens a session (each tried once, in order): a poll with them that the
    BMC answers (the collector reports a refused login as "auth", a silent BMC as "timeout")."""
    from fleet.collectors.ipmi import poll_ipmi
    from fleet.collectors.secret import Secret
    from fleet.collectors.targets import IpmiTarget

    found: list[str] = []
    tried: set[str] = set()
    for user, password in pairs:
        if user in tried:  # one attempt per account per audit
            continue
        tried.add(user)
        result = poll_ipmi(IpmiTarget(host, port, user, Secret(password)), timeout=timeout, options=options)
        if result.reachable and result.error is None:
            found.append(user)
    return found
