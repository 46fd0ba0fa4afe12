"""The SNMP side of a poll: one shared pysnmp engine per event loop, and subtree walks with GETBULK.

Walks use `bulk_cmd` directly rather than `bulk_walk_cmd` so that each walk stops at the end of its own subtree
(no GETBULK past it), answers `tooBig` with fewer repetitions, and skips MIB lookups (we map numeric OIDs
ourselves; resolving names costs more CPU than the whole decode).
"""

from __future__ import annotations

import asyncio
import hashlib
import weakref
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    bulk_cmd,
    next_cmd,
)
from pysnmp.hlapi.v3arch.asyncio import auth as _auth
from pysnmp.proto import errind
from pysnmp.proto.rfc1902 import ObjectName
from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject
from pysnmp.smi.rfc1902 import ObjectIdentity, ObjectType

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

# GETBULK repetitions per request. 50 keeps a response of typical status/name columns under ~4 KB, well below
# the 1472-byte-fragment-free limit of most BMCs' 8 KB buffers; tooBig halves it anyway.
MAX_REPETITIONS = 50
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
        engine = engines[key] = SnmpEngine()
    return engine


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


class Session:
    """What one poll of one host needs: engine, credentials, transport, and the walks."""

    def __init__(self, target: SnmpTarget, *, request_timeout: float, retries: int) -> None:
        self.target = target
        self.engine = _engine_for(target)
        self.auth = auth_data(target)
        self.context = ContextData(contextName=target.context.encode()) if target.context else ContextData()
        self.request_timeout = request_timeout
        self.retries = retries
        self.transport: UdpTransportTarget | None = None
        self.requests = 0

    async def open(self) -> None:
        try:
            self.transport = await UdpTransportTarget.create(
                (self.target.host, self.target.port), timeout=self.request_timeout, retries=self.retries
            )
        except Exception as exc:  # name resolution and the like: pysnmp wraps them in PySnmpError
            raise SnmpFailure("unreachable") from exc

    async def next_(self, oids: list[Oid]) -> list[tuple[Oid, Any]]:
        """One GETNEXT for several OIDs: the detection probe (sysDescr, sysObjectID and vendor roots at once)."""
        self.requests += 1
        ind, status, _index, vbs = await next_cmd(
            self.engine,
            self.auth,
            self.transport,
            self.context,
            *[ObjectType(ObjectIdentity(ObjectName(o))) for o in oids],
            lookupMib=False,
        )
        if ind:
            raise SnmpFailure(classify(ind))
        if status:
            raise SnmpFailure(f"protocol: agent answered {status.prettyPrint()}")
        return [(tuple(name.asTuple()), value) for name, value in vbs]

    async def walk(self, root: Oid) -> list[tuple[Oid, Any]]:
        """Every (OID, value) under root, by GETBULK; stops at the first OID outside root."""
        out: list[tuple[Oid, Any]] = []
        start = root
        reps = MAX_REPETITIONS
        n = len(root)
        while True:
            self.requests += 1
            ind, status, _index, vbs = await bulk_cmd(
                self.engine,
                self.auth,
                self.transport,
                self.context,
                0,
                reps,
                ObjectType(ObjectIdentity(ObjectName(start))),
                lookupMib=False,
            )
            if isinstance(ind, errind.TooBig) or (not ind and status and int(status) == _TOO_BIG):
                if reps == 1:
                    raise SnmpFailure("protocol: tooBig with one repetition")
                reps = max(1, reps // 2)
                continue
            if ind:
                raise SnmpFailure(classify(ind))
            if status:
                raise SnmpFailure(f"protocol: agent answered {status.prettyPrint()}")
            if not vbs:
                return out
            for name, value in vbs:
                oid = tuple(name.asTuple())
                if oid[:n] != root or isinstance(value, _END):
                    return out
                if oid <= start:
                    raise SnmpFailure("protocol: agent returned OIDs out of order")
                out.append((oid, value))
                start = oid
