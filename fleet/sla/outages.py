"""What caused an outage, from what the same monitoring round saw. Pure.

The SLA credits *network* outages only. A failed web or DNS check is

- **hardware** when the server's controller answered and the host is powered off or has a critical fault open: the
  swap deadlines cover it, not the network credit. Power is hardware too: a server whose rack lost its power
  (fleet.faults.rack: its feed fault is part of the rack's, or its controller went dark in a rack whose power fault
  is open) is down because of the power, whatever its controller says;
- **network** when the controller did not answer either (the server is cut off, not just its service), or when the
  site's other servers failed their checks in the same round (the site's network, whatever the controller says);
- **service** otherwise: the host is up and its controller answers, only the service is down (the customer's web or
  DNS server, not the provider's network).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Cause(StrEnum):
    NETWORK = "network"
    HARDWARE = "hardware"
    SERVICE = "service"


CREDITED = (Cause.NETWORK,)  # the SLA's credit: "not reachable because of a network outage"

# "The site's other servers down at once": at least this many other servers of the site checked in the round, and
# at least this share of them down.
SITE_WIDE_MIN_OTHERS = 2
SITE_WIDE_SHARE = 0.5


@dataclass(frozen=True, slots=True)
class Seen:
    """One server in one round."""

    controller_reachable: bool | None  # None: not polled this round (no controller)
    powered_off: bool = False
    critical_fault_open: bool = False
    power_lost: bool = False  # its rack lost its power (a rack power fault covers it)


def site_wide(others_checked: int, others_down: int) -> bool:
    return others_checked >= SITE_WIDE_MIN_OTHERS and others_down >= SITE_WIDE_SHARE * others_checked


def classify(seen: Seen, *, site_down: bool) -> Cause:
    if seen.power_lost or (seen.controller_reachable and (seen.powered_off or seen.critical_fault_open)):
        return Cause.HARDWARE
    if seen.controller_reachable is False or site_down:
        return Cause.NETWORK
    return Cause.SERVICE
