"""A ticket names a slot the server has and a server by any unique prefix; a critical one gets its spare at once.

Through the command line a person uses (`fleet ticket open`), on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import select

from fleet.store.db import read_session, write_session
from fleet.store.models import Audit, Fault, Reservation, Stock, Ticket
from tests.sched.fleet_rows import cli
from tests.stock import helpers as h


def _fleet(engine: Engine) -> None:
    with write_session(engine) as s:
        par = h.site(s, "PAR1")
        model = h.server_model(s, "R650", psu_count=2)
        psu = h.part(s, "PSU-750", "psu", fits=[model])
        fan = h.part(s, "FAN-STD", "fan", fits=[model])
        for n in (7, 8, 9):
            srv = h.server(s, par, model, hostname=f"par1-sr650-00{n}.hosting.example.net")
            h.component(s, srv, "PSU1", psu)
            h.component(s, srv, "PSU2", psu)
        h.server(s, par, model, hostname="par1-sr650-010.hosting.example.net")
        h.stock(s, par, psu, 3)
        h.stock(s, par, fan, 0)


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _count(engine: Engine, model: type) -> int:
    with read_session(engine) as s:
        return len(s.exec(select(model)).all())


def test_an_unknown_slot_is_one_line_listing_the_valid_ones_and_writes_nothing(engine: Engine, capsys) -> None:
    _fleet(engine)
    code, out, err = cli(["ticket", "open", "--server", "par1-sr650-009.hosting.example.net", "--slot", "PSU9",
                          "--text", "PSU9 dead", "--critical", "--db", _url(engine)], capsys)  # fmt: skip
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("fleet: ")
    assert "no slot 'PSU9'" in err and "PSU1-PSU2" in err and "FAN1-FAN6" in err
    assert _count(engine, Fault) == 0 and _count(engine, Ticket) == 0 and _count(engine, Reservation) == 0


def test_a_slot_spelled_as_a_controller_says_it_is_the_same_slot(engine: Engine, capsys) -> None:
    _fleet(engine)
    code, _out, err = cli(["ticket", "open", "--server", "par1-sr650-009.hosting.example.net", "--slot",
                          "Power Supply 2", "--text", "fan noise", "--db", _url(engine)], capsys)  # fmt: skip
    assert code == 0, err
    with read_session(engine) as s:
        (fault,) = s.exec(select(Fault)).all()
    assert fault.slot == "PSU2"


def test_a_unique_prefix_names_the_server_and_an_ambiguous_one_lists_candidates(engine: Engine, capsys) -> None:
    _fleet(engine)
    code, out, err = cli(["ticket", "open", "--server", "par1-sr650-007", "--slot", "PSU1", "--text", "smell",
                          "--db", _url(engine)], capsys)  # fmt: skip
    assert code == 0, err
    assert "par1-sr650-007.hosting.example.net" in out
    code, out, err = cli(["ticket", "open", "--server", "par1-sr650-00", "--slot", "PSU1", "--text", "smell",
                          "--db", _url(engine)], capsys)  # fmt: skip
    assert code == 2 and err.count("\n") == 1
    assert "names 3 servers" in err
    for n in (7, 8, 9):
        assert f"par1-sr650-00{n}.hosting.example.net" in err
    assert "010" not in err
    code, _, err = cli(["ticket", "open", "--server", "lon1", "--slot", "PSU1", "--text", "x",
                        "--db", _url(engine)], capsys)  # fmt: skip
    assert code == 4 and "no server 'lon1'" in err
    assert _count(engine, Ticket) == 1


def test_a_critical_ticket_reserves_its_spare_at_once(engine: Engine, capsys) -> None:
    _fleet(engine)
    code, out, err = cli(["ticket", "open", "--server", "par1-sr650-008", "--slot", "PSU2", "--text", "both down",
                          "--critical", "--db", _url(engine)], capsys)  # fmt: skip
    assert code == 0, err
    assert "PSU-750 reserved at PAR1" in out
    with read_session(engine) as s:
        (fault,) = s.exec(select(Fault)).all()
        (res,) = s.exec(select(Reservation)).all()
        stock = s.exec(select(Stock).where(Stock.id == res.stock_id)).one()
    assert res.fault_id == fault.id and stock.reserved == 1


def test_a_critical_ticket_without_any_spare_is_flagged_at_once(engine: Engine, capsys) -> None:
    _fleet(engine)
    code, out, err = cli(["ticket", "open", "--server", "par1-sr650-008", "--slot", "FAN2", "--text", "fan gone",
                          "--critical", "--db", _url(engine)], capsys)  # fmt: skip
    assert code == 0, err
    assert "none compatible" in out
    with read_session(engine) as s:
        flags = s.exec(select(Audit).where(Audit.action == "fault.no_spare_in_reach")).all()
    assert len(flags) == 1


def test_swap_plan_reserves_the_spare_of_a_critical_fault_that_has_none(engine: Engine, capsys) -> None:
    _fleet(engine)
    with write_session(engine) as s:
        from fleet.store.models import Server

        srv = s.exec(select(Server).where(Server.hostname.startswith("par1-sr650-007"))).one()  # type: ignore[attr-defined]
        fault = h.fault(s, srv, "PSU1", "psu", critical=True, notified_at=h.T0, critical_since=h.T0)
        fault_id = fault.id
    code, _out, err = cli(["swap", "plan", "--db", _url(engine)], capsys)
    assert code in (0, 1), err
    with read_session(engine) as s:
        (res,) = s.exec(select(Reservation)).all()
    assert res.fault_id == fault_id
