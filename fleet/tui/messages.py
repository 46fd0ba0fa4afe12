"""Small dataclass messages that workers post back to the UI thread."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from textual.message import Message


@dataclass
class LoadFailed(Message):
    what: str
    error: str


@dataclass
class ViewLoaded(Message):
    """A view's data, read in a worker at `at` (the age shown in the status line counts from here)."""

    view: str
    data: object
    at: datetime


@dataclass
class ActionDone(Message):
    """A write (acknowledge, swap done, ...) or a re-poll finished; `ok` False means `text` is the error."""

    text: str
    ok: bool = True
    reload: bool = True
