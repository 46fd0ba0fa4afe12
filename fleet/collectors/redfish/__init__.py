"""Redfish collector (asyncio, httpx): PSUs, fans, temperatures, drives, DIMMs, CPUs, RAID, logs, inventory.

    await poll_redfish(target, timeout=10, cursor=None)                   one BMC
    await poll_redfish_many(targets, timeout=10, concurrency=200)        many BMCs on one event loop
    poll_redfish_sync(target, timeout=10)                                the command line's entry point

What is read from where, each vendor's quirks and why this client: docs/REDFISH.md.
"""

from __future__ import annotations

from fleet.collectors.redfish.poll import close_all_sessions, poll_redfish, poll_redfish_many, poll_redfish_sync

__all__ = ["close_all_sessions", "poll_redfish", "poll_redfish_many", "poll_redfish_sync"]
