"""Settings: the SLA policy numbers (defaults from the provider's SLA) and operational knobs.

Read from a TOML file (`FLEET_CONFIG`, default `./fleet.toml` when present) and overridden by `FLEET_<NAME>`
environment variables (upper-case field names, e.g. `FLEET_CRITICAL_TARGET_MIN=45`).
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fleet.errors import InputError


def _default_swap_minutes() -> dict[str, int]:
    # Typical hands-on time per part kind, including walking to the rack and the bin.
    return {"psu": 15, "fan": 15, "disk": 30, "dimm": 45, "cpu": 90, "battery": 30, "raid": 60, "nic": 30, "board": 120,
            "cooling": 30, "power-feed": 60}  # fmt: skip


def _default_afr() -> dict[str, float]:
    # Annualised failure rates used until the fleet's own history says otherwise.
    return {"psu": 0.02, "fan": 0.015, "disk": 0.015, "dimm": 0.004, "cpu": 0.001, "battery": 0.05, "raid": 0.005}


@dataclass(frozen=True)
class Settings:
    monitoring_interval_min: int = 5
    """Health and service monitoring interval (SLA: every 5 minutes)."""
    ack_within_min: int = 60
    """A technician looks at every alert within this time (SLA: within one hour)."""
    critical_target_min: int = 60
    """Critical swap target after notification (SLA: usually within the hour)."""
    critical_limit_min: int = 240
    """Critical swap hard limit after notification (SLA: within 4 hours)."""
    network_availability: float = 99.95
    """Guaranteed network availability, percent."""
    outage_credit_after_min: int = 60
    """An outage longer than this earns credit."""
    outage_credit_per_hour_pct: float = 3.3
    """Credit per full 60-minute period, percent of the monthly fee (1 day of 30)."""
    outage_credit_per_hour_annual_pct: float = 0.27
    """Credit per full 60-minute period, percent of the annual fee."""
    outage_credit_cap_monthly_pct: float = 50.0
    """Credit cap per month, percent of the monthly fee."""
    outage_credit_cap_annual_fraction: float = 1 / 24
    """Credit cap per month, fraction of the annual fee."""
    healthy_polls_to_resolve: int = 3
    """A fault resolves by itself only after this many consecutive healthy polls (hysteresis)."""
    flap_threshold: int = 3
    """Bad/healthy transitions within an open fault that mark it flapping."""
    ecc_correctable_limit: int = 2
    """Correctable ECC events within the window that make a non-critical DIMM fault."""
    ecc_window_h: int = 24
    poll_timeout_s: float = 10.0
    """Per-host deadline of a poll."""
    service_timeout_s: float = 5.0
    """Deadline of one web or DNS check: a slower answer counts as down."""
    sweep_concurrency: int = 64
    customer_answer_within_h: int = 48
    answer_before_window_min: int = 60
    """The customer's answer is due at least this long before the first window offered starts."""
    degraded_array_within_h: int = 24
    """A redundant array running degraded (one more failure loses the data): windows offered within this time."""
    degraded_array_notice_h: float = 2.0
    """... starting at least this long from now."""
    """A customer who has not agreed a window by then is escalated to staff."""
    windows_to_propose: int = 3
    stock_target_critical: float = 0.99
    """P(no stockout during the lead time) for parts whose failure takes a server down."""
    stock_target_other: float = 0.95
    swap_minutes: dict[str, int] = field(default_factory=_default_swap_minutes)
    afr_default: dict[str, float] = field(default_factory=_default_afr)
    transit_hours: dict[str, float] = field(default_factory=dict)
    """Site-to-site transit times, keyed "FROM-TO" (e.g. "PAR1-AMS1": 3.5); missing pairs use the default."""
    transit_default_h: float = 24.0
    outbox: str = "outbox"
    """Folder where customer mails (.eml with .ics) are written when no SMTP server is configured."""
    smtp_host: str | None = None
    smtp_port: int = 25
    mail_from: str = "noc@example.net"


def load_settings(path: str | os.PathLike[str] | None = None, env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ) if env is None else env
    values: dict[str, Any] = {}
    cfg = Path(path or env.get("FLEET_CONFIG") or "fleet.toml")
    if cfg.is_file():
        try:
            values.update(tomllib.loads(cfg.read_text(encoding="utf-8")))
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"{cfg}: {exc}") from None
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    unknown = set(values) - set(fields)
    if unknown:
        raise InputError(f"{cfg}: unknown setting(s): {', '.join(sorted(unknown))}")
    for name, f in fields.items():
        raw = env.get(f"FLEET_{name.upper()}")
        if raw is None:
            continue
        kind = type(f.default) if f.default is not dataclasses.MISSING else None
        try:
            if kind is bool:
                values[name] = raw.lower() in ("1", "true", "yes", "on")
            elif kind in (int, float):
                values[name] = kind(raw)
            elif kind is str or f.default is None:
                values[name] = raw
            else:
                continue  # tables (dicts) come from the TOML file only
        except ValueError:
            raise InputError(
                f"FLEET_{name.upper()}={raw!r} is not a valid {kind.__name__ if kind else 'value'}"
            ) from None
    return Settings(**values)
