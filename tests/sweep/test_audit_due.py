"""When the sweep's periodic BMC audit is due (pure rule), which audits count for a sweep's scope (real database),
and the sweep report's typed `audit` field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fleet.store.db import read_session, write_session
from fleet.store.models import BmcAuditRun
from fleet.sweep.audit import audit_due, last_audit
from fleet.sweep.report import AuditSummary, SweepReport

T = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def test_due_once_the_setting_has_passed_and_never_when_off() -> None:
    assert audit_due(None, T, 7)  # never audited
    assert not audit_due(T, T + WEEK - timedelta(seconds=1), 7)
    assert audit_due(T, T + WEEK, 7)
    assert not audit_due(None, T, 0) and not audit_due(T - 100 * WEEK, T, 0)  # 0: off


def test_an_audit_counts_for_the_scope_it_covered(engine) -> None:  # type: ignore[no-untyped-def]
    with write_session(engine) as s:
        s.add(BmcAuditRun(started_at=T, finished_at=T, site_code="PAR1", actor="cli"))
        # started long ago and never finished (its process died): tried again, not "done"
        s.add(BmcAuditRun(started_at=T + timedelta(days=1), site_code=None, actor="sweep"))
    later = T + timedelta(days=2)
    with read_session(engine) as s:
        assert last_audit(s, "PAR1", later) == T
        assert last_audit(s, "NYC1", later) is None
        assert last_audit(s, None, later) is None  # a site's audit does not cover the fleet
        assert last_audit(s, None, T + timedelta(days=1, hours=1)) == T + timedelta(days=1)  # still running


def test_the_report_carries_the_audit_counts() -> None:
    report = SweepReport(started_at="2026-11-02T03:00:00Z")
    assert report.to_dict()["audit"] is None  # not run this round
    report.audit = AuditSummary(controllers=3, findings=2, critical=1, faults_opened=2, work_orders=2)
    got = report.to_dict()["audit"]
    assert got["controllers"] == 3 and got["critical"] == 1 and got["faults_resolved"] == 0
