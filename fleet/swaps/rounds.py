"""One planning round, as the sweep and `fleet swap plan` run it: stale swaps cancelled, critical swaps planned,
windows proposed to customers, escalations listed; then the customers' mails delivered."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from fleet.config import Settings
from fleet.swaps.notify import deliver
from fleet.swaps.plan import PlanResult, cancel_stale, escalations, plan_critical
from fleet.swaps.proposals import propose_noncritical


def run_planning(
    session: Session, *, now: datetime, settings: Settings, site: str | None = None, actor: str = "fleet"
) -> PlanResult:
    """What the sweep and `fleet swap plan` call: plan critical swaps, propose windows, list escalations."""
    result = PlanResult()
    result.cancelled = cancel_stale(session, now=now, site=site, actor=actor)
    result.critical = plan_critical(session, now=now, settings=settings, site=site, actor=actor)
    result.proposals = propose_noncritical(session, now=now, settings=settings, site=site, actor=actor)
    result.escalated = sorted(escalations(session, now=now, settings=settings, site=site))
    return result


def plan_swaps(
    session: Session, *, now: datetime, settings: Settings, site: str | None = None, actor: str = "fleet"
) -> PlanResult:
    """`run_planning`, then the customers' mails delivered (outbox or SMTP) inside the caller's transaction: when a
    mail cannot go out, FleetError rolls the whole plan back and no window is recorded as proposed."""
    result = run_planning(session, now=now, settings=settings, site=site, actor=actor)
    for p in result.proposals:
        if p.mail is not None and p.mail_name:
            p.sent_to = deliver(p.mail, settings, name=p.mail_name)
    return result
