"""Vendor profiles: which subtrees one health poll walks, and how their rows become readings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fleet.collectors.snmp.decode import StatusColumn, ValueColumn, oid, status_readings, value_readings
from fleet.collectors.snmp.engine import Oid, WalkResult
from fleet.health.model import Reading

Custom = Callable[[WalkResult], list[Reading]]


@dataclass(frozen=True)
class Profile:
    name: str
    subtrees: tuple[str, ...]
    status: tuple[StatusColumn, ...] = ()
    values: tuple[ValueColumn, ...] = ()
    custom: tuple[Custom, ...] = ()
    power: Callable[[WalkResult], str | None] | None = None
    roots: tuple[Oid, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "roots", tuple(oid(s) for s in self.subtrees))

    def readings(self, walk: WalkResult) -> list[Reading]:
        out: list[Reading] = []
        for spec in self.status:
            out.extend(status_readings(walk, spec))
        for vspec in self.values:
            out.extend(value_readings(walk, vspec))
        for fn in self.custom:
            out.extend(fn(walk))
        return out

    def power_state(self, walk: WalkResult) -> str | None:
        return self.power(walk) if self.power else None


def profile_by_name(name: str) -> Profile:
    from fleet.collectors.snmp.profiles import apc, cisco, dell, fujitsu, generic, hpe, lenovo, supermicro

    table = {
        p.name: p
        for p in (
            dell.IDRAC,
            dell.OMSA,
            hpe.HPE,
            lenovo.XCC,
            lenovo.IMM,
            cisco.CIMC,
            fujitsu.IRMC,
            supermicro.SMC,
            generic.LINUX,
            apc.APC,
        )
    }
    return table[name]
