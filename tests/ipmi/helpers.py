"""Reading ipmitool's output, the independent view of the same simulated BMC."""

from __future__ import annotations

import re

from fleet.health.model import PollResult, State

# ipmitool's status column for threshold sensors -> the state a user should see
THRESHOLD_STATUS = {
    "ok": State.OK,
    "lnc": State.WARNING,
    "unc": State.WARNING,
    "lcr": State.CRITICAL,
    "ucr": State.CRITICAL,
    "lnr": State.CRITICAL,
    "unr": State.CRITICAL,
    "ns": State.UNKNOWN,
}


def sdr_elist(text: str) -> dict[str, tuple[str, str]]:
    """name -> (status, reading text) from `ipmitool sdr elist`."""
    out = {}
    for line in text.splitlines():
        cols = [c.strip() for c in line.split("|")]
        if len(cols) == 5:
            out[cols[0]] = (cols[2], cols[4])
    return out


def number(reading_text: str) -> float | None:
    m = re.match(r"^(-?\d+(?:\.\d+)?) ", reading_text)
    return float(m.group(1)) if m else None


def assert_matches_ipmitool(result: PollResult, elist_text: str) -> int:
    """Every sensor ipmitool lists is in the result with the same value and status; returns how many compared."""
    theirs = sdr_elist(elist_text)
    ours = {r.name: r for r in result.readings}
    assert set(ours) == set(theirs), f"sensor names differ: {set(ours) ^ set(theirs)}"
    for name, (status, text) in theirs.items():
        r = ours[name]
        value = number(text)
        if value is not None:  # analog: value to ipmitool's printed precision, status from the threshold column
            assert r.value is not None and abs(r.value - value) < 0.006, (name, r.value, text)
            assert r.state is THRESHOLD_STATUS[status], (name, r.state, status)
        elif status == "ns":
            assert r.state is State.UNKNOWN, (name, r.state)
        else:  # discrete: ipmitool says "ok" whenever it has a reading, whatever the states
            assert r.state is not State.UNKNOWN, (name, r.state)
    return len(theirs)


def fru_serials(text: str) -> dict[str, str]:
    """FRU description -> serial from `ipmitool fru print` (product serial, else board serial)."""
    out: dict[str, str] = {}
    current = None
    board: dict[str, str] = {}
    for line in text.splitlines():
        m = re.match(r"FRU Device Description\s*:\s*(.+?)\s*\(ID (\d+)\)", line)
        if m:
            current = "System" if m.group(2) == "0" else m.group(1)
            continue
        key, _, value = (p.strip() for p in line.partition(":"))
        if current and key == "Product Serial":
            out[current] = value
        if current and key == "Board Serial":
            board[current] = value
    for k, v in board.items():
        out.setdefault(k, v)
    return out
