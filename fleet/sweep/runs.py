"""The sweep_run rows of runs whose process is gone: marked abandoned when the next sweep starts.

A `kill -9`, the OOM killer or a reboot ends a sweep before it can write its finish; without this its row says
"running" forever. On the same machine the process id says whether the run is still alive; a run of another machine
(several sites on one PostgreSQL) cannot be asked, so it counts as abandoned once it is older than any sweep lasts.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from fleet.store.models import SweepRun

# Far longer than a round lasts (a round is bounded by the per-host deadline), far shorter than "forever".
ABANDON_AFTER = timedelta(hours=6)


def this_process() -> tuple[str, int]:
    return socket.gethostname(), os.getpid()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def mark_abandoned(session: Session, now: datetime) -> list[int]:
    """Mark every unfinished run whose process is gone; returns their ids."""
    host, me = this_process()
    marked = []
    for run in session.exec(select(SweepRun).where(col(SweepRun.finished_at).is_(None))).all():
        if run.pid == me and run.host == host:
            continue
        local = run.host == host and run.pid is not None
        if (local and not _alive(run.pid)) or now - run.started_at > ABANDON_AFTER:  # type: ignore[arg-type]
            run.abandoned = True
            run.finished_at = now
            session.add(run)
            assert run.id is not None
            marked.append(run.id)
    return marked
