"""SNMP collector with pysnmp 7 (asyncio). To be written (issue 4)."""

from __future__ import annotations

from fleet.collectors.targets import SnmpTarget
from fleet.health.model import PollResult


def poll_snmp_sync(target: SnmpTarget, *, timeout: float = 10.0) -> PollResult:
    return PollResult(host=target.host, protocol="snmp", reachable=False, error="protocol: not implemented yet")
