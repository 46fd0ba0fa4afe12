"""A rack that lost its power is one fault: servers of one rack that lose every PSU's input in the same round get one
rack power fault, one inspection work order, no PSU swap and no spare; one server alone keeps its own power-feed
fault. Through the services one sweep round calls (real database, frozen clock), and the SLA's outage cause."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from sqlmodel import select

from fleet.config import Settings
from fleet.faults import apply_poll
from fleet.faults.rack import RoundServer, group_rack_power, rack_groups
from fleet.health.model import PollResult
from fleet.sla.credits import month_key
from fleet.sla.outages import Cause
from fleet.sla.report import sla_report
from fleet.stock.reserve import reserve_for_fault
from fleet.store.db import read_session, write_session
from fleet.store.models import Fault, Reservation, Server, Swap
from fleet.swaps.rounds import plan_swaps
from fleet.sweep.outages import seen_in_round, update_outages
from fleet.sweep.run import round_start
from tests.faults.helpers import T0, make_server, poll, rd

S = Settings()
INTERVAL = timedelta(minutes=S.monitoring_interval_min)
PSUS = [("PSU1", "psu", "P-1"), ("PSU2", "psu", "P-2")]
AC = "AC lost"


def no_power(host: str) -> PollResult:
    return poll(rd("PSU1", "psu", "critical", detail=AC), rd("PSU2", "psu", "critical", detail=AC), host=host,
                power="off")  # fmt: skip


def powered(host: str) -> PollResult:
    return poll(rd("PSU1", "psu"), rd("PSU2", "psu"), host=host)


def dark(host: str) -> PollResult:
    return poll(host=host, reachable=False, error="timeout")


def build(engine, racks: Mapping[str, str], site: str = "PAR1") -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Servers by hostname -> rack, each with a pair of PSUs."""
    ids = {}
    with write_session(engine) as s:
        for host, rack in racks.items():
            server = make_server(s, host, components=[(slot, k, f"{serial}-{host}") for slot, k, serial in PSUS],
                                 site=site)  # fmt: skip
            server.rack = rack
            s.add(server)
            s.flush()
            ids[host] = server.id
    return ids


def sweep_round(engine, ids: Mapping[str, int], polls: Mapping[str, PollResult], now):  # type: ignore[no-untyped-def]
    """What one sweep round does with these polls, in the sweep's order: store each poll (faults, spares), group the
    round's lost feeds by rack, plan the work orders."""
    with write_session(engine) as s:
        for host, result in polls.items():
            server = s.get(Server, ids[host])
            server.next_poll_at = round_start(now, INTERVAL) + INTERVAL
            server.last_poll_error = result.error if not result.reachable or result.error else None
            s.add(server)
            applied = apply_poll(s, server, result, now=now, settings=S)
            for fid in [*applied.opened, *applied.escalated]:
                reserve_for_fault(s, fid, now=now, settings=S, actor="sweep")
    with write_session(engine) as s:
        group_rack_power(s, since=now, now=now)
    with write_session(engine) as s:
        plan_swaps(s, now=now, settings=S, actor="sweep")


def open_faults(engine) -> list[tuple[str, Fault]]:  # type: ignore[no-untyped-def]
    with read_session(engine) as s:
        rows = s.exec(select(Fault, Server.hostname).join(Server).where(Fault.resolved_at.is_(None))).all()
        return sorted(((h, f) for f, h in rows), key=lambda r: r[1].id or 0)


def work_orders(engine) -> list[tuple[Swap, Fault]]:  # type: ignore[no-untyped-def]
    with read_session(engine) as s:
        live = ("planned", "awaiting_customer", "agreed", "in_progress")
        return list(s.exec(select(Swap, Fault).join(Fault).where(Swap.state.in_(live))).all())  # type: ignore[attr-defined]


# --- the rule ----------------------------------------------------------------------------------------------------


def rs(host: str, rack: str, *, lost: bool = False, unreachable: bool = False, site: str = "PAR1") -> RoundServer:
    return RoundServer(hash(host) % 1000, host, site, rack, feed_lost=lost, unreachable=unreachable)


def test_the_rule_groups_two_or_more_lost_feeds_per_site_and_rack() -> None:
    groups = rack_groups([
        rs("a", "R1", lost=True), rs("b", "R1", lost=True), rs("c", "R1", unreachable=True), rs("d", "R1"),
        rs("e", "R2", lost=True),  # alone in its rack: its own fault
        rs("f", "R3", lost=True), rs("g", "R3", lost=True, site="LON1"),  # same rack name, two sites
        rs("h", "", lost=True), rs("i", " ", lost=True),  # no rack recorded: never grouped
    ])  # fmt: skip
    assert [(g.rack, [s.hostname for s in g.lost], [s.hostname for s in g.unreachable]) for g in groups] == [
        ("R1", ["a", "b"], ["c"])
    ]
    # Servers that did not answer never make a group on their own: one report of a lost feed is not a rack.
    one_report = [rs("a", "R1", lost=True), rs("b", "R1", unreachable=True), rs("c", "R1", unreachable=True)]
    assert rack_groups(one_report) == []


def test_the_rack_fault_goes_to_the_first_server_the_sla_covers() -> None:
    vps = RoundServer(1, "a-vps", "PAR1", "R1", feed_lost=True, unreachable=False, in_scope=False)
    ded = RoundServer(2, "b-dedicated", "PAR1", "R1", feed_lost=True, unreachable=False)
    (group,) = rack_groups([ded, vps])
    assert [s.hostname for s in group.lost] == ["a-vps", "b-dedicated"]  # the evidence still lists by hostname
    assert group.lead == ded
    only_vps = RoundServer(3, "c-vps", "PAR1", "R1", feed_lost=True, unreachable=False, in_scope=False)
    (group,) = rack_groups([only_vps, vps])
    assert group.lead == vps  # none covered: the first by hostname


# --- through the round's services --------------------------------------------------------------------------------


def test_three_servers_of_one_rack_losing_their_feed_are_one_rack_fault_with_one_work_order(engine) -> None:  # type: ignore[no-untyped-def]
    ids = build(engine, {"r1-a": "R1", "r1-b": "R1", "r1-c": "R1", "r1-d": "R1"})
    sweep_round(engine, ids, {"r1-a": no_power("r1-a"), "r1-b": no_power("r1-b"), "r1-c": no_power("r1-c"),
                              "r1-d": dark("r1-d")}, T0)  # fmt: skip

    faults = open_faults(engine)
    (rack,) = [f for _, f in faults if f.slot == "RACK"]
    feeds = [(h, f) for h, f in faults if f.slot == "FEED"]
    assert (rack.kind, rack.problem, rack.severity) == ("power-feed", "feed-lost", "critical")
    assert "check rack R1's PDU/feed" in rack.evidence
    assert all(h in rack.evidence for h in ("r1-a", "r1-b", "r1-c"))
    assert "not answering in the same round: r1-d" in rack.evidence
    assert sorted(h for h, _ in feeds) == ["r1-a", "r1-b", "r1-c"]  # each server still shows it is down
    assert all(f.parent_id == rack.id and f.severity == "critical" for _, f in feeds)
    assert all(f.evidence.startswith(f"part of fault {rack.id} ") for _, f in feeds)  # what the faults list shows
    assert [f.kind for _, f in faults if f.kind == "psu"] == []  # no PSU swap
    orders = work_orders(engine)
    assert [(w.fault_id, w.critical) for w, _ in orders] == [(rack.id, True)]  # one inspection, with the 4 h clock
    assert orders[0][0].hard_limit_at == T0 + timedelta(minutes=S.critical_limit_min)
    with read_session(engine) as s:
        assert s.exec(select(Reservation)).all() == []  # no spare reserved

    # The same state again in the next round: nothing new, still one work order.
    sweep_round(engine, ids, {h: no_power(h) for h in ("r1-a", "r1-b", "r1-c")}, T0 + INTERVAL)
    assert len([f for _, f in open_faults(engine) if f.slot == "RACK"]) == 1
    assert len(work_orders(engine)) == 1


def test_one_server_alone_losing_its_feed_keeps_its_own_power_feed_fault(engine) -> None:  # type: ignore[no-untyped-def]
    ids = build(engine, {"solo": "R1", "peer": "R1", "peer2": "R1"})
    sweep_round(engine, ids, {"solo": no_power("solo"), "peer": powered("peer"), "peer2": dark("peer2")}, T0)
    faults = open_faults(engine)
    assert [(h, f.slot, f.parent_id) for h, f in faults] == [("solo", "FEED", None)]
    assert [(f.slot, w.critical) for w, f in work_orders(engine)] == [("FEED", True)]


def test_two_racks_are_two_rack_faults_and_a_late_server_joins_its_rack(engine) -> None:  # type: ignore[no-untyped-def]
    ids = build(engine, {"a1": "R1", "a2": "R1", "b1": "R2", "b2": "R2", "b3": "R2"})
    # b3 lost its feed a round earlier: its own fault and work order, until the rest of its rack follows.
    sweep_round(engine, ids, {"b3": no_power("b3")}, T0 - INTERVAL)
    assert [f.slot for _, f in open_faults(engine)] == ["FEED"]
    sweep_round(engine, ids, {h: no_power(h) for h in ids}, T0)

    faults = open_faults(engine)
    racks = {f.id: f for _, f in faults if f.slot == "RACK"}
    with read_session(engine) as s:
        rack_of = {f.id: s.get(Server, f.server_id).rack for f in racks.values()}
    assert sorted(rack_of.values()) == ["R1", "R2"]
    for h, f in faults:
        if f.slot == "FEED":
            assert rack_of[f.parent_id] == ("R1" if h.startswith("a") else "R2")
    assert sorted(f.id for _, f in work_orders(engine)) == sorted(racks)  # b3's own work order was called off
    # The rack's clock starts at the earliest report of its power loss: b3's, a round earlier.
    r2 = next(f for i, f in racks.items() if rack_of[i] == "R2")
    assert r2.critical_since == T0 - INTERVAL


def test_power_back_resolves_the_rack_fault_and_calls_off_its_inspection(engine) -> None:  # type: ignore[no-untyped-def]
    ids = build(engine, {"x": "R7", "y": "R7"})
    sweep_round(engine, ids, {h: no_power(h) for h in ids}, T0)
    assert len(work_orders(engine)) == 1
    now = T0
    for n in range(S.healthy_polls_to_resolve):
        assert [f.slot for _, f in open_faults(engine) if f.slot == "RACK"] == ["RACK"], n  # hysteresis, as any fault
        now += INTERVAL
        sweep_round(engine, ids, {h: powered(h) for h in ids}, now)
    assert open_faults(engine) == []
    assert work_orders(engine) == []
    with read_session(engine) as s:
        rack = s.exec(select(Fault).where(Fault.slot == "RACK")).one()
        assert (rack.resolution, rack.resolved_at) == ("recovered", now)


def test_a_repoll_of_one_server_does_not_undo_the_rack_fault(engine) -> None:  # type: ignore[no-untyped-def]
    ids = build(engine, {"p": "R3", "q": "R3"})
    sweep_round(engine, ids, {h: no_power(h) for h in ids}, T0)
    # A re-poll of one server applies its poll alone (fleet.sweep.run.poll_server): still no power there.
    with write_session(engine) as s:
        apply_poll(s, s.get(Server, ids["p"]), no_power("p"), now=T0 + timedelta(minutes=1), settings=S)
    with write_session(engine) as s:
        plan_swaps(s, now=T0 + timedelta(minutes=1), settings=S)
    faults = open_faults(engine)
    (rack,) = [f for _, f in faults if f.slot == "RACK"]
    assert all(f.parent_id == rack.id for _, f in faults if f.slot == "FEED")
    assert [f.id for _, f in work_orders(engine)] == [rack.id]


def test_outages_of_a_rack_without_power_are_hardware_not_network_credit(engine) -> None:  # type: ignore[no-untyped-def]
    ids = build(engine, {"m": "R4", "n": "R4", "o": "R4", "other": "R5"})
    polls = {"m": no_power("m"), "n": no_power("n"), "o": dark("o"), "other": dark("other")}
    sweep_round(engine, ids, polls, T0)
    results = {ids[h]: p for h, p in polls.items()}
    with write_session(engine) as s:
        seen = seen_in_round(s, results, results)
        update_outages(s, {sid: {"web": False} for sid in results}, seen, T0)
    with read_session(engine) as s:
        from fleet.store.models import Outage

        causes = {s.get(Server, o.server_id).hostname: o.cause for o in s.exec(select(Outage)).all()}
    # m, n reported the power lost; o went dark in the rack that lost its power; "other" is cut off elsewhere.
    assert causes == {"m": Cause.HARDWARE, "n": Cause.HARDWARE, "o": Cause.HARDWARE, "other": Cause.NETWORK}


def test_acknowledging_the_rack_fault_is_the_look_for_its_servers(engine) -> None:  # type: ignore[no-untyped-def]
    from fleet.faults import acknowledge

    ids = build(engine, {"k": "R8", "l": "R8"})
    sweep_round(engine, ids, {h: no_power(h) for h in ids}, T0)
    (rack,) = [f for _, f in open_faults(engine) if f.slot == "RACK"]
    with write_session(engine) as s:
        acknowledge(s, rack.id, by="tech", now=T0 + timedelta(minutes=10))
    ack = "tech", "acknowledged"
    got = sorted((h, f.slot, f.acknowledged_by, f.state) for h, f in open_faults(engine))
    assert got == [("k", "FEED", *ack), ("k", "RACK", *ack), ("l", "FEED", *ack)]  # the rack's on its first server


def test_a_rack_led_by_a_vps_host_by_name_still_counts_in_the_sla_report(engine) -> None:  # type: ignore[no-untyped-def]
    # "a-vps" sorts first, but the SLA leaves VPS out: a rack fault stored on it would drop out of the report's
    # critical swaps, while the dedicated server beside it is down for the same reason.
    ids = build(engine, {"a-vps": "R6", "b-dedicated": "R6"})
    with write_session(engine) as s:
        vps = s.get(Server, ids["a-vps"])
        vps.plan = "vps"
        s.add(vps)
    sweep_round(engine, ids, {h: no_power(h) for h in ids}, T0)
    (rack,) = [(h, f) for h, f in open_faults(engine) if f.slot == "RACK"]
    assert rack[0] == "b-dedicated"
    with read_session(engine) as s:
        report = sla_report(s, month_key(T0), now=T0 + timedelta(minutes=30), settings=S)
    assert report["swaps"]["critical_swaps"] == 1
    assert report["excluded"]["servers"] == ["a-vps"]
