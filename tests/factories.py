"""Minimal rows for tests that need a fleet but not the sample's realism (pure setup, no protocol faked)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Engine, insert
from sqlmodel import select

from fleet.store.db import write_session
from fleet.store.models import Customer, PartModel, Server, ServerModel, Site, Stock

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def make_fleet(engine: Engine, servers: int = 10, sites: tuple[str, ...] = ("PAR1", "NYC1")) -> None:
    """Sites, one server model, one customer, `servers` servers spread over the sites, one PSU part with stock."""
    with write_session(engine) as s:
        site_rows = [Site(code=c, name=f"Site {c}", timezone="Europe/Paris") for c in sites]
        s.add_all(site_rows)
        model = ServerModel(vendor="Dell", name="PowerEdge R640")
        cust = Customer(name="Acme Hosting", contact_name="Ada", email="ada@example.com", timezone="Europe/Paris")
        part = PartModel(part_number="0PJMDN", kind="psu", vendor="Dell", description="750W PSU")
        s.add_all([model, cust, part])
        s.flush()
        s.execute(
            insert(Server),
            [
                {
                    "hostname": f"srv{i:05d}.{site_rows[i % len(site_rows)].code.lower()}",
                    "asset_tag": f"AT{i:06d}",
                    "serial": f"SN{i:08d}",
                    "model_id": model.id,
                    "site_id": site_rows[i % len(site_rows)].id,
                    "rack": f"R{i % 40:02d}",
                    "unit": 1 + i % 40,
                    "customer_id": cust.id if i % 3 else None,
                    "controller_host": "127.0.0.1",
                    "health": ("ok", "warning", "critical")[i % 7 % 3] if i % 7 < 3 else "ok",
                }
                for i in range(servers)
            ],
        )
        for site in site_rows:
            s.add(Stock(site_id=site.id, part_model_id=part.id, bin="A-01-1", on_hand=2, reserved=0, reorder_level=1))


def count(engine: Engine, model: type) -> int:
    with write_session(engine) as s:
        return len(s.exec(select(model)).all())
