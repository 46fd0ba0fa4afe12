"""Textual's private names that fleet relies on still exist and are still used by Textual the way fleet expects.

LiveTable overrides DataTable._update_dimensions and calls _clear_caches; the snapshot helpers (tests and
bench/screenshots.py) wait on _require_update_dimensions. A Textual release that renames one would otherwise make the
override dead code (columns cut after a refresh) or the wait a no-op (flaky pictures), silently.
"""

from __future__ import annotations

import inspect

from textual.widgets import DataTable

from fleet.tui.livetable import TEXTUAL_PRIVATE_FLAG, TEXTUAL_PRIVATE_METHODS, LiveTable


def test_the_private_methods_livetable_uses_are_there():
    missing = [name for name in TEXTUAL_PRIVATE_METHODS if not callable(getattr(DataTable, name, None))]
    assert missing == [], f"Textual's DataTable no longer has {missing}: fleet/tui/livetable.py must be adapted"


def test_the_overridden_method_keeps_its_signature_and_is_still_called_by_datatable():
    params = list(inspect.signature(DataTable._update_dimensions).parameters)
    assert params == list(inspect.signature(LiveTable._update_dimensions).parameters) == ["self", "new_rows"]
    # Overriding is only worth anything while DataTable itself calls it when rows arrive.
    assert "self._update_dimensions(" in inspect.getsource(DataTable)
    assert list(inspect.signature(DataTable._clear_caches).parameters) == ["self"]


def test_the_flag_the_snapshot_helpers_wait_on_is_there_and_set_by_datatable():
    table = DataTable()
    assert isinstance(getattr(table, TEXTUAL_PRIVATE_FLAG, None), bool), (
        f"DataTable.{TEXTUAL_PRIVATE_FLAG} is gone: tests/tui/test_snapshots.py and bench/screenshots.py wait on it"
    )
    assert f"self.{TEXTUAL_PRIVATE_FLAG} = True" in inspect.getsource(DataTable)
