"""Fault injection for simulated servers: which problems a part can have, and the state a controller reports.

`MachineState` is the single truth both the BMC and the SNMP agent read from. Injections come from another thread
(the demo, a test) while the simulators answer on their own thread, hence the lock. Every change is also kept as an
`Change` in order, which the BMC turns into SEL records.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fleet.clock import Clock, utcnow
from fleet.errors import InputError
from fleet.sim.layout import BATTERY, CPU, DIMM, DISK, FAN, PSU, TEMPERATURE, SimServer, kind_of, normalize_slot


class Problem(StrEnum):
    FAILED = "failed"  # PSU failure detected, drive fault, fan stopped (0 RPM)
    REMOVED = "removed"  # the part is gone: presence bit cleared, "removed"/"notPresent" over SNMP
    PREDICTIVE = "predictive"  # predictive failure (PSU, drive)
    INPUT_LOST = "input-lost"  # PSU AC lost
    BELOW_CRITICAL = "below-critical"  # fan turning below its lower critical threshold
    UNCORRECTABLE_ECC = "uncorrectable-ecc"
    CORRECTABLE_ECC = "correctable-ecc"
    OVER_TEMPERATURE = "over-temperature"  # the probe (CPU or board) above its upper critical threshold
    IERR = "ierr"  # processor internal error / machine check


ALLOWED: dict[str, frozenset[Problem]] = {
    PSU: frozenset({Problem.FAILED, Problem.REMOVED, Problem.PREDICTIVE, Problem.INPUT_LOST}),
    FAN: frozenset({Problem.FAILED, Problem.BELOW_CRITICAL, Problem.REMOVED}),
    DISK: frozenset({Problem.FAILED, Problem.REMOVED, Problem.PREDICTIVE}),
    DIMM: frozenset({Problem.UNCORRECTABLE_ECC, Problem.CORRECTABLE_ECC}),
    CPU: frozenset({Problem.IERR, Problem.OVER_TEMPERATURE}),
    TEMPERATURE: frozenset({Problem.OVER_TEMPERATURE}),
    BATTERY: frozenset({Problem.FAILED, Problem.PREDICTIVE, Problem.REMOVED}),  # predictive: "battery low"
}


def parse_problem(text: str) -> Problem:
    key = text.strip().lower().replace("_", "-").replace(" ", "-")
    aliases = {"fail": "failed", "absent": "removed", "missing": "removed", "ecc": "uncorrectable-ecc"}
    key = aliases.get(key, key)
    try:
        return Problem(key)
    except ValueError:
        known = ", ".join(p.value for p in Problem)
        raise InputError(f"unknown problem {text!r} (one of: {known})") from None


@dataclass(frozen=True, slots=True)
class Change:
    """One injection or repair, in order: the BMC's SEL is built from these."""

    seq: int
    at: datetime
    slot: str
    problem: Problem
    asserted: bool  # False: the repair that cleared `problem`


class MachineState:
    """The live state of one simulated server: the problem (if any) of each slot, serials, power, history."""

    def __init__(self, server: SimServer, clock: Clock = utcnow) -> None:
        self.server = server
        self.clock = clock
        self._lock = threading.Lock()
        self._problems: dict[str, Problem] = {}
        self._serials: dict[str, str] = {slot: server.serial_of(slot) for slot, _ in server.layout.slots()}
        self._changes: list[Change] = []
        self._power_override: bool | None = None
        self.version = 0  # bumped on every change, so a responder can cache what it built

    def inject(self, slot: str, problem: Problem | str) -> Change:
        """Give `slot` the problem (replacing any other it had). Raises InputError for a slot or problem that does
        not fit (a DIMM cannot be 'removed' here, a fan has no ECC)."""
        prob = problem if isinstance(problem, Problem) else parse_problem(problem)
        canonical = normalize_slot(slot, self.server.layout)
        kind = kind_of(canonical, self.server.layout)
        if prob not in ALLOWED[kind]:
            allowed = ", ".join(sorted(p.value for p in ALLOWED[kind]))
            raise InputError(f"{canonical} ({kind}) cannot be {prob.value!r} (possible: {allowed})")
        with self._lock:
            old = self._problems.get(canonical)
            if old is not None and old != prob:
                self._record(canonical, old, asserted=False)
            self._problems[canonical] = prob
            return self._record(canonical, prob, asserted=True)

    def repair(self, slot: str, serial: str | None = None) -> Change | None:
        """Clear the slot's problem; `serial` is the new part's serial (a swap). None when there was nothing to clear
        (the serial still changes)."""
        canonical = normalize_slot(slot, self.server.layout)
        with self._lock:
            if serial:
                self._serials[canonical] = serial
            old = self._problems.pop(canonical, None)
            if old is None:
                self.version += 1
                return None
            return self._record(canonical, old, asserted=False)

    def set_power(self, on: bool | None) -> None:
        """Force the chassis power state; None: derived from the parts (off when no PSU delivers power)."""
        with self._lock:
            self._power_override = on
            self.version += 1

    def _record(self, slot: str, problem: Problem, *, asserted: bool) -> Change:
        change = Change(len(self._changes) + 1, self.clock(), slot, problem, asserted)
        self._changes.append(change)
        self.version += 1
        return change

    # Readers: each returns a copy, so a responder never sees a half-applied change.

    def problems(self) -> dict[str, Problem]:
        with self._lock:
            return dict(self._problems)

    def problem(self, slot: str) -> Problem | None:
        with self._lock:
            return self._problems.get(slot)

    def serial(self, slot: str) -> str:
        with self._lock:
            return self._serials[slot]

    def changes(self) -> list[Change]:
        with self._lock:
            return list(self._changes)

    def power_on(self) -> bool:
        with self._lock:
            if self._power_override is not None:
                return self._power_override
            psus = [s for s, k in self.server.layout.slots() if k == PSU]
            if not psus:
                return True
            dead = (Problem.FAILED, Problem.REMOVED, Problem.INPUT_LOST)
            return any(self._problems.get(p) not in dead for p in psus)
