"""The vocabulary of one poll: its deadline, the two ways it stops early, and pyghmi's errors as one line."""

from __future__ import annotations

import time
from dataclasses import dataclass

from fleet.collectors.ipmi.patches import IPMI15_REFUSED

# pyghmi's login messages (constants.rmcp_codes and the RAKP checks) that mean "these credentials are wrong".
_AUTH_MARKERS = ("password", "unauthorized", "invalid role", "privilege", "username", "invalid integrity check")


class PollTimeout(Exception):
    """The per-host deadline passed."""


class PollFailure(Exception):
    """A poll that cannot go on; `error` is the one-line PollResult.error."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def check(self) -> None:
        if time.monotonic() >= self.at:
            raise PollTimeout


@dataclass(frozen=True, slots=True)
class Request:
    """One IPMI request a poll program yields; the engine sends it back (completion code, response data)."""

    netfn: int
    command: int
    data: tuple[int, ...] = ()
    lun: int = 0


Reply = tuple[int, bytes]


def classify(message: object) -> str:
    """A one-line PollResult.error for an error pyghmi reported (an exception or its error text)."""
    text = str(message) if str(message) not in ("", "None") else ""
    if IPMI15_REFUSED in text:
        return "protocol: " + IPMI15_REFUSED
    low = text.lower()
    if any(m in low for m in _AUTH_MARKERS):
        return "auth"
    if not text or "timeout" in low or "no longer connected" in low or "unable to transmit" in low:
        return "timeout"
    if "failed to initialize" in low:
        return "timeout"
    return "protocol: " + text.splitlines()[0][:120]
