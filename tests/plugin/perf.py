"""Reading perfdata as the Monitoring Plugins guidelines define it: 'label'=value[UOM];[warn];[crit];[min];[max]."""

from __future__ import annotations

import re

_ITEM = re.compile(r"\s*(?:'((?:[^']|'')*)'|([^'=\s]+))=(\S+)")
_VALUE = re.compile(r"^(-?\d+(?:\.\d+)?)([a-zA-Z%]*)$")


def parse_perfdata(text: str) -> dict[str, list[str]]:
    """label -> [value with unit, warn, crit, min, max] (missing fields as ""); fails on anything malformed."""
    out: dict[str, list[str]] = {}
    pos = 0
    while pos < len(text.rstrip()):
        m = _ITEM.match(text, pos)
        assert m, f"malformed perfdata at {text[pos:]!r}"
        label = m.group(1) if m.group(1) is not None else m.group(2)
        fields = (m.group(3).split(";") + [""] * 5)[:5]
        assert _VALUE.match(fields[0]), f"bad value {fields[0]!r} for {label!r}"
        assert label not in out, f"label {label!r} twice"
        out[label] = fields
        pos = m.end()
    return out


def split_output(out: str) -> tuple[str, dict[str, list[str]], list[str]]:
    """(first line's text, its perfdata, the long output lines)."""
    first, *rest = out.splitlines()
    text, sep, perf = first.partition(" | ")
    return text, parse_perfdata(perf) if sep else {}, rest
