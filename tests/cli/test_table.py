"""The listing commands' renderer: identifiers whole at any width, TSV for scripts, data never markup."""

from __future__ import annotations

import io

from rich.console import Console

from fleet.cli.table import Column, print_table

COLUMNS = (
    Column("id", identifier=True, right=True),
    Column("server", identifier=True),
    Column("serial", identifier=True),
    Column("state"),
    Column("problem", drop=2),
    Column("site", drop=1),
)
HOST = "nyc1-dl360-007.hosting.example.net"
SERIAL = "PSTRM9FHBDY6A1Q"
ROWS = [
    (42, HOST, SERIAL, "critical", "both supplies of the pair lost, server down since 02:10", "NYC1"),
    (
        43,
        "nyc1-dl360-008.hosting.example.net",
        "PSTRM9FHBDY6A2Z",
        "non-critical",
        "[bold]fan[/bold] \x1b]0;pwn\x07",
        "NYC1",
    ),
]


def terminal(width: int) -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=width, force_terminal=True, color_system=None, highlight=False), buf


def test_identifiers_are_whole_at_80_columns_and_other_columns_wrap_or_go() -> None:
    console, buf = terminal(80)
    print_table(COLUMNS, ROWS, empty="none", console=console)
    text = buf.getvalue()
    assert HOST in text and SERIAL in text and "PSTRM9FHBDY6A2Z" in text
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "critical" in text  # the decisive column stays


def test_at_40_columns_columns_are_dropped_and_the_identifiers_kept() -> None:
    console, buf = terminal(60)
    print_table(COLUMNS, ROWS, empty="none", console=console)
    text = buf.getvalue()
    assert HOST in text and SERIAL in text
    assert "not shown at this width: problem" in text or "not shown at this width: site, problem" in text


def test_data_is_never_markup_nor_terminal_control() -> None:
    console, buf = terminal(200)
    print_table(COLUMNS, ROWS, empty="none", console=console)
    text = buf.getvalue()
    assert "[bold]fan[/bold]" in text
    assert "\x1b]" not in text and "\x07" not in text


def test_a_pipe_gets_tab_separated_rows_with_a_header(capsys) -> None:
    print_table(COLUMNS, ROWS, empty="none", console=Console(file=io.StringIO(), force_terminal=False))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t") == ["id", "server", "serial", "state", "problem", "site"]
    first = lines[1].split("\t")
    assert first[:4] == ["42", HOST, SERIAL, "critical"] and len(first) == 6
    assert "\x1b" not in lines[2] and lines[2].split("\t")[4].startswith("[bold]fan[/bold]")
