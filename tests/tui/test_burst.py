"""Keys that arrive in one burst (a paste, fast typing over SSH) after `/`, `:` or a dialog's key are text, never
commands: the whole burst is queued before the console handles its first key."""

from __future__ import annotations

from sqlmodel import select
from textual import events
from textual.keys import _character_to_key
from textual.widgets import Input

from fleet.store.db import read_session
from fleet.store.models import Audit, Fault, Swap
from fleet.tui.app import FleetApp
from fleet.tui.livetable import LiveTable
from tests.tui.test_flows import console, scene_engine, settle


def burst(app: FleetApp, text: str) -> None:
    """Queue every key of `text` at once, the way a terminal delivers a paste (`/` first, then letters)."""
    for ch in text:
        key = ch if ch.isalnum() else _character_to_key(ch)
        event = events.Key(key, ch)
        event.set_sender(app)
        app.post_message(event)


def writes(engine) -> list[str]:
    with read_session(engine) as s:
        return [a.action for a in s.exec(select(Audit).where(Audit.actor == "marie")).all()]


async def test_slash_ack_in_the_faults_view_acknowledges_nothing(tmp_path):
    engine, scene = scene_engine(tmp_path)
    app = console(engine, view="faults")
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#faults-table", LiveTable)
        await settle(pilot, app, lambda: table.row_count > 0)
        burst(app, "/ack")
        await settle(pilot, app, lambda: app.query_one("#filter", Input).value == "ack", timeout=5)
        assert app.query_one("#filter", Input).value == "ack"
        assert app.query_one("#filter", Input).has_focus
    with read_session(engine) as s:
        fault = s.get(Fault, scene.psu_fault)
        assert fault is not None and fault.acknowledged_at is None
    assert writes(engine) == []


async def test_slash_sin1_in_the_work_queue_starts_nothing(tmp_path):
    engine, scene = scene_engine(tmp_path)
    app = console(engine, view="queue")
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#queue-table", LiveTable)
        await settle(pilot, app, lambda: table.row_count > 0)
        burst(app, "/sin1")
        await settle(pilot, app, lambda: app.query_one("#filter", Input).value == "sin1", timeout=5)
        assert app.query_one("#filter", Input).value == "sin1"
    with read_session(engine) as s:
        states = {w.id: w.state for w in s.exec(select(Swap)).all()}
    assert states[scene.psu_swap] != "in_progress" and states[scene.disk_swap] != "in_progress"
    assert writes(engine) == []


async def test_slash_hostname_with_digits_switches_no_view(tmp_path):
    engine, _ = scene_engine(tmp_path)
    app = console(engine, view="servers")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app, lambda: app.view.data is not None)
        burst(app, "/sr650-009")
        await settle(pilot, app, lambda: app.query_one("#filter", Input).value == "sr650-009", timeout=5)
        assert app.query_one("#filter", Input).value == "sr650-009"
        assert app.view.view_id == "servers"


async def test_keys_after_a_dialog_opens_are_its_text(tmp_path):
    engine, scene = scene_engine(tmp_path)
    app = console(engine, view="faults")
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#faults-table", LiveTable)
        await settle(pilot, app, lambda: table.row_count > 0)
        burst(app, "eqa5")  # escalate, then letters that are keys elsewhere (quit, acknowledge, a view)
        await settle(pilot, app, lambda: "qa5" in getattr(app.screen.query("#answer").first(), "value", ""),
                     timeout=5)  # fmt: skip
        assert app.screen.query_one("#answer", Input).value.endswith("qa5")
        assert app.is_running and app.view.view_id == "faults"
    with read_session(engine) as s:
        fault = s.get(Fault, scene.psu_fault)
        assert fault is not None and fault.acknowledged_at is None
    assert writes(engine) == []


async def test_done_with_an_empty_serial_stays_open_and_says_why(tmp_path):
    engine, scene = scene_engine(tmp_path)
    app = console(engine, view="queue")
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#queue-table", LiveTable)
        await settle(pilot, app, lambda: table.row_count > 0)
        await pilot.press("d")
        await settle(pilot, app, lambda: bool(app.screen.query("#answer")))
        # Host and slot on their own line: the whole name, never cut off by the question.
        where = str(app.screen.query_one("#where").render())
        assert where == f"{scene.psu_server_host} PSU1"
        await pilot.press("enter")
        await pilot.pause()
        assert bool(app.screen.query("#answer"))  # still open
        assert "serial is needed" in str(app.screen.query_one("#why").render())
        await pilot.press("escape")
        await pilot.pause()
        assert not app.screen.query("#answer")
    with read_session(engine) as s:
        swap = s.get(Swap, scene.psu_swap)
        assert swap is not None and swap.state != "done"


async def test_question_mark_shows_the_keys_and_one_escape_closes_only_it(tmp_path):
    from fleet.tui.detail import ServerScreen
    from fleet.tui.dialogs import KeysHelp

    engine, _ = scene_engine(tmp_path)
    app = console(engine, view="servers")
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#servers-table", LiveTable)
        await settle(pilot, app, lambda: table.row_count > 0)
        await pilot.press("enter")
        await settle(pilot, app, lambda: isinstance(app.screen, ServerScreen))
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, KeysHelp)
        assert "acknowledge" in str(app.screen.query_one("#keys-text").render())
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ServerScreen)  # the detail is still there
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ServerScreen)


async def test_a_ticket_on_a_slot_the_server_lacks_is_refused_listing_the_slots(tmp_path):
    from fleet.store.models import Ticket

    engine, scene = scene_engine(tmp_path)
    app = console(engine, view="faults")
    short_host = scene.psu_server_host.split(".")[0]
    async with app.run_test(size=(80, 24)) as pilot:
        table = app.query_one("#faults-table", LiveTable)
        await settle(pilot, app, lambda: table.row_count > 0)
        await pilot.press("t")
        await pilot.pause()
        answer = app.screen.query_one("#answer", Input)
        answer.value = f"!{short_host} PSU9 smoke from the back"  # a short host is enough; PSU9 is not there
        await pilot.press("enter")
        await settle(pilot, app, lambda: any("no slot" in n.message for n in app._notifications))
        message = next(n.message for n in app._notifications if "no slot" in n.message)
        assert "PSU1-PSU2" in message and "\n" not in message
    with read_session(engine) as s:
        assert s.exec(select(Ticket)).all() == []
