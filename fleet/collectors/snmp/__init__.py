"""SNMP collector (pysnmp 7, asyncio): vendor detection, health walks, normalised PollResult.

await poll_snmp(target, timeout=10)                         one host
await poll_snmp_many(targets, timeout=10, concurrency=50)  many hosts on the shared engine
poll_snmp_sync(target, timeout=10)                         the CLI's entry point
"""

from __future__ import annotations

from fleet.collectors.snmp.poll import poll_snmp, poll_snmp_many, poll_snmp_sync

__all__ = ["poll_snmp", "poll_snmp_many", "poll_snmp_sync"]
