"""Small helpers for the SNMP tests: targets on the simulator, finding the reading for one cell."""

from __future__ import annotations

import re

from fleet.collectors.targets import SnmpTarget
from fleet.health.model import PollResult, Reading
from fleet.sweep.secrets import Secret

_OID = re.compile(r"oid (\.[\d.]+)")


def v2c(port: int, community: str) -> SnmpTarget:
    return SnmpTarget("127.0.0.1", port, community=Secret(community))


def by_oid(result: PollResult) -> dict[str, Reading]:
    """Readings keyed by the status cell their detail names (the collector shows it so an operator can check)."""
    out = {}
    for r in result.readings:
        m = _OID.search(r.detail or "")
        if m:
            out[m.group(1)] = r
    return out
