"""A few failures for the demo to show: one of each kind the SLA treats differently.

Chosen deterministically from the servers' layouts (the first server that has the part), so a demo run shows the
same story every time: non-critical faults (a redundant PSU, a fan, a disk in an array, a predictive disk, a
correctable-ECC DIMM, a RAID battery) and critical ones (the last PSU of a server, an uncorrectable DIMM, an
over-temperature CPU).
"""

from __future__ import annotations

from fleet.sim.faults import Change, Problem
from fleet.sim.layout import BATTERY, CPU, DIMM, DISK, FAN, PSU, SimServer
from fleet.sim.run import SimFleet

# (kind, problem, also fail every other PSU so the server goes down): the demo's story, in order.
STORY: tuple[tuple[str, Problem, bool], ...] = (
    (PSU, Problem.FAILED, False),  # redundant PSU lost: non-critical
    (PSU, Problem.FAILED, True),  # both PSUs dead: critical, chassis off (both losing AC at once is the feed)
    (FAN, Problem.BELOW_CRITICAL, False),
    (DISK, Problem.FAILED, False),
    (DISK, Problem.PREDICTIVE, False),
    (DIMM, Problem.UNCORRECTABLE_ECC, False),
    (DIMM, Problem.CORRECTABLE_ECC, False),
    (CPU, Problem.OVER_TEMPERATURE, False),
    (BATTERY, Problem.FAILED, False),
)


def inject_demo_faults(fleet: SimFleet, *, every: int = 7) -> list[Change]:
    """Inject the story on every `every`-th server (a distinct server per fault); returns what was injected."""
    # Spread over the fleet first; the other servers when the spread ones run out.
    spread = fleet.servers[::every]
    spread_keys = {s.key for s in spread}
    candidates = spread + [s for s in fleet.servers if s.key not in spread_keys]
    used: set[str] = set()
    changes: list[Change] = []
    for kind, problem, whole_server in STORY:
        server = _first_with(candidates, kind, used, at_least=2 if kind == PSU and not whole_server else 1)
        if server is None:
            continue
        used.add(server.key)
        slots = [slot for slot, k in server.layout.slots() if k == kind]
        targets = slots if whole_server else slots[-1:]
        changes += [fleet.inject(server.host, slot, problem, port=server.port) for slot in targets]
    return changes


def _first_with(servers: list[SimServer], kind: str, used: set[str], *, at_least: int) -> SimServer | None:
    for server in servers:
        if server.key not in used and len([1 for _, k in server.layout.slots() if k == kind]) >= at_least:
            return server
    return None
