"""The report of one sweep round: what cron, the console and `fleet sweep --json` read (docs/SWEEP.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from fleet.stock.reserve import SpareOutcome, SpareStatus


@dataclass
class AuditSummary:
    """What one recorded BMC security audit did (docs/SECURITY.md): the sweep's `audit` field, `fleet audit bmc
    --json`'s `recorded`."""

    controllers: int = 0  # probed
    not_audited: int = 0  # of those, controllers that did not answer (wholly or a probe): nothing closed for them
    findings: int = 0
    critical: int = 0  # findings that give anyone full control
    faults_opened: int = 0  # security faults
    faults_resolved: int = 0  # the finding is gone: fault recovered, its work order done
    work_orders: int = 0  # work orders made for technicians


@dataclass
class SweepReport:
    started_at: str
    finished_at: str = ""
    site: str | None = None
    worker: str | None = None
    servers: int = 0
    polled: int = 0
    unreachable: list[dict[str, str]] = field(default_factory=list)
    swept: list[str] = field(default_factory=list)  # hostnames this run polled (a worker's share of the round)
    faults_opened: int = 0
    faults_escalated: int = 0
    faults_resolved: int = 0
    spares_reserved: int = 0
    transfers_proposed: int = 0
    no_spare_in_reach: list[int] = field(default_factory=list)
    swaps_planned: int = 0
    outages_opened: int = 0
    outages_closed: int = 0
    audit: AuditSummary | None = None  # the periodic BMC security audit, when this round ran it (audit_every_days)
    critical_servers: list[str] = field(default_factory=list)
    warning_servers: list[str] = field(default_factory=list)
    poll_seconds: dict[str, float] = field(default_factory=dict)
    duration_s: float = 0.0
    status: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def count_spare(report: SweepReport, outcome: SpareOutcome) -> None:
    """What the spare search did for one fault, in the report: a unit reserved at the server's site, or one reserved
    elsewhere with a transfer proposed (counted once, when it happened: an escalated fault that already held its
    spare adds nothing); and every critical fault whose spare cannot be there before the hard limit."""
    if not outcome.existing:
        if outcome.status == SpareStatus.RESERVED:
            report.spares_reserved += 1
        elif outcome.status == SpareStatus.TRANSFER:
            report.transfers_proposed += 1
    if not outcome.in_reach:
        report.no_spare_in_reach.append(outcome.fault_id)
