"""Lenovo XClarity Controller (LENOVO-XCC-MIB, 1.3.6.1.4.1.19046.11.1) and IBM IMM (IMM-MIB, 1.3.6.1.4.1.2.3.51.3).

Both MIBs share one layout: temperature, voltage and fan tables with readings only, a global systemHealthStat,
and a health summary table listing every active problem with its severity and text.
"""

from __future__ import annotations

from collections.abc import Callable

from fleet.collectors.snmp.decode import CRIT, OK, WARN, StatusColumn, ValueColumn, as_int, as_text, enum_of, oid
from fleet.collectors.snmp.engine import WalkResult
from fleet.collectors.snmp.profiles import Profile
from fleet.health.model import Kind, Reading, State

HEALTH = enum_of((0, "nonRecoverable", CRIT), (2, "critical", CRIT), (4, "nonCritical", WARN), (255, "normal", OK))
_SEVERITY = {
    "critical": State.CRITICAL,
    "non-critical": State.WARNING,
    "warning": State.WARNING,
    "system level": State.WARNING,
}


def _summary(base: str) -> Callable[[WalkResult], list[Reading]]:
    """systemHealthSummaryTable: one row per active problem (severity text, description)."""

    def read(walk: WalkResult) -> list[Reading]:
        out: list[Reading] = []
        for index, cell in walk.column(oid(f"{base}.4.2.1.2")):
            severity = as_text(cell)
            text = as_text(walk.get((*oid(f"{base}.4.2.1.3"), *index))) or "problem"
            state = _SEVERITY.get(severity.lower(), State.WARNING)
            out.append(Reading(text, Kind.OTHER, "", state, None, None, f"systemHealthSummarySeverity {severity}"))
        return out

    return read


def _power(walk: WalkResult) -> str | None:
    # XCC currentSysPowerStatus: 0 powered off, 255 power on.
    value = as_int(walk.get(oid("1.3.6.1.4.1.19046.11.1.5.1.1.0")))
    return {0: "off", 255: "on"}.get(value) if value is not None else None


def _profile(name: str, base: str, extra: tuple[str, ...], millivolts: bool) -> Profile:
    return Profile(
        name=name,
        subtrees=(f"{base}.4.2.1.2", f"{base}.4.2.1.3", *extra),
        status=(StatusColumn("systemHealthStat", f"{base}.4.1", Kind.BOARD, HEALTH, name_fmt="System health"),),
        values=(
            ValueColumn("tempReading", f"{base}.1.2.1.3", Kind.TEMPERATURE, name=f"{base}.1.2.1.2", unit="C"),
            ValueColumn(
                "voltReading",
                f"{base}.2.2.1.3",
                Kind.VOLTAGE,
                name=f"{base}.2.2.1.2",
                divisor=1000 if millivolts else 1,
                unit="V",
            ),
            ValueColumn("fanSpeed", f"{base}.3.2.1.3", Kind.FAN, name=f"{base}.3.2.1.2", unit="%"),
        ),
        custom=(_summary(base),),
        power=_power if name == "lenovo-xcc" else None,
    )


XCC = _profile("lenovo-xcc", "1.3.6.1.4.1.19046.11.1.1", ("1.3.6.1.4.1.19046.11.1.5.1.1",), millivolts=False)
IMM = _profile("ibm-imm", "1.3.6.1.4.1.2.3.51.3.1", (), millivolts=True)
