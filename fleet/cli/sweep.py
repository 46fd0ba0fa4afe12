"""`fleet sweep`: the headless health sweep for cron, systemd timers and several workers; `fleet demo`."""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from fleet.cli import app
from fleet.cli.common import DbOption, SiteOption, open_db
from fleet.config import load_settings
from fleet.errors import InputError
from fleet.health.model import MAX_TIMEOUT_S
from fleet.limits import KNOCK_AFTER_S, MAX_CONCURRENCY
from fleet.views.text import plain

MAX_EVERY_S = 7 * 24 * 3600  # a loop slower than weekly is a cron job

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from fleet.config import Settings
    from fleet.sweep.report import SweepReport


def parse_every(text: str) -> timedelta:
    """'5m', '300s', '1h' -> a timedelta."""
    units = {"s": 1, "m": 60, "h": 3600}
    t = text.strip().lower()
    try:
        value = float(t[:-1]) * units[t[-1]] if t[-1] in units else float(t)
    except (ValueError, IndexError, KeyError):
        raise InputError(f"--every takes a duration like 5m, 300s or 1h, not {text!r}") from None
    if not math.isfinite(value) or value > MAX_EVERY_S:
        raise InputError(f"--every takes a duration like 5m, 300s or 1h, up to a week, not {text!r}")
    if value < 10:
        raise InputError("--every must be at least 10 s")
    return timedelta(seconds=value)


@app.command()
def sweep(
    db: DbOption = None,
    site: SiteOption = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            help=f"Controllers polled at once (default 64); an IPMI one silent for {KNOCK_AFTER_S:g} s gives its "
            "place up."
        ),
    ] = None,
    timeout: Annotated[float | None, typer.Option(help="Per-host deadline in seconds (default 10).")] = None,
    json_out: Annotated[
        str | None, typer.Option("--json", help="Write the JSON report to FILE, or - for stdout.")
    ] = None,
    worker: Annotated[
        bool, typer.Option("--worker", help="Claim due servers with other workers (SKIP LOCKED on PostgreSQL).")
    ] = False,
    every: Annotated[str | None, typer.Option(help="Repeat every interval (e.g. 5m).")] = None,
) -> int:
    """Poll every server, assess, open faults, reserve spares, propose swaps; exit 0/1/2/3 like a monitoring check."""
    from fleet.sweep.run import run_sweep

    if concurrency is not None and not 1 <= concurrency <= MAX_CONCURRENCY:
        raise InputError(f"--concurrency must be between 1 and {MAX_CONCURRENCY}")
    if timeout is not None and not 0 < timeout <= MAX_TIMEOUT_S:
        raise InputError(f"--timeout must be a number of seconds above 0 and at most {MAX_TIMEOUT_S}")
    interval = parse_every(every) if every else None
    engine = open_db(db, site=site)
    settings = load_settings()
    name = f"{socket.gethostname()}:{os.getpid()}" if worker else None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    stop = {"now": False}

    def _stop(_sig: int, _frm: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, _stop)
    status = 0
    while True:
        report = _one_round(engine, settings, site, concurrency, timeout, name, run_sweep)
        status = report.status
        if json_out:
            _write_json(json_out, report.to_dict())
        if interval is None or stop["now"]:
            return status
        # Reschedule only after this round finished: a slow round delays the next, it never overlaps it.
        wait = interval.total_seconds() - (time.time() % interval.total_seconds())
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and not stop["now"]:
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        if stop["now"]:
            return status


def _one_round(
    engine: Engine,
    settings: Settings,
    site: str | None,
    concurrency: int | None,
    timeout: float | None,
    worker: str | None,
    run_sweep: Callable[..., SweepReport],
) -> SweepReport:
    interactive = sys.stderr.isatty()
    if interactive:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task("storing results", total=None)
            report = run_sweep(
                engine, settings, site=site, concurrency=concurrency, timeout=timeout, worker=worker,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )  # fmt: skip
    else:
        report = run_sweep(engine, settings, site=site, concurrency=concurrency, timeout=timeout, worker=worker)
    log = logging.getLogger("fleet.sweep.run")
    log.info(
        "sweep: %d servers, %d polled, %d unreachable, %d faults opened, %d resolved, %d spares reserved, "
        "%d swaps planned, %d outages opened, %d closed, %.1f s, status %d",
        report.servers, report.polled, len(report.unreachable), report.faults_opened, report.faults_resolved,
        report.spares_reserved, report.swaps_planned, report.outages_opened, report.outages_closed,
        report.duration_s, report.status,
    )  # fmt: skip
    if report.audit is not None:
        a = report.audit
        log.info(
            "BMC security audit: %d controllers, %d not audited, %d findings (%d critical), %d security faults "
            "opened, %d closed", a.controllers, a.not_audited, a.findings, a.critical, a.faults_opened,
            a.faults_resolved,
        )  # fmt: skip
    for u in report.unreachable[:20]:
        log.warning("unreachable: %s (%s)", plain(u["server"]), plain(u["error"]))
    if len(report.unreachable) > 20:
        log.warning("... and %d more unreachable controllers", len(report.unreachable) - 20)
    return report


def _write_json(dest: str, data: dict) -> None:  # type: ignore[type-arg]
    text = json.dumps(data, indent=2, default=str) + "\n"
    if dest == "-":
        sys.stdout.write(text)
        return
    path = Path(dest)
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)  # a reader (or the next cron run) never sees half a report
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {dest}: {exc.strerror}") from None


@app.command()
def demo(
    keep: Annotated[
        Path | None, typer.Option(help="Keep the demo's database and mails in this (new) folder instead of a temp one.")
    ] = None,
    interval: Annotated[float, typer.Option(help="Seconds between the demo's sweeps.")] = 20.0,
) -> None:
    """The console on a throwaway copy of the sample fleet, with simulated controllers on loopback and a few
    failing parts: watch fault -> spare -> swap -> verify."""
    from fleet.sim.demo import Demo

    if keep is not None:
        if keep.exists():
            raise InputError(f"{keep} exists; give a new folder")
        keep.mkdir(parents=True)
    print("starting the demo: sample fleet, simulated BMCs and SNMP agents on 127.10.x.y ...", file=sys.stderr)
    status = 0
    try:
        with Demo(folder=keep, interval_s=interval) as world:
            from fleet.sweep.run import poll_server
            from fleet.tui.app import make_app

            assert world.engine is not None and world.settings is not None
            settings = world.settings
            app = make_app(
                world.engine,
                settings=settings,
                poll_server=lambda engine, server_id: poll_server(engine, server_id, settings=settings),
                on_swap_done=world.repair,
                actor="demo",
                demo=world,
            )
            app.sub_title = f"demo: simulated fleet, sweeps every {interval:g}s"
            app.run()
    except KeyboardInterrupt:  # Ctrl+C before the console is up, or a SIGINT: the demo is already cleaned up
        print("fleet: interrupted", file=sys.stderr)
        status = 130
    # Everything the demo started is stopped and its folder removed; what is left is the interpreter's teardown of
    # a whole sample fleet's objects, seconds on a loaded machine, which the user would wait for for nothing.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
