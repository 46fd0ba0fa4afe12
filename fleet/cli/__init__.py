"""The `fleet` command line: thin commands that parse, call a service, print (rich) or emit JSON.

Errors reach the user as one line on stderr with a documented exit status (see docs/CLI.md), never a traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from fleet.errors import FleetError

app = typer.Typer(
    name="fleet",
    help="Hardware fleet and spare-parts tracker: IPMI/SNMP health, spares, SLA-bound swaps.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# Commands whose exit status follows the monitoring-plugin convention: bad arguments are "unknown" (3), not 2.
PLUGIN_COMMANDS = {"poll", "sweep"}


@app.callback(invoke_without_command=True)
def _root(
    ctx: typer.Context,
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL or SQLite path (default ./inventory.db, FLEET_DB).")
    ] = None,
) -> None:
    """Without a command: the TUI on the database."""
    if ctx.invoked_subcommand is None:
        from fleet.cli.tui import run_tui

        run_tui(db)


def _register() -> None:
    # Imported for their side effect of adding commands to `app`.
    from fleet.cli import data, faults, poll, report, stock, swaps, swapwork, sweep  # noqa: F401


_register()


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    command = next((a for a in args if not a.startswith("-")), "")
    try:
        rv = app(args=args, prog_name="fleet", standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("fleet: aborted", file=sys.stderr)
        sys.exit(130)
    except typer.TyperException as exc:  # usage errors and other click exceptions (typer vendors click)
        fmt = getattr(exc, "format_message", None)
        message = fmt() if callable(fmt) else str(exc)
        code = int(getattr(exc, "exit_code", 2))
        print(f"fleet: {message}", file=sys.stderr)
        sys.exit(3 if code == 2 and command in PLUGIN_COMMANDS else code)
    except FleetError as exc:
        print(f"fleet: {exc}", file=sys.stderr)
        sys.exit(3 if command in PLUGIN_COMMANDS else exc.exit_code)
    except KeyboardInterrupt:
        print("fleet: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)
