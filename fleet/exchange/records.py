"""Reading a CSV file as a stream of checked records, and the fields of one record.

A file is read one line at a time (a 100,000-row import holds one record, not the file), decoded line by line (a
byte that is not UTF-8 is reported with its line), and every record carries the line it starts on and every reason
it is bad, so one pass reports every bad row with every reason.

Spreadsheet injection: a cell starting with `=`, `+`, `-` or `@` is a formula to a spreadsheet. Export writes such a
cell with a leading `'` (which a spreadsheet shows as text), and import takes one `'` off again, so an export imports
back byte for byte. A value that itself starts with quotes before such a character gets one more quote, which keeps
the mapping reversible.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fleet.errors import InputError
from fleet.views.text import has_control

# The widest integer every column holds on both databases: PostgreSQL's INTEGER is 32-bit.
MAX_INT = 2**31 - 1
_FORMULA = re.compile(r"'*[=+\-@]")
_PROTECTED = re.compile(r"'+[=+\-@]")
_INTEGER = re.compile(r"-?[0-9]+")  # ASCII digits only: full-width digits are not a number here


def protect(value: str) -> str:
    """A cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if _FORMULA.match(value) else value


def unprotect(value: str) -> str:
    """The value `protect` was given."""
    return value[1:] if _PROTECTED.match(value) else value


@dataclass
class Record:
    line: int  # the line the record starts on
    values: dict[str, str]
    reasons: list[str] = field(default_factory=list)


def _lines(path: Path, counter: list[int]) -> Iterator[str]:
    """The file's lines as text; counter[0] is the number of the line last handed out."""
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror}") from None
    with fh:
        for raw in fh:
            counter[0] += 1
            if counter[0] == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]  # the byte-order mark spreadsheets write
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError(f"{path}:{counter[0]}: not UTF-8 text (byte {exc.start + 1} of the line)") from None


def read_records(path: Path, columns: Sequence[str], required: set[str]) -> Iterator[Record]:
    """Every data record of the file with its start line; a header that is not usable is one clear error."""
    counter = [0]
    reader = csv.reader(_lines(path, counter), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise InputError(f"{path}:1: {exc}") from None
    if not header:
        raise InputError(f"{path}: empty file (the first line names the columns)")
    header = [h.strip() for h in header]
    unknown = [h for h in header if h not in columns]
    if unknown:
        # A misspelt column (backup_opton) would otherwise be ignored and its rows imported with the default.
        raise InputError(f"{path}:1: unknown column(s): {', '.join(map(repr, unknown))} (known: {', '.join(columns)})")
    doubled = sorted({h for h in header if header.count(h) > 1})
    if doubled:
        raise InputError(f"{path}:1: column(s) given twice: {', '.join(doubled)}")
    missing = required - set(header)
    if missing:
        raise InputError(f"{path}:1: missing column(s): {', '.join(sorted(missing))}")
    while True:
        start = counter[0] + 1
        try:
            row = next(reader, None)
        except csv.Error as exc:
            yield Record(counter[0], {}, [str(exc)])
            continue
        if row is None:
            return
        if not row:
            continue  # a blank line
        yield _record(start, header, row)


def _record(line: int, header: list[str], row: list[str]) -> Record:
    rec = Record(line, {})
    if len(row) != len(header):
        rec.reasons.append(f"expected {len(header)} fields, got {len(row)}")
        return rec
    if not any(v.strip() for v in row):
        rec.reasons.append("empty row (every field is empty)")
        return rec
    for name, value in zip(header, row, strict=True):
        if has_control(value):
            rec.reasons.append(f"{name} holds a control character")
            value = ""
        rec.values[name] = unprotect(value)
    return rec


class Fields:
    """The fields of one record, parsed; a bad field adds a reason and reads as None, so every reason is found."""

    def __init__(self, record: Record) -> None:
        self.row = record.values
        self.reasons = record.reasons

    def fail(self, reason: str) -> None:
        self.reasons.append(reason)

    def text(self, key: str, *, required: bool = False) -> str | None:
        raw = (self.row.get(key) or "").strip()
        if not raw and required:
            self.fail(f"{key} is empty")
        return raw or None

    def int(self, key: str, default: int | None = None, minimum: int = 0, maximum: int = MAX_INT) -> int | None:
        raw = (self.row.get(key) or "").strip()
        if raw == "":
            return default
        if not _INTEGER.fullmatch(raw):
            self.fail(f"{key} must be a whole number (digits 0-9), got {raw!r}")
            return None
        if len(raw) > 12 or not minimum <= int(raw) <= maximum:
            self.fail(f"{key} must be between {minimum} and {maximum}, got {raw[:24]}")
            return None
        return int(raw)

    def bool(self, key: str) -> bool | None:
        raw = (self.row.get(key) or "").strip().lower()
        if raw in ("", "0", "false", "no", "n"):
            return False
        if raw in ("1", "true", "yes", "y"):
            return True
        self.fail(f"{key} must be yes or no, got {raw!r}")
        return None

    def choice(self, key: str, choices: tuple[str, ...], default: str) -> str | None:
        raw = (self.row.get(key) or "").strip() or default
        if raw not in choices:
            self.fail(f"{key} must be one of {', '.join(choices)}, got {raw!r}")
            return None
        return raw
