"""The per-packet cryptography of RMCP+ (AES-CBC-128, HMAC-SHA1/SHA256) without per-packet set-up.

pyghmi builds a new `Cipher(algorithms.AES(key), modes.CBC(iv))` for every packet it sends or receives and uses
`hmac.new(...).digest()`; the object set-up (argument checks through abstract base classes, a new OpenSSL context)
costs several times the encryption of a 32-byte payload. Here a session key gets one AES-ECB encryptor and one
decryptor, kept while the key is in use, and CBC is chained over them (C(i) = E(P(i) xor C(i-1)), P(i) = D(C(i)) xor
C(i-1)): the same bytes as cryptography's CBC mode (tests/ipmi/test_crypto.py checks both directions). HMAC goes
through `hmac.digest`, OpenSSL's one-shot call. patches.py puts these under pyghmi's names (`Cipher`,
`algorithms`, `modes`, `hmac`) for the session module only.
"""

from __future__ import annotations

import functools
import hmac as _hmac
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher as _Cipher
from cryptography.hazmat.primitives.ciphers import algorithms as _algorithms
from cryptography.hazmat.primitives.ciphers import modes as _modes

_BLOCK = 16


@functools.lru_cache(maxsize=4096)  # one entry per live session key; a finished session's key ages out
def _ecb(key: bytes) -> tuple[Any, Any]:
    cipher = _Cipher(_algorithms.AES(key), _modes.ECB())
    return cipher.encryptor(), cipher.decryptor()


class _Encryptor:
    __slots__ = ("_iv", "_key")

    def __init__(self, key: bytes, iv: bytes) -> None:
        self._key, self._iv = key, iv

    def update(self, data: bytes) -> bytes:
        if len(data) % _BLOCK:
            raise ValueError("AES-CBC input is not a whole number of blocks")  # pyghmi pads: never happens
        ecb = _ecb(self._key)[0]
        prev = int.from_bytes(self._iv, "big")
        out = bytearray()
        for at in range(0, len(data), _BLOCK):
            block = ecb.update((int.from_bytes(data[at : at + _BLOCK], "big") ^ prev).to_bytes(_BLOCK, "big"))
            out += block
            prev = int.from_bytes(block, "big")
        self._iv = bytes(out[-_BLOCK:]) if out else self._iv
        return bytes(out)

    def finalize(self) -> bytes:
        return b""


class _Decryptor:
    __slots__ = ("_iv", "_key")

    def __init__(self, key: bytes, iv: bytes) -> None:
        self._key, self._iv = key, iv

    def update(self, data: bytes) -> bytes:
        n = len(data)
        if n % _BLOCK:
            # a partial block would stay buffered in the shared ECB context and spoil every later packet
            raise ValueError("AES-CBC ciphertext is not a whole number of blocks")
        if not n:
            return b""
        raw = _ecb(self._key)[1].update(bytes(data))
        chain = self._iv + bytes(data[: n - _BLOCK])
        self._iv = bytes(data[n - _BLOCK :])
        return (int.from_bytes(raw, "big") ^ int.from_bytes(chain, "big")).to_bytes(n, "big")

    def finalize(self) -> bytes:
        return b""


class Cipher:
    """What pyghmi's session module calls as `Cipher(algorithm=AES(key), mode=CBC(iv), backend=...)`."""

    __slots__ = ("_iv", "_key")

    def __init__(self, algorithm: bytes, mode: bytes, backend: Any = None) -> None:
        self._key, self._iv = algorithm, mode

    def encryptor(self) -> _Encryptor:
        return _Encryptor(self._key, self._iv)

    def decryptor(self) -> _Decryptor:
        return _Decryptor(self._key, self._iv)


class algorithms:  # lower case: stands in for cryptography's module of that name
    @staticmethod
    def AES(key: bytes) -> bytes:
        if len(key) != _BLOCK:
            raise ValueError("AES-128 needs a 16-byte key")
        return bytes(key)


class modes:  # lower case: stands in for cryptography's module of that name
    @staticmethod
    def CBC(iv: bytes) -> bytes:
        if len(iv) != _BLOCK:
            raise ValueError("CBC needs a 16-byte IV")
        return bytes(iv)


class _Mac:
    __slots__ = ("_digestmod", "_key", "_msg")

    def __init__(self, key: bytes, msg: bytes | None, digestmod: Any) -> None:
        self._key, self._msg, self._digestmod = key, bytes(msg or b""), digestmod

    def update(self, msg: bytes) -> None:
        self._msg += bytes(msg)

    def digest(self) -> bytes:
        return _hmac.digest(self._key, self._msg, self._digestmod)


class hmac:  # lower case: stands in for the standard module of that name
    @staticmethod
    def new(key: bytes, msg: bytes | None = None, digestmod: Any = None) -> _Mac:
        return _Mac(key, msg, digestmod)

    compare_digest = staticmethod(_hmac.compare_digest)
