"""sushy-static serving Redfish trees on loopback: the shared corpus in place, and the failure fixtures built from
it in a temp dir (files linked, only the edited ones written)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED, free_port

CORPUS = SHARED / "corpus" / "redfish"
TREES = (
    "csm-DL325",
    "csm-XL675d_A100",
    "csm-Gigabyte",
    "csm-Intel",
    "dmtf-public-rackmount1",
    "dmtf-public-localstorage",
    "dmtf-public-tower",
)


def sushy_static() -> str | None:
    here = Path(sys.executable).parent / "sushy-static"
    return str(here) if here.exists() else shutil.which("sushy-static")


@dataclass
class Served:
    port: int
    root: Path  # the tree's redfish/v1 folder
    proc: subprocess.Popen[bytes]
    tls: bool = False


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def serve(root: Path, *, cert: tuple[Path, Path] | None = None) -> Served:
    exe = sushy_static()
    if exe is None:
        pytest.skip("sushy-static not installed (pip install 'sushy-tools')")
    port = free_port(socket.SOCK_STREAM)
    cmd = [exe, "-m", str(root), "-i", "127.0.0.1", "-p", str(port)]
    if cert:
        cmd += ["-c", str(cert[0]), "-k", str(cert[1])]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return Served(port, root, proc, tls=cert is not None)


def wait_ready(served: Served, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not _answers(served.port):
        if served.proc.poll() is not None:
            err = served.proc.stderr.read().decode(errors="replace")[-1000:] if served.proc.stderr else ""
            pytest.fail(f"sushy-static exited with {served.proc.returncode}: {err}")
        if time.monotonic() > deadline:
            pytest.fail(f"sushy-static did not listen within {timeout} s")
        time.sleep(0.1)


def stop(served: Served) -> None:
    served.proc.terminate()
    try:
        served.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        served.proc.kill()
        served.proc.wait()


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"shared Redfish corpus not found at {CORPUS} (set FLEET_SHARED)")
    return CORPUS


@pytest.fixture(scope="session")
def corpus_servers(corpus_dir: Path) -> Iterator[dict[str, Served]]:
    """Every corpus tree served at once (started together, so the start-up costs one wait)."""
    servers = {name: serve(corpus_dir / name / "redfish" / "v1") for name in TREES}
    try:
        for s in servers.values():
            wait_ready(s)
        yield servers
    finally:
        for s in servers.values():
            stop(s)


class Tree:
    """A copy of a corpus tree to edit: every file is a link to the original until `edit` writes its own copy."""

    def __init__(self, src: Path, dest: Path) -> None:
        shutil.copytree(src, dest, copy_function=os.symlink)
        self.root = dest / "redfish" / "v1"

    def path(self, resource: str) -> Path:
        return self.root / resource.strip("/").removeprefix("redfish/v1").strip("/") / "index.json"

    def load(self, resource: str) -> dict[str, Any]:
        return json.loads(self.path(resource).read_text(encoding="utf-8"))

    def edit(self, resource: str, change: Callable[[dict[str, Any]], None]) -> None:
        p = self.path(resource)
        data = json.loads(p.read_text(encoding="utf-8"))
        change(data)
        p.unlink()  # the link, not the shared original
        p.write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture
def tree_copy(corpus_dir: Path, tmp_path: Path) -> Callable[[str], Tree]:
    def make(name: str) -> Tree:
        return Tree(corpus_dir / name, tmp_path / name)

    return make


def self_signed(folder: Path) -> tuple[Path, Path, str]:
    from fleet.sim.tlscert import self_signed as make

    return make(folder)
