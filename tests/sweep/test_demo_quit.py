"""The demo's first minute and its end: faults on screen within seconds of the start; quitting (or Ctrl+C) at any
moment ends in under 2 s, prints no traceback and leaves no process and no folder behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from sqlmodel import select

from fleet.sim.demo import Demo
from fleet.store.db import read_session
from fleet.store.models import Fault

FIRST_FAULTS_S = 10.0  # the promise: faults within 10 s of the demo's start (the sweep's first share)
QUIT_S = 2.0


def _children(pid: int) -> list[int]:
    """Every live descendant of `pid`, from /proc (zombies excluded: they hold nothing)."""
    kids: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if fields[0] != "Z":
            kids.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _pymp() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("pymp-*")}


def test_faults_within_seconds_and_quit_mid_sweep_leaves_nothing(tmp_path):
    before = _pymp()
    folder = tmp_path / "demo"
    world = Demo(folder=folder, interval_s=60)
    t0 = time.monotonic()
    world.start()
    try:
        assert world.engine is not None and world.first, "the story broke no server"
        started = time.monotonic()
        faults = 0
        while time.monotonic() - started < FIRST_FAULTS_S + 20 and not faults:
            with read_session(world.engine) as s:
                faults = len(s.exec(select(Fault)).all())
            time.sleep(0.2)
        took = time.monotonic() - started
        assert faults, "no fault appeared"
        assert took < FIRST_FAULTS_S, f"first faults after {took:.1f} s (start-up {started - t0:.1f} s)"
        assert _children(os.getpid()), "the demo runs its simulators and its sweep in processes"
    finally:
        q = time.monotonic()
        world.stop()  # the first sweep is still going: 324 servers take longer than this
        quit_took = time.monotonic() - q
    assert quit_took < QUIT_S, f"quit took {quit_took:.1f} s"
    deadline = time.monotonic() + 2
    while _children(os.getpid()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _children(os.getpid()) == []
    assert not (folder / "tmp").exists()
    assert _pymp() - before == set()


def test_ctrl_c_during_a_sweep_ends_quietly_and_cleans_up(tmp_path):
    script = textwrap.dedent(
        """
        import sys, time
        from fleet.sim.demo import Demo
        try:
            with Demo(interval_s=60) as world:
                print(world.folder, flush=True)
                while True:
                    time.sleep(0.1)
        except KeyboardInterrupt:
            print("fleet: interrupted", file=sys.stderr)
            sys.exit(130)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True)  # fmt: skip
    assert proc.stdout is not None
    folder = Path(proc.stdout.readline().strip())
    assert folder.is_dir()
    time.sleep(3)  # a sweep is in flight
    t = time.monotonic()
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal does on Ctrl+C: the whole foreground group
    _, err = proc.communicate(timeout=30)
    took = time.monotonic() - t
    assert proc.returncode == 130
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert took < QUIT_S + 1.0, f"Ctrl+C took {took:.1f} s"  # +1: the interpreter's own exit
    assert not folder.exists()
    assert list(tmp_path.glob("pymp-*")) == [] and list(tmp_path.glob("fleet-demo-*")) == []
    left = subprocess.run(["pgrep", "-s", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert left == []
