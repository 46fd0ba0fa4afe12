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

from sqlalchemy import Engine
from sqlmodel import Session, select

from fleet.clock import Clock, parse_time, utcnow
from fleet.errors import InputError
from fleet.store import audit
from fleet.store.db import read_session, write_session
from fleet.store.models import Component, Customer, PartModel, Server, ServerModel, Site, Stock

SERVER_COLUMNS = [
    "hostname", "asset_tag", "serial", "model", "site", "rack", "unit", "customer", "plan", "backup_option",
    "monthly_fee_cents", "billing", "controller_host", "controller_port", "controller_protocol", "controller_user",
    "credential_ref", "web_port", "dns_port", "status", "service_host", "annual_fee_cents",
]  # fmt: skip
COMPONENT_COLUMNS = ["hostname", "slot", "part_number", "serial", "installed_at"]
STOCK_COLUMNS = ["site", "part_number", "bin", "on_hand", "reserved", "reorder_level"]
REQUIRED = {
    "servers": {"hostname", "asset_tag", "serial", "model", "site", "rack", "unit", "controller_host"},
    "components": {"hostname", "slot", "part_number"},
    "stock": {"site", "part_number", "bin", "on_hand"},
}
KINDS = ("servers", "components", "stock")


class RowError(Exception):
    pass


@dataclass
class ImportResult:
    kind: str
    created: int = 0
    updated: int = 0


# (line number, row) pairs of a CSV file, header excluded.
Rows = list[tuple[int, dict[str, str]]]


def _int(row: dict[str, str], key: str, default: int | None = None, minimum: int | None = 0) -> int | None:
    raw = (row.get(key) or "").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise RowError(f"{key} must be a whole number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise RowError(f"{key} must be >= {minimum}, got {value}")
    return value


def _bool(row: dict[str, str], key: str) -> bool:
    raw = (row.get(key) or "").strip().lower()
    if raw in ("", "0", "false", "no", "n"):
        return False
    if raw in ("1", "true", "yes", "y"):
        return True
    raise RowError(f"{key} must be yes or no, got {raw!r}")


def _choice(row: dict[str, str], key: str, choices: tuple[str, ...], default: str) -> str:
    raw = (row.get(key) or "").strip() or default
    if raw not in choices:
        raise RowError(f"{key} must be one of {', '.join(choices)}, got {raw!r}")
    return raw


def _text(row: dict[str, str], key: str) -> str | None:
    raw = (row.get(key) or "").strip()
    return raw or None


def read_rows(path: Path, kind: str) -> Rows:
    """(line number, row) pairs; a file that is not a usable CSV is one clear error."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:
        raise InputError(f"{path}:1: {exc}") from None
    missing = REQUIRED[kind] - set(header)
    if missing:
        raise InputError(f"{path}:1: missing column(s): {', '.join(sorted(missing))}")
    rows: Rows = []
    errors: list[str] = []
    try:
        for row in reader:
            line = reader.line_num
            if None in row or any(v is None for v in row.values()):
                errors.append(f"{path}:{line}: expected {len(header)} fields, got a different number")
                continue
            if not any((v or "").strip() for v in row.values()):
                continue  # blank line
            rows.append((line, row))
    except csv.Error as exc:
        errors.append(f"{path}:{reader.line_num}: {exc}")
    if errors:
        raise InputError("\n".join(errors))
    return rows


def import_csv(engine: Engine, kind: str, path: Path, *, actor: str = "import", clock: Clock = utcnow) -> ImportResult:
    if kind not in KINDS:
        raise InputError(f"unknown import {kind!r} ({', '.join(KINDS)})")
    rows = read_rows(path, kind)
    applier: Callable[..., ImportResult] = {"servers": _servers, "components": _components, "stock": _stock}[kind]
    with write_session(engine) as session:
        return applier(session, path, rows, actor, clock())


def _collect(
    path: Path, rows: Iterable[tuple[int, dict[str, str]]], check: Callable[[int, dict[str, str]], Any]
) -> list[Any]:
    """Run `check` on every row; report all bad rows at once, or return the checked values."""
    good: list[Any] = []
    errors: list[str] = []
    for line, row in rows:
        try:
            good.append(check(line, row))
        except RowError as exc:
            errors.append(f"{path}:{line}: {exc}")
    if errors:
        raise InputError("\n".join(errors))
    return good


def _lookup(session: Session, model: Any, column: Any) -> dict[str, Any]:
    return {getattr(obj, column): obj for obj in session.exec(select(model)).all()}


def _servers(session: Session, path: Path, rows: Rows, actor: str, now: datetime) -> ImportResult:
    models = _lookup(session, ServerModel, "name")
    sites = _lookup(session, Site, "code")
    customers = _lookup(session, Customer, "name")
    existing = _lookup(session, Server, "hostname")
    seen: dict[str, dict[str, int]] = {"hostname": {}, "asset_tag": {}, "serial": {}}
    by_tag = {s.asset_tag: s.hostname for s in existing.values()}
    by_serial = {s.serial: s.hostname for s in existing.values()}

    def check(line: int, row: dict[str, str]) -> dict[str, Any]:
        host = _text(row, "hostname")
        if not host:
            raise RowError("hostname is empty")
        for key in seen:
            value = _text(row, key)
            if not value:
                raise RowError(f"{key} is empty")
            if value in seen[key]:
                raise RowError(f"{key} {value!r} already on line {seen[key][value]}")
            seen[key][value] = line
        tag, serial = _text(row, "asset_tag"), _text(row, "serial")
        if by_tag.get(tag, host) != host:
            raise RowError(f"asset_tag {tag!r} belongs to {by_tag[tag]}")
        if by_serial.get(serial, host) != host:
            raise RowError(f"serial {serial!r} belongs to {by_serial[serial]}")
        model = models.get(_text(row, "model") or "")
        if model is None:
            raise RowError(f"unknown server model {row.get('model')!r}")
        site = sites.get(_text(row, "site") or "")
        if site is None:
            raise RowError(f"unknown site {row.get('site')!r}")
        customer_name = _text(row, "customer")
        customer = customers.get(customer_name) if customer_name else None
        if customer_name and customer is None:
            raise RowError(f"unknown customer {customer_name!r}")
        ref = _text(row, "credential_ref")
        if ref and not ref.startswith(("env:", "file:")):
            # A password pasted here would end up in clear in the database.
            raise RowError("credential_ref must be a reference (env:VAR or file:PATH#entry), never a secret")
        port = _int(row, "controller_port", 623, 1)
        if port is not None and port > 65535:
            raise RowError(f"controller_port out of range: {port}")
        return {
            "hostname": host, "asset_tag": tag, "serial": serial, "model_id": model.id, "site_id": site.id,
            "rack": _text(row, "rack"), "unit": _int(row, "unit", None, 1),
            "customer_id": customer.id if customer else None,
            "plan": _choice(row, "plan", ("dedicated", "vm", "vps", "shared"), "dedicated"),
            "backup_option": _bool(row, "backup_option"),
            "monthly_fee_cents": _int(row, "monthly_fee_cents", 0),
            "billing": _choice(row, "billing", ("monthly", "annual"), "monthly"),
            "controller_host": _text(row, "controller_host"), "controller_port": port,
            "controller_protocol": _choice(row, "controller_protocol", ("ipmi", "snmp", "none"), "ipmi"),
            "controller_user": _text(row, "controller_user"), "credential_ref": ref,
            "web_port": _int(row, "web_port", None, 1), "dns_port": _int(row, "dns_port", None, 1),
            "status": _choice(row, "status", ("active", "down", "maintenance", "decommissioned"), "active"),
            "service_host": _text(row, "service_host"), "annual_fee_cents": _int(row, "annual_fee_cents", None),
        }  # fmt: skip

    values = _collect(path, rows, check)
    result = ImportResult("servers")
    for v in values:
        server = existing.get(v["hostname"])
        if server is None:
            session.add(Server(**v))
            result.created += 1
        else:
            for key, value in v.items():
                setattr(server, key, value)
            session.add(server)
            result.updated += 1
    return result


def _components(session: Session, path: Path, rows: Rows, actor: str, now: datetime) -> ImportResult:
    servers = _lookup(session, Server, "hostname")
    parts = _lookup(session, PartModel, "part_number")
    installed = {
        (c.server_id, c.slot): c
        for c in session.exec(select(Component).where(Component.removed_at.is_(None))).all()  # type: ignore[union-attr]
    }
    serial_owner = {c.serial: (c.server_id, c.slot) for c in installed.values() if c.serial}
    seen_slot: dict[tuple[str, str], int] = {}
    seen_serial: dict[str, int] = {}

    def check(line: int, row: dict[str, str]) -> dict[str, Any]:
        server = servers.get(_text(row, "hostname") or "")
        if server is None:
            raise RowError(f"unknown server {row.get('hostname')!r}")
        slot = _text(row, "slot")
        if not slot:
            raise RowError("slot is empty")
        key = (server.hostname, slot)
        if key in seen_slot:
            raise RowError(f"{server.hostname} {slot} already on line {seen_slot[key]}")
        seen_slot[key] = line
        part = parts.get(_text(row, "part_number") or "")
        if part is None:
            raise RowError(f"unknown part number {row.get('part_number')!r}")
        serial = _text(row, "serial")
        if serial:
            if serial in seen_serial:
                raise RowError(f"serial {serial!r} already on line {seen_serial[serial]}")
            seen_serial[serial] = line
            owner = serial_owner.get(serial)
            if owner is not None and owner != (server.id, slot):
                raise RowError(f"serial {serial!r} is installed elsewhere")
        when = _text(row, "installed_at")
        try:
            installed_at = parse_time(when) if when else now
        except ValueError as exc:
            raise RowError(str(exc)) from None
        return {"server_id": server.id, "slot": slot, "part_model_id": part.id, "serial": serial,
                "installed_at": installed_at}  # fmt: skip

    values = _collect(path, rows, check)
    result = ImportResult("components")
    for v in values:
        comp = installed.get((v["server_id"], v["slot"]))
        if comp is None:
            session.add(Component(**v))
            result.created += 1
        else:
            for key, value in v.items():
                setattr(comp, key, value)
            session.add(comp)
            result.updated += 1
    return result


def _stock(session: Session, path: Path, rows: Rows, actor: str, now: datetime) -> ImportResult:
    sites = _lookup(session, Site, "code")
    parts = _lookup(session, PartModel, "part_number")
    existing = {(s.site_id, s.part_model_id): s for s in session.exec(select(Stock)).all()}
    seen: dict[tuple[int, int], int] = {}

    def check(line: int, row: dict[str, str]) -> dict[str, Any]:
        site = sites.get(_text(row, "site") or "")
        if site is None:
            raise RowError(f"unknown site {row.get('site')!r}")
        part = parts.get(_text(row, "part_number") or "")
        if part is None:
            raise RowError(f"unknown part number {row.get('part_number')!r}")
        key = (site.id, part.id)
        if key in seen:
            raise RowError(f"{site.code} {part.part_number} already on line {seen[key]}")
        seen[key] = line
        on_hand = _int(row, "on_hand")
        current = existing.get(key)
        reserved = _int(row, "reserved", current.reserved if current else 0)
        assert on_hand is not None and reserved is not None
        if reserved > on_hand:
            raise RowError(f"reserved ({reserved}) is more than on hand ({on_hand})")
        bin_ = _text(row, "bin")
        if not bin_:
            raise RowError("bin is empty")
        return {"site_id": site.id, "part_model_id": part.id, "bin": bin_, "on_hand": on_hand, "reserved": reserved,
                "reorder_level": _int(row, "reorder_level", current.reorder_level if current else 0)}  # fmt: skip

    values = _collect(path, rows, check)
    result = ImportResult("stock")
    for v in values:
        row = existing.get((v["site_id"], v["part_model_id"]))
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
    return result


def export_csv(engine: Engine, kind: str, out: io.TextIOBase | Any) -> int:
    """Write the CSV that `import` reads back. Returns the number of rows."""
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
            writer.writerow(["" if v is None else v for v in r])
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
            s.controller_user, s.credential_ref, s.web_port, s.dns_port, s.status, s.service_host, s.annual_fee_cents,
        ]  # fmt: skip


def _component_rows(session: Session) -> Iterable[list[Any]]:
    hosts = {s.id: s.hostname for s in session.exec(select(Server))}
    parts = {p.id: p.part_number for p in session.exec(select(PartModel))}
    comps = session.exec(select(Component).where(Component.removed_at.is_(None))).all()  # type: ignore[union-attr]
    for c in sorted(comps, key=lambda c: (hosts[c.server_id], c.slot)):
        yield [hosts[c.server_id], c.slot, parts[c.part_model_id], c.serial,
               c.installed_at.isoformat() if c.installed_at else None]  # fmt: skip


def _stock_rows(session: Session) -> Iterable[list[Any]]:
    sites = {s.id: s.code for s in session.exec(select(Site))}
    parts = {p.id: p.part_number for p in session.exec(select(PartModel))}
    stock = session.exec(select(Stock)).all()
    for s in sorted(stock, key=lambda s: (sites[s.site_id], parts[s.part_model_id])):
        yield [sites[s.site_id], parts[s.part_model_id], s.bin, s.on_hand, s.reserved, s.reorder_level]
