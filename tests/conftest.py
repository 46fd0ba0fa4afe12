"""Fixtures shared by every test. Protocol fixtures live beside their tests (tests/ipmi, tests/snmp)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The shared test data (real SNMP recordings, the reference IPMI bench) sits beside the repository.
SHARED = Path(os.environ.get("FLEET_SHARED", REPO.parent / "shared")).resolve()


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared test data not found at {SHARED} (set FLEET_SHARED)")
    return SHARED
