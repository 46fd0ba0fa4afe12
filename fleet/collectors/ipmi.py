"""IPMI 2.0 (RMCP+) collector with pyghmi. To be written (issue 3)."""

from __future__ import annotations

from typing import Any

from fleet.collectors.targets import IpmiTarget
from fleet.health.model import PollResult


def poll_ipmi(target: IpmiTarget, *, timeout: float = 10.0, cursor: dict[str, Any] | None = None) -> PollResult:
    return PollResult(host=target.host, protocol="ipmi", reachable=False, error="protocol: not implemented yet")
