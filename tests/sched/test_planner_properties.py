"""Properties of any plan, on random inputs: nobody is in two places, nothing starts before its part, every swap fits
the technician's hours, and the number of late swaps is never below the lower bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.swaps.planner import Job, Tech, late_lower_bound, plan

NOW = datetime(2026, 11, 27, 2, tzinfo=UTC)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Job], list[Tech]]:
    n_techs = draw(st.integers(0, 4))
    techs = []
    for k in range(n_techs):
        hours, t = [], NOW - timedelta(hours=draw(st.integers(0, 5)))
        for _ in range(draw(st.integers(1, 4))):
            start = t + timedelta(minutes=draw(st.integers(0, 300)))
            end = start + timedelta(minutes=draw(st.integers(15, 600)))
            hours.append((start, end))
            t = end + timedelta(minutes=1)
        techs.append(Tech(f"t{k}", draw(st.sampled_from(["A", "B"])), hours))
    jobs = []
    for k in range(draw(st.integers(0, 12))):
        notified = NOW - timedelta(minutes=draw(st.integers(0, 240)))
        ready = NOW + timedelta(minutes=draw(st.integers(0, 300))) if draw(st.booleans()) else None
        jobs.append(Job(k, draw(st.sampled_from(["A", "B"])), timedelta(minutes=draw(st.sampled_from([15, 30, 90]))),
                        notified + timedelta(hours=1), notified + timedelta(hours=4), ready))  # fmt: skip
    return jobs, techs


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_plans_are_feasible_and_never_beat_the_bound(case: tuple[list[Job], list[Tech]]) -> None:
    jobs, techs = case
    out = plan(jobs, techs, NOW)
    assert sorted(a.key for a in out) == sorted(j.key for j in jobs)  # type: ignore[type-var]
    by_key = {j.key: j for j in jobs}
    hours = {t.key: t.hours for t in techs}
    sites = {t.key: t.site for t in techs}
    booked: dict[object, list[tuple[datetime, datetime]]] = {}
    for a in out:
        job = by_key[a.key]
        if a.technician is None:
            assert a.late and a.reason
            continue
        assert a.start is not None and a.end is not None
        assert sites[a.technician] == job.site
        assert a.start >= NOW and (job.ready is None or a.start >= job.ready)
        assert a.end - a.start == job.duration
        assert any(s <= a.start and a.end <= f for s, f in hours[a.technician])
        assert a.late == (a.end > job.limit)
        assert (a.reason is not None) == a.late
        booked.setdefault(a.technician, []).append((a.start, a.end))
    for spans in booked.values():
        spans.sort()
        assert all(prev[1] <= nxt[0] for prev, nxt in pairwise(spans))
    assert sum(a.late for a in out) >= late_lower_bound(jobs, techs, NOW)
