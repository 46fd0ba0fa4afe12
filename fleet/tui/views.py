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
from fleet.health.rules import SECURITY
from fleet.store.models import WindowState
from fleet.tui.livetable import Col, LiveTable
from fleet.tui.rowdiff import Row
from fleet.views.dashboard import Dashboard, load_dashboard
from fleet.views.faults import FaultRow, fault_rows
from fleet.views.queue import WorkItem, work_queue
from fleet.views.servers import ServerRow, filter_rows, list_servers
from fleet.views.stock import StockBoard, load_stock_board
from fleet.views.text import plain
from fleet.views.timefmt import age, countdown, site_time
from fleet.views.timeline import Timeline, load_timeline


def severity(critical: bool) -> Text:
    # Words, not only colour: NO_COLOR terminals and colour-blind eyes read the same thing.
    return _SEVERITY[critical]


_SEVERITY = {True: Text("CRIT", style="bold red"), False: Text("minor", style="yellow")}
_HEALTH_STYLE = {"critical": "bold red", "warning": "yellow", "ok": "green"}
_HEALTH: dict[str, Text] = {}


def health_cell(h: str) -> Text:
    """One shared cell per state (cells are never changed in place: the table copies what it draws)."""
    cell = _HEALTH.get(h)
    if cell is None:
        cell = _HEALTH[h] = Text(h, style=_HEALTH_STYLE.get(h, "dim"))
    return cell


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
        yield LiveTable((Col("site"), Col("crit"), Col("warn"), Col("faults C/m"), Col("unack"), Col("swaps"),
                         Col("stock"), Col("servers", 1), Col("ok", 2), Col("unkn", 3)),
                        id="dash-sites", classes="shared")  # fmt: skip
        yield Label("Swaps due (deadline order)", classes="section")
        yield LiveTable((Col("to limit"), Col("sev"), Col("host"), Col("slot"), Col("state"), Col("to target", 2),
                         Col("site", 3), Col("swap", 1)), id="dash-swaps", classes="shared")  # fmt: skip
        yield Label("Stock alerts", classes="section")
        yield LiveTable((Col("site"), Col("part"), Col("avail"), Col("reorder at"), Col("bin", 2), Col("kind", 1)),
                        id="dash-stock", classes="shared")  # fmt: skip

    def load(self, session: Session, *, now: datetime, settings: Settings, technician: str | None) -> Dashboard:
        return load_dashboard(session, now=now, settings=settings)

    def draw(self, now: datetime, query: str) -> None:
        d: Dashboard = self.data
        sites: list[Row] = [
            (s.code, (s.code, str(s.health["critical"]), str(s.health["warning"]),
                      f"{s.faults.get('critical', 0)}/{s.faults.get('non-critical', 0)}", str(s.unacknowledged),
                      str(s.swaps_due), str(s.stock_alerts), str(s.servers), str(s.health["ok"]),
                      str(s.health["unknown"])))
            for s in d.sites
        ]  # fmt: skip
        self.query_one("#dash-sites", LiveTable).sync(sites)
        swaps: list[Row] = [
            (str(w.swap_id), (countdown(w.hard_limit_at, now), severity(w.critical), short(w.hostname), w.slot,
                              w.state, countdown(w.target_at, now), w.site, str(w.swap_id)))
            for w in d.swaps
        ]  # fmt: skip
        self.query_one("#dash-swaps", LiveTable).sync(swaps)
        alerts: list[Row] = [
            (f"{a.site}/{a.part_number}", (a.site, a.part_number, str(a.available), str(a.reorder_level), a.bin,
                                            a.kind))
            for a in d.stock_alerts
        ]  # fmt: skip
        self.query_one("#dash-stock", LiveTable).sync(alerts)
        t = d.totals
        self.query_one("#sweep-line", Static).update(Text(
            f"{sum(t.values())} servers: {t.get('critical', 0)} critical, {t.get('warning', 0)} warning, "
            f"{t.get('unknown', 0)} not measured · {sweep_line(d, now)}"
        ))  # fmt: skip
        self.summary = f"{len(d.swaps)} swaps open, {len(d.stock_alerts)} stock alerts"
        self.share_height()

    def on_resize(self) -> None:
        if self.data is not None:
            self.share_height()

    def share_height(self) -> None:
        """The three tables share the screen by what they hold: an empty one takes two lines, not a third of it."""
        tables = [self.query_one(f"#{i}", LiveTable) for i in ("dash-sites", "dash-swaps", "dash-stock")]
        fixed = sum(w.outer_size.height for w in self.children if not isinstance(w, LiveTable))
        for table, height in zip(tables, share(self.size.height - fixed, [t.row_count + 1 for t in tables]),
                                 strict=True):  # fmt: skip
            table.styles.height = max(height, 2)


def share(room: int, needs: list[int]) -> list[int]:
    """Split `room` lines between tables that need `needs` lines: the small ones get all they need, the rest share
    what is left equally (water-filling), never less than 2 lines each (the header and one row)."""
    out = [0] * len(needs)
    left = max(room, 2 * len(needs))
    for n, i in enumerate(sorted(range(len(needs)), key=lambda i: needs[i])):
        out[i] = max(2, min(needs[i], left // (len(needs) - n)))
        left -= out[i]
    return out


def sweep_line(d: Dashboard, now: datetime) -> str:
    """The last sweep: its age, and while it runs how far it is (polled of total)."""
    sweep = d.last_sweep
    if sweep is None:
        return "no sweep yet: health is not measured (run `fleet sweep`, or `fleet demo`)"
    if sweep.state == "running":
        total = f"/{sweep.servers}" if sweep.servers else ""
        return f"sweep running for {age(sweep.started_at, now)}: {sweep.polled}{total} polled"
    return (f"last sweep {age(sweep.started_at, now)} ago ({sweep.state}, {sweep.polled} polled, "
            f"{sweep.unreachable} unreachable)")  # fmt: skip


class ServersView(View):
    view_id = "servers"
    title = "Servers"
    key = "2"

    # State first: at 80 columns the health of every server is on screen; the customer goes first when space is short.
    COLUMNS = (Col("health"), Col("host"), Col("site"), Col("status", 3), Col("model", 2), Col("customer", 1))

    def compose(self) -> ComposeResult:
        self._cells: dict[int, Row] = {}
        self._cells_of: object = None
        yield LiveTable(self.COLUMNS, id="servers-table")

    def load(self, session: Session, *, now: datetime, settings: Settings, technician: str | None) -> list[ServerRow]:
        return list_servers(session)

    def draw(self, now: datetime, query: str) -> None:
        rows: list[ServerRow] = self.data
        found = filter_rows(rows, query)
        if self._cells_of is not rows:
            # The table rows are built once per load, not per keystroke: a key in the filter only picks among them.
            self._cells = {r.id: (str(r.id), (health_cell(r.health), short(r.hostname), r.site, r.status, r.model,
                                              r.customer)) for r in rows}  # fmt: skip
            self._cells_of = rows
        # Every match is a row: the table draws only the rows on screen, so a 10,000-server fleet scrolls whole.
        self.query_one(LiveTable).sync([self._cells[r.id] for r in found])
        where = f" matching '{query}'" if query else ""
        self.summary = f"{len(found)} of {len(rows)} servers{where}"


class QueueView(View):
    view_id = "queue"
    title = "Work queue"
    key = "3"
    ticks = True

    def compose(self) -> ComposeResult:
        yield LiveTable((Col("left"), Col("sev"), Col("host"), Col("slot"), Col("state"), Col("tech"), Col("warning"),
                         Col("bin", 2), Col("where", 3), Col("part", 4), Col("swap", 1)),
                        id="queue-table")  # fmt: skip
        yield Static("", id="queue-detail", classes="line")

    def load(self, session: Session, *, now: datetime, settings: Settings, technician: str | None) -> list[WorkItem]:
        return work_queue(session, now=now, settings=settings, technician=technician)

    def draw(self, now: datetime, query: str) -> None:
        items: list[WorkItem] = self.data
        rows: list[Row] = []
        for w in items:
            left = countdown(w.hard_limit_at, now) if w.hard_limit_at else site_time(w.planned_start, w.site_tz)
            cells = (
                left,
                severity(w.critical),
                short(w.hostname),
                w.slot,
                w.state,
                w.technician or "-",
                Text("NO BACKUP" if w.warning else "", style="bold"),  # the whole warning is on the line below
                w.bin or "-",
                w.where,
                w.part_number or "-",
                str(w.swap_id),
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
        if w is not None and w.kind == SECURITY:
            # A work order on the controller's settings: what to change, and the audit verifies it.
            text = " · ".join([f"{w.hostname} {w.slot} security: {w.problem}", f"at {w.where}", w.note or "",
                               "the next audit closes it"])  # fmt: skip
        elif w is not None:
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
        self.query_one("#queue-detail", Static).update(Text(plain(text)))  # quotes hostnames, serials, warnings

    def on_live_table_row_highlighted(self) -> None:
        if self.data is not None and self.app is not None:
            self.show_detail(self.app.clock())  # type: ignore[attr-defined]


class FaultsView(View):
    view_id = "faults"
    title = "Faults"
    key = "4"
    ticks = True

    def compose(self) -> ComposeResult:
        yield LiveTable((Col("sev"), Col("ack in"), Col("limit"), Col("state"), Col("host"), Col("slot"), Col("site"),
                         Col("source"), Col("problem", 1), Col("id", 2)),
                        id="faults-table")  # fmt: skip
        yield Static("", id="fault-evidence", classes="line")

    def __init__(self) -> None:
        super().__init__()
        # `x` (or `:security`): only the security faults (BMC audit findings), the same list as `fleet faults
        # --security`; again: every fault.
        self.security_only = False

    def load(self, session: Session, *, now: datetime, settings: Settings, technician: str | None) -> list[FaultRow]:
        return fault_rows(session, now=now, settings=settings, security=self.security_only)

    def draw(self, now: datetime, query: str) -> None:
        rows: list[Row] = []
        for f in self.data:
            # Unacknowledged: time left of the hour to look at it (negative once it has passed).
            ack = (
                (f.acknowledged_by or "yes")
                if f.acknowledged
                else countdown(f.ack_due_at, now)
                if f.ack_due_at
                else "-"
            )
            problem = f.problem + (" (flapping)" if f.flapping else "")
            sev = severity(f.critical)
            cells = (sev, ack, countdown(f.hard_limit_at, now), f.state, short(f.hostname), f.slot, f.site, f.source,
                     problem, str(f.id))  # fmt: skip
            if matches(cells, query):
                rows.append((str(f.id), cells))
        self.query_one(LiveTable).sync(rows)
        unacked = sum(1 for f in self.data if not f.acknowledged)
        which = "security faults (x: all faults)" if self.security_only else "faults"
        self.summary = f"{len(rows)} open {which}, {unacked} unacknowledged"
        self.show_evidence()

    def fault(self, key: str | None) -> FaultRow | None:
        return next((f for f in self.data or [] if str(f.id) == key), None)

    def show_evidence(self) -> None:
        f = self.fault(self.selected())
        text = f"#{f.id} {f.hostname} {f.slot}: {f.problem}: {f.evidence}" if f else ""
        self.query_one("#fault-evidence", Static).update(Text(plain(text)))

    def on_live_table_row_highlighted(self) -> None:
        if self.data is not None:
            self.show_evidence()


class StockView(View):
    view_id = "stock"
    title = "Stock"
    key = "5"

    def compose(self) -> ComposeResult:
        levels = (Col("low"), Col("site"), Col("part"), Col("avail"), Col("on hand"), Col("resv"), Col("reorder"),
                  Col("bin", 2), Col("kind", 1))  # fmt: skip
        yield LiveTable(levels, id="stock-levels")
        yield Label("Reservations · transfers · RMA (tab to move between tables)", classes="section")
        resv = (Col("resv"), Col("site"), Col("part"), Col("bin"), Col("fault", 1), Col("host"))
        yield LiveTable(resv, id="stock-resv", classes="short")
        transfers = (Col("transfer"), Col("part"), Col("from"), Col("to"), Col("qty", 1), Col("state"), Col("eta"))
        yield LiveTable(transfers, id="stock-transfers", classes="short")
        yield LiveTable((Col("rma"), Col("part"), Col("serial"), Col("state"), Col("host", 1)), id="stock-rma",
                        classes="short")  # fmt: skip

    def load(self, session: Session, *, now: datetime, settings: Settings, technician: str | None) -> StockBoard:
        return load_stock_board(session, now=now, settings=settings)

    def draw(self, now: datetime, query: str) -> None:
        b: StockBoard = self.data
        levels: list[Row] = []
        for s in b.levels:
            cells = (Text("LOW", style="bold red") if s.low else "", s.site, s.part_number, str(s.available),
                     str(s.on_hand), str(s.reserved), str(s.reorder_level), s.bin, s.kind)  # fmt: skip
            if matches(cells, query):
                levels.append((f"{s.site}/{s.part_number}", cells))
        self.query_one("#stock-levels", LiveTable).sync(levels)
        self.query_one("#stock-resv", LiveTable).sync(
            [(str(r.id), (str(r.id), r.site, r.part_number, r.bin, str(r.fault_id or "-"), short(r.hostname)))
             for r in b.reservations]
        )  # fmt: skip
        self.query_one("#stock-transfers", LiveTable).sync(
            [(str(t.id), (str(t.id), t.part_number, t.from_site, t.to_site, str(t.quantity), t.state,
                          site_time(t.eta, t.to_tz)))
             for t in b.transfers]
        )  # fmt: skip
        self.query_one("#stock-rma", LiveTable).sync(
            [(str(m.id), (str(m.id), m.part_number, m.serial or "?", m.state, short(m.hostname))) for m in b.rmas]
        )
        low = sum(1 for s in b.levels if s.low)
        self.summary = f"{low} of {len(b.levels)} low · {len(b.reservations)} reserved · {len(b.transfers)} moving"


class ScheduleView(View):
    view_id = "schedule"
    title = "Schedule"
    key = "6"

    def compose(self) -> ComposeResult:
        slots = (Col("technician"), Col("start (site time)"), Col("swap", 1), Col("host"), Col("slot"), Col("sev"),
                 Col("state"), Col("limit", 2))  # fmt: skip
        yield LiveTable(slots, id="schedule-slots")
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
            start = site_time(s.start, s.site_tz) or "-"
            cells = (who if who != previous else "", start, str(s.swap_id), short(s.hostname), s.slot,
                     severity(s.critical), s.state, site_time(s.hard_limit_at, s.site_tz))  # fmt: skip
            if matches((who, *cells), query):
                slots.append((str(s.swap_id), cells))
                previous = who
        self.query_one("#schedule-slots", LiveTable).sync(slots)
        windows: list[Row] = [
            (str(w.id), (str(w.id), short(w.hostname), w.customer, site_time(w.start, w.customer_tz),
                         site_time(w.end, w.customer_tz, day=False), w.state))
            for w in t.windows
            if matches((w.hostname, w.customer, w.state), query)
        ]  # fmt: skip
        self.query_one("#schedule-windows", LiveTable).sync(windows)
        agreed = sum(1 for w in t.windows if w.state == WindowState.AGREED)
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
        from fleet.sla.credits import month_key
        from fleet.sla.report import sla_report

        return sla_report(session, month_key(now), now=now, settings=settings)

    def draw(self, now: datetime, query: str) -> None:
        report: dict[str, Any] = self.data
        period = report["period"]
        state = "complete" if period["complete"] else f"so far (to {site_time(now, 'UTC')})"
        self.query_one("#sla-title", Static).update(f"SLA report {report['month']}, {state}")
        self.query_one(LiveTable).sync([(f"{i}", line) for i, line in enumerate(sla_lines(report))])
        self.summary = f"month {report['month']} · credits {report['credits']['total_cents'] / 100:.2f}"


VIEWS: tuple[type[View], ...] = (DashboardView, ServersView, QueueView, FaultsView, StockView, ScheduleView, SlaView)
