"""The `fleet` command line: thin commands that parse, call a service, print (rich) or emit JSON.

Errors reach the user as one line on stderr with a documented exit status (see docs/CLI.md), never a traceback.

Start-up is part of the product: `fleet poll` runs as a monitoring check every few minutes on every host. So this
package imports only what the command given needs: `fleet poll` is parsed by argparse without typer, `fleet --help`
is printed from COMMANDS without importing any command module (and so no SQLAlchemy), and any other command loads
typer and only the module that defines it.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:  # for the type checker only: at run time `app` is loaded on first use (__getattr__ below)
    from fleet.cli.root import app as app

# name -> (module that defines it, one-line help for `fleet --help`). tests/core/test_startup.py checks this table
# against the commands the modules register.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("fleet.cli.data", "Create or migrate the database; --sample loads the sample fleet."),
    "demo": ("fleet.cli.sweep", "The console on a throwaway copy of the sample fleet, controllers simulated."),
    "poll": ("fleet.cli.poll", "Poll one controller now; a monitoring plugin (Icinga, Nagios, Naemon)."),
    "sweep": ("fleet.cli.sweep", "Poll every server, open faults, reserve spares, propose swaps."),
    "faults": ("fleet.cli.faults", "Open faults, acknowledge, resolve."),
    "ticket": ("fleet.cli.faults", "Support tickets: a customer or staff report of a failing part."),
    "stock": ("fleet.cli.stock", "Spare stock per site; what is low."),
    "spare": ("fleet.cli.stock", "Reserve or release the spare of a fault."),
    "transfer": ("fleet.cli.stock", "Move spares between sites."),
    "rma": ("fleet.cli.stock", "Defective parts going back to the vendor."),
    "swaps": ("fleet.cli.swaps", "Open swaps, nearest hard limit first."),
    "swap": ("fleet.cli.swapwork", "Plan, start and finish part swaps."),
    "report": ("fleet.cli.report", "Reports (SLA)."),
    "import": ("fleet.cli.data", "Import servers, components or stock from CSV (all or nothing)."),
    "export": ("fleet.cli.data", "Export servers, components or stock as CSV."),
    "db": ("fleet.cli.data", "Database maintenance (backup)."),
    "audit": ("fleet.cli.audit", "Security audits: `fleet audit bmc` finds exposed management controllers."),
}
# Commands whose exit status follows the monitoring-plugin convention: bad arguments are "unknown" (3), not 2.
PLUGIN_COMMANDS = {"poll", "sweep"}
_HELP = ("-h", "--help")


def __getattr__(name: str) -> Any:
    # `from fleet.cli import app` (in the command modules) loads typer on first use only
    if name == "app":
        from fleet.cli.root import app

        return app
    raise AttributeError(name)


def _register(command: str | None) -> None:
    """Import the module(s) defining `command` (all of them when unknown) for their side effect on `app`."""
    if command in COMMANDS:
        importlib.import_module(COMMANDS[command][0])
        return
    for module in sorted({m for m, _ in COMMANDS.values()}):
        importlib.import_module(module)


def top_help() -> str:
    width = max(len(n) for n in COMMANDS)
    lines = [
        "Usage: fleet [--db URL] COMMAND [ARGS]...",
        "",
        "Hardware fleet and spare-parts tracker: IPMI/SNMP health, spares, SLA-bound swaps.",
        "Without a command: the console (TUI) on the database.",
        "",
        "Options:",
        "  --db URL    Database URL or SQLite path (default ./inventory.db, FLEET_DB).",
        "  --help      Show this message and exit.",
        "",
        "Commands:",
        *(f"  {name:<{width}}  {text}" for name, (_m, text) in COMMANDS.items()),
        "",
        "fleet COMMAND --help lists a command's options.",
    ]
    return "\n".join(lines) + "\n"


def _command_of(args: list[str]) -> tuple[str, int]:
    """The command word and its position, skipping the root's own options (`--db URL`)."""
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--db":
            i += 2
            continue
        if not a.startswith("-"):
            return a, i
        i += 1
    return "", -1


def _root_db(args: list[str], upto: int) -> str | None:
    """The root's `--db URL` (or `--db=URL`) given before the command word, if any."""
    head = args[:upto] if upto >= 0 else args
    for i, a in enumerate(head):
        if a == "--db" and i + 1 < len(head):
            return head[i + 1]
        if a.startswith("--db="):
            return a[len("--db=") :]
    return None


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    command, at = _command_of(args)
    root_db = _root_db(args, at)
    if root_db is not None:
        # `fleet --db URL COMMAND`: the database of every command below (and of the processes it starts), as
        # FLEET_DB would be; a command's own --db still wins.
        os.environ["FLEET_DB"] = root_db
    if command == "poll":
        from fleet.cli.poll import main as poll_main

        rest = args[at + 1 :]
        has_own = any(a == "--db" or a.startswith("--db=") for a in rest)
        sys.exit(poll_main(rest if root_db is None or has_own else [*rest, "--db", root_db]))
    if not command and any(a in _HELP for a in args):
        sys.stdout.write(top_help())
        sys.exit(0)
    _run_typer(args, command)


def _run_typer(args: list[str], command: str) -> None:
    import typer
    from sqlalchemy.exc import SQLAlchemyError

    from fleet.errors import FleetError

    plugin = command in PLUGIN_COMMANDS
    app = __getattr__("app")
    try:
        _register(command or None)
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


def fail(message: object, code: int) -> NoReturn:
    """The one way an error leaves: one line on stderr (a CSV import: one per bad row), as inert text (an error may
    quote a hostile input)."""
    from fleet.views.text import plain

    lines = str(message).splitlines() or [""]
    print("\n".join(["fleet: " + plain(lines[0]), *(plain(line) for line in lines[1:])]), file=sys.stderr)
    sys.exit(code)
