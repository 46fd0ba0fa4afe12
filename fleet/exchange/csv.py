"""CSV import and export of servers, components and stock.

Import is all or nothing: every row is checked first and every bad row is reported as `FILE:LINE: reason`; only a
file without a single bad row is written, in one transaction. A failed import leaves the database untouched.
Rows are matched on their natural key (hostname; hostname + slot; site + part number): existing rows are updated.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert
from sqlmodel import Session, select

from fleet.clock import Clock, iso, parse_time, utcnow
from fleet.errors import InputError
from fleet.exchange.records import Fields, Record, protect, read_records
from fleet.store import audit
from fleet.store.db import read_session, write_session
from fleet.store.models import (
    CONTROLLER_PROTOCOLS,
    Component,
    Customer,
    PartModel,
    Plan,
    Server,
    ServerModel,
    Site,
    Stock,
)
from fleet.views.text import plain

SERVER_COLUMNS = [
    "hostname", "asset_tag", "serial", "model", "site", "rack", "unit", "customer", "plan", "backup_option",
    "monthly_fee_cents", "billing", "controller_host", "controller_port", "controller_protocol", "controller_user",
    "credential_ref", "web_port", "dns_port", "status", "controller_tls_verify", "controller_ca_file",
    "controller_cert_sha256", "service_host", "annual_fee_cents",
]  # fmt: skip
DEFAULT_PORTS = {"ipmi": 623, "snmp": 161, "redfish": 443}
COMPONENT_COLUMNS = ["hostname", "slot", "part_number", "serial", "installed_at"]
STOCK_COLUMNS = ["site", "part_number", "bin", "on_hand", "reserved", "reorder_level"]
COLUMNS = {"servers": SERVER_COLUMNS, "components": COMPONENT_COLUMNS, "stock": STOCK_COLUMNS}
REQUIRED = {
    "servers": {"hostname", "asset_tag", "serial", "model", "site", "rack", "unit", "controller_host"},
    "components": {"hostname", "slot", "part_number"},
    "stock": {"site", "part_number", "bin", "on_hand"},
}
KINDS = ("servers", "components", "stock")


@dataclass
class ImportResult:
    kind: str
    created: int = 0
    updated: int = 0


BATCH = 1000  # rows written per flush: the session never holds more, however long the file


class _Writer:
    """Checked rows go to the database in batches inside the one transaction; after the first bad row nothing more
    is written (the transaction is rolled back at the end), but every row is still checked."""

    def __init__(self, session: Session, path: Path, write: Callable[[Session, list[Any]], None]) -> None:
        self.session, self.path, self.write = session, path, write
        self.batch: list[Any] = []
        self.errors: list[str] = []

    def take(self, record: Record, value: Any) -> None:
        if record.reasons:
            # Every reason of the row on its one line: a person fixes the row once.
            self.errors.append(f"{self.path}:{record.line}: {'; '.join(record.reasons)}")
            return
        if self.errors:
            return
        self.batch.append(value)
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.batch and not self.errors:
            self.write(self.session, self.batch)
            self.session.flush()
            self.session.expunge_all()  # what was written is in the database; memory stays one batch
        self.batch = []

    def finish(self) -> None:
        self.flush()
        if self.errors:
            raise InputError("\n".join(self.errors))


def import_csv(engine: Engine, kind: str, path: Path, *, actor: str = "import", clock: Clock = utcnow) -> ImportResult:
    if kind not in KINDS:
        raise InputError(f"unknown import {kind!r} ({', '.join(KINDS)})")
    importer: Callable[..., ImportResult] = {"servers": _servers, "components": _components, "stock": _stock}[kind]
    records = read_records(path, COLUMNS[kind], REQUIRED[kind])
    with write_session(engine) as session:
        return importer(session, path, records, actor, clock())


def _ids(session: Session, model: Any, column: str) -> dict[str, int]:
    return {key: id_ for key, id_ in session.exec(select(getattr(model, column), model.id)).all()}


def _servers(session: Session, path: Path, records: Iterable[Record], actor: str, now: datetime) -> ImportResult:
    models, sites, customers = (
        _ids(session, ServerModel, "name"),
        _ids(session, Site, "code"),
        _ids(session, Customer, "name"),
    )
    existing = {
        h: (i, t, s)
        for i, h, t, s in session.exec(select(Server.id, Server.hostname, Server.asset_tag, Server.serial)).all()
    }
    by_tag = {t: h for h, (_, t, _) in existing.items()}
    by_serial = {s: h for h, (_, _, s) in existing.items()}
    seen: dict[str, dict[str, int]] = {"hostname": {}, "asset_tag": {}, "serial": {}}
    result = ImportResult("servers")

    def write(session: Session, batch: list[dict[str, Any]]) -> None:
        new = [v for v in batch if v["hostname"] not in existing]
        if new:
            session.execute(insert(Server), new)  # one statement per batch: 100,000 rows in seconds, not minutes
            result.created += len(new)
        for v in batch:
            if v["hostname"] in existing:
                server = session.get(Server, existing[v["hostname"]][0])
                for key, value in v.items():
                    setattr(server, key, value)
                session.add(server)
                result.updated += 1

    out = _Writer(session, path, write)
    for rec in records:
        f = Fields(rec)
        host = f.text("hostname", required=True)
        for key in seen:
            value = f.text(key, required=key != "hostname")
            if value and value in seen[key]:
                f.fail(f"{key} {value!r} already on line {seen[key][value]}")
            elif value:
                seen[key][value] = rec.line
        tag, serial = f.text("asset_tag"), f.text("serial")
        if tag and by_tag.get(tag, host) != host:
            f.fail(f"asset_tag {tag!r} belongs to {by_tag[tag]}")
        if serial and by_serial.get(serial, host) != host:
            f.fail(f"serial {serial!r} belongs to {by_serial[serial]}")
        model = models.get(f.text("model", required=True) or "")
        if model is None and f.text("model"):
            f.fail(f"unknown server model {f.text('model')!r}")
        site = sites.get(f.text("site", required=True) or "")
        if site is None and f.text("site"):
            f.fail(f"unknown site {f.text('site')!r}")
        customer_name = f.text("customer")
        customer = customers.get(customer_name) if customer_name else None
        if customer_name and customer is None:
            f.fail(f"unknown customer {customer_name!r}")
        ref = f.text("credential_ref")
        if ref and not ref.startswith(("env:", "file:")):
            # A password pasted here would end up in clear in the database (and is not echoed back).
            f.fail("credential_ref must be a reference (env:VAR or file:PATH#entry), never a secret")
        out.take(rec, {"hostname": host, "asset_tag": tag, "serial": serial, "model_id": model, "site_id": site,
                       "customer_id": customer, "credential_ref": ref, **_server_values(f)})  # fmt: skip
    out.finish()
    return result


def _server_values(f: Fields) -> dict[str, Any]:
    """The server columns that need no lookup: one line each, so a new column is one more line."""
    protocol = f.choice("controller_protocol", CONTROLLER_PROTOCOLS, "ipmi")
    return {
        "rack": f.text("rack", required=True), "unit": f.int("unit", None, 1),
        "plan": f.choice("plan", tuple(p.value for p in Plan), Plan.DEDICATED),
        "backup_option": f.bool("backup_option"),
        "monthly_fee_cents": f.int("monthly_fee_cents", 0),
        "billing": f.choice("billing", ("monthly", "annual"), "monthly"),
        "controller_host": f.text("controller_host", required=True),
        "controller_port": f.int("controller_port", DEFAULT_PORTS.get(protocol or "", 623), 1, 65535),
        "controller_protocol": protocol,
        "controller_tls_verify": f.bool("controller_tls_verify") if f.text("controller_tls_verify") else True,
        "controller_ca_file": f.text("controller_ca_file"),
        "controller_cert_sha256": _fingerprint(f),
        "controller_user": f.text("controller_user"),
        "web_port": f.int("web_port", None, 1, 65535), "dns_port": f.int("dns_port", None, 1, 65535),
        "status": f.choice("status", ("active", "down", "maintenance", "decommissioned"), "active"),
        "service_host": f.text("service_host"), "annual_fee_cents": f.int("annual_fee_cents", None),
    }  # fmt: skip


def _fingerprint(f: Fields) -> str | None:
    """A Redfish BMC's pinned certificate: 64 hex digits (colons allowed), kept without colons in lower case."""
    raw = f.text("controller_cert_sha256")
    if not raw:
        return None
    hexed = raw.replace(":", "").lower()
    if len(hexed) != 64 or any(c not in "0123456789abcdef" for c in hexed):
        f.fail("controller_cert_sha256 must be a SHA-256 fingerprint (64 hex digits)")
        return None
    return hexed


def _components(session: Session, path: Path, records: Iterable[Record], actor: str, now: datetime) -> ImportResult:
    servers, parts = _ids(session, Server, "hostname"), _ids(session, PartModel, "part_number")
    installed = {
        (server_id, slot): (id_, serial)
        for id_, server_id, slot, serial in session.exec(
            select(Component.id, Component.server_id, Component.slot, Component.serial).where(
                Component.removed_at.is_(None)  # type: ignore[union-attr]
            )
        ).all()
    }
    serial_owner = {serial: key for key, (_, serial) in installed.items() if serial}
    seen_slot: dict[tuple[int, str], int] = {}
    seen_serial: dict[str, int] = {}
    result = ImportResult("components")

    def write(session: Session, batch: list[dict[str, Any]]) -> None:
        new = [v for v in batch if (v["server_id"], v["slot"]) not in installed]
        if new:
            session.execute(insert(Component), new)
            result.created += len(new)
        for v in batch:
            known = installed.get((v["server_id"], v["slot"]))
            if known:
                comp = session.get(Component, known[0])
                for key, value in v.items():
                    setattr(comp, key, value)
                session.add(comp)
                result.updated += 1

    out = _Writer(session, path, write)
    for rec in records:
        f = Fields(rec)
        host = f.text("hostname", required=True)
        server_id = servers.get(host or "")
        if host and server_id is None:
            f.fail(f"unknown server {host!r}")
        slot = f.text("slot", required=True)
        if server_id is not None and slot:
            if (server_id, slot) in seen_slot:
                f.fail(f"{host} {slot} already on line {seen_slot[(server_id, slot)]}")
            seen_slot[(server_id, slot)] = rec.line
        number = f.text("part_number", required=True)
        part = parts.get(number or "")
        if number and part is None:
            f.fail(f"unknown part number {number!r}")
        serial = f.text("serial")
        if serial:
            if serial in seen_serial:
                f.fail(f"serial {serial!r} already on line {seen_serial[serial]}")
            seen_serial[serial] = rec.line
            owner = serial_owner.get(serial)
            if owner is not None and owner != (server_id, slot):
                f.fail(f"serial {serial!r} is installed elsewhere")
        when = f.text("installed_at")
        installed_at = now
        if when:
            try:
                installed_at = parse_time(when)
            except ValueError as exc:
                f.fail(f"installed_at: {exc}")
        out.take(rec, {"server_id": server_id, "slot": slot, "part_model_id": part, "serial": serial,
                       "installed_at": installed_at})  # fmt: skip
    out.finish()
    return result


def _stock(session: Session, path: Path, records: Iterable[Record], actor: str, now: datetime) -> ImportResult:
    sites, parts = _ids(session, Site, "code"), _ids(session, PartModel, "part_number")
    existing = {(s.site_id, s.part_model_id): (s.id, s.reserved, s.reorder_level) for s in session.exec(select(Stock))}
    seen: dict[tuple[int, int], int] = {}
    result = ImportResult("stock")

    def write(session: Session, batch: list[dict[str, Any]]) -> None:
        for v in batch:
            known = existing.get((v["site_id"], v["part_model_id"]))
            row = session.get(Stock, known[0]) if known else None
            before = audit.snapshot(row) if row else None
            if row is None:
                row = Stock(**v)
                result.created += 1
            else:
                for key, value in v.items():
                    setattr(row, key, value)
                result.updated += 1
            session.add(row)
            session.flush()
            audit.record(session, at=now, actor=actor, action="stock.import", entity="stock", entity_id=row.id,
                         before=before, after=audit.snapshot(row))  # fmt: skip

    out = _Writer(session, path, write)
    for rec in records:
        f = Fields(rec)
        code, number = f.text("site", required=True), f.text("part_number", required=True)
        site, part = sites.get(code or ""), parts.get(number or "")
        if code and site is None:
            f.fail(f"unknown site {code!r}")
        if number and part is None:
            f.fail(f"unknown part number {number!r}")
        current = existing.get((site, part)) if site is not None and part is not None else None
        if site is not None and part is not None:
            if (site, part) in seen:
                f.fail(f"{code} {number} already on line {seen[(site, part)]}")
            seen[(site, part)] = rec.line
        on_hand = f.int("on_hand")
        if on_hand is None and not (f.row.get("on_hand") or "").strip():
            f.fail("on_hand is empty")
        reserved = f.int("reserved", current[1] if current else 0)
        if on_hand is not None and reserved is not None and reserved > on_hand:
            f.fail(f"reserved ({reserved}) is more than on hand ({on_hand})")
        out.take(rec, {"site_id": site, "part_model_id": part, "bin": f.text("bin", required=True), "on_hand": on_hand,
                       "reserved": reserved,
                       "reorder_level": f.int("reorder_level", current[2] if current else 0)})  # fmt: skip
    out.finish()
    return result


def export_csv(engine: Engine, kind: str, out: io.TextIOBase | Any, *, terminal: bool = False) -> int:
    """Write the CSV that `import` reads back. Returns the number of rows.

    Cells a spreadsheet would run as formulas are written as text (see records.protect). `terminal`: the CSV goes to
    a person's screen, so control characters are replaced (a file keeps the data as it is)."""
    if kind not in KINDS:
        raise InputError(f"unknown export {kind!r} ({', '.join(KINDS)})")
    with read_session(engine) as session:
        if kind == "servers":
            header, rows = SERVER_COLUMNS, _server_rows(session)
        elif kind == "components":
            header, rows = COMPONENT_COLUMNS, _component_rows(session)
        else:
            header, rows = STOCK_COLUMNS, _stock_rows(session)
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        n = 0
        for r in rows:
            cells = ["" if v is None else protect(str(v)) for v in r]
            writer.writerow([plain(c) for c in cells] if terminal else cells)
            n += 1
        return n


def _server_rows(session: Session) -> Iterable[list[Any]]:
    models = {m.id: m.name for m in session.exec(select(ServerModel))}
    sites = {s.id: s.code for s in session.exec(select(Site))}
    customers = {c.id: c.name for c in session.exec(select(Customer))}
    for s in session.exec(select(Server).order_by(Server.hostname)):
        yield [
            s.hostname, s.asset_tag, s.serial, models[s.model_id], sites[s.site_id], s.rack, s.unit,
            customers.get(s.customer_id) if s.customer_id else None, s.plan, "yes" if s.backup_option else "no",
            s.monthly_fee_cents, s.billing, s.controller_host, s.controller_port, s.controller_protocol,
            s.controller_user, s.credential_ref, s.web_port, s.dns_port, s.status,
            "yes" if s.controller_tls_verify else "no", s.controller_ca_file, s.controller_cert_sha256,
            s.service_host, s.annual_fee_cents,
        ]  # fmt: skip


def _component_rows(session: Session) -> Iterable[list[Any]]:
    hosts = {s.id: s.hostname for s in session.exec(select(Server))}
    parts = {p.id: p.part_number for p in session.exec(select(PartModel))}
    comps = session.exec(select(Component).where(Component.removed_at.is_(None))).all()  # type: ignore[union-attr]
    for c in sorted(comps, key=lambda c: (hosts[c.server_id], c.slot)):
        yield [hosts[c.server_id], c.slot, parts[c.part_model_id], c.serial,
               iso(c.installed_at)]  # fmt: skip


def _stock_rows(session: Session) -> Iterable[list[Any]]:
    sites = {s.id: s.code for s in session.exec(select(Site))}
    parts = {p.id: p.part_number for p in session.exec(select(PartModel))}
    stock = session.exec(select(Stock)).all()
    for s in sorted(stock, key=lambda s: (sites[s.site_id], parts[s.part_model_id])):
        yield [sites[s.site_id], parts[s.part_model_id], s.bin, s.on_hand, s.reserved, s.reorder_level]
