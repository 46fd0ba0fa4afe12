"""`Secret`: a credential value that never prints itself. The collectors receive secrets in this form; resolving a
reference (`env:VAR`, `file:PATH#key`) into one is the caller's job (fleet.sweep.secrets)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Secret:
    """A secret value that does not print itself."""

    _value: str

    def reveal(self) -> str:
        return self._value

    def as_bytes(self) -> bytes:
        return self._value.encode("utf-8")

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)
