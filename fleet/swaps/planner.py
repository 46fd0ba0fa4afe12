"""Critical swap planning: pure. Faults with deadlines, technicians with hours, part-ready times, durations, now ->
who does which swap when, and which swaps cannot meet their hard limit, with the reason.

The algorithm (docs/SCHEDULING.md): earliest deadline first list scheduling. Jobs are taken by hard limit (then
target); each goes to the technician of its site who can *finish* it earliest, starting no earlier than now, than
the part is on site, and than the technician's previous swap ends, inside one stretch of that technician's hours
(shift or on call). A swap is never split across stretches. Swaps that cannot meet their limit any more are set
aside and planned after the others, so one lost cause does not make the next ones late too. The bench compares the
number of late swaps with a lower bound from a capacity relaxation.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fleet.clock import site_time
from fleet.swaps.windows import Interval, overlap_minutes


@dataclass(frozen=True)
class Job:
    key: Hashable  # the fault id, in the service
    site: Hashable
    duration: timedelta
    target: datetime
    limit: datetime
    ready: datetime | None = None  # the part is on site from then (a transfer's eta); None: it is here
    ready_known: bool = True  # False: a transfer without an eta
    tz: str | None = None  # the site's zone: the reasons are read by people, in site time


@dataclass
class Tech:
    key: Hashable
    site: Hashable
    hours: list[Interval]  # sorted, merged availability in UTC, minus work already committed
    _free: datetime | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Assignment:
    key: Hashable
    technician: Hashable | None
    start: datetime | None
    end: datetime | None
    target: datetime
    limit: datetime
    late: bool  # cannot finish by the hard limit
    after_target: bool  # finishes after the target (still inside the limit when not late)
    reason: str | None  # why it is late or unassigned, in words for the work order


def _fmt(t: datetime, tz: str | None) -> str:
    return site_time(t, tz)


def _earliest_fit(
    hours: Sequence[Interval], starts: Sequence[datetime], not_before: datetime, dur: timedelta
) -> Interval | None:
    """Earliest (start, end) with start >= not_before and [start, end] inside one stretch, or None."""
    # First stretch that ends after not_before; bisect on the starts then step back one.
    i = max(bisect.bisect_right(starts, not_before) - 1, 0)
    for s, f in hours[i:]:
        begin = max(s, not_before)
        if begin + dur <= f:
            return begin, begin + dur
    return None


def plan(jobs: Iterable[Job], techs: Iterable[Tech], now: datetime) -> list[Assignment]:
    """One Assignment per job, earliest deadline first.

    Two passes. First, in deadline order, every swap that can still finish by its hard limit gets the technician who
    finishes it first. A swap that cannot is set aside instead of taking the time of the ones after it (under
    overload plain EDF lets one lost cause make every later swap late too). Second, the set-aside swaps are planned,
    late, in deadline order, in the time that is left; each says why it is late.
    """
    by_site: dict[Hashable, list[Tech]] = defaultdict(list)
    starts: dict[Hashable, list[datetime]] = {}
    free: dict[Hashable, datetime] = {}
    for t in techs:
        by_site[t.site].append(t)
        starts[t.key] = [s for s, _ in t.hours]
        free[t.key] = now
    ordered = sorted(jobs, key=lambda j: (j.limit, j.target, str(j.key)))

    def best_fit(job: Job, ready: datetime) -> tuple[datetime, datetime, Tech] | None:
        best: tuple[datetime, datetime, Tech] | None = None
        for t in by_site.get(job.site, ()):
            fit = _earliest_fit(t.hours, starts[t.key], max(ready, free[t.key]), job.duration)
            if fit and (best is None or fit[1] < best[1]):
                best = (fit[0], fit[1], t)
        return best

    done: dict[int, Assignment] = {}
    deferred: list[int] = []
    for i, job in enumerate(ordered):
        ready = max(now, job.ready) if job.ready else now
        best = best_fit(job, ready)
        if best is None or best[1] > job.limit:
            deferred.append(i)
            continue
        start, end, tech = best
        free[tech.key] = end
        reason = None if job.ready_known else "part on transfer with no ETA: the plan assumes it is here"
        done[i] = Assignment(job.key, tech.key, start, end, job.target, job.limit, False, end > job.target, reason)
    for i in deferred:
        job = ordered[i]
        ready = max(now, job.ready) if job.ready else now
        best = best_fit(job, ready)
        if best is None:
            done[i] = _unassigned(job, by_site.get(job.site, []), ready)
            continue
        start, end, tech = best
        free[tech.key] = end
        reason = _late_reason(job, by_site[job.site], starts, ready, end)
        if not job.ready_known:
            reason = f"part on transfer with no ETA: the plan assumes it is here; {reason}"
        done[i] = Assignment(job.key, tech.key, start, end, job.target, job.limit, True, True, reason)
    return [done[i] for i in range(len(ordered))]


def _unassigned(job: Job, techs: Sequence[Tech], ready: datetime) -> Assignment:
    why = "no technician on shift or on call with time for this swap" if techs else "no technician at this site"
    return Assignment(job.key, None, None, None, job.target, job.limit, True, True, why)


def _late_reason(
    job: Job, techs: Sequence[Tech], starts: dict[Hashable, list[datetime]], ready: datetime, end: datetime
) -> str:
    limit, finish = _fmt(job.limit, job.tz), _fmt(end, job.tz)
    if ready + job.duration > job.limit:
        if job.ready is not None and job.ready >= ready:
            arrives = _fmt(ready, job.tz)
            return f"part arrives {arrives} (transfer): the swap cannot finish before the hard limit {limit}"
        minutes = int(job.duration.total_seconds() // 60)
        return f"a {minutes}-minute swap started now cannot finish before the hard limit {limit}"
    # Would anyone have been able to do it in time if nobody were busy?
    idle = [f for t in techs if (f := _earliest_fit(t.hours, starts[t.key], ready, job.duration))]
    first = min((f[1] for f in idle), default=None)
    if first is None or first > job.limit:
        return f"no technician on shift or on call before the hard limit {limit}; earliest finish {finish}"
    return f"technicians busy with earlier deadlines: earliest finish {finish}, after the hard limit {limit}"


def late_lower_bound(jobs: Iterable[Job], techs: Iterable[Tech], now: datetime) -> int:
    """A lower bound on the number of swaps any plan must finish after their hard limit.

    Relaxation, per site: work may be split between technicians and interrupted, and parts wait for nobody. Jobs that
    cannot finish in time even alone (part too late) are late in every plan. Of the rest, for every deadline d, the
    jobs due by d that finish on time must fit in the technician-minutes available between now and d; the fewest jobs
    to drop to make them fit (the longest first) is a bound. The answer is the impossible ones plus the largest drop.
    """
    sites: dict[Hashable, list[Job]] = defaultdict(list)
    for j in jobs:
        sites[j.site].append(j)
    tech_by_site: dict[Hashable, list[Tech]] = defaultdict(list)
    for t in techs:
        tech_by_site[t.site].append(t)
    total = 0
    for site, site_jobs in sites.items():
        hours = [iv for t in tech_by_site.get(site, []) for iv in t.hours]
        doomed = [max(now, j.ready or now) + j.duration > j.limit for j in site_jobs]
        impossible = sum(doomed)
        rest = sorted((j for j, d in zip(site_jobs, doomed, strict=True) if not d), key=lambda j: j.limit)
        worst = 0
        due: list[float] = []  # durations of jobs due so far, in minutes
        for j in rest:
            bisect.insort(due, j.duration.total_seconds() / 60)
            excess = sum(due) - overlap_minutes(hours, now, j.limit)
            drop = 0
            k = len(due) - 1
            while excess > 1e-9 and k >= 0:
                excess -= due[k]
                drop += 1
                k -= 1
            worst = max(worst, drop)
        total += impossible + worst
    return total


def disk_warning(kind: str, backup_option: bool) -> str | None:
    """SLA: no backup unless the option is taken. A disk swap on such a server must not surprise anyone."""
    if kind == "disk" and not backup_option:
        return "no backup option: data on this server is not backed up by us; the customer must have a copy"
    return None
