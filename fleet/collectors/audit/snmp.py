"""SNMP controllers answering a default community (v2c `public` / `private`): one GET of sysDescr each.

Observe only: nothing is written, so whether `private` is also writable is not tested (a write would change the
device); an agent that answers it is reported, with that caveat.
"""

from __future__ import annotations

import asyncio

from fleet.collectors.audit import WARNING, Finding

DEFAULT_COMMUNITIES = ("public", "private")
CODE = "snmp-default-community"
_SYS_DESCR = (1, 3, 6, 1, 2, 1, 1, 1, 0)


async def _answers(host: str, port: int, community: str, timeout: float) -> bool:
    from fleet.collectors.secret import Secret
    from fleet.collectors.snmp.engine import Session, SnmpFailure
    from fleet.collectors.targets import SnmpTarget

    session = Session(SnmpTarget(host, port, community=Secret(community)), request_timeout=timeout, retries=1)
    try:
        await session.open()
        return bool(await session.get([_SYS_DESCR]))
    except (SnmpFailure, TimeoutError):
        return False


async def _audit(host: str, port: int, timeout: float) -> list[str]:
    from fleet.collectors.snmp.engine import close_all, quiet_transport_errors

    quiet_transport_errors(asyncio.get_running_loop())
    try:
        return [c for c in DEFAULT_COMMUNITIES if await _answers(host, port, c, timeout)]
    finally:
        close_all()


def default_communities(host: str, port: int = 161, timeout: float = 2.0) -> list[Finding]:
    out = []
    for community in asyncio.run(_audit(host, port, timeout)):
        extra = " (often read-write; not tested: the audit never writes)" if community == "private" else ""
        out.append(
            Finding(
                CODE,
                WARNING,
                f"SNMP v2c answers the default community {community!r}{extra}",
                "one SNMP v2c GET of sysDescr.0 with that community",
                "change the community (or use SNMPv3 authPriv only) and limit the agent to the management network",
            )
        )
    return out
