"""The states of fleet's records, one definition each: a fault's, a swap's, a transfer's, a reservation's, a
customer window's, and the contract plans. Stored as the same text (StrEnum), so a state is a plain word in the
database and in JSON. The tables in fleet.store.models use them and re-export them.
"""

from __future__ import annotations

from enum import StrEnum


class Plan(StrEnum):
    """The server's contract. Which plans the SLA covers is the SLA's rule: fleet.sla.clocks.in_scope."""

    DEDICATED = "dedicated"
    VM = "vm"
    VPS = "vps"
    SHARED = "shared"


class FaultState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


CLOSED_FAULT_STATES = (FaultState.RESOLVED, FaultState.CANCELLED)


class FaultSource(StrEnum):
    MONITORING = "monitoring"
    TICKET = "ticket"
    AUDIT = "audit"  # the BMC security audit: a security fault (kind SECURITY, see `security_fault`)


class Resolution(StrEnum):
    SWAPPED = "swapped"  # the part was replaced
    RECOVERED = "recovered"  # read healthy again, or a person says it recovered
    CANCELLED = "cancelled"  # not a fault after all


class SwapState(StrEnum):
    PLANNED = "planned"
    AWAITING_CUSTOMER = "awaiting_customer"
    AGREED = "agreed"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


# A swap that is neither done nor cancelled: it still has to happen.
ACTIVE_SWAP_STATES = (SwapState.PLANNED, SwapState.AWAITING_CUSTOMER, SwapState.AGREED, SwapState.IN_PROGRESS)
# Not yet started: a plan may still move it (or call it off when its fault goes away).
REPLANNABLE_SWAP_STATES = tuple(s for s in ACTIVE_SWAP_STATES if s is not SwapState.IN_PROGRESS)
FINISHED_SWAP_STATES = (SwapState.DONE, SwapState.CANCELLED)


class TransferState(StrEnum):
    PROPOSED = "proposed"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    CANCELLED = "cancelled"


OPEN_TRANSFER_STATES = (TransferState.PROPOSED, TransferState.IN_TRANSIT)


class ReservationState(StrEnum):
    ACTIVE = "active"
    CONSUMED = "consumed"
    RELEASED = "released"


class WindowState(StrEnum):
    PROPOSED = "proposed"
    AGREED = "agreed"
    DECLINED = "declined"
    EXPIRED = "expired"
