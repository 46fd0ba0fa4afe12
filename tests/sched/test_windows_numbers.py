"""Customer windows a customer can use: whole quarter hours, an answer-by time before the first window, and a
degraded array (one more disk lost is the customer's data lost) offered windows within a day, saying why. Real
database, frozen clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import col, select

from fleet.config import Settings
from fleet.store.db import read_session, write_session
from fleet.store.models import MaintenanceWindow
from fleet.swaps.rounds import run_planning

from . import fleet_rows as rows


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)  # type: ignore[misc]


def _fleet(engine: Engine, *, problem: str, preferred: list[dict[str, object]] | None = None) -> None:
    with write_session(engine) as s:
        st = rows.site(s)
        rows.technician(s, st, "ana", shifts=rows.hours(*[(d, "00:00", "00:00") for d in range(7)]))
        cust = rows.customer(s, preferred=preferred or [])
        srv = rows.server(s, st, "web1", cust=cust, backup_option=True)
        rows.fault(s, srv, "Disk 0:1:2", "disk", at=utc(2026, 10, 20, 9), severity="non-critical", problem=problem)


def _plan(engine: Engine, now: datetime, tmp_path: Path) -> tuple[list[MaintenanceWindow], str]:
    settings = Settings(outbox=str(tmp_path / "outbox"))
    with write_session(engine) as s:
        (prop,) = run_planning(s, now=now, settings=settings).proposals
    with read_session(engine) as s:
        windows = list(s.exec(select(MaintenanceWindow).order_by(col(MaintenanceWindow.start_at))).all())
    assert prop.mail is not None
    return windows, prop.mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]


def test_windows_start_on_quarter_hours_and_the_answer_is_due_before_the_first(engine: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # A predictive disk, no preferred hours, a technician around the clock: the first window is now + 24 h notice,
    # 05:13:07 + 24 h rounded up to 05:15:00 the next day (Paris 07:15 CEST).
    _fleet(engine, problem="predictive")
    windows, body = _plan(engine, utc(2026, 10, 20, 5, 13, 7), tmp_path)
    assert windows[0].start_at == utc(2026, 10, 21, 5, 15)
    assert all(w.start_at.minute % 15 == 0 and w.start_at.second == 0 for w in windows)
    # Due 48 h after the proposal would be after the first window: it is due an hour before it (06:15 Paris).
    assert "Please answer by Wed 21 Oct 06:15 CEST" in body, body
    assert "Why so soon" not in body


def test_a_degraded_array_gets_windows_within_a_day_and_the_mail_says_why(engine: Engine, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # One disk of a RAID1 failed (non-critical: the mirror runs). Preferred hours on Fridays only would put the first
    # window three days away; the windows come within 24 h instead, 2 h notice, 3 h apart.
    _fleet(engine, problem="failed", preferred=[{"weekday": 4, "start": "10:00", "end": "12:00"}])
    now = utc(2026, 10, 20, 5, 13, 7)  # a Tuesday
    windows, body = _plan(engine, now, tmp_path)
    assert [w.start_at for w in windows] == [utc(2026, 10, 20, 7, 15), utc(2026, 10, 20, 10, 15),
                                             utc(2026, 10, 20, 13, 15)]  # fmt: skip
    assert all(w.start_at < now + timedelta(hours=24) for w in windows)
    assert "Why so soon: a disk of a redundant array has failed" in body and "within 24 hours" in body
    assert "Please answer by Tue 20 Oct 08:15 CEST" in body, body
