"""Small keyboard-only dialogs: one question, an input, Enter to answer, Escape to cancel."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from fleet.views.text import plain


class Ask(ModalScreen[str | None]):
    """Ask for one line of text; dismiss with it (Enter) or None (Escape)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, question: str, placeholder: str = "", value: str = "") -> None:
        super().__init__()
        self.question = question
        self.placeholder = placeholder
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(id="ask"):
            yield Label(Text(plain(self.question)))  # the question quotes hostnames: text, never markup
            yield Input(value=self.value, placeholder=self.placeholder, id="answer")
            yield Label("Enter to confirm, Escape to cancel", classes="hint")

    def on_mount(self) -> None:
        box = self.query_one("#answer", Input)
        box.focus()
        box.cursor_position = len(box.value)  # a prefilled answer is continued, not typed over

    @on(Input.Submitted, "#answer")
    def answered(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
