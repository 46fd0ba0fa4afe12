"""The console's views. Each reads its data in a worker (`load`, no widgets touched) and draws it on the UI thread
(`draw`, pure rows from data + now + filter, written through LiveTable's diff). Nothing here reads the wall clock:
`now` comes from the app's injected clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from sqlmodel import Session
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Static

from fleet.config import Settings
from fleet.tui.livetable import LiveTable
from fleet.tui.rowdiff import Row
from fleet.views.dashboard import Dashboard, load_dashboard
from fleet.views.faults import FaultRow, fault_rows
from fleet.views.queue import WorkItem, work_queue
from fleet.views.servers import ServerRow, filter_rows, list_servers
from fleet.views.stock import StockBoard, load_stock_board
from fleet.views.timefmt import age, countdown, local
from fleet.views.timeline import Timeline, load_timeline

# Rows drawn at once: about three screens at 120x40. Each new row costs the table a measurement of every cell
# (~0.25 ms); 500 rows made a keystroke that changes the matches take 130 ms, 100 rows take under 40 ms. The status
# line says how many match, so a longer list is one more word in the filter away.
MAX_ROWS = 100


def severity(critical: bool) -> Text:
    # Words, not only colour: NO_COLOR terminals and colour-blind eyes read the same thing.
    return Text("CRIT", style="bold red") if critical else Text("minor", style="yellow")


def health_cell(h: str) -> Text:
    return Text(h, style={"critical": "bold red", "warning": "yellow", "ok": "green"}.get(h, "dim"))


def short(hostname: str) -> str:
    """The host's first label: 'par1-r650-003' of 'par1-r650-003.hosting.example.net'. Eighty columns are few."""
    return hostname.split(".", 1)[0]


def matches(cells: Sequence[object], query: str) -> bool:
    words = query.lower().split()
    if not words:
        return True
    hay = " ".join(str(c) for c in cells).lower()
    return all(w in hay for w in words)


class View(Vertical):
    """One screenful: a title, tables, a summary line. Subclasses say what to load and how to draw it."""

    view_id: ClassVar[str] = ""
    title: ClassVar[str] = ""
    key: ClassVar[str] = ""
    ticks: ClassVar[bool] = False  # draws countdowns: redrawn (diffed) once a second
    filterable: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__(id=self.view_id, classes="view")
        self.data: Any = None
        self.loaded_at: datetime | None = None
        self.summary = ""

    def load(self, session: Session, *, now: datetime, settings: Settings, technician: str | None) -> Any:
        raise NotImplementedError

    def draw(self, now: datetime, query: str) -> None:
        raise NotImplementedError

    def selected(self) -> str | None:
        """The key of the selected row of the focused (else first) table."""
        tables = list(self.query(LiveTable))
        focused = next((t for t in tables if t.has_focus), tables[0] if tables else None)
        return focused.selected_key if focused else None

    def main_table(self) -> LiveTable:
        return self.query(LiveTable).first()


class DashboardView(View):
    view_id = "dashboard"
    title = "Dashboard"
    key = "1"
    ticks = True
    filterable = False

    def compose(self) -> ComposeResult:
        yield Static("", id="sweep-line", classes="line")
        yield LiveTable(("site", "servers", "ok", "warn", "crit", "unkn", "faults C/m", "unack", "swaps", "stock"),
                        id="dash-sites", classes="short")  # fmt: skip
        yield Label("Swaps due (deadline order)", classes="section")
        yield LiveTable(("swap", "to limit", "to target", "sev", "site", "host", "slot", "state"), id="dash-swaps")
        yield Label("Stock alerts", classes="section")
        yield LiveTable(("site", "part", "kind", "bin", "avail", "reorder at"), id="dash-stock", classes="short")

    def load(self, session: Session, *, now: datetime, settings: Settings, technician: str | None) -> Dashboard:
        return load_dashboard(session, now=now)

    def draw(self, now: datetime, query: str) -> None:
        d: Dashboard = self.data
        sites: list[Row] = [
            (s.code, (s.code, str(s.servers), str(s.health["ok"]), str(s.health["warning"]),
                      str(s.health["critical"]), str(s.health["unknown"]),
                      f"{s.faults.get('critical', 0)}/{s.faults.get('non-critical', 0)}", str(s.unacknowledged),
                      str(s.swaps_due), str(s.stock_alerts)))
            for s in d.sites
        ]  # fmt: skip
        self.query_one("#dash-sites", LiveTable).sync(sites)
        swaps: list[Row] = [
            (str(w.swap_id), (str(w.swap_id), countdown(w.hard_limit_at, now), countdown(w.target_at, now),
                              severity(w.critical), w.site, short(w.hostname), w.slot, w.state))
            for w in d.swaps
        ]  # fmt: skip
        self.query_one("#dash-swaps", LiveTable).sync(swaps)
        alerts: list[Row] = [
            (f"{a.site}/{a.part_number}", (a.site, a.part_number, a.kind, a.bin, str(a.available),
                                            str(a.reorder_level)))
            for a in d.stock_alerts
        ]  # fmt: skip
        self.query_one("#dash-stock", LiveTable).sync(alerts)
        sweep = d.last_sweep
        if sweep is None:
            line = "last sweep: never: health data may be stale"
        else:
            state = "running" if sweep.finished_at is None else f"exit {sweep.status}"
            line = (f"last sweep {age(sweep.started_at, now)} ago ({state}, {sweep.polled} polled, "
                    f"{sweep.unreachable} unreachable)")  # fmt: skip
        t = d.totals
        self.query_one("#sweep-line", Static).update(
            f"{sum(t.values())} servers: {t.get('critical', 0)} critical, {t.get('warning', 0)} warning · {line}"
        )
        self.summary = f"{len(d.swaps)} swaps open, {len(d.stock_alerts)} stock alerts"


class ServersView(View):
    view_id = "servers"
    title = "Servers"
    key = "2"

    COLUMNS = ("host", "site", "model", "customer", "status", "health")

    def compose(self) -> ComposeResult:
        yield LiveTable(self.COLUMNS, id="servers-table")

    def load(self, session: Session, *, now: datetime, settings: Settings, technician: str | None) -> list[ServerRow]:
        return list_servers(session)

    def draw(self, now: datetime, query: str) -> None:
        rows: list[ServerRow] = self.data
        found = filter_rows(rows, query)
        self.query_one(LiveTable).sync(
            [(str(r.id), (r.hostname, r.site, r.model, r.customer, r.status, r.health)) for r in found[:MAX_ROWS]]
        )
        shown = min(len(found), MAX_ROWS)
        where = f" matching '{query}'" if query else ""
        more = f" (first {shown} shown)" if len(found) > shown else ""
        self.summary = f"{len(found)} of {len(rows)} servers{where}{more}"


class QueueView(View):
    view_id = "queue"
    title = "Work queue"
    key = "3"
    ticks = True

    def compose(self) -> ComposeResult:
        yield LiveTable(("swap", "left", "sev", "where", "host", "slot", "bin", "part", "state", "tech", "warning"),
                        id="queue-table")  # fmt: skip
        yield Static("", id="queue-detail", classes="line")

    def load(self, session: Session, *, now: datetime, settings: Settings, technician: str | None) -> list[WorkItem]:
        return work_queue(session, technician=technician)

    def draw(self, now: datetime, query: str) -> None:
        items: list[WorkItem] = self.data
        rows: list[Row] = []
        for w in items:
            left = countdown(w.hard_limit_at, now) if w.hard_limit_at else local(w.planned_start, w.site_tz)
            cells = (
                str(w.swap_id),
                left,
                severity(w.critical),
                w.where,
                short(w.hostname),
                w.slot,
                w.bin or "-",
                w.part_number or "-",
                w.state,
                w.technician or "-",
                Text(w.warning or "", style="bold"),
            )
            if matches(cells, query):
                rows.append((str(w.swap_id), cells))
        self.query_one(LiveTable).sync(rows)
        who = f" for {technician}" if (technician := getattr(self.app, "technician", None)) else ""
        self.summary = f"{len(rows)} swaps{who}, deadline first"
        self.show_detail(now)

    def item(self, key: str | None) -> WorkItem | None:
        return next((w for w in self.data or [] if str(w.swap_id) == key), None)

    def show_detail(self, now: datetime) -> None:
        w = self.item(self.selected())
        text = ""
        if w is not None:
            parts = [
                f"{w.hostname} {w.slot} ({w.kind}, {w.problem})",
                f"at {w.where}",
                f"spare {w.part_number or 'none reserved'} bin {w.bin or '-'}",
                f"old serial {w.old_serial or '?'}",
            ]
            if w.target_at:
                parts.append(f"target {countdown(w.target_at, now)}")
            if w.warning:
                parts.append(f"WARNING: {w.warning}")
            text = " · ".join(parts)
        self.query_one("#queue-detail", Static).update(text)

    def on_data_table_row_highlighted(self) -> None:
        if self.data is not None and self.app is not None:
            self.show_detail(self.app.clock())  # type: ignore[attr-defined]


class FaultsView(View):
    view_id = "faults"
    title = "Faults"
    key = "4"
    ticks = True

    def compose(self) -> ComposeResult:
        yield LiveTable(("id", "sev", "ack in", "limit", "host", "slot", "problem", "state", "site", "source"),
                        id="faults-table")  # fmt: skip
        yield Static("", id="fault-evidence", classes="line")

    def load(self, session: Session, *, now: datetime, settings: Settings, technician: str | None) -> list[FaultRow]:
        return fault_rows(session, settings=settings)

    def draw(self, now: datetime, query: str) -> None:
        rows: list[Row] = []
        for f in self.data:
            # Unacknowledged: time left of the hour to look at it (negative once it has passed).
            ack = (f.acknowledged_by or "yes") if f.acknowledged else countdown(f.ack_due_at, now)
            problem = f.problem + (" (flapping)" if f.flapping else "")
            sev = severity(f.severity == "critical")
            cells = (str(f.id), sev, ack, countdown(f.hard_limit_at, now), short(f.hostname), f.slot, problem, f.state,
                     f.site, f.source)  # fmt: skip
            if matches(cells, query):
                rows.append((str(f.id), cells))
        self.query_one(LiveTable).sync(rows)
        unacked = sum(1 for f in self.data if not f.acknowledged)
        self.summary = f"{len(rows)} open faults, {unacked} unacknowledged"
        self.show_evidence()

    def fault(self, key: str | None) -> FaultRow | None:
        return next((f for f in self.data or [] if str(f.id) == key), None)

    def show_evidence(self) -> None:
        f = self.fault(self.selected())
        self.query_one("#fault-evidence", Static).update(f"{f.hostname} {f.slot}: {f.evidence}" if f else "")

    def on_data_table_row_highlighted(self) -> None:
        if self.data is not None:
            self.show_evidence()


class StockView(View):
    view_id = "stock"
    title = "Stock"
    key = "5"

    def compose(self) -> ComposeResult:
        yield LiveTable(("site", "part", "kind", "bin", "on hand", "resv", "avail", "reorder", "low"),
                        id="stock-levels")  # fmt: skip
        yield Label("Reservations · transfers · RMA (tab to move between tables)", classes="section")
        yield LiveTable(("resv", "site", "part", "bin", "fault", "host"), id="stock-resv", classes="short")
        transfers = ("transfer", "part", "from", "to", "qty", "state", "eta")
        yield LiveTable(transfers, id="stock-transfers", classes="short")
        yield LiveTable(("rma", "part", "serial", "host", "state"), id="stock-rma", classes="short")

    def load(self, session: Session, *, now: datetime, settings: Settings, technician: str | None) -> StockBoard:
        return load_stock_board(session)

    def draw(self, now: datetime, query: str) -> None:
        b: StockBoard = self.data
        levels: list[Row] = []
        for s in b.levels:
            cells = (s.site, s.part_number, s.kind, s.bin, str(s.on_hand), str(s.reserved), str(s.available),
                     str(s.reorder_level), Text("LOW", style="bold red") if s.low else "")  # fmt: skip
            if matches(cells, query):
                levels.append((f"{s.site}/{s.part_number}", cells))
        self.query_one("#stock-levels", LiveTable).sync(levels)
        self.query_one("#stock-resv", LiveTable).sync(
            [(str(r.id), (str(r.id), r.site, r.part_number, r.bin, str(r.fault_id or "-"), short(r.hostname)))
             for r in b.reservations]
        )  # fmt: skip
        self.query_one("#stock-transfers", LiveTable).sync(
            [(str(t.id), (str(t.id), t.part_number, t.from_site, t.to_site, str(t.quantity), t.state,
                          local(t.eta, "UTC", "%m-%d %H:%MZ")))
             for t in b.transfers]
        )  # fmt: skip
        self.query_one("#stock-rma", LiveTable).sync(
            [(str(m.id), (str(m.id), m.part_number, m.serial or "?", short(m.hostname), m.state)) for m in b.rmas]
        )
        low = sum(1 for s in b.levels if s.low)
        self.summary = f"{low} of {len(b.levels)} low · {len(b.reservations)} reserved · {len(b.transfers)} moving"


class ScheduleView(View):
    view_id = "schedule"
    title = "Schedule"
    key = "6"

    def compose(self) -> ComposeResult:
        yield LiveTable(("technician", "start (site time)", "swap", "host", "slot", "sev", "state", "limit"),
                        id="schedule-slots")  # fmt: skip
        yield Label("Customer windows (customer's time)", classes="section")
        yield LiveTable(("window", "host", "customer", "from", "to", "state"), id="schedule-windows", classes="short")

    def load(self, session: Session, *, now: datetime, settings: Settings, technician: str | None) -> Timeline:
        return load_timeline(session, now=now)

    def draw(self, now: datetime, query: str) -> None:
        t: Timeline = self.data
        slots: list[Row] = []
        previous = None
        for s in t.slots:
            who = s.technician or "(unassigned)"
            start = local(s.start, s.site_tz) or "-"
            cells = (who if who != previous else "", start, str(s.swap_id), short(s.hostname), s.slot,
                     severity(s.critical), s.state, local(s.hard_limit_at, s.site_tz))  # fmt: skip
            if matches((who, *cells), query):
                slots.append((str(s.swap_id), cells))
                previous = who
        self.query_one("#schedule-slots", LiveTable).sync(slots)
        windows: list[Row] = [
            (str(w.id), (str(w.id), short(w.hostname), w.customer, local(w.start, w.customer_tz, "%a %d %H:%M"),
                         local(w.end, w.customer_tz, "%H:%M"), w.state))
            for w in t.windows
            if matches((w.hostname, w.customer, w.state), query)
        ]  # fmt: skip
        self.query_one("#schedule-windows", LiveTable).sync(windows)
        agreed = sum(1 for w in t.windows if w.state == "agreed")
        self.summary = f"{len(slots)} swaps planned · {len(t.windows)} windows, {agreed} agreed"


def sla_lines(report: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The month's report as (section, figure, value) lines, in the order a reader asks about them."""
    ack, swaps, avail = report["acknowledgement"], report["swaps"], report["availability"]
    credits, mon = report["credits"], report["monitoring"]
    pct = "-" if ack.get("within_pct") is None else f"{ack['within_pct']} %"
    lines = [
        ("acknowledge", f"alerts looked at within {ack['within_min']} min", f"{ack['within']} of {ack['alerts']}"),
        ("acknowledge", "late / pending", f"{ack['late']} / {ack['pending']}"),
        ("acknowledge", "on time", pct),
        ("critical swaps", "total", str(swaps["critical_swaps"])),
        ("critical swaps", f"within target ({swaps['target_min']} min)", str(swaps["within_target"])),
        ("critical swaps", f"within limit ({swaps['limit_min']} min)", str(swaps["within_limit"])),
        ("critical swaps", "late / pending", f"{swaps['late']} / {swaps['pending']}"),
        ("network", f"servers under {avail['target_pct']} %", f"{avail['breaches']} of {len(avail['servers'])}"),
        ("credits", "servers credited", str(len(credits["servers"]))),
        ("credits", "total", f"{credits['total_cents'] / 100:.2f}"),
        ("monitoring", "sweeps", str(mon["sweeps"])),
        ("monitoring", "gap minutes (longest)", f"{mon['gap_minutes']} ({mon['longest_gap_minutes']})"),
        ("scope", "servers outside the SLA", str(len(report["excluded"]["servers"]))),
    ]
    # Outages still open (with their cause: only network ones earn credit) and each server's credit line.
    lines += [(f"outage ({o['cause']})", f"{o['server']} {o['service']}", f"since {o['start'][11:16]} UTC")
              for o in report.get("outages", []) if o["end"] is None]  # fmt: skip
    lines += [("credit", c["server"], f"{c['periods']} period(s), {c['credit_cents'] / 100:.2f}"
               + (" (cap)" if c["capped"] else "")) for c in credits["servers"]]  # fmt: skip
    return lines


class SlaView(View):
    view_id = "sla"
    title = "SLA"
    key = "7"
    filterable = False

    def compose(self) -> ComposeResult:
        yield Static("", id="sla-title", classes="line")
        yield LiveTable(("section", "figure", "value"), id="sla-table")

    def load(self, session: Session, *, now: datetime, settings: Settings, technician: str | None) -> dict[str, Any]:
        from fleet.sla.report import sla_report

        return sla_report(session, now.strftime("%Y-%m"), now=now, settings=settings)

    def draw(self, now: datetime, query: str) -> None:
        report: dict[str, Any] = self.data
        period = report["period"]
        state = "complete" if period["complete"] else f"so far (to {local(now, 'UTC', '%d %H:%M')} UTC)"
        self.query_one("#sla-title", Static).update(f"SLA report {report['month']}, {state}")
        self.query_one(LiveTable).sync([(f"{i}", line) for i, line in enumerate(sla_lines(report))])
        self.summary = f"month {report['month']} · credits {report['credits']['total_cents'] / 100:.2f}"


VIEWS: tuple[type[View], ...] = (DashboardView, ServersView, QueueView, FaultsView, StockView, ScheduleView, SlaView)
