"""Row diffs for live tables (dolphie's pattern): a refresh changes the cells that changed, nothing else.

Pure: given the rows on screen and the new rows (key, cells), say which cells to update, or that the table must be
rebuilt because rows came, went or moved. Over a slow SSH link this is the difference between repainting a clock
cell and repainting the screen.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

Row = tuple[str, tuple[Hashable, ...]]


def cell_updates(old: Sequence[Row], new: Sequence[Row]) -> list[tuple[str, int, Hashable]] | None:
    """(row key, column index, new value) for each changed cell; None when the set or order of rows differs."""
    if len(old) != len(new) or any(a[0] != b[0] for a, b in zip(old, new, strict=True)):
        return None
    updates = []
    for (key, before), (_, after) in zip(old, new, strict=True):
        if before == after:  # the common case, and fast: tuples compare item identity first
            continue
        for i, (x, y) in enumerate(zip(before, after, strict=True)):
            if x != y:
                updates.append((key, i, y))
    return updates


def removals(old: Sequence[str], new: Sequence[str]) -> list[str] | None:
    """Keys to remove when `new` is `old` with some rows taken out, order kept (a filter narrowing); else None."""
    wanted = iter(new)
    nxt = next(wanted, None)
    gone = []
    for key in old:
        if key == nxt:
            nxt = next(wanted, None)
        else:
            gone.append(key)
    return gone if nxt is None else None
