"""A server's detail: sensors, components with serials, faults, history. Escape goes back to the list."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Static

from fleet.health.model import Severity
from fleet.tui.livetable import Col, LiveTable
from fleet.tui.views import health_cell, severity
from fleet.views.server import ServerDetail
from fleet.views.text import plain
from fleet.views.timefmt import age, site_time


class ServerScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("p", "app.repoll", "Re-poll"),
        Binding("r", "reload", "Refresh"),
    ]

    def __init__(self, server_id: int) -> None:
        super().__init__()
        self.server_id = server_id
        self.detail: ServerDetail | None = None

    def compose(self) -> ComposeResult:
        yield Static("loading…", id="detail-head", classes="line")
        with VerticalScroll():
            yield Label("Sensors", classes="section")
            yield LiveTable((Col("state"), Col("sensor"), Col("slot"), Col("value"), Col("kind", 2), Col("changed", 1)),
                            id="detail-sensors")  # fmt: skip
            yield Label("Components", classes="section")
            yield LiveTable((Col("slot"), Col("serial"), Col("part"), Col("kind", 2), Col("installed", 1)),
                            id="detail-components")  # fmt: skip
            yield Label("Faults", classes="section")
            faults = (Col("sev"), Col("slot"), Col("state"), Col("problem"), Col("notified", 2), Col("ack by", 3),
                      Col("id", 1))  # fmt: skip
            yield LiveTable(faults, id="detail-faults")
            yield Label("History", classes="section")
            yield LiveTable(("when", "what"), id="detail-history")
        yield Footer()

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self.app.load_detail(self.server_id)  # type: ignore[attr-defined]

    def show(self, d: ServerDetail, now: datetime) -> None:
        self.detail = d
        tz = d.site_tz
        polled = f"polled {age(d.last_polled_at, now)} ago" if d.last_polled_at else "never polled"
        err = f" · last poll: {d.last_poll_error}" if d.last_poll_error else ""
        backup = "backup" if d.backup_option else "NO BACKUP"
        self.query_one("#detail-head", Static).update(Text(plain(
            f"{d.hostname} · {d.site} {d.rack} U{d.unit} · {d.model} · {d.customer or '-'} ({d.plan}, {backup}) · "
            f"{d.status}/{d.health} · {d.protocol} {polled}{err}"
        )))  # fmt: skip
        self.query_one("#detail-sensors", LiveTable).sync(
            [(s.name, (health_cell(s.state) if s.state != "absent" else s.state, s.name, s.slot,
                       "" if s.value is None else f"{s.value:g} {s.unit or ''}".strip(), s.kind,
                       site_time(s.changed_at, tz)))
             for s in d.sensors]
        )  # fmt: skip
        self.query_one("#detail-components", LiveTable).sync(
            [(c.slot, (c.slot, c.serial or "?", c.part_number, c.kind, site_time(c.installed_at, tz)))
             for c in d.components]
        )  # fmt: skip
        self.query_one("#detail-faults", LiveTable).sync(
            [(str(f.id), (severity(f.severity == Severity.CRITICAL), f.slot, f.state, f.problem,
                          site_time(f.notified_at, tz), f.acknowledged_by or "-", str(f.id)))
             for f in d.faults]
        )  # fmt: skip
        self.query_one("#detail-history", LiveTable).sync(
            [(str(i), (site_time(h.at, tz), h.what)) for i, h in enumerate(d.history)]
        )
