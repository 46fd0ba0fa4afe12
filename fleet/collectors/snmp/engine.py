"""The SNMP side of a poll: one shared pysnmp engine per event loop, table reads with GETBULK and GET.

Requests go through pysnmp's RFC 3413 command generators with the hlapi's own configurator (LCD) rather than
`bulk_cmd`/`bulk_walk_cmd`: the hlapi resolves every request and response var-bind through the MIB view, which
loads the pysmi MIB compiler (seconds of CPU per process) and costs more CPU than the BER decode itself. We map
numeric OIDs ourselves. A table read walks one key column (stopping at its end, repetitions doubling, `tooBig`
answered with fewer) and GETs the other cells at the rows found.
"""

from __future__ import annotations

import asyncio
import hashlib
import weakref
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pysnmp.entity.rfc3413 import cmdgen
from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
)
from pysnmp.hlapi.v3arch.asyncio import auth as _auth
from pysnmp.hlapi.v3arch.asyncio.cmdgen import LCD
from pysnmp.proto import errind
from pysnmp.proto.rfc1902 import Null, ObjectName
from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

from fleet.collectors.snmp import mibload
from fleet.collectors.targets import SnmpTarget

Oid = tuple[int, ...]

AUTH_PROTOCOLS = {
    "sha": _auth.USM_AUTH_HMAC96_SHA,
    "sha224": _auth.USM_AUTH_HMAC128_SHA224,
    "sha256": _auth.USM_AUTH_HMAC192_SHA256,
    "sha384": _auth.USM_AUTH_HMAC256_SHA384,
    "sha512": _auth.USM_AUTH_HMAC384_SHA512,
}
PRIV_PROTOCOLS = {
    "aes128": _auth.USM_PRIV_CFB128_AES,
    "aes": _auth.USM_PRIV_CFB128_AES,
    "aes192": _auth.USM_PRIV_CFB192_AES,
    "aes256": _auth.USM_PRIV_CFB256_AES,
}

# Var-binds asked per GETBULK (columns x repetitions). 60 keeps a response of status and name columns around
# 2-4 KB, within what BMC agents answer (snmpsim caps at 64); tooBig halves the repetitions anyway.
MAX_VARBINDS = 60
# A column walk starts with few repetitions and doubles them: an agent answers past a column's end with as many
# var-binds of whatever follows, all thrown away, so small first steps keep that waste to about the column's size.
FIRST_REPETITIONS = 8
_TOO_BIG = 1
_AUTH_ERRORS = (
    errind.WrongDigest,
    errind.UnknownUserName,
    errind.AuthenticationError,
    errind.AuthenticationFailure,
    errind.DecryptionError,
    errind.UnknownSecurityName,
    errind.UnsupportedSecurityLevel,
    errind.NotInTimeWindow,
)
_END = (EndOfMibView, NoSuchObject, NoSuchInstance)


def is_end(value: Any) -> bool:
    """endOfMibView / noSuchObject / noSuchInstance: the agent has nothing there."""
    return isinstance(value, _END)


class SnmpFailure(Exception):
    """A poll-level failure; `reason` is the PollResult.error text ("timeout", "auth", "protocol: ...")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def classify(indication: Any) -> str:
    """PollResult.error for a pysnmp error indication; never echoes what the agent or the user sent."""
    if isinstance(indication, errind.RequestTimedOut):
        return "timeout"
    if isinstance(indication, _AUTH_ERRORS):
        return "auth"
    name = type(indication).__name__ if isinstance(indication, Exception) else str(indication)
    return f"protocol: {name}"


# One engine per running loop: pysnmp binds its UDP transport to the loop it first ran on, so a new loop
# (each `asyncio.run` of the sync wrapper) needs its own. Within a loop every poll shares it.
_ENGINES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, SnmpEngine]] = weakref.WeakKeyDictionary()


def shared_engine(key: str = "") -> SnmpEngine:
    loop = asyncio.get_running_loop()
    engines = _ENGINES.setdefault(loop, {})
    engine = engines.get(key)
    if engine is None:
        mibload.install()  # its MIB modules from the bytecode cache, not compiled twice (mibload.py)
        engine = engines[key] = SnmpEngine()
    return engine


def close_all() -> None:
    """Close the current loop's engines (their UDP sockets) before the loop ends."""
    for engine in _ENGINES.pop(asyncio.get_running_loop(), {}).values():
        engine.close_dispatcher()
    _V3_USERS.pop(asyncio.get_running_loop(), None)


_V3_USERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, str]] = weakref.WeakKeyDictionary()


def _engine_for(target: SnmpTarget) -> SnmpEngine:
    """The shared engine, except for a v3 user name already registered there with other keys.

    pysnmp's USM table holds one set of keys per user name, so a second set for the same name (another site's
    BMCs, or a wrong key being tried) gets an engine of its own instead of overwriting the first.
    """
    if not target.v3_user:
        return shared_engine()
    assert target.v3_auth_key is not None and target.v3_priv_key is not None
    digest = hashlib.sha256(
        "\0".join(
            (target.v3_auth_protocol, target.v3_auth_key.reveal(), target.v3_priv_protocol, target.v3_priv_key.reveal())
        ).encode()
    ).hexdigest()
    users = _V3_USERS.setdefault(asyncio.get_running_loop(), {})
    known = users.setdefault(target.v3_user, digest)
    return shared_engine() if known == digest else shared_engine(f"{target.v3_user}/{digest}")


def auth_data(target: SnmpTarget) -> CommunityData | UsmUserData:
    if target.v3_user:
        if target.v3_auth_key is None or target.v3_priv_key is None:
            raise SnmpFailure("protocol: SNMPv3 needs an auth and a priv key (authPriv)")
        try:
            auth_proto = AUTH_PROTOCOLS[target.v3_auth_protocol.lower()]
            priv_proto = PRIV_PROTOCOLS[target.v3_priv_protocol.lower()]
        except KeyError:
            raise SnmpFailure("protocol: unsupported v3 auth or priv protocol") from None
        return UsmUserData(
            target.v3_user,
            target.v3_auth_key.reveal(),
            target.v3_priv_key.reveal(),
            authProtocol=auth_proto,
            privProtocol=priv_proto,
        )
    if target.community is None:
        raise SnmpFailure("protocol: no community and no v3 user")
    return CommunityData(target.community.reveal(), mpModel=1)


@dataclass(slots=True)
class WalkResult:
    """Every (OID, value) a poll read, sorted, with prefix lookups by bisection."""

    oids: list[Oid]
    values: list[Any]

    @classmethod
    def build(cls, pairs: list[tuple[Oid, Any]]) -> WalkResult:
        pairs.sort(key=lambda p: p[0])
        return cls([p[0] for p in pairs], [p[1] for p in pairs])

    def column(self, prefix: Oid) -> Iterator[tuple[Oid, Any]]:
        """(index, value) of every cell under prefix, in index order."""
        n = len(prefix)
        lo = bisect_left(self.oids, prefix)
        hi = bisect_left(self.oids, (*prefix[:-1], prefix[-1] + 1))
        for i in range(lo, hi):
            yield self.oids[i][n:], self.values[i]

    def get(self, oid: Oid) -> Any:
        i = bisect_left(self.oids, oid)
        if i < len(self.oids) and self.oids[i] == oid:
            return self.values[i]
        return None

    def __len__(self) -> int:
        return len(self.oids)


@dataclass(slots=True)
class Counters:
    """Process-wide request and var-bind counts, for the benchmark and the sweep's own metrics."""

    requests: int = 0
    varbinds: int = 0
    undecodable: int = 0  # datagrams pysnmp could not parse (garbage, truncated): dropped, counted


def _transport_noise(context: dict[str, Any]) -> bool:
    """An exception raised inside pysnmp's datagram callback: an answer it could not decode."""
    callback = getattr(context.get("handle"), "_callback", None)
    owner = getattr(callback, "__self__", None)
    return type(owner).__module__.startswith("pysnmp.carrier")


def quiet_transport_errors(loop: asyncio.AbstractEventLoop) -> None:
    """Count undecodable datagrams instead of letting asyncio print "Exception in callback" and a traceback.

    pysnmp decodes each datagram in a loop callback and lets a garbage, truncated or hostile answer raise there;
    the request then times out (or a valid answer arrives) as it should, so the traceback is only noise, and it
    lands in the sweep's log. Every other exception still reaches the previous handler.
    """
    previous = loop.get_exception_handler()
    if getattr(previous, "fleet_quiet", False):
        return

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if _transport_noise(context):
            COUNTERS.undecodable += 1
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    handler.fleet_quiet = True  # type: ignore[attr-defined]
    loop.set_exception_handler(handler)


COUNTERS = Counters()
_BULK = cmdgen.BulkCommandGenerator()
_NEXT = cmdgen.NextCommandGenerator()
_GET = cmdgen.GetCommandGenerator()


class Session:
    """What one poll of one host needs: engine, credentials, transport, and the walks."""

    def __init__(self, target: SnmpTarget, *, request_timeout: float, retries: int) -> None:
        self.target = target
        self.engine = _engine_for(target)
        self.auth = auth_data(target)
        self.context_name = target.context.encode()
        self.request_timeout = request_timeout
        self.retries = retries
        self.addr_name = ""
        self.requests = 0

    async def open(self) -> None:
        try:
            transport = await UdpTransportTarget.create(
                (self.target.host, self.target.port), timeout=self.request_timeout, retries=self.retries
            )
        except Exception as exc:  # name resolution and the like: pysnmp wraps them in PySnmpError
            raise SnmpFailure("unreachable") from exc
        self.addr_name, _params = LCD.configure(self.engine, self.auth, transport, self.context_name)

    async def _send(self, bulk_reps: int | None, oids: list[Oid]) -> list[tuple[Any, Any]]:
        self.requests += 1
        future: asyncio.Future[tuple[Any, Any, Any]] = asyncio.get_running_loop().create_future()

        def done(_engine: Any, _handle: Any, ind: Any, status: Any, _index: Any, vbs: Any, _ctx: Any) -> None:
            if not future.done():
                future.set_result((ind, status, vbs))

        var_binds = [(ObjectName(o), Null("")) for o in oids]
        if bulk_reps is None:
            _NEXT.send_varbinds(self.engine, self.addr_name, None, self.context_name, var_binds, done)
        elif bulk_reps == 0:
            _GET.send_varbinds(self.engine, self.addr_name, None, self.context_name, var_binds, done)
        else:
            _BULK.send_varbinds(self.engine, self.addr_name, None, self.context_name, 0, bulk_reps, var_binds, done)
        ind, status, vbs = await future
        COUNTERS.requests += 1
        COUNTERS.varbinds += len(vbs) if vbs else 0
        if isinstance(ind, errind.TooBig) or (not ind and status and int(status) == _TOO_BIG):
            raise _TooBig
        if ind:
            raise SnmpFailure(classify(ind))
        if status:
            raise SnmpFailure(f"protocol: agent answered {status.prettyPrint()}")
        return list(vbs)

    async def next_(self, oids: list[Oid]) -> list[tuple[Oid, Any]]:
        """One GETNEXT for several OIDs: the detection probe (sysDescr, sysObjectID and vendor roots at once)."""
        return [(tuple(name.asTuple()), value) for name, value in await self._send(None, oids)]

    async def get(self, oids: list[Oid]) -> list[tuple[Oid, Any]]:
        """GET of exactly these cells, MAX_VARBINDS per request; cells the agent does not have are left out."""
        out: list[tuple[Oid, Any]] = []
        size = MAX_VARBINDS
        start = 0
        while start < len(oids):
            chunk = oids[start : start + size]
            try:
                vbs = await self._send(0, chunk)
            except _TooBig:
                if size == 1:
                    raise SnmpFailure("protocol: tooBig for a single cell") from None
                size = max(1, size // 2)
                continue
            out.extend((tuple(name.asTuple()), value) for name, value in vbs if not isinstance(value, _END))
            start += len(chunk)
        return out

    async def walk_table(self, keys: list[Oid], others: list[Oid]) -> list[tuple[Oid, Any]]:
        """One table: walk a key column by GETBULK, then GET the other columns at the rows it has.

        Walking every column would make the agent overshoot each column's end in the last response; knowing the
        rows first, the other cells are asked exactly. The keys are the table's status columns in order: the
        first one the agent has gives the rows (a missing key column is normal, recordings and firmware omit
        columns). A table without any key column gives nothing: without a status there is no reading.
        """
        for n, key in enumerate(keys):
            rows = await self.walk_columns([key])
            if rows:
                indices = [o[len(key) :] for o, _v in rows]
                rest = [*keys[n + 1 :], *others]
                return rows + await self.get([(*col, *idx) for col in rest for idx in indices])
        return []

    async def walk_columns(self, roots: list[Oid]) -> list[tuple[Oid, Any]]:
        """Every (OID, value) under each root, by GETBULK over all unfinished roots at once.

        The response holds repetitions row by row (one var-bind per asked root); a root is finished at its
        first OID outside it or at endOfMibView, and is not asked again. Repetitions start small and double.
        """
        out: list[tuple[Oid, Any]] = []
        cursor = {i: r for i, r in enumerate(roots)}
        cap = MAX_VARBINDS
        step = FIRST_REPETITIONS
        while cursor:
            ids = list(cursor)
            reps = max(1, min(step, cap // len(ids)))
            try:
                vbs = await self._send(reps, [cursor[i] for i in ids])
            except _TooBig:
                if reps == 1:
                    raise SnmpFailure("protocol: tooBig with one repetition") from None
                cap = max(len(ids), reps * len(ids) // 2)
                step = cap
                continue
            step *= 2
            if not vbs:
                return out
            width = len(ids)
            for pos, (name, value) in enumerate(vbs):
                i = ids[pos % width]
                if i not in cursor:
                    continue
                o = tuple(name.asTuple())
                root = roots[i]
                if o[: len(root)] != root or isinstance(value, _END):
                    del cursor[i]
                    continue
                if o <= cursor[i]:
                    raise SnmpFailure("protocol: agent returned OIDs out of order")
                out.append((o, value))
                cursor[i] = o
        return out


class _TooBig(Exception):
    pass
