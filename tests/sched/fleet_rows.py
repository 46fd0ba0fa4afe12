"""Small builders of database rows for the scheduling tests (no sample fleet needed)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from fleet.store.models import Customer, Fault, PartModel, Server, ServerModel, Site, Technician

ALWAYS = [{"weekday": d, "start": "00:00", "end": "00:00"} for d in range(7)]  # 24 h every day


def hours(*spec: tuple[int, str, str]) -> list[dict[str, Any]]:
    return [{"weekday": d, "start": s, "end": e} for d, s, e in spec]


def site(session: Session, code: str = "PAR1", tz: str = "Europe/Paris") -> Site:
    s = Site(code=code, name=code, timezone=tz)
    session.add(s)
    session.flush()
    return s


def customer(session: Session, *, tz: str = "Europe/Paris", preferred: list[dict[str, Any]] | None = None) -> Customer:
    c = Customer(name="Dupont SA", contact_name="Mme Dupont", email="ops@client.example", timezone=tz,
                 preferred_windows=preferred or [])  # fmt: skip
    session.add(c)
    session.flush()
    return c


def technician(
    session: Session,
    st: Site,
    name: str,
    shifts: list[dict[str, Any]] | None = None,
    on_call: list[dict[str, Any]] | None = None,
) -> Technician:
    t = Technician(name=name, site_id=st.id or 0, shifts=ALWAYS if shifts is None else shifts, on_call=on_call or [])
    session.add(t)
    session.flush()
    return t


def server(session: Session, st: Site, name: str, *, cust: Customer | None = None, **kw: Any) -> Server:
    model = session.get(ServerModel, 1)
    if model is None:
        model = ServerModel(id=1, vendor="Dell", name="R650")
        session.add(model)
        session.flush()
    srv = Server(hostname=name, asset_tag=f"A-{name}", serial=f"S-{name}", model_id=1, site_id=st.id or 0, rack="R1",
                 unit=10, customer_id=cust.id if cust else None, controller_host="127.0.0.1", **kw)  # fmt: skip
    session.add(srv)
    session.flush()
    return srv


def fault(session: Session, srv: Server, slot: str, kind: str, *, at: datetime, severity: str = "critical",
          **kw: Any) -> Fault:  # fmt: skip
    f = Fault(server_id=srv.id or 0, slot=slot, kind=kind, problem=kw.pop("problem", "failed"), severity=severity,
              detected_at=at, notified_at=at, **kw)  # fmt: skip
    session.add(f)
    session.flush()
    return f


def part_model(session: Session, kind: str = "psu") -> PartModel:
    p = PartModel(id=1, part_number=f"PN-{kind}", kind=kind, vendor="Dell", description=kind)
    session.add(p)
    session.flush()
    return p


def cli(args: list[str], capsys: Any) -> tuple[int, str, str]:
    """Run the `fleet` command line in-process: (exit status, stdout, stderr)."""
    from fleet.cli import main

    capsys.readouterr()
    try:
        main(args)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err
