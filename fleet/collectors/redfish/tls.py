"""TLS for BMCs: verified against CAs, or pinned to one certificate's SHA-256 fingerprint, or (on request) not at all.

BMCs ship self-signed certificates, so "verify against the system CAs" fails on most of them out of the box. A pinned
fingerprint is the safe alternative to `--insecure`: the chain is not checked, but the certificate must be exactly
the one recorded for that server. The check runs right after the TLS handshake of every new connection, before a
single byte of a request (and so before any password or session token) is written to it.
"""

from __future__ import annotations

import functools
import hashlib
import ssl
from typing import Any

import httpcore
import httpx

from fleet.collectors.targets import RedfishTarget


class PinMismatch(ssl.SSLError):
    """The BMC presented another certificate than the one pinned for it."""


def normalise_fingerprint(text: str) -> str:
    """'AB:CD:...' or 'abcd...' (64 hex digits) -> 'abcd...'; ValueError otherwise."""
    hexed = text.replace(":", "").replace(" ", "").strip().lower()
    if len(hexed) != 64 or any(c not in "0123456789abcdef" for c in hexed):
        raise ValueError("a certificate fingerprint is 64 hex digits (SHA-256), optionally separated by colons")
    return hexed


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


def ssl_context(target: RedfishTarget) -> ssl.SSLContext | bool:
    """What httpx gets as `verify`. Contexts are shared: building one loads the system CA store, which cost more CPU
    than a whole poll when every poll of a 200-BMC sweep built its own."""
    if target.scheme != "https":
        return False
    if target.cert_sha256 or not target.verify:
        return _context(None, verify=False)
    return _context(target.ca_file, verify=True)


@functools.cache
def _context(ca_file: str | None, *, verify: bool) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca_file)
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # pinned: the fingerprint check below replaces chain and name checks
    return ctx


class _PinnedStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream, pin: str) -> None:
        self._inner = inner
        self._pin = pin

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        tls = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        sslobj = tls.get_extra_info("ssl_object")
        der = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
        if not der or fingerprint(der) != self._pin:
            await tls.aclose()
            raise PinMismatch("certificate fingerprint does not match the one pinned for this server")
        return tls

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, pin: str) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._pin = pin

    async def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.AsyncNetworkStream:
        return _PinnedStream(await self._inner.connect_tcp(*args, **kwargs), self._pin)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def transport(target: RedfishTarget, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    verify = ssl_context(target)
    tr = httpx.AsyncHTTPTransport(verify=verify, limits=limits)
    if target.cert_sha256 and target.scheme == "https":
        # httpx takes no network backend; its transport is a thin wrapper over an httpcore pool, which does. The
        # pool is rebuilt with the same settings and a backend that checks the certificate at every handshake.
        assert isinstance(verify, ssl.SSLContext)
        tr._pool = httpcore.AsyncConnectionPool(
            ssl_context=verify,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PinnedBackend(normalise_fingerprint(target.cert_sha256)),
        )
    return tr
