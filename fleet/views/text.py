"""Data shown to people is text, never terminal control.

Hostnames, ticket texts, customer names, SNMP sysDescr and sensor names, serials: anything that came from outside may
hold ESC sequences (which retitle, clear or recolour a terminal), other C0/C1 controls, or bidirectional overrides
(which reorder what is shown). Every view, the console and the command line pass such values through `plain` before
they reach a terminal. Files written for other programs (CSV, JSON) keep the data as it is.
"""

from __future__ import annotations

import re

REPLACEMENT = "\ufffd"  # shown where a control character was: visible, one column wide, never interpreted

# C0 controls (newline and tab included: one value is one line of a table), DEL, C1 controls, and the Unicode
# bidirectional embeddings, overrides and isolates.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def plain(value: object) -> str:
    """`value` as one line of inert text: every control character replaced by U+FFFD."""
    text = "" if value is None else str(value)
    return _CONTROL.sub(REPLACEMENT, text)


def has_control(value: str) -> bool:
    """True when `value` holds a character that `plain` would replace (import refuses these in identifiers)."""
    return _CONTROL.search(value) is not None
