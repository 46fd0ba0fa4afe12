"""The fleet console. `make_app` is the one factory the CLI, the tests, the screenshots and the benchmark share.

Live without blocking: every database read and write, and every re-poll, runs in a thread worker that posts a small
message back (harlequin, toolong). The refresh reschedules itself only once the previous one has been drawn
(dolphie), so a slow database slows the refresh instead of piling up reads; drawing diffs rows and cells, and the
once-a-second tick only rewrites the countdown cells that changed. Time comes from the injected clock only.
"""

from __future__ import annotations

import getpass
from contextlib import AbstractContextManager, suppress
from typing import ClassVar

from rich.text import Text
from sqlalchemy import Engine
from textual import on, work
from textual.app import App, ComposeResult, ScreenStackError
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Footer, Input, Static
from textual.worker import get_current_worker

from fleet.clock import Clock, utcnow
from fleet.config import Settings, load_settings
from fleet.tui.commands import FleetCommands
from fleet.tui.demo import DemoControl, cause_outage
from fleet.tui.detail import ServerScreen
from fleet.tui.dialogs import KeysHelp
from fleet.tui.livetable import LiveTable
from fleet.tui.messages import LoadFailed, ViewLoaded
from fleet.tui.views import VIEWS, FaultsView, QueueView, ServersView, View
from fleet.tui.writes import SwapDoneHook, WriteActions, one_line
from fleet.views import actions as actions
from fleet.views.read import read
from fleet.views.server import load_server_detail
from fleet.views.text import plain
from fleet.views.timefmt import age

REFRESH_S = 5.0  # the SLA's monitoring interval is 5 min; the console only has to follow the database

# Actions that belong to one view: hidden from the footer and refused elsewhere.
VIEW_ACTIONS = {
    "acknowledge": ("faults",),
    "escalate": ("faults",),
    "security": ("faults",),
    "ticket": ("faults",),
    "start_swap": ("queue",),
    "done_swap": ("queue",),
    "whose": ("queue",),
    "repoll": ("servers", "faults", "queue"),
    "open_server": ("servers", "faults", "queue"),
}
LETTER_ACTIONS = {"quit", "refresh", "filter", "command", "show_view", "keys", *VIEW_ACTIONS}


class FleetApp(WriteActions):
    CSS_PATH = "fleet.tcss"
    TITLE = "fleet"
    COMMANDS = App.COMMANDS | {FleetCommands}
    # Every key that acts is a priority binding: the app handles it when it arrives, in order, before the keys
    # behind it are handed to a widget. A burst ("/ack" pasted, fast typing over SSH) then reaches `/` first, which
    # moves the focus to the filter at once, and the letters after it are filter text (check_action refuses every
    # command while something is being typed). Escape stays an ordinary binding: the top panel gets it first.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", priority=True),
        Binding("slash", "filter", "Filter", key_display="/", priority=True),
        Binding("colon", "command", "View", key_display=":", priority=True),
        Binding("question_mark", "keys", "Keys", key_display="?", priority=True),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("r", "refresh", "Refresh", show=False, priority=True),  # it refreshes itself; the footer is short
        *(Binding(v.key, f"show_view('{v.view_id}')", v.title, show=False, priority=True) for v in VIEWS),
        Binding("a", "acknowledge", "Ack", priority=True),
        Binding("e", "escalate", "Escalate", priority=True),
        # Not in the footer (80 columns are full): listed by `?` and the command palette.
        Binding("x", "security", "Security", show=False, priority=True),
        Binding("t", "ticket", "Ticket", priority=True),
        Binding("s", "start_swap", "Start", priority=True),
        Binding("d", "done_swap", "Done", priority=True),
        Binding("w", "whose", "Whose", priority=True),
        Binding("p", "repoll", "Re-poll", priority=True),
    ]

    def __init__(
        self,
        engine: Engine,
        clock: Clock = utcnow,
        *,
        settings: Settings | None = None,
        view: str = "dashboard",
        technician: str | None = None,
        poll_server: actions.Poller | None = None,
        on_swap_done: SwapDoneHook | None = None,
        refresh_s: float = REFRESH_S,
        actor: str | None = None,
        demo: DemoControl | None = None,
    ) -> None:
        super().__init__()
        self.on_swap_done = on_swap_done
        self.demo = demo  # `fleet demo` only: the outages a user may cause (fleet.tui.demo)
        self.engine = engine
        self.clock = clock
        self.settings = settings or load_settings()
        self.initial_view = view
        self.technician = technician
        self.poller = poll_server or actions.find_poller(settings=self.settings, clock=clock)
        self.refresh_s = refresh_s
        self.actor = actor or _user()
        self.queries: dict[str, str] = {}
        self.refresh_timer: Timer | None = None
        self.errors: dict[str, str] = {}  # view -> why its last load failed, shown while it is on screen

    # --- layout ------------------------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", id="tabs")
        yield Input(placeholder="filter: words to match", id="filter")
        yield Input(placeholder="view: dashboard servers queue faults stock schedule sla", id="command")
        # The servers list comes first in the DOM: it is the fleet itself, loaded at start whatever view shows.
        order = sorted(VIEWS, key=lambda v: v is not ServersView)
        with ContentSwitcher(initial=self.initial_view):
            for cls in order:
                yield cls()
        yield Static("loading…", id="status")
        yield Footer()

    @property
    def view(self) -> View:
        return self.query_one(f"#{self.query_one(ContentSwitcher).current}", View)

    def on_mount(self) -> None:
        self.show_tabs()
        self.focus_view()
        self.load_view(self.initial_view)
        if self.initial_view != "servers":
            self.load_view("servers", prefetch=True)
        self.set_interval(1.0, self.tick)

    def show_tabs(self) -> None:
        current = self.query_one(ContentSwitcher).current
        tabs = "  ".join(f"[reverse] {v.key} {v.title} [/]" if v.view_id == current else f"{v.key} {v.title}"
                         for v in VIEWS)  # fmt: skip
        self.query_one("#tabs", Static).update(tabs)

    def focus_view(self) -> None:
        tables = list(self.view.query(LiveTable))
        if tables:
            self.screen.set_focus(tables[0])  # now, not on idle: a later call (the filter's) must win

    # --- loading -----------------------------------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="load")
    def load_view(self, view_id: str, prefetch: bool = False) -> None:
        # Database reads never run on the UI thread: a slow disk or a busy PostgreSQL must not freeze the console.
        view = self.query_one(f"#{view_id}", View)
        now = self.clock()
        try:
            data = read(
                self.engine, lambda s: view.load(s, now=now, settings=self.settings, technician=self.technician)
            )
        except Exception as exc:  # shown in the status line; the console stays usable and tries again
            self.post_message(LoadFailed(view_id, one_line(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(ViewLoaded(view_id, data, now))

    def on_view_loaded(self, message: ViewLoaded) -> None:
        with _closing_tolerated():
            self._view_loaded(message)

    def _view_loaded(self, message: ViewLoaded) -> None:
        if message.view == "detail":
            if isinstance(self.screen, ServerScreen):
                self.screen.show(message.data, self.clock())  # type: ignore[arg-type]
            return
        view = self.query_one(f"#{message.view}", View)
        view.data = message.data
        view.loaded_at = message.at
        self.errors.pop(view.view_id, None)
        view.draw(self.clock(), self.queries.get(view.view_id, ""))
        if view is self.view:
            self.show_status()
            self.schedule_refresh()

    def on_load_failed(self, message: LoadFailed) -> None:
        self.errors[message.what] = f"cannot load {message.what}: {message.error}"
        with _closing_tolerated():
            self.show_status()
            if message.what == self.view.view_id:
                self.schedule_refresh()

    def schedule_refresh(self) -> None:
        # The next read is booked only now that this one is drawn: reads never overlap, however slow they are.
        if self.refresh_timer is not None:
            self.refresh_timer.stop()
        self.refresh_timer = self.set_timer(self.refresh_s, self.refresh_current)

    def refresh_current(self) -> None:
        self.refresh_timer = None
        with _closing_tolerated():
            if isinstance(self.screen, ServerScreen):
                self.load_detail(self.screen.server_id)
            self.load_view(self.view.view_id)

    @work(thread=True, exit_on_error=False, group="detail")
    def load_detail(self, server_id: int) -> None:
        now = self.clock()
        try:
            detail = read(self.engine, lambda s: load_server_detail(s, server_id))
        except Exception as exc:
            self.post_message(LoadFailed(f"server {server_id}", one_line(exc)))
            return
        self.post_message(ViewLoaded("detail", detail, now))

    def tick(self) -> None:
        """Once a second: countdowns and the data's age. Only cells whose text changed are written."""
        with _closing_tolerated():
            view = self.view
            if view.ticks and view.data is not None:
                view.draw(self.clock(), self.queries.get(view.view_id, ""))
            self.show_status()

    def show_status(self) -> None:
        view = self.view
        now = self.clock()
        if view.view_id in self.errors:
            text = self.errors[view.view_id]
        elif view.loaded_at is None:
            text = "loading…"
        else:
            stale = view.loaded_at is not None and (now - view.loaded_at).total_seconds() > 3 * self.refresh_s + 5
            text = f"data {age(view.loaded_at, now)} old{' (STALE)' if stale else ''} · {view.summary}"
        status = self.query_one("#status", Static)
        text = plain(text)  # an error or a summary may quote data (a hostname, a query)
        if str(status.render()) != text:
            status.update(Text(text))  # a filter typed with "[" is text, not markup

    # --- switching and filtering -------------------------------------------------------------------------------

    def action_show_view(self, view_id: str) -> None:
        switcher = self.query_one(ContentSwitcher)
        if switcher.current == view_id:
            return
        switcher.current = view_id
        self.show_tabs()
        self.refresh_bindings()
        box = self.query_one("#filter", Input)
        query = self.queries.get(view_id, "")
        box.value = query
        box.set_class(bool(query), "visible")
        self.focus_view()
        view = self.view
        if view.data is not None:
            view.draw(self.clock(), query)
        self.show_status()
        self.load_view(view_id)

    def action_filter(self) -> None:
        if not self.view.filterable:
            # On the dashboard, "/" means "find a server".
            self.action_show_view("servers")
        self.start_typing(self.query_one("#filter", Input))

    def start_typing(self, box: Input) -> None:
        """Show an input and give it the keys now, not on the next idle: the keys already queued behind the one
        that opened it are its text."""
        box.add_class("visible")
        self.screen.set_focus(box)

    def action_clear_filter(self) -> None:
        for box in self.query("#filter, #command").results(Input):
            if box.id == "filter":
                box.value = ""
            box.remove_class("visible")
        self.focus_view()

    def action_command(self) -> None:
        box = self.query_one("#command", Input)
        box.value = ""
        self.start_typing(box)

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        view = self.view
        self.queries[view.view_id] = event.value
        if view.data is not None:
            view.draw(self.clock(), event.value)
            self.show_status()

    @on(Input.Submitted, "#filter")
    def filter_done(self, event: Input.Submitted) -> None:
        self.focus_view()

    @on(Input.Submitted, "#command")
    def command_done(self, event: Input.Submitted) -> None:
        event.input.remove_class("visible")
        word = event.value.strip().lower().lstrip(":")
        if word and "security".startswith(word) and len(word) >= 3:
            self.focus_view()
            self.show_security(True)
            return
        target = next((v for v in VIEWS if word in (v.key, v.view_id) or (word and v.view_id.startswith(word))), None)
        target = target or next((v for v in VIEWS if word and v.title.lower().startswith(word)), None)
        self.focus_view()
        if target is None:
            self.notify(plain(f"no view {word!r}: dashboard servers queue faults security stock schedule sla"),
                        severity="warning", markup=False)  # fmt: skip
            return
        self.action_show_view(target.view_id)

    def action_refresh(self) -> None:
        self.refresh_current()

    def action_keys(self) -> None:
        self.push_screen(KeysHelp())

    def typing(self) -> bool:
        """A filter, the view prompt or a dialog has the keys: letters are text, not commands."""
        return isinstance(self.focused, Input) or isinstance(self.screen, ModalScreen)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in LETTER_ACTIONS and self.typing():
            return False
        if action == "demo":
            return self.demo is not None
        if isinstance(self.screen, ServerScreen) and action in VIEW_ACTIONS:
            return action == "repoll"
        if action in VIEW_ACTIONS:
            # Shown and run only where they mean something: the footer stays short enough for 80 columns.
            return self.query_one(ContentSwitcher).current in VIEW_ACTIONS[action]
        return True

    # --- selection ---------------------------------------------------------------------------------------------

    def selected_server(self) -> int | None:
        if isinstance(self.screen, ServerScreen):
            return self.screen.server_id
        view, key = self.view, self.view.selected()
        if key is None:
            return None
        if isinstance(view, ServersView):
            return int(key)
        if isinstance(view, FaultsView):
            f = view.fault(key)
            return f.server_id if f else None
        if isinstance(view, QueueView):
            w = view.item(key)
            return w.server_id if w else None
        return None

    def action_open_server(self) -> None:
        server_id = self.selected_server()
        if server_id is not None and not isinstance(self.screen, ServerScreen):
            self.push_screen(ServerScreen(server_id))

    def action_demo(self, what: str) -> None:
        server_id = self.selected_server()
        if self.demo is None or server_id is None:
            return
        self.run_write(cause_outage, self.demo, what, server_id)

    def action_security(self) -> None:
        view = self.view
        if isinstance(view, FaultsView):
            self.show_security(not view.security_only)

    def show_security(self, only: bool) -> None:
        """The faults view with only the security faults (BMC audit findings), or with every fault."""
        faults = self.query_one("#faults", FaultsView)
        faults.security_only = only
        faults.data = None  # the other list must not show under the new title while the new one loads
        if self.query_one(ContentSwitcher).current == "faults":
            self.load_view("faults")
        else:
            self.action_show_view("faults")

    @on(LiveTable.RowSelected)
    def row_selected(self, event: LiveTable.RowSelected) -> None:
        if self.query_one(ContentSwitcher).current in VIEW_ACTIONS["open_server"]:
            self.action_open_server()


def _closing_tolerated() -> AbstractContextManager[None]:
    # A worker's message or the tick can arrive while the app is shutting down and its widgets are gone.
    return suppress(NoMatches, ScreenStackError)


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers: audit entries still say it came from a console
        return "console"


def make_app(
    engine: Engine,
    clock: Clock = utcnow,
    *,
    settings: Settings | None = None,
    view: str = "dashboard",
    technician: str | None = None,
    poll_server: actions.Poller | None = None,
    on_swap_done: SwapDoneHook | None = None,
    refresh_s: float = REFRESH_S,
    actor: str | None = None,
    demo: DemoControl | None = None,
) -> FleetApp:
    """The console on any migrated database.

    `clock` is the only source of time (freeze it for screenshots and tests). `poll_server(engine, server_id)`
    re-polls one server on demand and after a swap is done (default: one found in the sweep's modules, if any).
    `on_swap_done(server_id, slot, new_serial)` runs after a swap is recorded and before that re-poll: `fleet demo`
    replaces the simulated part there. `technician` narrows the work queue to one technician (and their site's
    unassigned swaps) and is recorded on swaps they start and finish; `actor` names the console's user in the audit.
    `demo` (`fleet demo` only) adds the palette's outages to cause on the selected server (fleet.tui.demo).
    """
    return FleetApp(engine, clock, settings=settings, view=view, technician=technician, poll_server=poll_server,
                    on_swap_done=on_swap_done, refresh_s=refresh_s, actor=actor, demo=demo)  # fmt: skip


__all__ = ["FleetApp", "make_app"]
