"""Faults: open, deduplicate, escalate, acknowledge, resolve. The service the sweep, the CLI and the TUI call.

`poll`: faults from monitoring (one poll of one server); `people`: tickets, acknowledgements, faults resolved by
hand; `common`: what both share. The clocks a fault starts are the SLA's: fleet.sla.clocks. The read side (lists
for people and JSON) is fleet.views.faults.
"""

from fleet.faults.common import check_slot, find_component, get_fault, layout_of, open_faults, server_slots
from fleet.faults.people import RESOLUTIONS, TicketResult, acknowledge, open_ticket, resolve
from fleet.faults.poll import ApplyResult, apply_poll, installed_of, rule_params

__all__ = [
    "RESOLUTIONS",
    "ApplyResult",
    "TicketResult",
    "acknowledge",
    "apply_poll",
    "check_slot",
    "find_component",
    "get_fault",
    "installed_of",
    "layout_of",
    "open_faults",
    "open_ticket",
    "resolve",
    "rule_params",
    "server_slots",
]
