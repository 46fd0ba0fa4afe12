"""The `fleet` command line: thin commands that parse, call a service, print (rich) or emit JSON.

Errors reach the user as one line on stderr with a documented exit status (see docs/CLI.md), never a traceback.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from sqlalchemy.exc import SQLAlchemyError

from fleet.errors import FleetError
from fleet.views.text import plain

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
    from fleet.config import load_settings

    load_settings()  # a bad fleet.toml or FLEET_* value stops every command here, before it does anything
    if ctx.invoked_subcommand is None:
        from fleet.cli.tui import run_tui

        run_tui(db)


def _register() -> None:
    # Imported for their side effect of adding commands to `app`.
    from fleet.cli import data, faults, poll, stock, swaps, swapwork, sweep  # noqa: F401


_register()


def fail(message: object, code: int) -> None:
    """The one way an error leaves: one line on stderr (a CSV import: one per bad row), as inert text (an error may
    quote a hostile input)."""
    lines = str(message).splitlines() or [""]
    print("\n".join(["fleet: " + plain(lines[0]), *(plain(line) for line in lines[1:])]), file=sys.stderr)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    command = next((a for a in args if not a.startswith("-")), "")
    plugin = command in PLUGIN_COMMANDS
    try:
        rv = app(args=args, prog_name="fleet", standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        fail("aborted", 130)
    except typer.TyperException as exc:  # usage errors and other click exceptions (typer vendors click)
        fmt = getattr(exc, "format_message", None)
        code = int(getattr(exc, "exit_code", 2))
        fail(fmt() if callable(fmt) else str(exc), 3 if code == 2 and plugin else code)
    except FleetError as exc:
        fail(exc, 3 if plugin else exc.exit_code)
    except SQLAlchemyError as exc:
        # A failure the database reported (a read-only file, a damaged page, a lost connection) mid-command.
        from fleet.store.db import db_error_line

        fail(db_error_line(exc), 3 if plugin else 5)
    except OverflowError:
        # Python's ints are unbounded, the database's are 64-bit: an id or count past that is bad input.
        fail("a number is out of range (ids and counts are at most 9223372036854775807)", 3 if plugin else 2)
    except OSError as exc:
        # A file the command was pointed at cannot be read or written (permissions, a full disk, a missing folder).
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}{exc.strerror or exc}", 3 if plugin else 1)
    except KeyboardInterrupt:
        fail("interrupted", 130)
    sys.exit(rv if isinstance(rv, int) else 0)
