"""A small asyncio Redfish client on httpx: one per BMC per poll, bounded by the poll's deadline.

- Sessions: `POST SessionService/Sessions` gives an `X-Auth-Token`; the token is kept in this process (never in the
  database: it is a credential) keyed by BMC and user, reused by the next poll of the same BMC, and deleted by
  `close_sessions()`. A service without sessions (or one that answers the POST without a token, as sushy-static
  does) is read with HTTP basic auth. A 401 on a reused token logs in again once.
- Cost: `$expand=.($levels=1)` on collections when the service root advertises it, so a collection of 16 DIMMs is one
  request; when the service refuses the query (sushy-static answers 404, some firmware 400/501) the client remembers
  that for the BMC and follows the links, a few at a time.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib.util
import sys
import time
from collections.abc import Iterable
from typing import Any

import httpx

if importlib.util.find_spec("sniffio") is None:
    # httpcore asks `import sniffio` on every request and lock to tell asyncio from trio; without sniffio installed
    # each failed import searches sys.path again, which was a third of the client's CPU at 200 BMCs. A None entry
    # makes the same import fail at once, with the same outcome (asyncio).
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

from fleet.collectors.redfish.tls import PinMismatch, transport
from fleet.collectors.targets import RedfishTarget

ROOT = "/redfish/v1"
# BMCs are small computers: two requests at a time on two kept-alive connections. Each connection costs the BMC a
# TLS handshake (slow on its CPU); more of them made a 200-BMC sweep slower, not faster (docs/PERFORMANCE.md).
PER_HOST_REQUESTS = 2
_EXPAND = "$expand=.($levels=1)"

# (scheme, host, port, user) -> (token, session URI). Tokens live only in this process.
_sessions: dict[tuple[str, str, int, str], tuple[str, str | None, RedfishTarget]] = {}


class RedfishFailure(Exception):
    """The poll cannot go on: `reason` is the PollResult error ("timeout", "auth", "unreachable", "protocol: ...")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def path_of(link: Any) -> str | None:
    """The path of an `{"@odata.id": ...}` link, without a fragment; None when it is not a link."""
    if isinstance(link, dict):
        link = link.get("@odata.id")
    if not isinstance(link, str) or not link.startswith("/"):
        return None
    return link.split("#", 1)[0]


def same(a: str, b: str) -> bool:
    """HPE writes links with a trailing slash and other casings ("/redfish/v1/systems/1/"): one resource."""
    return a.rstrip("/").lower() == b.rstrip("/").lower()


class Client:
    def __init__(self, target: RedfishTarget, deadline: float, *, expand: bool | None = None) -> None:
        self.target = target
        self.deadline = deadline  # time.monotonic() value
        self.expand = expand  # None: not known yet (decided from the service root)
        self.requests = 0
        self._gate = asyncio.Semaphore(PER_HOST_REQUESTS)
        self._key = (target.scheme, target.host, target.port, target.user)
        self._token: str | None = None
        self._basic = False
        limits = httpx.Limits(max_connections=PER_HOST_REQUESTS, max_keepalive_connections=PER_HOST_REQUESTS)
        self._http = httpx.AsyncClient(
            base_url=f"{target.scheme}://{_host(target.host)}:{target.port}",
            transport=transport(target, limits),
            headers={"Accept": "application/json", "OData-Version": "4.0"},
            follow_redirects=False,
        )

    # --- plumbing ------------------------------------------------------------------------------------------------

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise RedfishFailure("timeout")
        return left

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async with self._gate:
            left = self.remaining()
            self.requests += 1
            try:
                return await self._http.request(method, path, timeout=httpx.Timeout(left), **kwargs)
            except httpx.TimeoutException:
                raise RedfishFailure("timeout") from None
            except PinMismatch:  # raised by our own handshake check, before anything was sent
                raise RedfishFailure("protocol: TLS certificate does not match the pinned fingerprint") from None
            except httpx.ConnectError as exc:
                if "CERTIFICATE_VERIFY_FAILED" in str(exc) or "certificate" in str(exc).lower():
                    raise RedfishFailure("protocol: TLS certificate not trusted (pin it or give --ca-file)") from None
                raise RedfishFailure("unreachable") from None
            except httpx.TransportError as exc:
                raise RedfishFailure(f"protocol: {type(exc).__name__}") from None

    def _auth(self) -> dict[str, Any]:
        if self._token:
            return {"headers": {"X-Auth-Token": self._token}}
        return {"auth": (self.target.user, self.target.password.reveal())}

    # --- sessions ------------------------------------------------------------------------------------------------

    async def login(self) -> None:
        """Reuse this process's token for the BMC, else open a session, else fall back to basic auth."""
        cached = _sessions.get(self._key)
        if cached:
            self._token = cached[0]
            return
        body = {"UserName": self.target.user, "Password": self.target.password.reveal()}
        rsp = await self._send("POST", f"{ROOT}/SessionService/Sessions", json=body)
        if rsp.status_code in (401, 403):
            raise RedfishFailure("auth")
        token = rsp.headers.get("X-Auth-Token")
        if rsp.is_success and token:
            location = rsp.headers.get("Location")
            if location and "://" in location:
                location = "/" + location.split("://", 1)[1].split("/", 1)[-1]
            if not _sessions:
                _register_exit()
            _sessions[self._key] = (token, location, self.target)
            self._token = token
        else:
            self._basic = True  # no session service (or a static one): credentials on every request

    async def logout(self) -> None:
        """Delete this BMC's session now (the command line's one-shot poll)."""
        cached = _sessions.pop(self._key, None)
        if cached and cached[1]:
            with contextlib.suppress(RedfishFailure):  # else the BMC expires it on its own
                await self._send("DELETE", cached[1], headers={"X-Auth-Token": cached[0]})
        self._token = None

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- reading -------------------------------------------------------------------------------------------------

    async def get(self, path: str) -> dict[str, Any] | None:
        """A resource as JSON; None when the service does not have it (404) or answers with something else."""
        rsp = await self._send("GET", path, **self._auth())
        if rsp.status_code == 401 and self._token:
            _sessions.pop(self._key, None)  # expired or revoked: one new login, then give up
            self._token = None
            await self.login()
            rsp = await self._send("GET", path, **self._auth())
        if rsp.status_code in (401, 403):
            raise RedfishFailure("auth")
        if rsp.status_code >= 500 and rsp.status_code not in (501,):
            raise RedfishFailure(f"protocol: HTTP {rsp.status_code} on {path[:80]}")
        if not rsp.is_success:
            return None
        try:
            data = rsp.json()
        except ValueError:
            return None
        if not isinstance(data, dict) or "error" in data:
            return None  # Intel BMC 1.93 lists drive links whose resource is a Redfish error message
        return data

    async def get_many(self, paths: Iterable[str]) -> list[dict[str, Any]]:
        """Several resources at once (the per-host gate bounds it); the ones that are missing are left out."""
        found = await asyncio.gather(*(self.get(p) for p in paths))
        return [d for d in found if d is not None]

    async def members(self, link: Any) -> list[dict[str, Any]]:
        """Every member of a collection, expanded in one request when the service can, else one by one."""
        path = path_of(link)
        if path is None:
            return []
        if self.expand:
            data = await self.get(f"{path}?{_EXPAND}")
            if data is not None and _expanded(data):
                return [m for m in await self.pages(data) if isinstance(m, dict)]
            self.expand = False  # refused or ignored: follow links from now on (kept in the cursor)
        data = await self.get(path)
        if data is None:
            return []
        refs = [p for m in await self.pages(data) if (p := path_of(m))]
        return await self.get_many(refs)

    async def pages(self, data: dict[str, Any]) -> list[Any]:
        items = list(data.get("Members") or [])
        seen: set[str] = set()
        nxt = data.get("Members@odata.nextLink")
        while isinstance(nxt, str) and nxt not in seen and len(seen) < 100:
            seen.add(nxt)
            page = await self.get(nxt)
            if page is None:
                break
            items += page.get("Members") or []
            nxt = page.get("Members@odata.nextLink")
        return items


def _expanded(data: dict[str, Any]) -> bool:
    members = data.get("Members")
    if not isinstance(members, list):
        return False
    # An expanded member carries more than its link; an empty collection is trivially expanded.
    return all(isinstance(m, dict) and len(m.keys() - {"@odata.id"}) > 0 for m in members)


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def expand_supported(root: dict[str, Any]) -> bool:
    """The service root says it expands one level of subordinate resources (`$expand=.($levels=1)`)."""
    q = (root.get("ProtocolFeaturesSupported") or {}).get("ExpandQuery") or {}
    return bool(q.get("Levels")) and bool(q.get("NoLinks") or q.get("ExpandAll"))


_exit_registered = False


def _register_exit() -> None:
    """A one-shot sweep (cron) ends its process after one round: its sessions are deleted then, not left to fill the
    BMCs' session tables until they time out (iLO keeps a handful per user)."""
    global _exit_registered
    if not _exit_registered:
        atexit.register(lambda: asyncio.run(close_sessions()) if _sessions else None)
        _exit_registered = True


async def close_sessions(timeout: float = 3.0) -> int:
    """Delete every session this process holds (end of a sweep loop, process exit). Returns how many."""
    keys = list(_sessions)

    async def one(key: tuple[str, str, int, str]) -> None:
        token, location, target = _sessions.pop(key)
        if not location:
            return
        # The same TLS rules as the poll: the token is a credential and goes only to the verified (or pinned) BMC.
        client = Client(target, time.monotonic() + timeout)
        try:
            await client._send("DELETE", location, headers={"X-Auth-Token": token})
        except RedfishFailure:
            pass  # the BMC expires it on its own
        finally:
            await client.aclose()

    await asyncio.gather(*(one(k) for k in keys))
    return len(keys)
