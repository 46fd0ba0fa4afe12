"""Fixtures shared by every test. Protocol fixtures live beside their tests (tests/ipmi, tests/snmp)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The shared test data (real SNMP recordings, the reference IPMI bench) sits beside the repository.
SHARED = Path(os.environ.get("FLEET_SHARED", REPO.parent / "shared")).resolve()


def free_port(kind: int = socket.SOCK_DGRAM) -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(autouse=True)
def _state_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """`fleet poll` keeps its cursors under $XDG_STATE_HOME (default ~/.local/state): each test gets its own, in
    this run's temp dir, for its own process and the commands it starts, so no test writes into the home directory
    or finds another test's cursors."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("xdg-state")))


def owns_udp_port(pid: int, port: int) -> bool:
    """Whether process `pid` holds the UDP socket bound to `port` (Linux /proc). A simulator started on a port that
    another test's simulator took in the meantime fails to bind, while the other one answers its readiness probe:
    this tells the two apart, so a starter can retry on a new port instead of testing someone else's simulator."""
    inodes = set()
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        with contextlib.suppress(OSError), open(table, encoding="ascii") as f:
            for line in list(f)[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{pid}/fd/{fd}").removeprefix("socket:[").rstrip("]") in inodes:
                return True
    return False


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"shared test data not found at {SHARED} (set FLEET_SHARED)")
    return SHARED


PG_URL = os.environ.get("FLEET_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pg_available() -> str | None:
    """None when the test PostgreSQL answers, else the reason it does not."""
    try:
        import psycopg
    except ModuleNotFoundError:
        return "psycopg not installed (pip install 'fleet[postgres]')"
    try:
        with psycopg.connect(PG_URL.replace("+psycopg", ""), connect_timeout=3):
            return None
    except Exception as exc:  # any failure to connect means: skip with the reason
        return f"PostgreSQL not reachable at {PG_URL}: {str(exc).splitlines()[0]}"


def _fresh_pg_schema() -> tuple[str, str]:
    """A schema of its own for one test, so parallel runs and other users of `test` never collide."""
    import uuid

    import psycopg

    name = f"fleet_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    return name, f"{PG_URL}?options=-csearch_path%3D{name}"


def _drop_pg_schema(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'inventory.db'}"


@pytest.fixture
def pg_url():
    reason = pg_available()
    if reason:
        pytest.skip(reason)
    name, url = _fresh_pg_schema()
    try:
        yield url
    finally:
        _drop_pg_schema(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path):
    """The same test on SQLite and on the real PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'inventory.db'}"
        return
    reason = pg_available()
    if reason:
        pytest.skip(reason)
    name, url = _fresh_pg_schema()
    try:
        yield url
    finally:
        _drop_pg_schema(name)


@pytest.fixture
def engine(db_url: str):
    """A migrated, empty database on each engine."""
    from fleet.store.db import make_engine
    from fleet.store.migrate import upgrade

    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


_WORKER_TMP = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """Each pytest-xdist worker (and what it starts) has a temp folder of its own: tests that check nothing is left
    in the temp folder (multiprocessing's pymp-* folders, the demo's) see their own leftovers, not the other
    worker's files of the moment."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        folder = Path(tempfile.mkdtemp(prefix=f"fleet-tests-{worker}-"))
        folder.chmod(0o1777)  # as /tmp: tests that drop to another user make their folders in it too
        os.environ["TMPDIR"] = str(folder)
        tempfile.tempdir = None  # gettempdir() reads TMPDIR again
        config.stash[_WORKER_TMP] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    folder = config.stash.get(_WORKER_TMP, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


# Directories whose tests share fixed loopback addresses across modules (the sample fleet's controllers and
# services on 127.10.x.y / 127.20.x.y, which the demo binds too): they run one after another on one worker.
SERIAL_DIRS = ("sweep",)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`--dist loadgroup`, pyproject.toml) a module runs on one worker, so its module-scoped
    simulators start once and its tests never race each other for the ports they bind; SERIAL_DIRS as a whole."""
    for item in items:
        rel = item.path.relative_to(REPO / "tests")
        group = rel.parts[0] if rel.parts[0] in SERIAL_DIRS else rel.as_posix()
        item.add_marker(pytest.mark.xdist_group(group))


def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[misc]
    """In CI every part (ipmi_sim, snmpsim, PostgreSQL, ../shared) must be there: a skip there is a hole, so fail."""
    if call.when not in ("setup", "call") or not os.environ.get("CI"):
        return None
    if call.excinfo is not None and call.excinfo.errisinstance(pytest.skip.Exception):
        reason = str(call.excinfo.value)
        call.excinfo = None  # type: ignore[misc]
        return pytest.TestReport.from_item_and_call(
            item, pytest.CallInfo.from_call(lambda: pytest.fail(f"skipped in CI: {reason}"), call.when)
        )
    return None
