"""How the console's workers read: one read-only session around one read model, opened and closed here, so the
console never opens a session itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

from fleet.store.db import read_session

T = TypeVar("T")


def read(engine: Engine, load: Callable[[Session], T]) -> T:
    with read_session(engine) as session:
        return load(session)
