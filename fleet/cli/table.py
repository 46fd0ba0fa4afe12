"""The one renderer of every listing command: a table for people, tab-separated rows for scripts.

- Identifiers (hostnames, serials, part numbers, ids) are never cut: their column is as wide as its longest value.
  When the terminal is too narrow, the other columns wrap, and past that the least needed ones are dropped (the
  order of `droppable` says which go first); the footer line says which were left out.
- When stdout is not a terminal (a pipe, a file, cron), rows are printed as plain tab-separated lines, a header
  line first, nothing styled, nothing wrapped.
- Every cell is data from outside: it goes through `fleet.views.text.plain` and becomes a rich `Text`, so a
  hostname holding `[bold]` or an escape sequence is printed as the characters it is, never as markup or control.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table
from rich.text import Text

from fleet.views.text import plain

MIN_WRAPPED = 6  # a wrapped column narrower than this reads as noise: drop a column instead


@dataclass(frozen=True)
class Column:
    name: str
    identifier: bool = False  # never truncated, never wrapped
    drop: int = 0  # 0: always shown; higher numbers are dropped first when the terminal is too narrow
    right: bool = False  # numbers


def print_table(
    columns: Sequence[Column],
    rows: Sequence[Sequence[object]],
    *,
    empty: str,
    styles: Sequence[str | None] | None = None,
    console: Console | None = None,
) -> None:
    """Print `rows` (one value per column) for a person on a terminal, or as TSV for a script."""
    out = console or Console(highlight=False)
    if not rows:
        out.print(Text(empty))
        return
    cells = [[plain(v) for v in row] for row in rows]
    if not out.is_terminal:
        _tsv(columns, cells)
        return
    shown = _fit(columns, cells, out.width)
    table = Table(box=None, pad_edge=False, show_edge=False)
    for i in shown:
        c = columns[i]
        widest = max([len(c.name), *(len(r[i]) for r in cells)])
        if c.identifier:
            table.add_column(c.name, no_wrap=True, min_width=widest, justify="right" if c.right else "left")
        else:
            table.add_column(c.name, overflow="fold", justify="right" if c.right else "left")
    for n, row in enumerate(cells):
        style = styles[n] if styles else None
        table.add_row(*(Text(row[i]) for i in shown), style=style or "")
    out.print(table)
    left_out = [columns[i].name for i in range(len(columns)) if i not in shown]
    if left_out:
        out.print(Text(f"(not shown at this width: {', '.join(left_out)}; pipe the output for every column)"))


def _tsv(columns: Sequence[Column], cells: list[list[str]]) -> None:
    write = sys.stdout.write
    write("\t".join(c.name for c in columns) + "\n")
    for row in cells:
        write("\t".join(row) + "\n")


def _fit(columns: Sequence[Column], cells: list[list[str]], width: int) -> list[int]:
    """The columns that fit `width`: identifiers at full width, others at least MIN_WRAPPED (or their content)."""
    shown = list(range(len(columns)))

    def need(i: int) -> int:
        c = columns[i]
        widest = max([len(c.name), *(len(r[i]) for r in cells)])
        return widest if c.identifier else min(widest, max(MIN_WRAPPED, len(c.name)))

    while sum(need(i) for i in shown) + (len(shown) - 1) > width:
        droppable = [i for i in shown if columns[i].drop > 0]
        if not droppable:
            break
        shown.remove(max(droppable, key=lambda i: (columns[i].drop, i)))
    return shown
