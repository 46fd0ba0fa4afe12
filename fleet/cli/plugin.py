"""`fleet poll`'s output as a monitoring plugin (Monitoring Plugins Development Guidelines; docs/MONITORING.md).

    STATUS: summary | perfdata          first line: status word, what is wrong, performance data
    long output                         one plain line per part, then the new SEL events

Nothing here depends on the terminal: no table layout, no width, no colour, no markup. Text from a controller
(sensor names, details, event texts) is data: `|` (which would start perfdata) is replaced, and control characters
go through the one rule for data shown to people (fleet.views.text.plain).
"""

from __future__ import annotations

import math

from fleet.clock import iso
from fleet.health.model import (
    EXIT_CRITICAL,
    EXIT_OK,
    EXIT_UNKNOWN,
    EXIT_WARNING,
    PollResult,
    Reading,
    State,
    exit_status,
)
from fleet.views.text import plain

STATUS_WORDS = {EXIT_OK: "OK", EXIT_WARNING: "WARNING", EXIT_CRITICAL: "CRITICAL", EXIT_UNKNOWN: "UNKNOWN"}

# Units as Icinga 2 and graphing tools know them; any other unit is left out (the value is still graphed).
# "°C" would be dropped silently by Icinga 2.13; RPM has no perfdata unit.
PERF_UNITS = {
    "°C": "C",
    "C": "C",
    "degrees C": "C",
    "°F": "F",
    "F": "F",
    "K": "K",
    "V": "V",
    "A": "A",
    "W": "W",
    "%": "%",
    "% ": "%",
    "Hz": "Hz",
    "s": "s",
    "ms": "ms",
}
PIPE_REPLACEMENT = "/"
# Problems first, in this order; then the rest as the controller listed them.
_ORDER = {State.CRITICAL: 0, State.WARNING: 1, State.UNKNOWN: 2, State.OK: 3, State.ABSENT: 4}


def text(value: object) -> str:
    """Data as one plain line: no `|` (perfdata separator), no control characters (terminal escapes, newlines)."""
    return plain(value).replace("|", PIPE_REPLACEMENT)


def number(value: float) -> str:
    """A perfdata number: plain decimal, no exponent (`1e-05` is not perfdata), at most 4 decimals."""
    out = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if out in ("-0", "") else out


def perf_label(name: str, taken: set[str]) -> str:
    """A quoted label without `'` or `=` (they end a label), unique within one output."""
    base = text(name).replace("'", "").replace("=", "_").strip() or "sensor"
    label, n = base, 2
    while label in taken:
        label, n = f"{base} #{n}", n + 1
    taken.add(label)
    return f"'{label}'"


def _range(low: float | None, high: float | None) -> str:
    # Upper limits alone are plain numbers (alert above: Icinga 2 keeps them); a lower limit needs the range form
    # `low:` or `low:high` (alert outside), which Icinga 2.13 drops but Nagios, Naemon and graphers read. A plain
    # number for a lower limit would mean the opposite, so it is never written that way.
    if low is None and high is None:
        return ""
    if low is None:
        return number(high) if high is not None else ""
    return f"{number(low)}:{number(high) if high is not None else ''}"


def perfdata(result: PollResult) -> list[str]:
    taken: set[str] = set()
    counts = {s: sum(1 for r in result.readings if r.state is s) for s in (State.CRITICAL, State.WARNING)}
    unusable = sum(1 for r in result.readings if r.state is State.UNKNOWN)
    out = [
        f"{perf_label('critical parts', taken)}={counts[State.CRITICAL]};;0;0",
        f"{perf_label('warning parts', taken)}={counts[State.WARNING]};0;;0",
        f"{perf_label('unusable readings', taken)}={unusable};;;0",
    ]
    for r in result.readings:
        if r.value is None or not math.isfinite(r.value):
            continue
        unit = PERF_UNITS.get(r.unit or "", "")
        warn, crit = _range(r.warn_low, r.warn_high), _range(r.crit_low, r.crit_high)
        item = f"{perf_label(r.name, taken)}={number(r.value)}{unit};{warn};{crit}".rstrip(";")
        out.append(item)
    return out


def _part(r: Reading) -> str:
    where = r.slot or r.name
    return f"{where} {r.state.value}" + (f" ({r.detail})" if r.detail and r.state is not State.UNKNOWN else "")


def summary(result: PollResult, status: int) -> str:
    """The first line's text after the status word (perfdata not included)."""
    head = f"{result.host} ({result.protocol}"
    head += f", {result.vendor}" if result.vendor and result.error else ""
    if not result.reachable or result.error:
        return f"{head}): {result.error or 'unreachable'}"
    head += f", power {result.power or '?'})"
    if not result.readings:
        return f"{head}: no health reading: the controller answered but reported no sensor or health table"
    bad = [r for r in result.readings if r.state in (State.CRITICAL, State.WARNING)]
    bad.sort(key=lambda r: _ORDER[r.state])
    unknown = [r for r in result.readings if r.state is State.UNKNOWN]
    parts: list[str] = []
    crit = sum(1 for r in bad if r.state is State.CRITICAL)
    if bad:
        parts.append(f"{crit} critical, {len(bad) - crit} warning: " + ", ".join(_part(r) for r in bad))
    if unknown:
        first = unknown[0]
        why = f" ({first.name}: {first.detail})" if first.detail else f" ({first.name})"
        parts.append(f"{len(unknown)} of {len(result.readings)} readings unusable{why}")
    if status == EXIT_OK:
        parts.append(f"all {len(result.readings)} readings healthy")
    return f"{head}: " + "; ".join(parts)


def _reading_line(r: Reading) -> str:
    value = "" if r.value is None else f" {number(r.value)}{(' ' + r.unit) if r.unit else ''}"
    slot = f" [{r.slot}]" if r.slot else ""
    detail = f": {r.detail}" if r.detail else ""
    return f"{r.state.value.upper()}: {r.name}{slot} ({r.kind.value}){value}{detail}"


def render(result: PollResult, *, events_note: str = "new since the last check") -> tuple[str, int]:
    """The whole plugin output (ending in a newline) and its exit status."""
    status = exit_status(result)
    first = f"{STATUS_WORDS[status]}: {summary(result, status)}"
    if result.error or not result.reachable:
        return text(first) + "\n", status  # no reading, nothing to graph
    lines = [text(first) + " | " + " ".join(perfdata(result))]
    for r in sorted(result.readings, key=lambda r: _ORDER[r.state]):
        lines.append(text(_reading_line(r)))
    lines.append(f"events {events_note}: {len(result.events)}")
    for e in result.events:
        when = iso(e.time) if e.time else "-"
        slot = f" [{e.slot}]" if e.slot else ""
        lines.append(text(f"{e.severity.value.upper()}: {when}{slot} {e.text}"))
    return "\n".join(lines) + "\n", status


def failure(status: int, message: str) -> str:
    """A one-line outcome without a poll (bad arguments, an internal error): the status word first."""
    return text(f"{STATUS_WORDS[status]}: {message}") + "\n"
