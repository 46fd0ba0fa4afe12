"""Simulated controllers for the servers of an inventory database: what `fleet demo` starts.

Each server with a controller gets a simulator at its `controller_host:controller_port`, speaking its
`controller_protocol`, posing as its model's vendor, holding exactly the installed components (same slots, same
serials), so what a poll reads back matches the database until a fault is injected.
"""

from __future__ import annotations

from collections import defaultdict

from sqlmodel import Session, select

from fleet.errors import InputError
from fleet.sim.layout import SNMP_VENDORS, Layout, SimServer
from fleet.store.models import Component, Server, ServerModel

# ServerModel.controller (the management controller family) -> simulated vendor.
CONTROLLER_VENDOR = {
    "idrac": "dell",
    "ilo": "hpe",
    "xcc": "lenovo",
    "imm": "lenovo",
    "cimc": "cisco",
    "irmc": "fujitsu",
    "supermicro": "supermicro",
    "ipmi": "generic",
}


def sim_server_for(server: Server, model: ServerModel, components: list[Component]) -> SimServer:
    """The simulator of one server row (pure: no database access)."""
    vendor = CONTROLLER_VENDOR.get(model.controller, "generic")
    if server.controller_protocol == "snmp" and vendor not in SNMP_VENDORS:
        raise InputError(f"{server.hostname}: no simulated SNMP agent for {model.controller} controllers")
    installed = [c for c in components if c.removed_at is None]
    layout = Layout.from_slots(c.slot for c in installed)
    known = {slot for slot, _ in layout.slots()}
    return SimServer(
        host=server.controller_host,
        port=server.controller_port,
        protocol=server.controller_protocol,
        layout=layout,
        vendor=vendor,
        model=model.name,
        serial=server.serial,
        asset_tag=server.asset_tag,
        serials={c.slot: c.serial for c in installed if c.serial and c.slot in known},
    )


def simulated_servers(session: Session, *, site_id: int | None = None) -> list[SimServer]:
    """One `SimServer` per server that has a controller (not decommissioned), in id order."""
    query = (
        select(Server, ServerModel)
        .join(ServerModel, ServerModel.id == Server.model_id)  # type: ignore[arg-type]
        .where(Server.controller_protocol != "none", Server.status != "decommissioned")
        .order_by(Server.id)  # type: ignore[arg-type]
    )
    if site_id is not None:
        query = query.where(Server.site_id == site_id)
    rows = session.exec(query).all()
    parts: dict[int, list[Component]] = defaultdict(list)
    for comp in session.exec(select(Component).where(Component.removed_at == None)):  # noqa: E711 - SQL IS NULL
        parts[comp.server_id].append(comp)
    return [sim_server_for(server, model, parts[server.id or 0]) for server, model in rows]
