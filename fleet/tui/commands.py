"""Every console action in the command palette (ctrl+p), so nothing depends on remembering a key."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from fleet.tui.app import FleetApp


def commands(app: FleetApp) -> list[tuple[str, str, str]]:
    """(title, help, action) for the palette; actions are the app's own, the same the keys run."""
    from fleet.tui.views import VIEWS

    out = [(f"Go to {v.title}", f"key {v.key}, or :{v.view_id}", f"show_view('{v.view_id}')") for v in VIEWS]
    out += [
        ("Filter this view", "key /", "filter"),
        ("Refresh now", "key r", "refresh"),
        ("Open the selected server", "key enter", "open_server"),
        ("Re-poll the selected server", "key p", "repoll"),
        ("Acknowledge the selected fault", "Faults view, key a", "acknowledge"),
        ("Escalate the selected fault to critical", "Faults view, key e", "escalate"),
        ("Open a support ticket", "Faults view, key t", "ticket"),
        ("Security faults only (BMC audit), or all faults again", "Faults view, key x, or :security", "security"),
        ("Start the selected swap", "Work queue, key s", "start_swap"),
        ("Finish the selected swap with the new serial", "Work queue, key d", "done_swap"),
        ("Show one technician's work queue", "Work queue, key w", "whose"),
        ("Show the keys", "key ?", "keys"),
        ("Quit", "key q", "quit"),
    ]
    if app.demo is not None:
        from fleet.tui.demo import OUTAGES

        out += [(title, help_text, f"demo('{what}')") for what, (title, help_text) in OUTAGES.items()]
    return out


class FleetCommands(Provider):
    async def discover(self) -> Hits:
        app: FleetApp = self.app  # type: ignore[assignment]
        for title, help_text, action in commands(app):
            yield DiscoveryHit(title, partial(app.run_action, action), help=help_text)

    async def search(self, query: str) -> Hits:
        app: FleetApp = self.app  # type: ignore[assignment]
        matcher = self.matcher(query)
        for title, help_text, action in commands(app):
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(app.run_action, action), help=help_text)
