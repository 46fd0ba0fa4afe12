"""Settings: the SLA policy numbers (defaults from the provider's SLA) and operational knobs, validated when loaded.

Read from a TOML file (`FLEET_CONFIG`, default `./fleet.toml` when present) and overridden by `FLEET_<NAME>`
environment variables (upper-case field names, e.g. `FLEET_CRITICAL_TARGET_MIN=45`; tables as JSON). A value of the
wrong type or out of range (`critical_target_min = "soon"`, an interval of 0, NaN) stops the command at start with
one line naming the key and where it came from (`InputError`, exit status 2; 3 for `poll` and `sweep`).

`Settings(...)` itself reads nothing: it is the defaults plus what the caller passes, validated the same way, so
tests and library callers get the SLA's numbers whatever the environment holds. `load_settings()` adds the file and
the environment (pydantic-settings sources, `FLEET_` prefix).
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, ValidationError, create_model
from pydantic.dataclasses import dataclass, is_pydantic_dataclass
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from fleet.errors import InputError
from fleet.limits import MAX_CONCURRENCY

ENV_PREFIX = "FLEET_"
CONFIG_ENV = "FLEET_CONFIG"
DEFAULT_CONFIG = "fleet.toml"

Positive = Annotated[int, Field(gt=0)]
PositiveFloat = Annotated[float, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Percent = Annotated[float, Field(ge=0, le=100)]
Fraction = Annotated[float, Field(ge=0, le=1)]
Probability = Annotated[float, Field(gt=0, lt=1)]


def _ipv4(value: str) -> str:
    # pyghmi's client socket is made IPv4 and bound to this address: an IPv6 or a host name cannot work.
    return str(ipaddress.IPv4Address(value))


IPv4 = Annotated[str, AfterValidator(_ipv4)]


def _default_swap_minutes() -> dict[str, int]:
    # Typical hands-on time per part kind, including walking to the rack and the bin.
    return {"psu": 15, "fan": 15, "disk": 30, "dimm": 45, "cpu": 90, "battery": 30, "raid": 60, "nic": 30, "board": 120,
            "cooling": 30, "power-feed": 60, "security": 15}  # fmt: skip


def _default_afr() -> dict[str, float]:
    # Annualised failure rates used until the fleet's own history says otherwise.
    return {"psu": 0.02, "fan": 0.015, "disk": 0.015, "dimm": 0.004, "cpu": 0.001, "battery": 0.05, "raid": 0.005}


_CONFIG = ConfigDict(extra="forbid", use_attribute_docstrings=True, allow_inf_nan=False, validate_default=True)


@dataclass(frozen=True, config=_CONFIG)
class Settings:
    # --- the SLA's clocks and money ---
    monitoring_interval_min: Positive = 5
    """Health and service monitoring interval, minutes (SLA: every 5 minutes)."""
    ack_within_min: Positive = 60
    """A technician looks at every alert within this time, minutes (SLA: within one hour)."""
    critical_target_min: Positive = 60
    """Critical swap target after notification, minutes (SLA: usually within the hour)."""
    critical_limit_min: Positive = 240
    """Critical swap hard limit after notification, minutes (SLA: within 4 hours)."""
    network_availability: Percent = 99.95
    """Guaranteed network availability, percent."""
    outage_credit_after_min: Positive = 60
    """An outage longer than this many minutes earns credit."""
    outage_credit_per_hour_pct: Percent = 3.3
    """Credit per full 60-minute period, percent of the monthly fee (1 day of 30)."""
    outage_credit_per_hour_annual_pct: Percent = 0.27
    """Credit per full 60-minute period, percent of the annual fee."""
    outage_credit_cap_monthly_pct: Percent = 50.0
    """Credit cap per month, percent of the monthly fee."""
    outage_credit_cap_annual_fraction: Fraction = 1 / 24
    """Credit cap per month, fraction of the annual fee."""
    # --- faults ---
    healthy_polls_to_resolve: Positive = 3
    """A fault resolves by itself only after this many consecutive healthy polls (hysteresis)."""
    flap_threshold: Positive = 3
    """Bad/healthy transitions within an open fault that mark it flapping."""
    ecc_correctable_limit: Positive = 2
    """Correctable ECC events within `ecc_window_h` that make a non-critical DIMM fault."""
    ecc_window_h: Positive = 24
    """The window, hours, over which correctable ECC events are counted."""
    # --- polling ---
    poll_timeout_s: PositiveFloat = 10.0
    """Per-host deadline of a poll, seconds."""
    sweep_concurrency: Annotated[int, Field(ge=1, le=MAX_CONCURRENCY)] = 64
    """Controllers polled at the same time by one sweep (at most 1,024)."""
    service_timeout_s: PositiveFloat = 5.0
    """Deadline of one web or DNS check, seconds: a slower answer counts as down."""
    pyghmi_unpatched: bool = False
    """Leave pyghmi as shipped, without fleet's fix of its lost wake-up: only for bench/ipmi_poll.py's before/after
    comparison (`FLEET_PYGHMI_UNPATCHED=1`)."""
    sdr_cache_dir: str | None = None
    """Keep downloaded SDRs on disk in this folder (made owner-only) across runs (`FLEET_SDR_CACHE_DIR`)."""
    ipmi_bind: IPv4 | None = None
    """Bind pyghmi's client socket to this IPv4 address instead of the IPv6 wildcard, e.g. 127.0.0.1 for tests and
    demos on loopback (`FLEET_IPMI_BIND`)."""
    # --- BMC security audit ---
    audit_every_days: Annotated[int, Field(ge=0, le=366)] = 0
    """`fleet sweep` runs the BMC security audit (docs/SECURITY.md) when the last one that covered its servers is this
    many days old or more; 7 finds a board that came back from repair with factory settings within a week. 0: off."""
    audit_timeout_s: Annotated[float, Field(gt=0, lt=60)] = 2.0
    """Seconds per probe answer of the sweep's audit (`fleet audit bmc --timeout`)."""
    audit_default_credentials: bool = False
    """The sweep's audit also tries the vendor default logins, one attempt per account: only if a failed login cannot
    lock an account on your controllers (`fleet audit bmc --default-credentials --lockout-unknown-ok`)."""
    # --- customers and scheduling ---
    customer_answer_within_h: Positive = 48
    """A customer who has not agreed a window within this many hours is escalated to staff."""
    windows_to_propose: Positive = 3
    """Maintenance windows offered to a customer for a non-critical swap."""
    answer_before_window_min: NonNegativeFloat = 60
    """The customer's answer is due at least this many minutes before the first window offered starts."""
    degraded_array_within_h: PositiveFloat = 24
    """A redundant array running degraded (one more failure loses the data): windows offered within this many hours."""
    degraded_array_notice_h: NonNegativeFloat = 2.0
    """... starting at least this many hours from now."""
    window_notice_h: NonNegativeFloat = 24.0
    """A proposed window starts at least this many hours after the proposal, so the customer has time to answer."""
    window_horizon_days: PositiveFloat = 28.0
    """Proposed windows lie within this many days of the proposal."""
    plan_horizon_days: PositiveFloat = 7.0
    """Technician hours the planner looks at beyond the latest hard limit, days."""
    swap_minutes: dict[str, Positive] = Field(default_factory=_default_swap_minutes)
    """Hands-on time of a swap per part kind, minutes."""
    # --- stock ---
    stock_target_critical: Probability = 0.99
    """P(no stockout during the lead time) for parts whose failure takes a server down."""
    stock_target_other: Probability = 0.95
    """P(no stockout during the lead time) for the other parts."""
    afr_default: dict[str, Fraction] = Field(default_factory=_default_afr)
    """Annualised failure rate per part kind (a fraction), used for part models without their own."""
    transit_hours: dict[str, NonNegativeFloat] = Field(default_factory=dict)
    """Site-to-site transit times, keyed "FROM-TO" (e.g. "PAR1-AMS1": 3.5); missing pairs use the default."""
    transit_default_h: NonNegativeFloat = 24.0
    """Transit time, hours, between two sites without an entry in `transit_hours`."""
    # --- mail ---
    outbox: str = "outbox"
    """Folder where customer mails (.eml with .ics) are written when no SMTP server is configured."""
    smtp_host: str | None = None
    """SMTP server for customer mail; none: mails go to `outbox`."""
    smtp_port: Annotated[int, Field(gt=0, lt=65536)] = 25
    """Port of `smtp_host`."""
    mail_from: str = "noc@example.net"
    """Sender of customer mail."""


class _Sources(BaseSettings):
    """The environment over the TOML file; the fields are added from `Settings` by `_loader`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_ignore_empty=True, extra="forbid", allow_inf_nan=False, case_sensitive=False
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = settings_cls.model_config.get("toml_file")
        return (env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_file))


def setting_fields() -> dict[str, FieldInfo]:
    """Each setting's type, default, bounds and description (its docstring)."""
    assert is_pydantic_dataclass(Settings)
    return dict(Settings.__pydantic_fields__)


@functools.lru_cache(maxsize=8)
def _loader(toml_file: Path | None) -> type[_Sources]:
    fields: dict[str, Any] = {name: (info.annotation, info) for name, info in setting_fields().items()}
    model = create_model("FleetSettings", __base__=_Sources, **fields)
    # The sources read the file named in the class's config: one class per file (FLEET_CONFIG may change).
    model.model_config = {**model.model_config, "toml_file": toml_file}
    return model


def config_path(path: str | os.PathLike[str] | None = None) -> tuple[Path, bool]:
    """The settings file and whether it was asked for (an argument, FLEET_CONFIG) rather than the default."""
    chosen = path or os.environ.get(CONFIG_ENV)
    return Path(chosen or DEFAULT_CONFIG), bool(chosen)


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Settings from the file and FLEET_* variables over the defaults. Raises InputError (one line) when a value is
    of the wrong type, out of range or unknown, when the file is not TOML, or when an asked-for file is missing."""
    cfg, explicit = config_path(path)
    if explicit and not cfg.is_file():
        raise InputError(f"settings file not found: {cfg}")
    toml_file = cfg if cfg.is_file() else None
    try:
        loaded = _loader(toml_file)()
        return Settings(**loaded.model_dump())
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{cfg}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        raise InputError("; ".join(_describe(err, cfg) for err in exc.errors())) from None
    except SettingsError as exc:  # a table in FLEET_* that is not JSON
        found = re.search(r'field "(\w+)"', str(exc))
        name = ENV_PREFIX + (found.group(1).upper() if found else "...")
        raise InputError(f"{name}: a table is given as JSON, e.g. '{{\"psu\": 20}}'") from None


def _describe(err: Any, cfg: Path) -> str:
    key = str(err["loc"][0]) if err["loc"] else "?"
    where = ".".join(str(p) for p in err["loc"])
    env_name = ENV_PREFIX + key.upper()
    raw = os.environ.get(env_name)
    if raw:
        return f"{env_name}={raw!r}: {err['msg']}"
    if err["type"] == "extra_forbidden":
        return f"{cfg}: unknown setting {where!r}"
    return f"{cfg}: {where} = {err['input']!r}: {err['msg']}"
