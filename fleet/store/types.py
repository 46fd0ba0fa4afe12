"""Column types of fleet's tables: times that are always timezone-aware UTC, and state enums stored as their text."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import JSON, DateTime
from sqlalchemy.types import TypeDecorator
from sqlmodel import AutoString, Field


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, whatever the engine stores."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; fleet keeps time in aware UTC")
        value = value.astimezone(UTC)
        # SQLite has no time zones: store naive UTC so comparisons in SQL stay lexicographically right.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def TZ(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


# None is SQL NULL, not the JSON literal `null`: "no cursor yet" must stay `IS NULL` in SQL.
JSONColumn = JSON(none_as_null=True)

# {"weekday": 0-6 (Monday 0), "start": "HH:MM", "end": "HH:MM"}: one weekly stretch of hours (shifts, windows).
WeeklyHours = list[dict[str, Any]]


def JSONList() -> Any:
    return Field(default_factory=list, sa_type=JSONColumn)


def JSONDict() -> Any:
    return Field(default=None, sa_type=JSONColumn)


E = TypeVar("E", bound=StrEnum)


class EnumText(TypeDecorator[E]):
    """A StrEnum kept as its plain text value (the column stays VARCHAR, so the schema does not change), read back as
    the enum member: code compares members, never bare strings."""

    impl = AutoString
    cache_ok = True

    def __init__(self, enum: type[E]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Any) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Any) -> E | None:
        return None if value is None else self.enum(value)


def EnumField(enum: type[StrEnum], default: Any = ..., **kw: Any) -> Any:
    return Field(default=default, sa_type=EnumText(enum), **kw)
