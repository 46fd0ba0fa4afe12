"""SQLModel tables. The database itself enforces what must never be wrong: stock never negative, reserved never
above on hand, unique serials and hostnames, one open fault per server + slot + problem, foreign keys.

Times are timezone-aware UTC (`UTCDateTime`); SQLite stores them naive and they come back as UTC.
Money is integer cents. Structured columns (shifts, preferred windows, cursors, the sweep report, audit before/after)
use SQLAlchemy's JSON type (`JSONColumn`): Python lists and dicts in and out, JSON text on SQLite, `json` on
PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ColumnElement, Index, UniqueConstraint, false, text, true
from sqlmodel import Field, SQLModel, col

from fleet.health.model import Severity
from fleet.health.rules import SECURITY
from fleet.store.states import ACTIVE_SWAP_STATES as ACTIVE_SWAP_STATES
from fleet.store.states import CLOSED_FAULT_STATES as CLOSED_FAULT_STATES
from fleet.store.states import FINISHED_SWAP_STATES as FINISHED_SWAP_STATES
from fleet.store.states import OPEN_TRANSFER_STATES as OPEN_TRANSFER_STATES
from fleet.store.states import REPLANNABLE_SWAP_STATES as REPLANNABLE_SWAP_STATES
from fleet.store.states import FaultSource as FaultSource
from fleet.store.states import FaultState as FaultState

# The states of the tables below, one definition each (fleet.store.states); re-exported for the tables' users.
from fleet.store.states import Plan as Plan
from fleet.store.states import ReservationState as ReservationState
from fleet.store.states import Resolution as Resolution
from fleet.store.states import SwapState as SwapState
from fleet.store.states import TransferState as TransferState
from fleet.store.states import WindowState as WindowState
from fleet.store.types import TZ, EnumField, JSONColumn, JSONDict, JSONList, WeeklyHours

# Re-exported: the migrations name fleet.store.models.UTCDateTime (and may name EnumText).
from fleet.store.types import EnumText as EnumText
from fleet.store.types import UTCDateTime as UTCDateTime

# --- places and people -------------------------------------------------------------------------------------------


class Site(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, index=True, max_length=16)
    name: str
    timezone: str  # IANA name, e.g. "Europe/Paris": local time is shown per site


class Customer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True)
    contact_name: str
    email: str
    phone: str | None = None
    timezone: str
    # WeeklyHours in the customer's timezone.
    preferred_windows: WeeklyHours = JSONList()


class Technician(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    email: str | None = None
    # WeeklyHours in the site's timezone; end may be past midnight ("22:00"-"06:00" runs into the next day).
    shifts: WeeklyHours = JSONList()
    # The same shape: hours on call (reachable, not on site).
    on_call: WeeklyHours = JSONList()
    active: bool = True


# --- hardware catalogue ------------------------------------------------------------------------------------------


class ServerModel(SQLModel, table=True):
    __tablename__ = "server_model"
    id: int | None = Field(default=None, primary_key=True)
    vendor: str
    name: str = Field(unique=True)
    u_height: int = 1
    psu_count: int = 2
    fan_count: int = 6
    fan_zones: int = 1
    dimm_slots: int = 16
    disk_slots: int = 4
    raid_level: str = "RAID1"  # RAID0, RAID1, RAID5, RAID6, RAID10, none
    raid_battery: bool = True
    controller: str = "ipmi"  # the management controller family: idrac, ilo, xcc, imm, cimc, irmc, supermicro, ipmi


class PartModel(SQLModel, table=True):
    __tablename__ = "part_model"
    id: int | None = Field(default=None, primary_key=True)
    part_number: str = Field(unique=True, index=True)
    kind: str = Field(index=True)  # psu, fan, disk, dimm, cpu, battery, raid, nic, board
    vendor: str
    description: str
    # Annualised failure rate, a fraction (0.02 = 2 %/year); None: use the default for the kind.
    afr: float | None = None
    lead_time_days: float = 5.0  # replenishment lead time from the supplier


class PartCompat(SQLModel, table=True):
    """Which part models fit which server models."""

    __tablename__ = "part_compat"
    part_model_id: int = Field(foreign_key="part_model.id", primary_key=True)
    server_model_id: int = Field(foreign_key="server_model.id", primary_key=True)


class PartSubstitute(SQLModel, table=True):
    """A part model that may replace another (a newer revision, a second source)."""

    __tablename__ = "part_substitute"
    part_model_id: int = Field(foreign_key="part_model.id", primary_key=True)
    substitute_id: int = Field(foreign_key="part_model.id", primary_key=True)


# --- servers and what is in them ---------------------------------------------------------------------------------


# How a server's controller is read; "none": not polled. The CHECK below and the CSV import use this one tuple.
CONTROLLER_PROTOCOLS = ("ipmi", "snmp", "redfish", "none")


class Server(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("plan IN ('dedicated','vm','vps','shared')", name="ck_server_plan"),
        CheckConstraint(f"controller_protocol IN {CONTROLLER_PROTOCOLS!r}".replace(" ", ""), name="ck_server_protocol"),
    )
    id: int | None = Field(default=None, primary_key=True)
    hostname: str = Field(unique=True, index=True)
    asset_tag: str = Field(unique=True)
    serial: str = Field(unique=True)
    model_id: int = Field(foreign_key="server_model.id", index=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    rack: str
    unit: int  # lowest rack unit the server occupies
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    plan: Plan = EnumField(Plan, Plan.DEDICATED)
    backup_option: bool = False
    monthly_fee_cents: int = 0
    billing: str = "monthly"  # monthly | annual (the outage credit is computed on the matching fee)
    # What an annual payer really pays for the year (a discounted annual price); None: twelve monthly fees.
    annual_fee_cents: int | None = None
    controller_host: str  # address of the BMC / agent (loopback in the sample fleet)
    controller_port: int = 623
    controller_protocol: str = "ipmi"
    controller_user: str | None = None  # not a secret; the secret is behind credential_ref
    credential_ref: str | None = None  # "env:VAR" or "file:/path#entry": never the secret itself
    # Redfish TLS: verified against the system CAs (or controller_ca_file) unless a certificate is pinned by its
    # SHA-256 fingerprint (BMCs ship self-signed ones) or verification is switched off for this server.
    controller_tls_verify: bool = Field(default=True, sa_column_kwargs={"server_default": true()})
    controller_ca_file: str | None = None
    controller_cert_sha256: str | None = None  # 64 hex digits
    # The SLA's web and DNS monitoring: an HTTP GET and a DNS query to service_host on these ports (no checks
    # without a host).
    service_host: str | None = None
    web_port: int | None = 80
    dns_port: int | None = None
    status: str = "active"  # active | down | maintenance | decommissioned
    health: str = "unknown"  # ok | warning | critical | unknown: the latest assessment
    last_polled_at: datetime | None = TZ(default=None)
    last_poll_error: str | None = None
    poll_cursor: dict[str, Any] | None = JSONDict()  # the collector's opaque cursor (SEL position)
    next_poll_at: datetime | None = TZ(default=None, index=True)  # sweep workers claim servers due by this


class Component(SQLModel, table=True):
    __table_args__ = (
        # One installed part per slot; removed parts keep their history.
        Index(
            "uq_component_slot_installed",
            "server_id",
            "slot",
            unique=True,
            sqlite_where=text("removed_at IS NULL"),
            postgresql_where=text("removed_at IS NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    server_id: int = Field(foreign_key="server.id", index=True)
    slot: str  # PSU1, FAN3, Disk 0:1:4, DIMM_A1, BAT ...
    part_model_id: int = Field(foreign_key="part_model.id", index=True)
    serial: str | None = Field(default=None, unique=True)
    installed_at: datetime | None = TZ(default=None)
    removed_at: datetime | None = TZ(default=None)


class SensorState(SQLModel, table=True):
    """The latest state of each sensor of each server. Only changes are kept as history (SensorChange)."""

    __tablename__ = "sensor_state"
    server_id: int = Field(foreign_key="server.id", primary_key=True)
    name: str = Field(primary_key=True)
    kind: str
    slot: str = ""
    state: str
    value: float | None = None
    unit: str | None = None
    detail: str | None = None
    changed_at: datetime = TZ()
    seen_at: datetime = TZ()


class SensorChange(SQLModel, table=True):
    __tablename__ = "sensor_change"
    id: int | None = Field(default=None, primary_key=True)
    server_id: int = Field(foreign_key="server.id", index=True)
    name: str
    old_state: str | None = None
    new_state: str
    value: float | None = None
    at: datetime = TZ(index=True)


# --- stock -------------------------------------------------------------------------------------------------------


class Stock(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("site_id", "part_model_id", name="uq_stock_site_part"),
        CheckConstraint("on_hand >= 0", name="ck_stock_on_hand"),
        CheckConstraint("reserved >= 0", name="ck_stock_reserved"),
        CheckConstraint("reserved <= on_hand", name="ck_stock_reserved_le_on_hand"),
        CheckConstraint("reorder_level >= 0", name="ck_stock_reorder"),
    )
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    part_model_id: int = Field(foreign_key="part_model.id", index=True)
    bin: str
    on_hand: int = 0
    reserved: int = 0
    reorder_level: int = 0


class Reservation(SQLModel, table=True):
    __table_args__ = (CheckConstraint("quantity > 0", name="ck_reservation_qty"),)
    id: int | None = Field(default=None, primary_key=True)
    stock_id: int = Field(foreign_key="stock.id", index=True)
    fault_id: int | None = Field(default=None, foreign_key="fault.id", index=True)
    quantity: int = 1
    state: ReservationState = EnumField(ReservationState, ReservationState.ACTIVE)
    created_at: datetime = TZ()
    closed_at: datetime | None = TZ(default=None)
    actor: str = "system"


class Transfer(SQLModel, table=True):
    __table_args__ = (CheckConstraint("quantity > 0", name="ck_transfer_qty"),)
    id: int | None = Field(default=None, primary_key=True)
    part_model_id: int = Field(foreign_key="part_model.id")
    from_site_id: int = Field(foreign_key="site.id")
    to_site_id: int = Field(foreign_key="site.id")
    quantity: int = 1
    fault_id: int | None = Field(default=None, foreign_key="fault.id")
    state: TransferState = EnumField(TransferState, TransferState.PROPOSED)
    created_at: datetime = TZ()
    eta: datetime | None = TZ(default=None)
    received_at: datetime | None = TZ(default=None)


class SupplierOrder(SQLModel, table=True):
    """Spares ordered from the supplier for a site: on order (counted against the reorder level) until received."""

    __tablename__ = "supplier_order"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="ck_supplier_order_qty"),
        CheckConstraint("state IN ('ordered','received','cancelled')", name="ck_supplier_order_state"),
    )
    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    part_model_id: int = Field(foreign_key="part_model.id", index=True)
    quantity: int
    state: str = "ordered"
    ordered_at: datetime = TZ()
    received_at: datetime | None = TZ(default=None)
    actor: str = "system"


class Rma(SQLModel, table=True):
    """A defective part going back to the vendor: open -> shipped -> credited."""

    id: int | None = Field(default=None, primary_key=True)
    part_model_id: int = Field(foreign_key="part_model.id")
    serial: str | None = None
    server_id: int | None = Field(default=None, foreign_key="server.id")
    fault_id: int | None = Field(default=None, foreign_key="fault.id")
    state: str = "open"
    opened_at: datetime = TZ()
    shipped_at: datetime | None = TZ(default=None)
    credited_at: datetime | None = TZ(default=None)


# --- faults, tickets, swaps --------------------------------------------------------------------------------------


class Fault(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("severity IN ('critical','non-critical')", name="ck_fault_severity"),
        # Deduplication lives in the database too: one open fault per server + slot + problem.
        Index(
            "uq_fault_open",
            "server_id",
            "slot",
            "problem",
            unique=True,
            sqlite_where=text("resolved_at IS NULL"),
            postgresql_where=text("resolved_at IS NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    server_id: int = Field(foreign_key="server.id", index=True)
    slot: str
    kind: str  # part kind: psu, fan, disk ...
    problem: str  # what is wrong: failed, predictive, absent, degraded, ecc, overtemp, serial-changed ...
    severity: Severity = EnumField(Severity)
    state: FaultState = EnumField(FaultState, FaultState.OPEN)
    evidence: str = ""  # human-readable: which reading or event, with values
    source: FaultSource = EnumField(FaultSource, FaultSource.MONITORING)
    detected_at: datetime = TZ()
    notified_at: datetime = TZ()  # earliest of detection and ticket: the SLA clock
    critical_since: datetime | None = TZ(default=None)  # when it became critical (the 1 h / 4 h clock)
    acknowledged_at: datetime | None = TZ(default=None)
    acknowledged_by: str | None = None
    resolved_at: datetime | None = TZ(default=None)
    resolution: Resolution | None = EnumField(Resolution, None, nullable=True)
    last_seen_at: datetime | None = TZ(default=None)  # the last poll that found it still wrong
    # The last poll applied to this fault: a poll applied twice (a retried sweep) must not count twice.
    last_poll_at: datetime | None = TZ(default=None)
    healthy_polls: int = 0  # consecutive healthy polls since last bad one (hysteresis)
    flaps: int = 0  # bad -> healthy -> bad transitions while open
    flapping: bool = False
    # The one fault this finding is part of: a server's lost power feed attached to its rack's power fault
    # (fleet.faults.rack). That fault carries the work order and the SLA clock; this one keeps the server's state.
    parent_id: int | None = Field(default=None, foreign_key="fault.id", index=True)


def security_fault() -> ColumnElement[bool]:
    """The one test, in SQL, for a security fault (a BMC audit finding, fleet.faults.security; in Python
    `fault.kind == SECURITY`). Whatever counts hardware (spares, swap planning, the SLA figures, outage causes, the
    poll's resolutions, the sweep's status) leaves them out with `~security_fault()`."""
    return col(Fault.kind) == SECURITY


class Ticket(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    server_id: int = Field(foreign_key="server.id", index=True)
    fault_id: int | None = Field(default=None, foreign_key="fault.id")
    slot: str
    text: str
    critical: bool = False
    opened_at: datetime = TZ()
    opened_by: str = "support"


class MaintenanceWindow(SQLModel, table=True):
    __tablename__ = "maintenance_window"
    __table_args__ = (CheckConstraint("end_at > start_at", name="ck_window_order"),)
    id: int | None = Field(default=None, primary_key=True)
    server_id: int = Field(foreign_key="server.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customer.id")
    start_at: datetime = TZ()
    end_at: datetime = TZ()
    state: WindowState = EnumField(WindowState, WindowState.PROPOSED)
    proposed_at: datetime = TZ()
    answered_at: datetime | None = TZ(default=None)


class Swap(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    fault_id: int = Field(foreign_key="fault.id", index=True)
    server_id: int = Field(foreign_key="server.id", index=True)
    technician_id: int | None = Field(default=None, foreign_key="technician.id")
    reservation_id: int | None = Field(default=None, foreign_key="reservation.id")
    window_id: int | None = Field(default=None, foreign_key="maintenance_window.id")
    critical: bool = False
    state: SwapState = EnumField(SwapState, SwapState.PLANNED)
    planned_start: datetime | None = TZ(default=None)
    target_at: datetime | None = TZ(default=None)  # critical: notification + 1 h
    hard_limit_at: datetime | None = TZ(default=None)  # critical: notification + 4 h
    started_at: datetime | None = TZ(default=None)
    done_at: datetime | None = TZ(default=None)
    old_serial: str | None = None
    new_serial: str | None = None
    warning: str | None = None  # e.g. "no backup option: data on this disk is not backed up"
    note: str | None = None  # why a plan cannot meet its limit, etc.


class Outage(SQLModel, table=True):
    __table_args__ = (
        CheckConstraint("end_at IS NULL OR end_at >= start_at", name="ck_outage_order"),
        # One open outage per server and check: two sweep workers that see the same failure cannot both open it.
        Index(
            "uq_outage_open",
            "server_id",
            "service",
            unique=True,
            sqlite_where=text("end_at IS NULL"),
            postgresql_where=text("end_at IS NULL"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    server_id: int = Field(foreign_key="server.id", index=True)
    start_at: datetime = TZ()
    end_at: datetime | None = TZ(default=None)
    cause: str = "network"  # network | hardware | service (fleet.sla.outages.classify)
    service: str = "web"  # web | dns: the check that failed
    detected_by: str = "monitoring"


class SweepRun(SQLModel, table=True):
    __tablename__ = "sweep_run"
    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = TZ()
    finished_at: datetime | None = TZ(default=None)
    site_code: str | None = None
    worker: str | None = None
    # Where the run's process lives: a run whose process is gone is marked abandoned by the next sweep.
    host: str | None = None
    pid: int | None = None
    abandoned: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    servers: int = 0
    polled: int = 0
    unreachable: int = 0
    faults_opened: int = 0
    faults_resolved: int = 0
    status: int | None = None  # the exit status it ended with
    report: dict[str, Any] | None = JSONDict()  # the summary `fleet sweep --json` prints


class BmcAuditRun(SQLModel, table=True):
    """One recorded BMC security audit (`fleet audit bmc`, or the sweep's weekly one): when the next one is due."""

    __tablename__ = "bmc_audit_run"
    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = TZ(index=True)
    finished_at: datetime | None = TZ(default=None)
    site_code: str | None = None  # None: the whole fleet
    actor: str = "sweep"
    audited: int = 0  # controllers probed
    not_audited: int = 0  # of those, the ones that did not answer (every probe, or one): nothing closed for them
    findings: int = 0
    faults_opened: int = 0
    faults_resolved: int = 0


class Audit(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = TZ(index=True)
    actor: str
    action: str  # e.g. stock.reserve, fault.open, swap.done
    entity: str  # table name
    entity_id: int | None = None
    before: dict[str, Any] | None = JSONDict()
    after: dict[str, Any] | None = JSONDict()


class CheckCursor(SQLModel, table=True):
    """`fleet poll --db`: where the check last stopped reading a controller's event log. Its own row per
    controller, apart from the sweep's Server.poll_cursor: a check must not hide events from the sweep."""

    __tablename__ = "check_cursor"
    key: str = Field(primary_key=True, max_length=300)  # protocol:host:port
    # positions only (SEL record id and times, cipher suite), never a credential
    cursor: dict[str, Any] = Field(sa_type=JSONColumn)
    updated_at: datetime = TZ()
