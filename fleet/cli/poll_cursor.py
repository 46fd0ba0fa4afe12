"""Where `fleet poll` keeps each controller's cursor between runs, so a check shows only the SEL events that are new.

One small JSON file per controller under `$XDG_STATE_HOME/fleet/poll/` (default `~/.local/state/fleet/poll/`),
owner-only, replaced atomically: checks of different controllers running at once never share a file, and a check
killed mid-write leaves the previous cursor. With `--db`, the database keeps it instead (fleet.cli.poll_cursor_db).
The cursor holds positions only (SEL record id and timestamps, cipher suite, FRU chunk size), never a credential.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Protocol

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class CursorStore(Protocol):
    def load(self, key: str) -> dict[str, Any] | None: ...

    def save(self, key: str, cursor: dict[str, Any]) -> None: ...


def cursor_key(protocol: str, host: str, port: int) -> str:
    return f"{protocol}:{host}:{port}"


def state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or ""
    # XDG: a relative path is invalid and must be ignored
    root = Path(base) if base and os.path.isabs(base) else Path.home() / ".local" / "state"
    return root / "fleet" / "poll"


class FileCursors:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or state_dir()

    def path(self, key: str) -> Path:
        # readable and collision-free: the key made safe for a file name, plus a digest of the exact key
        digest = hashlib.sha256(key.encode()).hexdigest()[:12]
        return self.directory / f"{_SAFE.sub('_', key)[:80]}-{digest}.json"

    def load(self, key: str) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # no cursor yet, or an unreadable one: start over (the whole log once)
        return data if isinstance(data, dict) else None

    def save(self, key: str, cursor: dict[str, Any]) -> None:
        import tempfile  # here: a check that has nothing new to save (a dead port) starts without it

        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".cursor-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(cursor, f, sort_keys=True)
            os.replace(tmp, self.path(key))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
