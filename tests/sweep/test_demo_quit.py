"""The demo's first minute and its end: faults on screen within seconds of the start; quitting (or Ctrl+C) at any
moment ends in under 2 s, prints no traceback and leaves no process and no folder behind."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path
from select import select as select_fds

import pytest
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
        if fields[0] != "Z" and "resource_tracker import main" not in _cmdline(entry):
            kids.setdefault(int(fields[1]), []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for c in kids.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _cmdline(entry: Path) -> str:
    try:
        return (entry / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def _pymp() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("pymp-*")}


def test_faults_within_seconds_and_quit_mid_sweep_leaves_nothing(tmp_path):
    before = _pymp()
    # Simulators that earlier tests of this run keep for the session are this process's children too: not the demo's.
    others = set(_children(os.getpid()))
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
        assert set(_children(os.getpid())) - others, "the demo runs its simulators and its sweep in processes"
    finally:
        q = time.monotonic()
        world.stop()  # the first sweep is still going: 324 servers take longer than this
        quit_took = time.monotonic() - q
    assert quit_took < QUIT_S, f"quit took {quit_took:.1f} s"
    deadline = time.monotonic() + 2
    while set(_children(os.getpid())) - others and time.monotonic() < deadline:
        time.sleep(0.05)
    # (multiprocessing's resource tracker excepted: it ends with this process)
    assert set(_children(os.getpid())) - others == set()
    assert not (folder / "tmp").exists()
    assert _pymp() - before == set()


def _fleet_demo_in_a_terminal(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """`fleet demo` as a person runs it: in a terminal (a pty, 100x30), its own session, temp files under tmp_path."""
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "TMPDIR": str(tmp_path),
           "TERM": "xterm-256color"}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "fleet", "demo", "--interval", "60"], stdin=child, stdout=child,
                            stderr=child, env=env, start_new_session=True, close_fds=True)  # fmt: skip
    os.close(child)
    return proc, main


def _critical_on_screen(seen: bytes) -> bool:
    """The dashboard's first line says how many servers are critical; the terminal's escapes taken out."""
    text = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", seen)
    return re.search(rb"servers: [1-9][0-9]* critical", text) is not None


def _read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select_fds([fd], [], [], 0.2)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return seen


def _drain(fd: int, proc: subprocess.Popen[bytes], timeout: float) -> tuple[bytes, float]:
    """Read the terminal until the process exits; (everything it printed, seconds it took)."""
    out = b""
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        ready, _, _ = select_fds([fd], [], [], 0.05)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            out += chunk
        if proc.poll() is not None:
            break
    took = time.monotonic() - t
    proc.wait(timeout=5)
    return out, took


def _nothing_left(tmp_path: Path, proc: subprocess.Popen[bytes]) -> None:
    assert list(tmp_path.glob("pymp-*")) == [] and list(tmp_path.glob("fleet-demo-*")) == []
    # multiprocessing's resource tracker sees the demo exit and removes the killed pools' semaphores, then ends.
    deadline = time.monotonic() + 3
    while (left := _session(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert left == [], f"processes left in the demo's session: {left}"


def _session(sid: int) -> list[str]:
    return subprocess.run(["pgrep", "-s", str(sid)], capture_output=True, text=True).stdout.split()


@pytest.mark.parametrize("how", ["q", "ctrl-c"])
def test_fleet_demo_in_a_terminal_quits_mid_sweep_at_once(tmp_path, how):
    proc, fd = _fleet_demo_in_a_terminal(tmp_path)
    try:
        # README's first command: the console comes up and shows faults within a minute (here: critical servers
        # on the dashboard's first line), while the first sweep is still running.
        seen = _read_until(fd, b"polled", timeout=90)
        assert b"polled" in seen, seen[-500:]
        t = time.monotonic()  # the console is up (start-up itself depends on the machine's load)
        while not _critical_on_screen(seen) and time.monotonic() - t < 60:
            seen += _read_until(fd, b"\x1b", timeout=1)
        assert _critical_on_screen(seen), "no critical server on screen within a minute"
        if how == "q":
            os.write(fd, b"q")
        else:
            os.killpg(proc.pid, signal.SIGINT)  # what `kill -INT` or a Ctrl+C outside raw mode sends: the group
        out, took = _drain(fd, proc, timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        os.close(fd)
    assert proc.returncode in ((0,) if how == "q" else (0, 130))  # Textual quits on SIGINT; before it is up: 130
    assert b"Traceback" not in out and b"KeyboardInterrupt" not in out, out[-2000:]
    assert took < QUIT_S + 1.0, f"quit took {took:.1f} s"  # +1: the process's own exit on a loaded machine
    _nothing_left(tmp_path, proc)
