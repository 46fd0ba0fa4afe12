"""Small dataclass messages that workers post back to the UI thread."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from fleet.servers import ServerRow


@dataclass
class ServersLoaded(Message):
    rows: list[ServerRow]


@dataclass
class LoadFailed(Message):
    what: str
    error: str
