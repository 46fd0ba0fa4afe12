"""Finding a server by the name a person types: the full hostname, or any unique prefix of it.

The console and the tables show a host's first label (`nyc1-dl360-007`); the command line accepts that, or any
prefix that names exactly one server. An ambiguous prefix is an error that lists the candidates, never a guess.
"""

from __future__ import annotations

from sqlmodel import Session, col, select

from fleet.errors import InputError, NotFound
from fleet.store.models import Server

CANDIDATES_SHOWN = 8  # an ambiguous name lists this many candidates, then how many more


def find_server(session: Session, name: str) -> Server:
    """The server whose hostname is `name`, or the only one whose hostname starts with it."""
    name = name.strip()
    if not name:
        raise InputError("which server? give its hostname (a unique prefix is enough)")
    exact = session.exec(select(Server).where(Server.hostname == name)).first()
    if exact is not None:
        return exact
    escaped = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    q = select(Server).where(col(Server.hostname).like(f"{escaped}%", escape="\\")).order_by(col(Server.hostname))
    found = list(session.exec(q.limit(CANDIDATES_SHOWN + 1)).all())
    if not found:
        raise NotFound(f"no server {name!r}")
    if len(found) == 1:
        return found[0]
    total = len(session.exec(q).all())
    names = ", ".join(s.hostname for s in found[:CANDIDATES_SHOWN])
    more = f" and {total - CANDIDATES_SHOWN} more" if total > CANDIDATES_SHOWN else ""
    raise InputError(f"{name!r} names {total} servers: {names}{more}; give more of the hostname")
