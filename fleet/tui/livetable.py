"""A table that draws only the rows on screen (virtual scrolling) and picks its columns to fit the width.

- Any number of rows: a 10,000-server fleet is one list; drawing a screen costs the rows on it, not the fleet.
- Columns per width: each column says how readily it goes (`drop`, 0 = never); at 80 columns the least needed go
  first, so the decisive column (state, deadline, LOW) is always on screen. Identifiers are never cut.
- Live: `sync` diffs the rows (see rowdiff): changed cells repaint only their line; the cursor stays on its row.
- Cells are strings or rich `Text`; a string is shown as the characters it is (never parsed as markup).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from fleet.tui.rowdiff import Row, cell_updates
from fleet.views.text import has_control, plain

GAP = 1  # blank between columns: at 80 columns every cell counts


@dataclass(frozen=True)
class Col:
    name: str
    drop: int = 0  # 0: always shown; higher goes first when the width is short
    cap: int = 0  # widest it may be (0: its longest value); wider values are cut with an ellipsis


def _text(cell: Hashable) -> Text:
    if isinstance(cell, Text):  # styled by the view; its words may still come from data
        return Text(plain(cell.plain), style=cell.style) if has_control(cell.plain) else cell
    return Text(plain(cell))


def _width(cell: Hashable) -> int:
    return _str_width(cell.plain if isinstance(cell, Text) else str(cell))


@lru_cache(maxsize=1 << 16)
def _str_width(value: str) -> int:
    # A fleet repeats its values (sites, models, states): measuring each once keeps a 10,000-row sync cheap.
    return cell_len(plain(value))


class LiveTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    LiveTable { height: 1fr; }
    LiveTable > .rowtable--header { text-style: bold; background: $panel; }
    LiveTable > .rowtable--cursor { background: $accent 40%; text-style: bold; }
    LiveTable:focus > .rowtable--cursor { background: $accent; color: $text; }
    LiveTable > .rowtable--odd { background: $surface-lighten-1 20%; }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "rowtable--header",
        "rowtable--cursor",
        "rowtable--odd",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", show=False),
        Binding("down", "move(1)", show=False),
        Binding("pageup", "page(-1)", show=False),
        Binding("pagedown", "page(1)", show=False),
        Binding("home", "edge(0)", show=False),
        Binding("end", "edge(1)", show=False),
        Binding("enter", "select", show=False),
    ]

    @dataclass
    class RowHighlighted(Message):
        table: LiveTable
        key: str | None

    @dataclass
    class RowSelected(Message):
        table: LiveTable
        key: str

    def __init__(self, columns: Sequence[Col | str], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.cols = tuple(c if isinstance(c, Col) else Col(c) for c in columns)
        self.shown: list[Row] = []
        self.cursor_row = 0
        self.cells_written = 0  # for tests and the benchmark: how much a refresh repainted
        self.shown_cols: list[int] = list(range(len(self.cols)))
        self.widths: list[int] = [len(c.name) for c in self.cols]
        self._index: dict[str, int] = {}

    # --- data ------------------------------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self.shown)

    @property
    def selected_key(self) -> str | None:
        if not self.shown or not 0 <= self.cursor_row < len(self.shown):
            return None
        return self.shown[self.cursor_row][0]

    def get_row_at(self, index: int) -> list[Hashable]:
        return list(self.shown[index][1])

    def sync(self, rows: Sequence[Row]) -> None:
        """Show `rows` (key, cells): only changed lines repaint; the cursor stays on its row when it is still there."""
        current = self.selected_key
        updates = cell_updates(self.shown, rows)
        self.shown = list(rows)
        self._index = {k: i for i, (k, _) in enumerate(self.shown)}
        if updates is not None:
            self.cells_written += len(updates)
            lines = {self._index[k] for k, _, _ in updates}
            if self._measure():
                self.refresh()
            else:
                for i in lines:
                    self.refresh(Region(0, i + 1 - int(self.scroll_y), self.size.width, 1))
            return
        self.cells_written += sum(len(c) for _, c in rows)
        self._measure()
        if current is not None and current in self._index:
            self.cursor_row = self._index[current]
        self.cursor_row = max(0, min(self.cursor_row, len(self.shown) - 1))
        self._follow_cursor()
        self.refresh()
        if self.selected_key != current:
            self.post_message(self.RowHighlighted(self, self.selected_key))

    def move_cursor(self, *, row: int, animate: bool = False) -> None:
        self._set_cursor(row)

    # --- layout --------------------------------------------------------------------------------------------

    def _measure(self) -> bool:
        """Column widths from the content and the columns that fit; True when either changed."""
        widths = []
        columns = list(zip(*(cells for _, cells in self.shown), strict=True)) if self.shown else []
        for i, c in enumerate(self.cols):
            longest = max(map(_width, columns[i]), default=0) if columns else 0
            w = max(len(c.name), longest)
            widths.append(min(w, max(c.cap, len(c.name))) if c.cap else w)
        visible = self._fit(widths, self.size.width or 80)
        changed = widths != self.widths or visible != self.shown_cols
        self.widths, self.shown_cols = widths, visible
        total = sum(widths[i] for i in visible) + GAP * max(len(visible) - 1, 0)
        self.virtual_size = Size(total, len(self.shown) + 1)
        return changed

    def _fit(self, widths: list[int], room: int) -> list[int]:
        room -= 2  # the vertical scrollbar
        visible = list(range(len(self.cols)))
        while sum(widths[i] for i in visible) + GAP * (len(visible) - 1) > room:
            droppable = [i for i in visible if self.cols[i].drop > 0]
            if not droppable:
                break
            visible.remove(max(droppable, key=lambda i: (self.cols[i].drop, i)))
        return visible

    def on_resize(self) -> None:
        self._measure()
        self._follow_cursor()
        self.refresh()

    # --- drawing -------------------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            cells: Sequence[Hashable] = [c.name for c in self.cols]
            style = self.get_component_rich_style("rowtable--header")
        else:
            index = int(self.scroll_y) + y - 1
            if index >= len(self.shown):
                return Strip.blank(width, self.rich_style)
            cells = self.shown[index][1]
            if index == self.cursor_row:
                style = self.get_component_rich_style("rowtable--cursor")
            elif index % 2:
                style = self.rich_style + self.get_component_rich_style("rowtable--odd")
            else:
                style = self.rich_style
        segments: list[Segment] = []
        for n, i in enumerate(self.shown_cols):
            text = _text(cells[i]).copy()
            text.truncate(self.widths[i], overflow="ellipsis", pad=True)
            if n:
                segments.append(Segment(" " * GAP, style))
            segments.extend(s if s.style is None else Segment(s.text, style + s.style)
                            for s in text.render(self.app.console))  # fmt: skip
        strip = Strip(segments).apply_style(style) if segments else Strip.blank(width, style)
        strip = strip.crop(int(self.scroll_x), int(self.scroll_x) + width)
        return strip.extend_cell_length(width, style)

    # --- keys ----------------------------------------------------------------------------------------------

    def _set_cursor(self, row: int) -> None:
        if not self.shown:
            return
        row = max(0, min(row, len(self.shown) - 1))
        if row == self.cursor_row:
            return
        self.cursor_row = row
        self._follow_cursor()
        self.refresh()
        self.post_message(self.RowHighlighted(self, self.selected_key))

    def _follow_cursor(self) -> None:
        rows_on_screen = max(1, self.size.height - 1)
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + rows_on_screen:
            self.scroll_to(y=self.cursor_row - rows_on_screen + 1, animate=False, immediate=True)

    def action_move(self, step: int) -> None:
        self._set_cursor(self.cursor_row + step)

    def action_page(self, step: int) -> None:
        self._set_cursor(self.cursor_row + step * max(1, self.size.height - 2))

    def action_edge(self, end: int) -> None:
        self._set_cursor(len(self.shown) - 1 if end else 0)

    def action_select(self) -> None:
        key = self.selected_key
        if key is not None:
            self.post_message(self.RowSelected(self, key))
