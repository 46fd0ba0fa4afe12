"""Servers as the consoles list them: one flat row each, and the filter the TUI's `/` applies."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from fleet.store.models import Customer, Server, ServerModel, Site


@dataclass(frozen=True, slots=True)
class ServerRow:
    id: int
    hostname: str
    site: str
    model: str
    customer: str
    plan: str
    status: str
    health: str
    rack: str
    unit: int
    protocol: str
    last_polled_at: datetime | None
    last_poll_error: str | None
    # Lower-cased text the filter searches: built once, so a keystroke over 10,000 rows is a scan of strings.
    haystack: str = field(default="", compare=False, repr=False)


def list_servers(session: Session, *, site: str | None = None) -> list[ServerRow]:
    # Columns, not ORM objects: 10,000 servers load in a fraction of the time, and the console starts sooner.
    columns = [col(c) for c in (Server.id, Server.hostname, Site.code, ServerModel.name, Customer.name, Server.plan,
               Server.status, Server.health, Server.rack, Server.unit, Server.controller_protocol,
               Server.last_polled_at, Server.last_poll_error, Server.asset_tag, Server.serial)]  # fmt: skip
    q = (
        sa_select(*columns)
        .join(Site, col(Site.id) == Server.site_id)
        .join(ServerModel, col(ServerModel.id) == Server.model_id)
        .join(Customer, col(Customer.id) == Server.customer_id, isouter=True)
    )
    if site:
        q = q.where(col(Site.code) == site)
    rows = []
    for (sid, host, site_code, model, customer, plan, status, health, rack, unit, protocol, polled_at, poll_error,
         asset_tag, serial) in session.execute(q.order_by(Site.code, Server.hostname)).all():  # fmt: skip
        hay = " ".join([host, site_code, model, customer or "", status, health, plan, rack, asset_tag, serial]).lower()
        rows.append(
            ServerRow(
                id=sid,
                hostname=host,
                site=site_code,
                model=model,
                customer=customer or "",
                plan=plan,
                status=status,
                health=health,
                rack=rack,
                unit=unit,
                protocol=protocol,
                last_polled_at=polled_at,
                last_poll_error=poll_error,
                haystack=hay,
            )
        )
    return rows


def filter_rows(rows: Sequence[ServerRow], query: str) -> list[ServerRow]:
    """Rows containing every word of the query (case-insensitive), in their order."""
    words = query.lower().split()
    if not words:
        return list(rows)
    return [r for r in rows if all(w in r.haystack for w in words)]


def health_counts(rows: Iterable[ServerRow]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for r in rows:
        counts[r.health] = counts.get(r.health, 0) + 1
    return counts
