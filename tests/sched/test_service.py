"""The scheduling service on both engines: Swap rows, deadlines, notes, windows, mails, audit."""

from __future__ import annotations

import email
import json
from datetime import UTC, datetime, timedelta
from email import policy
from pathlib import Path

import icalendar
import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from fleet.clock import FrozenClock
from fleet.config import Settings
from fleet.errors import FleetError, InputError, NotFound
from fleet.store.db import make_engine, read_session, write_session
from fleet.store.migrate import upgrade
from fleet.store.models import Audit, Fault, MaintenanceWindow, Server, Site, Swap, Ticket, Transfer
from fleet.swaps.plan import escalations, plan_critical
from fleet.swaps.proposals import agree_window, decline_window
from fleet.swaps.rounds import plan_swaps, run_planning

from . import fleet_rows as rows
from .fleet_rows import cli


def utc(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(outbox=str(tmp_path / "outbox"))


def _fault_of(engine: Engine, swap: Swap) -> Fault:
    with read_session(engine) as s:
        f = s.get(Fault, swap.fault_id)
    assert f is not None
    return f


def audits(engine: Engine, action: str) -> list[Audit]:
    with read_session(engine) as s:
        return list(s.exec(select(Audit).where(Audit.action == action)).all())


def test_psu_by_ticket_then_monitoring_targets_one_hour_and_limits_four_after_the_ticket(
    engine: Engine, settings: Settings
) -> None:
    clock = FrozenClock(utc(2026, 11, 27, 2, 20))
    with write_session(engine) as s:
        st = rows.site(s)
        rows.technician(s, st, "ana")
        srv = rows.server(s, st, "web1")
        # Ticket at 02:10, monitoring at 02:14: the notification is the earliest, 02:10.
        f = rows.fault(s, srv, "PSU2", "psu", at=utc(2026, 11, 27, 2, 14), source="ticket")
        f.notified_at = min(utc(2026, 11, 27, 2, 10), utc(2026, 11, 27, 2, 14))
        s.add(Ticket(server_id=srv.id or 0, fault_id=f.id, slot="PSU2", text="PSU2 dead", critical=True,
                     opened_at=utc(2026, 11, 27, 2, 10)))  # fmt: skip
        (p,) = plan_critical(s, now=clock(), settings=settings)
    assert (p.target, p.limit) == (utc(2026, 11, 27, 3, 10), utc(2026, 11, 27, 6, 10))
    assert p.technician == "ana" and p.start == clock() and not p.late
    with read_session(engine) as s:
        swap = s.exec(select(Swap)).one()
    assert (swap.target_at, swap.hard_limit_at, swap.planned_start) == (
        utc(2026, 11, 27, 3, 10), utc(2026, 11, 27, 6, 10), utc(2026, 11, 27, 2, 20))  # fmt: skip
    assert swap.critical and swap.state == "planned" and swap.note is None
    assert len(audits(engine, "swap.plan")) == 1
    # Planning again with nothing new changes nothing and writes no audit entry.
    with write_session(engine) as s:
        (p2,) = plan_critical(s, now=clock(), settings=settings)
    assert not p2.changed and audits(engine, "swap.replan") == []


def test_an_escalated_fault_starts_its_clock_at_escalation(engine: Engine, settings: Settings) -> None:
    with write_session(engine) as s:
        st = rows.site(s)
        rows.technician(s, st, "ana")
        srv = rows.server(s, st, "db1")
        rows.fault(s, srv, "Disk 0:1:1", "disk", at=utc(2026, 11, 26, 9), critical_since=utc(2026, 11, 27, 1, 30))
        (p,) = plan_critical(s, now=utc(2026, 11, 27, 1, 35), settings=settings)
    assert (p.target, p.limit) == (utc(2026, 11, 27, 2, 30), utc(2026, 11, 27, 5, 30))


def test_night_shift_three_faults_sequential_and_the_late_one_has_a_note(engine: Engine, settings: Settings) -> None:
    with write_session(engine) as s:
        st = rows.site(s, tz="UTC")
        rows.technician(s, st, "night", shifts=rows.hours(*[(d, "22:00", "06:00") for d in range(7)]))
        for i, minute in enumerate((0, 5, 10)):
            srv = rows.server(s, st, f"h{i}")
            rows.fault(s, srv, "CPU1", "cpu", at=utc(2026, 11, 27, 1, minute))
        result = run_planning(s, now=utc(2026, 11, 27, 1, 15), settings=settings)
    # cpu = 90 minutes: 01:15-02:45, 02:45-04:15, 04:15-05:45 against limits 05:00, 05:05, 05:10.
    assert [(p.server, p.start, p.late) for p in result.critical] == [
        ("h0", utc(2026, 11, 27, 1, 15), False),
        ("h1", utc(2026, 11, 27, 2, 45), False),
        ("h2", utc(2026, 11, 27, 4, 15), True),
    ]
    assert [p.server for p in result.late] == ["h2"]
    with read_session(engine) as s:
        late = s.get(Swap, result.late[0].swap_id)
    assert late is not None and late.note and "after the hard limit" in late.note


def test_a_transfer_that_makes_the_limit_impossible_is_flagged(engine: Engine, settings: Settings) -> None:
    with write_session(engine) as s:
        st, other = rows.site(s), rows.site(s, "AMS1", "Europe/Amsterdam")
        rows.technician(s, st, "ana")
        srv = rows.server(s, st, "web1")
        f = rows.fault(s, srv, "PSU1", "psu", at=utc(2026, 11, 27, 2))
        s.add(rows.part_model(s) and Transfer(part_model_id=1, from_site_id=other.id or 0, to_site_id=st.id or 0,
                                              fault_id=f.id, state="in_transit", created_at=utc(2026, 11, 27, 2),
                                              eta=utc(2026, 11, 27, 5, 55)))  # fmt: skip
        (p,) = plan_critical(s, now=utc(2026, 11, 27, 2, 5), settings=settings)
    # Limit 06:00; the part is here at 05:55 and a PSU takes 15 minutes: 06:10.
    assert p.late and p.start == utc(2026, 11, 27, 5, 55) and p.end == utc(2026, 11, 27, 6, 10)
    with read_session(engine) as s:
        swap = s.get(Swap, p.swap_id)
    assert swap is not None and swap.note and "part arrives" in swap.note


def _noncritical_fleet(engine: Engine, *, backup: bool = False) -> None:
    with write_session(engine) as s:
        st = rows.site(s)
        rows.technician(s, st, "ana", shifts=rows.hours(*[(d, "08:00", "18:00") for d in range(5)]))
        cust = rows.customer(s, preferred=[{"weekday": d, "start": "10:00", "end": "12:00"} for d in (1, 3)])
        srv = rows.server(s, st, "web1", cust=cust, backup_option=backup)
        rows.fault(s, srv, "Disk 0:1:2", "disk", at=utc(2026, 10, 20, 9), severity="non-critical", problem="predictive")
        rows.fault(s, srv, "FAN3", "fan", at=utc(2026, 10, 20, 9, 5), severity="non-critical")


def test_noncritical_faults_of_one_server_get_one_mail_with_windows_in_the_customer_time(
    engine: Engine, settings: Settings
) -> None:
    _noncritical_fleet(engine)
    now = utc(2026, 10, 20, 12)  # Tuesday
    with write_session(engine) as s:
        result = run_planning(s, now=now, settings=settings)
    (prop,) = result.proposals
    assert len(prop.swap_ids) == 2 and len(prop.window_ids) == settings.windows_to_propose
    # Tuesdays and Thursdays 10:00-12:00 Paris, from Wednesday 12:00Z (24 h notice): Thu 22 Oct CEST = 08:00Z,
    # Tue 27 Oct and Thu 29 Oct CET = 09:00Z.
    with read_session(engine) as s:
        windows = s.exec(select(MaintenanceWindow).order_by(col(MaintenanceWindow.start_at))).all()
        swaps = s.exec(select(Swap)).all()
    assert [(w.start_at, w.end_at, w.state) for w in windows] == [
        (utc(2026, 10, 22, 8), utc(2026, 10, 22, 10), "proposed"),
        (utc(2026, 10, 27, 9), utc(2026, 10, 27, 11), "proposed"),
        (utc(2026, 10, 29, 9), utc(2026, 10, 29, 11), "proposed"),
    ]
    assert {sw.state for sw in swaps} == {"awaiting_customer"}
    # Disk on a server without the backup option: its work order and the mail warn; the fan's work order does not.
    warnings = {f.kind: sw.warning for sw in swaps for f in [_fault_of(engine, sw)]}
    assert warnings["disk"] is not None and "backup" in warnings["disk"]
    assert warnings["fan"] is None
    assert prop.mail is not None
    body = prop.mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "IMPORTANT: no backup option" in body and "Thu 22 Oct 10:00 CEST" in body
    (ics,) = list(prop.mail.iter_attachments())
    cal = icalendar.Calendar.from_ical(ics.get_content())
    assert [e.decoded("dtstart") for e in cal.walk("VEVENT")] == [w.start_at for w in windows]
    assert len(audits(engine, "window.propose")) == 3
    # Planning again sends nothing new: the proposals are out.
    with write_session(engine) as s:
        assert run_planning(s, now=now + timedelta(hours=1), settings=settings).proposals == []


def test_agreeing_a_window_plans_the_whole_batch_in_it(engine: Engine, settings: Settings) -> None:
    _noncritical_fleet(engine, backup=True)
    now = utc(2026, 10, 20, 12)
    with write_session(engine) as s:
        (prop,) = run_planning(s, now=now, settings=settings).proposals
    assert prop.warning is None
    chosen = prop.window_ids[1]
    with write_session(engine) as s:
        planned = agree_window(s, prop.swap_ids[0], chosen, now=now + timedelta(hours=3), settings=settings,
                               actor="desk")  # fmt: skip
    assert len(planned) == 2
    with read_session(engine) as s:
        swaps = sorted(s.exec(select(Swap)).all(), key=lambda x: x.id or 0)
        windows = {w.id: w.state for w in s.exec(select(MaintenanceWindow)).all()}
    # Disk 30 min then fan 15 min, from Tue 27 Oct 09:00Z.
    assert [(sw.state, sw.window_id, sw.planned_start) for sw in swaps] == [
        ("agreed", chosen, utc(2026, 10, 27, 9)), ("agreed", chosen, utc(2026, 10, 27, 9, 30))]  # fmt: skip
    assert all(sw.technician_id is not None for sw in swaps)
    assert sorted(windows.values()) == ["agreed", "expired", "expired"]
    assert len(audits(engine, "window.agree")) == 1
    with write_session(engine) as s, pytest.raises(InputError):
        agree_window(s, prop.swap_ids[0], chosen, now=now, settings=settings, actor="desk")
    with write_session(engine) as s, pytest.raises(NotFound):
        agree_window(s, prop.swap_ids[0], 9999, now=now, settings=settings, actor="desk")


def test_a_customer_who_does_not_answer_is_escalated(engine: Engine, settings: Settings) -> None:
    _noncritical_fleet(engine)
    now = utc(2026, 10, 20, 12)
    with write_session(engine) as s:
        run_planning(s, now=now, settings=settings)
    with read_session(engine) as s:
        first_window = min(w.start_at for w in s.exec(select(MaintenanceWindow)).all())
    # The answer is due 48 h after the proposal, or an hour before the first window offered if that comes sooner.
    due = min(now + timedelta(hours=settings.customer_answer_within_h), first_window - timedelta(hours=1))
    assert due < first_window
    with read_session(engine) as s:
        just_before = escalations(s, now=due - timedelta(seconds=1), settings=settings)
        after = escalations(s, now=due, settings=settings)
    assert just_before == {}
    assert len(after) == 2 and all("not answered" in why for why in after.values())


def test_declining_every_window_leads_to_new_proposals(engine: Engine, settings: Settings) -> None:
    _noncritical_fleet(engine)
    now = utc(2026, 10, 20, 12)
    with write_session(engine) as s:
        (prop,) = run_planning(s, now=now, settings=settings).proposals
    with write_session(engine) as s:
        for w in prop.window_ids:
            decline_window(s, prop.swap_ids[0], w, now=now + timedelta(hours=1), actor="desk")
    with write_session(engine) as s:
        (again,) = run_planning(s, now=now + timedelta(hours=2), settings=settings).proposals
    assert len(again.window_ids) == 3 and not set(again.window_ids) & set(prop.window_ids)
    assert again.mail is not None


def test_a_noncritical_fault_that_becomes_critical_leaves_the_customer_queue(
    engine: Engine, settings: Settings
) -> None:
    _noncritical_fleet(engine)
    now = utc(2026, 10, 20, 12)
    with write_session(engine) as s:
        run_planning(s, now=now, settings=settings)
    with write_session(engine) as s:
        swap = s.exec(select(Swap)).first()
        assert swap is not None

        f = s.get(Fault, swap.fault_id)
        assert f is not None
        f.severity, f.critical_since = "critical", now + timedelta(hours=1)
        s.add(f)
        (p,) = plan_critical(s, now=now + timedelta(hours=1), settings=settings)
    assert p.limit == now + timedelta(hours=5)
    with read_session(engine) as s:
        again = s.get(Swap, p.swap_id)
    assert again is not None and again.critical and again.state == "planned" and again.window_id is None


def test_outbox_mail_is_written_by_the_cli(
    tmp_path: Path, sqlite_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fleet swap plan` delivers the mail and commits; `fleet swaps --json` shows the state."""

    eng = make_engine(sqlite_url)
    upgrade(eng)
    now = datetime.now(UTC)
    with write_session(eng) as s:
        st = rows.site(s)
        rows.technician(s, st, "ana")
        cust = rows.customer(s)
        srv = rows.server(s, st, "web1", cust=cust)
        rows.fault(s, srv, "FAN3", "fan", at=now - timedelta(minutes=5), severity="non-critical")
    eng.dispose()
    outbox = tmp_path / "mail"
    monkeypatch.setenv("FLEET_OUTBOX", str(outbox))
    (tmp_path / "empty.toml").write_text("")  # no settings file of the machine's in the way
    monkeypatch.setenv("FLEET_CONFIG", str(tmp_path / "empty.toml"))
    code, out, err = cli(["swap", "plan", "--db", sqlite_url, "--json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    (prop,) = data["proposals"]
    (eml,) = outbox.glob("*.eml")
    assert prop["mail"] == str(eml)
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert msg["To"] == "ops@client.example"
    code, out, _ = cli(["swaps", "--db", sqlite_url, "--json"], capsys)
    (row,) = json.loads(out)["swaps"]
    assert row["state"] == "awaiting_customer" and row["escalated"] is None


def test_cli_agree_with_an_unknown_swap_is_one_line_and_status_4(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:

    upgrade(make_engine(sqlite_url))
    code, _, err = cli(["swap", "agree", "77", "--window", "3", "--db", sqlite_url], capsys)
    assert code == 4
    assert err.strip() == "fleet: no swap 77"


def test_fleet_swaps_shows_an_escalated_customer(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:

    eng = make_engine(sqlite_url)
    upgrade(eng)
    _noncritical_fleet(eng)
    # Proposed in October 2026: by the wall clock of any run of this test, the customer has long missed the answer.
    with write_session(eng) as s:
        (prop,) = run_planning(s, now=utc(2026, 10, 20, 12), settings=Settings(outbox="unused")).proposals
    eng.dispose()
    code, out, _ = cli(["swaps", "--db", sqlite_url], capsys)
    assert code == 0
    for swap_id in prop.swap_ids:
        assert f"#{swap_id} ESCALATED" in out
    code, out, _ = cli(["swaps", "--db", sqlite_url, "--json"], capsys)
    assert all(r["escalated"] for r in json.loads(out)["swaps"])


def test_plan_swaps_mails_the_customer_and_a_mail_that_cannot_go_rolls_the_plan_back(
    engine: Engine, tmp_path: Path
) -> None:

    _noncritical_fleet(engine)
    now = utc(2026, 10, 20, 12)
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(FleetError), write_session(engine) as s:
        plan_swaps(s, now=now, settings=Settings(outbox=str(blocker / "outbox")), actor="sweep")
    with read_session(engine) as s:
        assert s.exec(select(MaintenanceWindow)).all() == [] and s.exec(select(Swap)).all() == []
    good = Settings(outbox=str(tmp_path / "outbox"))
    with write_session(engine) as s:
        result = plan_swaps(s, now=now, settings=good, actor="sweep")
    (prop,) = result.proposals
    assert result.planned == 2 and prop.sent_to and Path(prop.sent_to).parent == tmp_path / "outbox"
    assert result.as_dict()["proposals"][0]["mail"] == prop.sent_to


def test_an_agreed_window_keeps_its_technician_busy_for_critical_planning(engine: Engine, settings: Settings) -> None:
    _noncritical_fleet(engine)
    now = utc(2026, 10, 20, 12)
    with write_session(engine) as s:
        (prop,) = run_planning(s, now=now, settings=settings).proposals
        agree_window(s, prop.swap_ids[0], prop.window_ids[0], now=now, settings=settings, actor="desk")
    # The batch (disk 30 + fan 15 min) is on Thu 22 Oct from 08:00Z to 08:45Z. A critical PSU fault at 07:50Z on
    # another server of the site: 15 minutes from 07:50 would end 08:05, inside the batch; next free time is 08:45.
    with write_session(engine) as s:
        site_id = s.exec(select(Server)).first().site_id  # type: ignore[union-attr]
        st = s.get(Site, site_id)
        assert st is not None
        other = rows.server(s, st, "web2")
        rows.fault(s, other, "PSU1", "psu", at=utc(2026, 10, 22, 7, 50))
        (p,) = plan_critical(s, now=utc(2026, 10, 22, 7, 50), settings=settings)
    assert (p.start, p.end) == (utc(2026, 10, 22, 8, 45), utc(2026, 10, 22, 9))


def test_a_swap_whose_fault_went_away_is_cancelled(engine: Engine, settings: Settings) -> None:
    _noncritical_fleet(engine)
    now = utc(2026, 10, 20, 12)
    with write_session(engine) as s:
        (prop,) = run_planning(s, now=now, settings=settings).proposals
    with write_session(engine) as s:
        swap = s.get(Swap, prop.swap_ids[1])
        assert swap is not None
        fault = s.get(Fault, swap.fault_id)
        assert fault is not None
        fault.resolved_at, fault.state, fault.resolution = now + timedelta(hours=1), "resolved", "recovered"
        s.add(fault)
    with write_session(engine) as s:
        result = run_planning(s, now=now + timedelta(hours=2), settings=settings)
    assert result.cancelled == [prop.swap_ids[1]]
    with read_session(engine) as s:
        gone = s.get(Swap, prop.swap_ids[1])
    assert gone is not None and gone.state == "cancelled" and gone.note and "recovered" in gone.note
    assert len(audits(engine, "swap.cancel")) == 1
