"""The typer application for every command but `fleet poll` (argparse, see fleet.cli.poll); loaded only when a
typer command runs."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(
    name="fleet",
    help="Hardware fleet and spare-parts tracker: IPMI/SNMP health, spares, SLA-bound swaps.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL or SQLite path (default ./inventory.db, FLEET_DB).")
    ] = None,
) -> None:
    """Without a command: the TUI on the database."""
    from fleet.config import load_settings

    load_settings()  # a bad fleet.toml or FLEET_* value stops every command here, before it does anything
    if ctx.invoked_subcommand is None:
        from fleet.cli.tui import run_tui

        run_tui(db)
