"""Small keyboard-only dialogs: one question, an input, Enter to answer, Escape to cancel."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from fleet.views.text import plain


class Ask(ModalScreen[str | None]):
    """Ask for one line of text; dismiss with it (Enter) or None (Escape)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, question: str, placeholder: str = "", value: str = "", *, where: str = "", required: str = ""
    ) -> None:
        super().__init__()
        self.question = question
        self.placeholder = placeholder
        self.value = value
        self.where = where  # host and slot, on a line of their own: never cut off by the question
        self.required = required  # when set, an empty answer keeps the dialog open and says this

    def compose(self) -> ComposeResult:
        with Vertical(id="ask"):
            yield Label(Text(plain(self.question)))  # it quotes hostnames: inert text
            if self.where:
                yield Label(Text(plain(self.where), style="bold"), id="where")
            yield Input(value=self.value, placeholder=self.placeholder, id="answer")
            yield Label("", id="why", classes="error")
            yield Label("Enter to confirm, Escape to cancel", classes="hint")

    def on_mount(self) -> None:
        box = self.query_one("#answer", Input)
        self.set_focus(box)
        box.cursor_position = len(box.value)  # a prefilled answer is continued, not typed over

    def on_key(self, event: events.Key) -> None:
        # Keys that arrived in the same burst as the one that opened the dialog reach the screen before its input
        # has the focus: they are the answer's first letters, never commands.
        box = self.query_one("#answer", Input)
        if not box.has_focus and event.is_printable and event.character:
            event.stop()
            event.prevent_default()
            box.insert_text_at_cursor(event.character)

    @on(Input.Submitted, "#answer")
    def answered(self, event: Input.Submitted) -> None:
        if self.required and not event.value.strip():
            self.query_one("#why", Label).update(Text(self.required))
            return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


KEYS_HELP = """\
Everywhere
  1-7 or :name   switch view (dashboard servers queue faults stock schedule sla)
  /              filter this view (every word must match); Escape clears
  r              refresh now          p   re-poll the selected server
  Enter          open the selected server's detail (Escape goes back)
  Ctrl+P         every action by name q   quit
Faults           a acknowledge · e escalate to critical · t support ticket
                 x security faults only (BMC audit; :security), again: all
Work queue       s start · d done (asks the new serial) · w whose queue
Tables           arrows, PgUp/PgDn, Home/End move; Tab goes to the next table
In a filter or a dialog every key is text; Enter confirms, Escape cancels."""


class KeysHelp(ModalScreen[None]):
    """`?`: the console's keys. Escape (or `?`) closes this panel only, whatever is under it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close"),
        Binding("question_mark", "close", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="keys-help"):
            yield Label("Keys", classes="section")
            yield Static(Text(KEYS_HELP), id="keys-text")
            yield Label("Escape to close", classes="hint")

    def action_close(self) -> None:
        self.dismiss(None)
