"""Load pyghmi's Lenovo/Redfish OEM code only when a BMC needs it.

`pyghmi.ipmi.command` imports the Lenovo OEM handler at import time, which pulls in its Redfish client, an HTTP
stack and date parsing: about two thirds of the IPMI collector's import cost, paid by every `fleet poll` although
only a Lenovo BMC ever uses it. Standing placeholders in for those modules defers their execution to the first
attribute use, so a Lenovo BMC still gets its handler and everything else skips the cost.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

# Leaves of pyghmi's OEM tree that nothing touches at import time (only when a Lenovo handler is used).
DEFERRED = (
    "pyghmi.util.webclient",
    "pyghmi.redfish.command",
    "pyghmi.redfish.oem.lenovo.tsma",
    "pyghmi.ipmi.oem.lenovo.imm",
    "pyghmi.ipmi.oem.lenovo.nextscale",
)


class _Deferred(types.ModuleType):
    """Stands in for a module until its first attribute is used, then imports it and hands over.

    Not importlib's LazyLoader: Python 3.11's import statement reads `__spec__` of a module already in sys.modules,
    which makes a LazyLoader module load at `import a.b as c`. This placeholder's `__spec__` is a plain None, so
    the import statement binds it without loading; only a real attribute use does.
    """

    def __getattr__(self, attr: str) -> Any:
        real = self.__dict__.get("_fleet_real")
        if real is None:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
            real = importlib.import_module(self.__name__)
            self.__dict__["_fleet_real"] = real
        return getattr(real, attr)


def _defer(name: str) -> None:
    if name in sys.modules:
        return
    parent, _, child = name.rpartition(".")
    try:
        package = importlib.import_module(parent)
    except ImportError:  # another pyghmi layout: nothing to defer there
        return
    module = _Deferred(name)  # its __spec__ is None: the import statement takes it as loaded
    sys.modules[name] = module
    setattr(package, child, module)


def defer_pyghmi_oem() -> None:
    """Call before the first import of pyghmi.ipmi.command; harmless after it."""
    for name in DEFERRED:
        _defer(name)


def without_mib_compiler() -> None:
    """Make pysnmp start without its MIB compiler (pysmi) in this process.

    pysnmp's hlapi imports pysmi, and with it an HTTP client and a parser generator (three quarters of an SNMP
    poll's import time), to compile MIBs from text when a name must be resolved. fleet's collector speaks numeric
    OIDs only (fleet.collectors.snmp.engine), so it never needs one; pysnmp runs without pysmi when the import
    fails, which a None entry in sys.modules makes it do. For one-shot processes (`fleet poll`) only.
    """
    if "pysmi" not in sys.modules:
        sys.modules["pysmi"] = None  # type: ignore[assignment]


def without_httpx_cli() -> None:
    """Make httpx start without its command-line client in this process.

    `import httpx` imports `httpx._main` for its `httpx` console script, and with it click, rich and pygments: about
    a third of a Redfish poll's import time, for a program fleet never runs. httpx defines a stub instead when that
    import fails, which a None entry in sys.modules makes it do. For one-shot processes (`fleet poll`) only.
    """
    if "httpx" not in sys.modules and "httpx._main" not in sys.modules:
        sys.modules["httpx._main"] = None  # type: ignore[assignment]
