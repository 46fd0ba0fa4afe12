"""The console's write actions (acknowledge, escalate, ticket, start and finish a swap, re-poll): each runs in a
thread worker and reports through an ActionDone message, so the console never blocks on the database or a BMC.

`WriteActions` is the part of the app that writes; `FleetApp` (fleet.tui.app) adds the layout, the views and the
refresh loop, and provides what is declared here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine
from textual import work
from textual.app import App

from fleet.clock import Clock
from fleet.config import Settings
from fleet.errors import FleetError
from fleet.health.rules import SECURITY
from fleet.tui.dialogs import Ask
from fleet.tui.messages import ActionDone
from fleet.tui.views import FaultsView, QueueView, View
from fleet.views import actions as actions
from fleet.views.text import plain

SwapDoneHook = Callable[[int, str, str], object]


class WriteActions(App[None]):
    # provided by FleetApp
    engine: Engine
    clock: Clock
    settings: Settings
    technician: str | None
    poller: actions.Poller | None
    on_swap_done: SwapDoneHook | None
    actor: str

    @property
    def view(self) -> View:
        raise NotImplementedError

    def refresh_current(self) -> None:
        raise NotImplementedError

    def selected_server(self) -> int | None:
        raise NotImplementedError

    @work(thread=True, exit_on_error=False, group="write")
    def run_write(
        self,
        fn: Callable[..., str],
        *args: Any,
        then: Callable[[], object] | None = None,
        then_poll: int | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            text = fn(self.engine, *args, **kwargs)
        except Exception as exc:
            self.post_message(ActionDone(one_line(exc), ok=False))
            return
        self.post_message(ActionDone(text))
        if then is not None:
            try:
                then()
            except Exception as exc:
                self.post_message(ActionDone(one_line(exc), ok=False, reload=False))
        if then_poll is not None:
            # Verify: poll the server again through the sweep's pipeline; the fault should not come back.
            try:
                self.post_message(ActionDone(actions.repoll(self.engine, then_poll, self.poller)))
            except Exception as exc:
                self.post_message(ActionDone(one_line(exc), ok=False))

    def on_action_done(self, message: ActionDone) -> None:
        self.notify(plain(message.text), severity="information" if message.ok else "error", timeout=6, markup=False)
        if message.reload:
            self.refresh_current()

    def _selected_fault(self) -> int | None:
        key = self.view.selected()
        return int(key) if key is not None and isinstance(self.view, FaultsView) else None

    def _selected_swap(self) -> int | None:
        key = self.view.selected()
        return int(key) if key is not None and isinstance(self.view, QueueView) else None

    def action_acknowledge(self) -> None:
        fault_id = self._selected_fault()
        if fault_id is not None:
            self.run_write(actions.acknowledge, fault_id, by=self.actor, now=self.clock())

    def action_escalate(self) -> None:
        fault_id = self._selected_fault()
        if fault_id is None:
            return

        def escalated(reason: str | None) -> None:
            if reason is not None:
                self.run_write(actions.escalate, fault_id, reason, by=self.actor, now=self.clock(),
                               settings=self.settings)  # fmt: skip

        self.push_screen(Ask(f"Escalate fault {fault_id} to critical (server down): why?",
                             value="server down because of this part"), escalated)  # fmt: skip

    def action_ticket(self) -> None:
        view = self.view
        f = view.fault(view.selected()) if isinstance(view, FaultsView) else None
        prefill = f"{f.hostname} {f.slot} " if f else ""

        def opened(answer: str | None) -> None:
            if not answer or not answer.strip():
                return
            critical = answer.lstrip().startswith("!")
            words = answer.strip().lstrip("!").split(maxsplit=2)
            if len(words) < 3:
                self.notify("a ticket is: HOST SLOT text (start with ! when the server is down)", severity="error")
                return
            host, slot, text = words
            self.run_write(actions.open_ticket, host, slot, text, critical=critical, by=self.actor, now=self.clock(),
                           settings=self.settings)  # fmt: skip

        self.push_screen(Ask("Support ticket: HOST SLOT text (start with ! if the server is down)", value=prefill),
                         opened)  # fmt: skip

    def action_start_swap(self) -> None:
        swap_id = self._selected_swap()
        if swap_id is not None:
            self.run_write(actions.start_swap, swap_id, technician=self.technician, by=self.actor, now=self.clock())

    def action_done_swap(self) -> None:
        view = self.view
        item = view.item(view.selected()) if isinstance(view, QueueView) else None
        if item is None:
            return
        if item.kind == SECURITY:  # no part, no serial: asking for one would only end in the service's refusal
            self.notify(f"swap {item.swap_id} is a security work order: the next BMC audit closes it", markup=False)
            return

        def finished(serial: str | None) -> None:
            if serial is None or not serial.strip():
                return
            hook = self.on_swap_done
            then = (lambda: hook(item.server_id, item.slot, serial.strip())) if hook else None
            self.run_write(actions.complete_swap, item.swap_id, serial, technician=self.technician, by=self.actor,
                           now=self.clock(), then=then, then_poll=item.server_id)  # fmt: skip

        question = f"Swap {item.swap_id} done: the serial on the new part's label?"
        ask = Ask(question, placeholder="serial on the new part's label", where=f"{item.hostname} {item.slot}",
                  required="the serial is needed: type it from the label (Escape cancels)")  # fmt: skip
        self.push_screen(ask, finished)

    def action_whose(self) -> None:
        """Narrow the work queue to one technician (their swaps and their site's unassigned ones), or everyone."""

        def chosen(name: str | None) -> None:
            if name is None:
                return
            self.technician = name.strip() or None
            self.refresh_current()

        self.push_screen(Ask("Whose work queue? A technician's name; empty for everyone.", value=self.technician or ""),
                         chosen)  # fmt: skip

    def action_repoll(self) -> None:
        server_id = self.selected_server()
        if server_id is None:
            return
        self.notify(f"re-polling server {server_id}…", timeout=3)
        self.run_write(actions.repoll, server_id, self.poller)


def one_line(exc: BaseException) -> str:
    # The one error handler: a FleetError is already a sentence; anything else is cut to its first line.
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if isinstance(exc, FleetError) else f"{type(exc).__name__}: {text}"
