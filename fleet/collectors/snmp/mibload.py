"""pysnmp's own MIB modules from Python's bytecode cache instead of compiled from source at every engine start.

A pysnmp engine loads about twenty MIB modules (SNMPv2-SMI, the USM and VACM tables...) that ship as Python source
in `pysnmp/smi/mibs`. pysnmp 7 looks for their bytecode as `NAME.pyc` beside the source, where nothing puts it
(installers write `__pycache__/NAME.cpython-311.pyc`), so it compiles each source; then, unless Python runs with
-O, it throws that code away and runs the file through `runpy.run_path`, which compiles it again. Twice twenty
compiles cost more CPU than the rest of an SNMP check's engine set-up (`fleet poll --protocol snmp`), and each
new engine of a sweep pays them again.

`install()` makes pysnmp take a MIB module's code where Python's import system keeps it: from `__pycache__` when it
is current, else compiled once (and cached there when the folder is writable). The code runs as `runpy.run_path`
ran it: in a fresh namespace holding pysnmp's globals (`mibBuilder`, `userCtx`), under the name `<run_path>`.
Anything else (a legacy `NAME.pyc` beside the source, a zip) is left to pysnmp.
"""

from __future__ import annotations

import builtins
import os
import runpy
from importlib.machinery import SourceFileLoader
from types import CodeType
from typing import Any

from pysnmp.smi import builder

_INSTALLED: list[bool] = []
_CODE: dict[str, CodeType] = {}  # code read by `_read`, handed to the `run_path` that follows it


def _code(path: str) -> CodeType:
    code = SourceFileLoader("<run_path>", path).get_code("<run_path>")
    assert code is not None  # a source file always has code
    return code


def _read(self: Any, name: str) -> tuple[CodeType, str]:
    directory = self.full_path()
    try:
        listing = os.listdir(directory)  # pysnmp's names are case-sensitive, whatever the file system
    except OSError:
        listing = []
    if name + ".py" in listing and name + ".pyc" not in listing:
        path = self.full_path(name, ".py")
        _CODE[path] = code = _code(path)
        return code, ".py"
    result: tuple[CodeType, str] = _ORIGINAL_READ(self, name)
    return result


def _run_path(path: str, init_globals: dict[str, Any] | None = None, run_name: str | None = None) -> dict[str, Any]:
    code = _CODE.pop(path, None)
    if code is None:
        return runpy.run_path(path, init_globals, run_name)
    namespace: dict[str, Any] = {
        "__name__": run_name or "<run_path>",
        "__file__": path,
        "__cached__": None,
        "__doc__": None,
        "__loader__": None,
        "__package__": None,
        "__spec__": None,
        "__builtins__": builtins,
    }
    namespace.update(init_globals or {})
    exec(code, namespace)
    return namespace


class _Runpy:
    """Stands in for the `runpy` module inside pysnmp.smi.builder, which uses its `run_path` only."""

    run_path = staticmethod(_run_path)


_ORIGINAL_READ = builder.DirMibSource.read


def install() -> None:
    """Idempotent; for the whole process (every engine made after it)."""
    if _INSTALLED:
        return
    builder.DirMibSource.read = _read
    builder.runpy = _Runpy
    _INSTALLED.append(True)
