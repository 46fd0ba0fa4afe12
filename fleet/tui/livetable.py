"""A DataTable that a refresh updates in place: only changed cells are written (see rowdiff)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from fleet.tui.rowdiff import Row, cell_updates, removals
from fleet.views.text import has_control, plain

# Textual's private names this module (and the snapshot helpers, which wait on the flag) rely on; a Textual upgrade
# that renames one is caught by tests/tui/test_textual_private.py, not by a table that silently stops resizing.
TEXTUAL_PRIVATE_METHODS = ("_update_dimensions", "_clear_caches")  # DataTable methods: overridden / called
TEXTUAL_PRIVATE_FLAG = "_require_update_dimensions"  # DataTable: set while column widths wait to be measured

# Removing a row costs about as much as adding one (the table re-indexes and repaints): past a few, rebuilding is
# as cheap and simpler.
FEW = 20


class LiveTable(DataTable[object]):
    """Rows are (key, cells). `sync` rewrites only what changed and keeps the cursor on the same row."""

    def __init__(self, columns: Sequence[str], **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)  # type: ignore[arg-type]
        self._columns = tuple(columns)
        self.shown: list[Row] = []
        self.cells_written = 0  # for tests and the benchmark: how much a refresh repainted

    def on_mount(self) -> None:
        self.add_columns(*self._columns)

    def sync(self, rows: Sequence[Row]) -> None:
        # Every cell is inert text: DataTable parses a str as markup (a hostname `[/bold]x` raised MarkupError and
        # took the view down), and a terminal obeys the ESC sequences a str or a Text may carry.
        rows = [(key, tuple(inert(c) for c in cells)) for key, cells in rows]
        if not self.columns:
            self.add_columns(*self._columns)
        gone = removals([k for k, _ in self.shown], [k for k, _ in rows])
        if gone and len(gone) <= FEW:
            # A swap done, a fault resolved: drop the rows that went and leave the rest (and the cursor) alone.
            for key in gone:
                self.remove_row(key)
            dropped = set(gone)
            self.shown = [r for r in self.shown if r[0] not in dropped]
        updates = cell_updates(self.shown, rows)
        if updates is not None:
            column_keys = list(self.columns)
            for key, index, value in updates:
                # update_width: a count that grows from "0" to "104" must widen its column, not be cut to "10".
                self.update_cell(key, column_keys[index], value, update_width=True)
            self.cells_written += len(updates)
        else:
            current = self.selected_key
            self.clear()
            for key, cells in rows:
                self.add_row(*cells, key=key)
            self.cells_written += sum(len(c) for _, c in rows)
            if current is not None:
                where = [i for i, (k, _) in enumerate(rows) if k == current]
                if where:
                    self.move_cursor(row=where[0], animate=False)
        self.shown = list(rows)

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        super()._update_dimensions(new_rows)
        # Textual keys its cell cache by update count, not column width: a cell drawn between add_row and this
        # measurement would keep the header's width (seen as truncated columns). Drop the caches once measured.
        self._clear_caches()
        self.refresh()

    @property
    def selected_key(self) -> str | None:
        if not self.shown or self.cursor_row < 0 or self.cursor_row >= len(self.shown):
            return None
        return self.shown[self.cursor_row][0]


def inert(value: object) -> Text:
    """A cell as text that is never markup nor terminal control; a styled Text keeps its style."""
    if isinstance(value, Text):
        return Text(plain(value.plain), style=value.style) if has_control(value.plain) else value
    return Text(plain(value))
