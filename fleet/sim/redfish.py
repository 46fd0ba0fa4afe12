"""A simulated Redfish BMC: a tiny HTTP/1.1 server on asyncio (TLS optional), serving `SimTree`.

It does what the collector relies on and no more: GET of resources, `$expand=.($levels=1)` on collections, session
login (`POST .../Sessions` gives an `X-Auth-Token`) and logout (`DELETE`), HTTP basic auth, 401 for anything else.
The service root answers without credentials, as the Redfish specification requires. Keep-alive, so a poll costs
one TLS handshake.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import ssl
from typing import Any
from urllib.parse import unquote

from fleet.sim.faults import MachineState
from fleet.sim.redfish_tree import SESSIONS, R, SimTree

_MAX_BODY = 64 * 1024


class SimRedfish:
    """One simulated BMC. `start()` on the running loop; `close()` to stop listening."""

    def __init__(self, state: MachineState, users: dict[str, str], tls: ssl.SSLContext | None = None) -> None:
        self.state = state
        self.users = users
        self.tls = tls
        self.tree = SimTree(state)
        self.sessions: dict[str, str] = {}  # token -> session path
        self.logins = 0  # sessions opened, for tests that check reuse
        self.server: asyncio.Server | None = None

    async def start(self) -> None:
        s = self.state.server
        self.server = await asyncio.start_server(self._client, s.host, s.port, ssl=self.tls, limit=_MAX_BODY)

    def close(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = [*lines[0].split(" "), "", "", ""][:3]
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                size = int(headers.get("content-length") or 0)
                body = await reader.readexactly(min(size, _MAX_BODY)) if size else b""
                code, extra, payload = self.handle(method, target, headers, body)
                data = json.dumps(payload).encode() if payload is not None else b""
                out = [f"HTTP/1.1 {code} {_REASON.get(code, 'OK')}", f"Content-Length: {len(data)}"]
                out += [f"{k}: {v}" for k, v in extra.items()]
                if data:
                    out.append("Content-Type: application/json")
                writer.write(("\r\n".join(out) + "\r\n\r\n").encode() + data)
                await writer.drain()
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ssl.SSLError, ValueError):
            pass
        finally:
            writer.close()
        # Not in `finally`: a simulator stopped with a client still connected closes this coroutine (GeneratorExit),
        # and an await there would print "coroutine ignored GeneratorExit" on the demo's terminal as it quits.
        with contextlib.suppress(Exception):
            await writer.wait_closed()

    def _authorised(self, headers: dict[str, str]) -> bool:
        if headers.get("x-auth-token") in self.sessions:
            return True
        scheme, _, encoded = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded).decode().partition(":")
        except ValueError:
            return False
        return self.users.get(user) == password

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], Any]:
        path, _, query = target.partition("?")
        query = unquote(query)
        path = path.rstrip("/") or "/"
        if method == "POST" and path == SESSIONS:
            try:
                creds = json.loads(body or b"{}")
            except ValueError:
                return 400, {}, {"error": {"message": "malformed JSON"}}
            if self.users.get(str(creds.get("UserName"))) != creds.get("Password"):
                return 401, {}, {"error": {"message": "invalid credentials"}}
            token = secrets.token_hex(16)
            self.logins += 1
            location = f"{SESSIONS}/{self.logins}"
            self.sessions[token] = location
            return 201, {"X-Auth-Token": token, "Location": location}, {"@odata.id": location, "Id": str(self.logins)}
        if path != R and not self._authorised(headers):
            return 401, {}, {"error": {"message": "authentication required"}}
        if method == "DELETE" and path.startswith(SESSIONS + "/"):
            for token, location in list(self.sessions.items()):
                if location == path:
                    del self.sessions[token]
                    return 204, {}, None
            return 404, {}, {"error": {"message": "no such session"}}
        if method != "GET":
            return 405, {}, {"error": {"message": "method not allowed"}}
        data = self.tree.get(path)
        if data is None:
            return 404, {}, {"error": {"message": f"no resource at {path}"}}
        if query and "$expand" in query and "Members" in data:
            data = {**data, "Members": [self.tree.get(m["@odata.id"]) or m for m in data["Members"]]}
        return 200, {}, data


_REASON = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
}
