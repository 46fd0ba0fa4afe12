"""The IPMI collector's process-wide choices, decided in one place for the sweep, `fleet poll` and the console.

They are settings (fleet.toml or FLEET_SDR_CACHE_DIR, FLEET_IPMI_BIND, FLEET_PYGHMI_UNPATCHED), validated when
loaded; the collector itself never reads the environment nor the settings, it is handed these.
"""

from __future__ import annotations

from fleet.collectors.targets import IpmiOptions
from fleet.config import Settings, load_settings


def ipmi_options(settings: Settings | None = None) -> IpmiOptions:
    s = settings or load_settings()
    return IpmiOptions(sdr_cache_dir=s.sdr_cache_dir, bind=s.ipmi_bind, wakeup_fix=not s.pyghmi_unpatched)
