"""Vendor profiles: which subtrees one health poll walks, and how their rows become readings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fleet.collectors.snmp.decode import StatusColumn, ValueColumn, oid, status_readings, value_readings
from fleet.collectors.snmp.engine import Oid, WalkResult
from fleet.health.model import Reading

Custom = Callable[[WalkResult], list[Reading]]


def _spec_columns(spec: StatusColumn | ValueColumn) -> list[str]:
    if isinstance(spec, ValueColumn):
        return [c for c in (spec.value, spec.name) if c]
    cols = [spec.status, spec.name, spec.value, spec.slot_col, *spec.extra_names, *spec.limits]
    if spec.absent_when:
        cols.append(spec.absent_when[0])
    return [c for c in cols if c]


def _minimal(roots: list[Oid]) -> tuple[Oid, ...]:
    """Sorted, without duplicates and without any root that lies inside another."""
    out: list[Oid] = []
    for r in sorted(set(roots)):
        if not out or r[: len(out[-1])] != out[-1]:
            out.append(r)
    return tuple(out)


@dataclass(frozen=True)
class Profile:
    """A vendor's health columns. A poll walks each column it reads (not whole tables): the vendor tables hold
    dozens of inventory columns per row, and reading only the health ones cuts the data by 5-10x."""

    name: str
    subtrees: tuple[str, ...]  # columns (or scalars' parents) read by `custom` functions
    status: tuple[StatusColumn, ...] = ()
    values: tuple[ValueColumn, ...] = ()
    custom: tuple[Custom, ...] = ()
    power: Callable[[WalkResult], str | None] | None = None
    host_agent: bool = False  # the agent runs on the host itself (not a BMC): if it answers, the host is on
    roots: tuple[Oid, ...] = field(init=False)
    # roots grouped by table: (key columns, other columns); a poll walks a key column and GETs the others
    tables: tuple[tuple[list[Oid], list[Oid]], ...] = field(init=False)

    def __post_init__(self) -> None:
        specs: list[StatusColumn | ValueColumn] = [*self.status, *self.values]
        columns = [c for spec in specs for c in _spec_columns(spec)]
        roots = _minimal([oid(c) for c in (*columns, *self.subtrees)])
        object.__setattr__(self, "roots", roots)
        groups: dict[Oid, list[Oid]] = {}
        for r in roots:
            groups.setdefault(r[:-1], []).append(r)
        status = {oid(spec.status) for spec in self.status}
        tables = []
        for members in groups.values():
            keys = [r for r in members if r in status] or members[:1]
            tables.append((keys, [r for r in members if r not in keys]))
        object.__setattr__(self, "tables", tuple(tables))

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
        if self.power:
            return self.power(walk)
        return "on" if self.host_agent else None  # a BMC answers on standby power whether its host runs or not


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
