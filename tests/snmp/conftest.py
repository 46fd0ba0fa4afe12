"""One snmpsim command responder for the whole SNMP suite, on a free loopback UDP port.

It serves, by community (= file base name): the project's own small recordings (tests/snmp/fixtures), the
fault-injected copies written at session start into a temp dir, and the shared LibreNMS recordings read in place.
The shared folder is passed as a second --data-dir rather than symlinked: snmpsim 1.2 names a symlinked file
after its target's path relative to the data dir depth ("snmp/drac_r640"), not after the link.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import SHARED, free_port
from tests.snmp.faults import FAULTS, WRONG_TYPE, write_copy

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = SHARED / "corpus" / "snmp"
V3_USER = "fleet-test"


@dataclass(frozen=True)
class Sim:
    port: int
    corpus: bool  # the shared recordings are being served
    v3_auth_key: str  # random per session: only this throwaway simulator knows them
    v3_priv_key: str


def _responder() -> str | None:
    here = Path(sys.executable).parent / "snmpsim-command-responder"
    return str(here) if here.exists() else shutil.which("snmpsim-command-responder")


async def _answers(port: int, community: str) -> bool:
    from fleet.collectors.snmp.engine import Session, close_all
    from fleet.collectors.targets import SnmpTarget
    from fleet.sweep.secrets import Secret

    session = Session(SnmpTarget("127.0.0.1", port, community=Secret(community)), request_timeout=0.5, retries=0)
    try:
        await session.open()
        await session.next_([(1, 3, 6, 1, 2, 1, 1, 1)])
        return True
    except Exception:
        return False
    finally:
        close_all()


@pytest.fixture(scope="session")
def snmpsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    exe = _responder()
    if exe is None:
        pytest.skip("snmpsim-command-responder not installed (pip install snmpsim pysmi)")
    base = tmp_path_factory.mktemp("snmpsim")
    data, cache = base / "data", base / "cache"
    data.mkdir()
    cache.mkdir()
    for f in FIXTURES.glob("*.snmprec"):
        shutil.copy(f, data / f.name)
    have_corpus = CORPUS.is_dir()
    if have_corpus:
        for fault in (*FAULTS, WRONG_TYPE):
            write_copy(fault, CORPUS, data)
    port = free_port()
    auth_key, priv_key = secrets.token_hex(12), secrets.token_hex(12)
    cmd = [
        exe,
        f"--data-dir={data}",
        *([f"--data-dir={CORPUS}"] if have_corpus else []),
        f"--cache-dir={cache}",
        f"--agent-udpv4-endpoint=127.0.0.1:{port}",
        f"--v3-user={V3_USER}",
        f"--v3-auth-key={auth_key}",
        "--v3-auth-proto=SHA256",
        f"--v3-priv-key={priv_key}",
        "--v3-priv-proto=AES",
        "--logging-method=null",
    ]
    env = {**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60  # the first start indexes every recording into the cache
        while not asyncio.run(_answers(port, "fleet-dell-small")):
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace")[-2000:] if proc.stderr else ""
                pytest.fail(f"snmpsim exited with {proc.returncode}: {err}")
            if time.monotonic() > deadline:
                pytest.fail("snmpsim did not answer within 60 s")
            time.sleep(0.3)
        yield Sim(port, have_corpus, auth_key, priv_key)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def corpus_sim(snmpsim: Sim) -> Sim:
    if not snmpsim.corpus:
        pytest.skip(f"shared SNMP recordings not found at {CORPUS} (set FLEET_SHARED)")
    return snmpsim
