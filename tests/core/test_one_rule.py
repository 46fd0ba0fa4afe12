"""One rule, one place: the SLA's clock arithmetic lives in fleet/sla/clocks.py, the state sets beside their tables
(fleet/store/states.py). A grep over the package proves it; a second definition anywhere makes this test fail."""

from __future__ import annotations

import re

from tests.conftest import REPO

PKG = REPO / "fleet"
SKIP = ("sim/", "store/migrations/")  # the simulators write sample history; migrations are frozen text


def sources() -> list[tuple[str, list[str]]]:
    out = []
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(PKG).as_posix()
        if not rel.startswith(SKIP):
            out.append((rel, p.read_text(encoding="utf-8").splitlines()))
    return out


def where(pattern: str) -> set[str]:
    rx = re.compile(pattern)
    return {rel for rel, lines in sources() for line in lines if rx.search(line) and not line.lstrip().startswith("#")}


def test_the_1h_4h_and_acknowledge_arithmetic_is_in_one_module() -> None:
    # Adding the settings' minutes to a time: the only deadline arithmetic there is.
    assert where(r"timedelta\(minutes=settings\.(critical_target_min|critical_limit_min|ack_within_min)") == {
        "sla/clocks.py"
    }
    # "critical_since, else notified_at": the clock start.
    assert where(r"critical_since or\b") == {"sla/clocks.py"}
    assert where(r"def (clock_start|ack_due|ack_status|critical_deadlines|swap_deadlines|in_scope)\b") == {
        "sla/clocks.py"
    }


def test_state_sets_and_plans_are_defined_once() -> None:
    for literal in ('"awaiting_customer"', '"in_transit"', '"in_progress"', '"acknowledged"', '"vps"'):
        assert where(re.escape(literal)) == {"store/states.py"}, literal
    assert where(r'plan\b.*"(dedicated|vm|vps|shared)"') == set()  # scope: fleet.sla.clocks.in_scope
    assert where(r"(ACTIVE|REPLANNABLE)\w* = ") == {"store/states.py"}
    assert where(r'"non-critical"') <= {"health/model.py", "collectors/snmp/profiles/lenovo.py"}


def test_times_are_written_by_the_clock_module_only() -> None:
    # JSON, reports, exports and echoed input use fleet.clock.iso (UTC with Z); people see fleet.clock.site_time.
    # Allowed elsewhere: a collector's own cursor state (never shown), and the pure health layer's SEL evidence text,
    # which cannot import fleet.clock and is UTC by construction there.
    allowed = {"clock.py", "collectors/redfish/logs.py", "health/rules.py"}
    assert where(r"\.isoformat\(\)") <= allowed
    assert where(r"\.strftime\(") - {"clock.py", "tui/views.py"} == set()
