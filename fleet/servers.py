"""Servers as the consoles list them: one flat row each, and the filter the TUI's `/` applies."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from fleet.models import Customer, Server, ServerModel, Site


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
    q = (
        select(Server, Site.code, ServerModel.name, Customer.name)
        .join(Site, Site.id == Server.site_id)
        .join(ServerModel, ServerModel.id == Server.model_id)
        .join(Customer, Customer.id == Server.customer_id, isouter=True)
    )
    if site:
        q = q.where(Site.code == site)
    rows = []
    for server, site_code, model, customer in session.exec(q.order_by(Site.code, Server.hostname)).all():
        assert server.id is not None
        hay = " ".join([server.hostname, site_code, model, customer or "", server.status, server.health,
                        server.plan, server.rack, server.asset_tag, server.serial]).lower()  # fmt: skip
        rows.append(
            ServerRow(
                id=server.id,
                hostname=server.hostname,
                site=site_code,
                model=model,
                customer=customer or "",
                plan=server.plan,
                status=server.status,
                health=server.health,
                rack=server.rack,
                unit=server.unit,
                protocol=server.controller_protocol,
                last_polled_at=server.last_polled_at,
                last_poll_error=server.last_poll_error,
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
