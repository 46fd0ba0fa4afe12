"""Pure pieces of the console: which cells a refresh rewrites, how countdowns and ages read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from fleet.tui.rowdiff import cell_updates, removals
from fleet.views.timefmt import age, countdown, site_time

T = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


def test_only_the_changed_cell_is_rewritten():
    old = [("1", ("web01", "0:35:00")), ("2", ("web02", ""))]
    new = [("1", ("web01", "0:34:59")), ("2", ("web02", ""))]
    assert cell_updates(old, new) == [("1", 1, "0:34:59")]


def test_rows_added_removed_or_moved_mean_a_rebuild():
    a, b = ("1", ("x",)), ("2", ("y",))
    assert cell_updates([a, b], [b, a]) is None
    assert cell_updates([a], [a, b]) is None
    assert cell_updates([a, b], [a]) is None


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=8), st.data())
def test_applying_the_updates_gives_the_new_rows(cells, data):
    old = [(str(i), c) for i, c in enumerate(cells)]
    new = [(k, tuple(data.draw(st.integers(0, 5)) for _ in c)) for k, c in old]
    updates = cell_updates(old, new)
    assert updates is not None
    patched = {k: list(c) for k, c in old}
    for key, col, value in updates:
        patched[key][col] = value
    assert [(k, tuple(c)) for k, c in patched.items()] == new
    changed = sum(x != y for (_, a), (_, b) in zip(old, new, strict=True) for x, y in zip(a, b, strict=True))
    assert len(updates) == changed


def test_a_narrowing_filter_removes_rows_instead_of_rebuilding():
    assert removals(["a", "b", "c", "d"], ["b", "d"]) == ["a", "c"]
    assert removals(["a", "b"], ["a", "b"]) == []
    assert removals(["a", "b"], ["b", "a"]) is None  # moved: rebuild
    assert removals(["a"], ["a", "z"]) is None  # added: rebuild


@given(st.lists(st.integers(0, 30), unique=True, max_size=12), st.data())
def test_removals_leave_exactly_the_new_rows(keys, data):
    old = [str(k) for k in keys]
    new = [k for k in old if data.draw(st.booleans())]
    gone = removals(old, new)
    assert gone is not None and [k for k in old if k not in gone] == new


def test_countdown_reads_left_and_overdue():
    assert countdown(T + timedelta(hours=3, minutes=35), T) == "3:35:00"
    assert countdown(T + timedelta(seconds=59), T) == "0:00:59"
    assert countdown(T - timedelta(minutes=61, seconds=1), T) == "-1:01:01"
    assert countdown(None, T) == ""
    assert countdown(T + timedelta(days=5), T) == "5d"


def test_age_is_coarse():
    assert age(None, T) == "never"
    assert age(T - timedelta(seconds=12), T) == "12s"
    assert age(T - timedelta(minutes=5, seconds=30), T) == "5m"
    assert age(T - timedelta(hours=3), T) == "3h"
    assert age(T + timedelta(seconds=5), T) == "0s"  # a clock a little behind another console's is not "negative"


def test_local_time_is_per_zone():
    # 02:00 UTC in late November: Paris is UTC+1, New York UTC-5.
    assert site_time(T, "Europe/Paris", day=False) == "03:00 CET"
    assert site_time(T, "America/New_York") == "Thu 26 Nov 21:00 EST"
    assert site_time(T, "Not/AZone", day=False) == "02:00 UTC"
