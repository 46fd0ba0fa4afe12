"""What a collector needs to reach one controller. Secrets are `Secret`s, resolved by the caller."""

from __future__ import annotations

from dataclasses import dataclass

from fleet.collectors.secret import Secret


@dataclass(frozen=True, slots=True)
class IpmiTarget:
    host: str
    port: int = 623
    user: str = "admin"
    password: Secret = Secret("")  # noqa: RUF009 - immutable
    # RMCP+ cipher suites to try in order; 17 (SHA256/AES) first, 3 (SHA1/AES) as the fallback; never 0.
    cipher_suites: tuple[int, ...] = (17, 3)


@dataclass(frozen=True, slots=True)
class IpmiOptions:
    """Process-wide choices of the IPMI collector, passed down by the caller (from settings)."""

    sdr_cache_dir: str | None = None  # keep downloaded SDRs on disk too (owner-only folder and files)
    bind: str | None = None  # IPv4 address for pyghmi's client socket (127.0.0.1 for tests and demos)
    wakeup_fix: bool = True  # False only for bench/ipmi_poll.py's before/after comparison


@dataclass(frozen=True, slots=True)
class SnmpTarget:
    host: str
    port: int = 161
    community: Secret | None = None  # v2c
    v3_user: str | None = None  # v3 authPriv when set
    v3_auth_key: Secret | None = None
    v3_priv_key: Secret | None = None
    v3_auth_protocol: str = "sha256"  # sha, sha224, sha256, sha384, sha512
    v3_priv_protocol: str = "aes128"  # aes128, aes192, aes256
    context: str = ""


@dataclass(frozen=True, slots=True)
class RedfishTarget:
    host: str
    port: int = 443
    user: str = "admin"
    password: Secret = Secret("")  # noqa: RUF009 - immutable
    # TLS: the BMC's certificate is verified against the system CAs (or `ca_file`) unless `cert_sha256` pins one
    # certificate by its SHA-256 fingerprint (BMCs ship self-signed ones) or `verify` is False (`--insecure`).
    verify: bool = True
    ca_file: str | None = None
    cert_sha256: str | None = None
    scheme: str = "https"  # "http" only for simulators and tests on loopback
