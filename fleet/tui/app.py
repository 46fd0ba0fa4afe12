"""The fleet console. `make_app` is the one factory the CLI and the tests share."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy import Engine
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Footer, Input, Static

from fleet.clock import Clock, utcnow
from fleet.db import read_session
from fleet.servers import ServerRow, filter_rows, list_servers
from fleet.tui.messages import LoadFailed, ServersLoaded

# Rows drawn at once. An 80x24 screen shows ~18; drawing 10,000 rows on every keystroke would make the filter lag
# over SSH for rows nobody can see. The status line says how many match.
MAX_ROWS = 500

COLUMNS = ("host", "site", "model", "customer", "status", "health")


class FleetApp(App[None]):
    CSS_PATH = "fleet.tcss"
    TITLE = "fleet"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("r", "refresh", "Refresh"),
    ]

    def __init__(self, engine: Engine, clock: Clock = utcnow) -> None:
        super().__init__()
        self.engine = engine
        self.clock = clock
        self.rows: list[ServerRow] = []
        self.query_text = ""

    def compose(self) -> ComposeResult:
        yield Input(placeholder="filter: words to match (host, site, model, customer, status)", id="filter")
        table: DataTable[str] = DataTable(id="servers", cursor_type="row", zebra_stripes=True)
        table.add_columns(*COLUMNS)
        yield table
        yield Static("loading…", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.load_servers()

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def load_servers(self) -> None:
        # Database work never runs on the UI thread: a slow disk or a busy PostgreSQL must not freeze the console.
        try:
            with read_session(self.engine) as session:
                rows = list_servers(session)
        except Exception as exc:  # shown in the status line; the console stays usable
            self.post_message(LoadFailed("servers", str(exc).splitlines()[0]))
            return
        self.post_message(ServersLoaded(rows))

    def on_servers_loaded(self, message: ServersLoaded) -> None:
        self.rows = message.rows
        self.show_rows()

    def on_load_failed(self, message: LoadFailed) -> None:
        self.query_one("#status", Static).update(f"cannot load {message.what}: {message.error}")

    def show_rows(self) -> None:
        table = self.query_one(DataTable)
        matches = filter_rows(self.rows, self.query_text)
        table.clear()
        table.add_rows((r.hostname, r.site, r.model, r.customer, r.status, r.health) for r in matches[:MAX_ROWS])
        shown = min(len(matches), MAX_ROWS)
        where = f" matching '{self.query_text}'" if self.query_text else ""
        more = f" (first {shown} shown)" if len(matches) > shown else ""
        self.query_one("#status", Static).update(f"{len(matches)} of {len(self.rows)} servers{where}{more}")

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("visible")
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.remove_class("visible")
        self.query_one(DataTable).focus()

    def action_refresh(self) -> None:
        self.load_servers()

    @on(Input.Changed, "#filter")
    def filter_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value
        self.show_rows()

    @on(Input.Submitted, "#filter")
    def filter_done(self, event: Input.Submitted) -> None:
        self.query_one(DataTable).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # While typing a filter, "q" and "r" are letters, not commands.
        return not (action in ("quit", "refresh", "filter") and isinstance(self.focused, Input))


def make_app(engine: Engine, clock: Clock = utcnow) -> FleetApp:
    return FleetApp(engine, clock)
