"""Regenerating the sample gives the committed inventory.db.sample, row for row, on every engine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine

from fleet.sim.sample import load_sample, main
from fleet.store.migrate import current_revision, head_revision
from tests.conftest import REPO
from tests.sample.helpers import COMMITTED, all_rows, read_only


@pytest.fixture(scope="module")
def committed() -> dict[str, list[tuple]]:
    assert COMMITTED.is_file(), "inventory.db.sample is missing: python -m fleet.sim.sample inventory.db.sample"
    eng = read_only(COMMITTED)
    try:
        assert current_revision(eng) == head_revision(eng), "the committed sample is on an old schema: regenerate it"
        return all_rows(eng)
    finally:
        eng.dispose()


def _diff(got: dict[str, list[tuple]], want: dict[str, list[tuple]]) -> list[str]:
    problems = []
    for name in sorted(set(got) | set(want)):
        a, b = got.get(name, []), want.get(name, [])
        if a != b:
            first = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
            problems.append(f"{name}: {len(a)} rows vs {len(b)} committed; first difference at row {first}")
    return problems


def test_loading_into_each_engine_gives_the_committed_rows(engine: Engine, committed) -> None:
    message = load_sample(engine)
    assert message.startswith("loaded the sample fleet")
    got = all_rows(engine)
    assert sum(len(rows) for rows in committed.values()) > 8000  # the comparison below compares something
    assert _diff(got, committed) == []


def test_regenerated_file_equals_the_committed_one(tmp_path: Path, committed, capsys) -> None:
    out = tmp_path / "again.db"
    main([str(out)])
    assert f"wrote {out}" in capsys.readouterr().out
    eng = read_only(out)
    try:
        assert _diff(all_rows(eng), committed) == []
    finally:
        eng.dispose()
    # One self-contained file: nothing left beside it.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["again.db"]


def test_regenerating_into_a_missing_folder_is_a_one_line_error(tmp_path: Path) -> None:
    out = tmp_path / "no-such-folder" / "x.db"
    proc = subprocess.run(
        [sys.executable, "-m", "fleet.sim.sample", str(out)], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not out.parent.exists()


def test_the_comparison_notices_a_different_fleet(tmp_path: Path, committed) -> None:
    from fleet.store.db import make_engine
    from fleet.store.migrate import upgrade

    eng = make_engine(str(tmp_path / "other.db"))
    try:
        upgrade(eng)
        load_sample(eng, seed=1)
        problems = _diff(all_rows(eng), committed)
    finally:
        eng.dispose()
    assert any(p.startswith("server:") for p in problems)
    assert any(p.startswith("component:") for p in problems)


def test_two_loaders_at_once_load_the_sample_once(engine: Engine, committed) -> None:
    """Two `fleet init --sample` started together: one loads, the other waits and then finds the fleet there."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        messages = list(pool.map(lambda _: load_sample(engine), range(2)))
    assert sum(m == "the database already holds a fleet; sample not loaded" for m in messages) == 1
    assert sum(m.startswith("loaded the sample fleet") for m in messages) == 1
    assert _diff(all_rows(engine), committed) == []
