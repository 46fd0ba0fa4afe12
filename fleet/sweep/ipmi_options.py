"""The IPMI collector's process-wide choices, decided in one place for the sweep, `fleet poll` and the console.

They come from the environment (FLEET_SDR_CACHE_DIR, FLEET_IPMI_BIND, FLEET_PYGHMI_UNPATCHED) until `Settings`
carries them; the collector itself never reads the environment, so moving them to settings changes only this file.
"""

from __future__ import annotations

import os

from fleet.collectors.targets import IpmiOptions
from fleet.config import Settings


def ipmi_options(settings: Settings | None = None) -> IpmiOptions:
    env = os.environ
    return IpmiOptions(
        sdr_cache_dir=env.get("FLEET_SDR_CACHE_DIR") or None,
        bind=env.get("FLEET_IPMI_BIND") or None,
        wakeup_fix=env.get("FLEET_PYGHMI_UNPATCHED") != "1",
    )
