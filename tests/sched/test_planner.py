"""The pure planner: EDF, one technician's time, parts that arrive late, the lower bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fleet.swaps.planner import Job, Tech, late_lower_bound, plan

T0 = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)


def at(h: int, m: int = 0, day: int = 0) -> datetime:
    return T0 + timedelta(days=day, hours=h, minutes=m)


def crit(key: int, notified: datetime, minutes: int, ready: datetime | None = None) -> Job:
    return Job(key, "PAR1", timedelta(minutes=minutes), notified + timedelta(hours=1), notified + timedelta(hours=4),
               ready)  # fmt: skip


def night_tech(key: str = "ana") -> Tech:
    # 22:00 the night before until 06:00.
    return Tech(key, "PAR1", [(at(22, day=-1), at(6))])


def test_one_night_technician_does_three_critical_swaps_one_after_the_other_and_the_third_is_late() -> None:
    # CPU swaps of 90 minutes each, notified at 01:00, 01:05, 01:10; planned at 01:15.
    jobs = [crit(1, at(1, 0), 90), crit(2, at(1, 5), 90), crit(3, at(1, 10), 90)]
    out = {a.key: a for a in plan(jobs, [night_tech()], at(1, 15))}
    # By hand: 01:15-02:45, 02:45-04:15, 04:15-05:45; limits 05:00, 05:05, 05:10.
    assert [(out[k].start, out[k].end) for k in (1, 2, 3)] == [
        (at(1, 15), at(2, 45)),
        (at(2, 45), at(4, 15)),
        (at(4, 15), at(5, 45)),
    ]
    assert all(out[k].technician == "ana" for k in (1, 2, 3))
    assert [out[k].late for k in (1, 2, 3)] == [False, False, True]
    assert out[3].reason and "busy" in out[3].reason and "05:10" in out[3].reason
    assert out[1].reason is None and out[2].reason is None
    # All three miss the one-hour target (02:00, 02:05, 02:10).
    assert all(out[k].after_target for k in (1, 2, 3))


def test_earliest_deadline_goes_first_whatever_the_input_order() -> None:
    jobs = [crit(1, at(1, 10), 90), crit(2, at(1, 0), 90)]
    out = plan(jobs, [night_tech()], at(1, 15))
    assert [a.key for a in out] == [2, 1]
    assert out[0].start == at(1, 15) and out[1].start == at(2, 45)


def test_two_technicians_share_the_work() -> None:
    jobs = [crit(1, at(1, 0), 90), crit(2, at(1, 5), 90), crit(3, at(1, 10), 90)]
    out = {a.key: a for a in plan(jobs, [night_tech("ana"), night_tech("bob")], at(1, 15))}
    assert {out[1].technician, out[2].technician} == {"ana", "bob"}
    assert out[3].start == at(2, 45) and not out[3].late


def test_a_transfer_that_makes_the_limit_impossible_is_flagged_with_the_reason() -> None:
    # Notified 01:00 -> limit 05:00; the PSU arrives at 04:50 and takes 15 minutes: 05:05 at best.
    job = crit(1, at(1, 0), 15, ready=at(4, 50))
    (a,) = plan([job], [night_tech()], at(1, 5))
    assert a.start == at(4, 50) and a.end == at(5, 5)
    assert a.late
    assert a.reason and "part arrives" in a.reason and "transfer" in a.reason


def test_a_part_arriving_in_time_waits_but_is_not_late() -> None:
    (a,) = plan([crit(1, at(1, 0), 15, ready=at(3, 0))], [night_tech()], at(1, 5))
    assert a.start == at(3, 0) and not a.late and a.after_target


def test_a_swap_is_not_split_across_the_end_of_a_shift() -> None:
    # 05:30 with a 45-minute DIMM swap: the shift ends at 06:00, the next starts 22:00.
    two_nights = Tech("ana", "PAR1", [(at(22, day=-1), at(6)), (at(22), at(6, day=1))])
    (a,) = plan([crit(1, at(5, 20), 45)], [two_nights], at(5, 30))
    assert a.start == at(22, 0) and a.late
    assert a.reason and "no technician on shift or on call" in a.reason


def test_no_hours_left_at_all_leaves_the_swap_unassigned_and_says_so() -> None:
    (a,) = plan([crit(1, at(5, 20), 45)], [night_tech()], at(5, 30))
    assert a.technician is None and a.start is None and a.late
    assert a.reason and "no technician on shift or on call" in a.reason


def test_no_technician_at_the_site_is_said_plainly() -> None:
    (a,) = plan([crit(1, at(1, 0), 15)], [Tech("x", "AMS1", [(at(0), at(23))])], at(1, 5))
    assert a.technician is None and a.late and a.reason == "no technician at this site"


def test_lower_bound_counts_what_capacity_cannot_hold() -> None:
    # One technician, 00:00-06:00 available, now 01:15: 225 minutes to 05:00.
    jobs = [crit(k, at(1, 0), 90) for k in range(4)]  # 360 minutes due by 05:00: at least 2 must be late
    techs = [night_tech()]
    assert late_lower_bound(jobs, techs, at(1, 15)) == 2
    planned_late = sum(a.late for a in plan(jobs, techs, at(1, 15)))
    assert planned_late >= 2


def test_lower_bound_counts_impossible_parts() -> None:
    jobs = [crit(1, at(1, 0), 15, ready=at(4, 50)), crit(2, at(1, 0), 15)]
    assert late_lower_bound(jobs, [night_tech()], at(1, 5)) == 1


def test_a_swap_too_long_for_the_time_left_says_so_without_blaming_a_transfer() -> None:
    # Notified 01:00, limit 05:00; at 04:00 a 90-minute CPU swap ends 05:30 at best. No transfer involved.
    (a,) = plan([crit(1, at(1, 0), 90)], [night_tech()], at(4, 0))
    assert a.late and a.end == at(5, 30)
    assert a.reason and "transfer" not in a.reason and "90-minute swap" in a.reason
