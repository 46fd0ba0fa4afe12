"""Vendor default credentials: one login attempt per account, opt-in, closed at once (docs/SECURITY.md).

A login is a real IPMI 2.0 session (pyghmi, cipher suite 17 then 3) that is logged out as soon as it is up. Some
BMCs lock an account after failed logins, so the caller tries only when the operator accepted that risk, and each
account once per audit. The passwords tried are public vendor defaults; an operator's extra list is read from an
owner-only file and never printed: a finding names the account, not its password.
"""

from __future__ import annotations

import os
import stat
import threading
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
    """The user names whose given password opens a session (each tried once, in order)."""
    from fleet.collectors.ipmi.session import connect, logout
    from fleet.collectors.secret import Secret
    from fleet.collectors.targets import IpmiTarget

    found: list[str] = []
    tried: set[str] = set()
    for user, password in pairs:
        if user in tried:  # one attempt per account per audit
            continue
        tried.add(user)
        outcome: dict[str, bool] = {}

        def login(user: str = user, password: str = password, outcome: dict[str, bool] = outcome) -> None:
            try:
                cmd = connect(IpmiTarget(host, port, user, Secret(password)), None, options)
            except Exception:  # wrong password, refused, a pyghmi bug: in every case no working login
                outcome["ok"] = False
                return
            outcome["ok"] = True
            logout(cmd)

        worker = threading.Thread(target=login, name=f"audit {host}:{port}", daemon=True)
        worker.start()
        worker.join(timeout)
        if outcome.get("ok"):
            found.append(user)
    return found
