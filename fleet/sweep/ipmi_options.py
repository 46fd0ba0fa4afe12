"""The IPMI collector's process-wide choices, decided in one place for the sweep, `fleet poll` and the console.

They are settings (fleet.toml or FLEET_SDR_CACHE_DIR, FLEET_IPMI_BIND, FLEET_PYGHMI_UNPATCHED), validated when
loaded; the collector itself never reads the environment nor the settings, it is handed these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fleet.collectors.targets import IpmiOptions

if TYPE_CHECKING:
    from fleet.config import Settings

# The settings the options are made of (fields of fleet.config.Settings). `fleet poll` loads the settings (pydantic,
# most of a check's start-up) only when a file or one of these is given; tests/core/test_startup.py checks that
# ipmi_options reads these and no other.
IPMI_SETTINGS = ("sdr_cache_dir", "ipmi_bind", "pyghmi_unpatched")


def ipmi_options(settings: Settings | None = None) -> IpmiOptions:
    if settings is None:
        from fleet.config import load_settings

        settings = load_settings()
    s = settings
    return IpmiOptions(sdr_cache_dir=s.sdr_cache_dir, bind=s.ipmi_bind, wakeup_fix=not s.pyghmi_unpatched)
