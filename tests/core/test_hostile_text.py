"""Data is text: a hostname, a customer, a serial or a ticket text holding Rich markup, terminal escapes, NUL or
bidirectional overrides is shown as text by every command and every console view, never obeyed.

The data comes in the way a database can hold it (written straight to it: the import refuses control characters,
but an older import, an SNMP string or a hand edit does not ask); then each command runs as a user would run it.
"""

from __future__ import annotations

import io
import time

import pytest
from sqlalchemy import update
from sqlmodel import select

from fleet.cli import main
from fleet.clock import FrozenClock
from fleet.config import Settings
from fleet.exchange.csv import export_csv
from fleet.store.db import make_engine, read_session, write_session
from fleet.store.migrate import upgrade
from fleet.store.models import Component, Customer, Fault, PartModel, Rma, SensorState, Server, Stock, Technician
from fleet.tui.app import make_app
from fleet.tui.detail import ServerScreen
from fleet.tui.livetable import LiveTable
from fleet.tui.views import VIEWS
from tests.tui.scene import NOW, build_scene

# Markup that closes a tag never opened (MarkupError), an OSC that retitles the terminal, a bidi override, a NUL.
HOSTILE = "[/bold][red]\x1b]0;owned\x07\u202eevil\x00"
CONTROLS = ("\x1b", "\x07", "\x00", "\u202e")
VISIBLE = ("[/bold][red]", "]0;owned", "evil")  # what a person still reads


def hostile(value: str) -> str:
    return f"{value}{HOSTILE}"


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("hostile") / "inv.db"
    engine = make_engine(str(path))
    upgrade(engine)
    scene = build_scene(engine)
    with write_session(engine) as s:
        for model, column in ((Server, "hostname"), (Server, "serial"), (Server, "last_poll_error"),
                              (Customer, "name"), (Fault, "evidence"), (Component, "serial"), (Stock, "bin"),
                              (PartModel, "description"), (SensorState, "name"), (Technician, "name"),
                              (Rma, "serial")):  # fmt: skip
            field = getattr(model, column)
            s.execute(update(model).where(field.is_not(None)).values({column: field + HOSTILE}))
    engine.dispose()
    return path, scene


def run(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, str, str]:
    try:
        main(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def assert_inert(text: str) -> None:
    for c in CONTROLS:
        assert c not in text, f"{c!r} reached the terminal"


COMMANDS = [
    ["faults"], ["swaps"], ["stock"], ["stock", "--low"], ["rma", "list", "--all"],
    ["report", "sla", "--month", NOW.strftime("%Y-%m")], ["swap", "plan"],
]  # fmt: skip


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: "-".join(a))
def test_listing_commands_show_hostile_data_as_text(capsys, monkeypatch, hostile_db, tmp_path, args):
    path, _ = hostile_db
    monkeypatch.chdir(tmp_path)  # swap plan writes customer mails to ./outbox
    monkeypatch.setenv("COLUMNS", "400")  # wide enough that no cell is cut
    code, out, err = run(capsys, [*args, "--db", str(path)])
    assert code in (0, 1), err  # swap plan: 1 when a swap is late; never a MarkupError
    assert "Traceback" not in err and "MarkupError" not in err
    assert_inert(out + err)
    if args[0] in ("faults", "swaps", "rma", "stock") and args != ["stock", "--low"]:
        assert all(v in out for v in VISIBLE), out


def test_messages_and_errors_quote_hostile_input_as_text(capsys, hostile_db, tmp_path):
    path, scene = hostile_db
    with read_session(make_engine(str(path))) as s:
        host = s.exec(select(Server.hostname).where(Server.id == scene.psu_server)).one()
    db = ["--db", str(path)]
    # A ticket on the hostile host: the confirmation quotes the hostname.
    code, out, err = run(capsys, ["ticket", "open", "--server", host, "--slot", "PSU1", "--text", HOSTILE, *db])
    assert code == 0, err
    assert_inert(out)
    assert "[/bold][red]" in out
    # Errors quoting a hostile input: one line, inert.
    for args in (["ticket", "open", "--server", "nope" + HOSTILE, "--slot", "PSU1", "--text", "t", *db],
                 ["faults", "--site", HOSTILE, *db], ["stock", "--db", str(tmp_path / ("x" + HOSTILE))]):  # fmt: skip
        code, out, err = run(capsys, args)
        assert code in (2, 4, 5), err
        assert err.startswith("fleet: ") and err.count("\n") == 1, err
        assert_inert(err)
        assert "[/bold][red]" in err


def test_export_to_a_terminal_is_inert_and_to_a_file_keeps_the_data(hostile_db):
    path, _ = hostile_db
    engine = make_engine(str(path))
    screen, file = io.StringIO(), io.StringIO()
    export_csv(engine, "servers", screen, terminal=True)
    export_csv(engine, "servers", file)
    assert_inert(screen.getvalue())
    assert "[/bold][red]" in screen.getvalue()
    assert HOSTILE in file.getvalue()  # a file is for programs: the data as it is


async def _settle(pilot, until, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not until() and time.monotonic() < deadline:
        await pilot.pause(0.05)


def _table_text(app) -> str:
    """What the tables draw: the text of every line they render (what reaches the terminal), not the data given."""
    lines = []
    for table in app.screen.query(LiveTable):
        for y in range(table.size.height):
            lines.append("".join(segment.text for segment in table.render_line(y)))
    return "\n".join(lines)


async def test_every_console_view_shows_hostile_data_as_text(hostile_db):
    path, scene = hostile_db
    engine = make_engine(str(path))
    app = make_app(engine, FrozenClock(NOW), settings=Settings(), actor="marie")
    async with app.run_test(size=(160, 50)) as pilot:
        seen = ""
        for v in VIEWS:
            app.action_show_view(v.view_id)
            await _settle(pilot, lambda v=v: app.query_one(f"#{v.view_id}").loaded_at is not None)
            await app.workers.wait_for_complete()
            await pilot.pause(0.1)
            assert app.is_running and not app.errors, (v.view_id, app.errors)
            text = _table_text(app) + str(app.query_one("#status").render())
            assert_inert(text)
            seen += text
        for view_id in ("queue", "faults"):  # their detail lines quote hostnames and evidence
            app.action_show_view(view_id)
            await pilot.pause(0.1)
            for static in app.screen.query(".line"):
                assert_inert(str(static.render()))
        app.push_screen(ServerScreen(scene.psu_server))
        await _settle(pilot, lambda: app.screen.detail is not None)  # type: ignore[attr-defined]
        await pilot.pause(0.1)
        head = str(app.screen.query_one("#detail-head").render())
        assert_inert(head + _table_text(app))
        assert "[/bold][red]" in head and app.is_running
    assert all(v in seen for v in VISIBLE), "the hostile text is still shown, as text"


def test_fleet_export_to_a_real_terminal_passes_no_control_character(hostile_db):
    """`fleet export` on a terminal (a pseudo-terminal here): what reaches the screen is inert."""
    import os
    import pty
    import subprocess
    import sys

    from tests.conftest import REPO

    path, _ = hostile_db
    master, slave = pty.openpty()
    child = subprocess.Popen([sys.executable, "-m", "fleet", "export", "servers", "--db", str(path)], cwd=REPO,
                             stdin=subprocess.DEVNULL, stdout=slave, stderr=subprocess.PIPE)  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert_inert(screen)
    assert "[/bold][red]" in screen and "]0;owned" in screen
