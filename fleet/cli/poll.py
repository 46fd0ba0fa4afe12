"""`fleet poll`: read one controller now and print its health; usable as an Icinga/Nagios check."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from fleet.cli import app
from fleet.collectors.targets import IpmiTarget, RedfishTarget, SnmpTarget
from fleet.errors import InputError
from fleet.health.model import EXIT_UNKNOWN, PollResult, exit_status
from fleet.sweep.secrets import Secret, read_secret_env, read_secret_file


def _secret(env: str | None, file: str | None, what: str) -> Secret | None:
    if env and file:
        raise InputError(f"give the {what} by environment variable or by file, not both")
    if env:
        return read_secret_env(env)
    if file:
        return read_secret_file(file)
    return None


@app.command()
def poll(
    host: Annotated[str, typer.Argument(help="Controller address (name or IP).")],
    protocol: Annotated[str, typer.Option("--protocol", help="ipmi, snmp or redfish.")] = "ipmi",
    port: Annotated[
        int | None, typer.Option(help="Port (default 623/udp for IPMI, 161/udp for SNMP, 443/tcp for Redfish).")
    ] = None,
    user: Annotated[str, typer.Option(help="IPMI or Redfish user name.")] = "admin",
    password_env: Annotated[str | None, typer.Option(help="Environment variable holding the password.")] = None,
    password_file: Annotated[str | None, typer.Option(help="Owner-only file holding the password.")] = None,
    community_env: Annotated[
        str | None, typer.Option(help="Environment variable holding the SNMPv2c community.")
    ] = None,
    community_file: Annotated[str | None, typer.Option(help="Owner-only file holding the community.")] = None,
    v3_user: Annotated[str | None, typer.Option(help="SNMPv3 user (authPriv).")] = None,
    v3_auth_env: Annotated[str | None, typer.Option(help="Environment variable holding the v3 auth key.")] = None,
    v3_priv_env: Annotated[str | None, typer.Option(help="Environment variable holding the v3 priv key.")] = None,
    v3_auth_protocol: Annotated[str, typer.Option(help="sha, sha224, sha256, sha384, sha512.")] = "sha256",
    v3_priv_protocol: Annotated[str, typer.Option(help="aes128, aes192, aes256.")] = "aes128",
    cipher_suite: Annotated[
        list[int] | None, typer.Option(help="IPMI cipher suite(s) to try in order (default 17 then 3).")
    ] = None,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="Redfish: do not verify the BMC's TLS certificate.")
    ] = False,
    ca_file: Annotated[
        str | None, typer.Option("--ca-file", help="Redfish: verify the BMC's certificate against this CA bundle.")
    ] = None,
    cert_sha256: Annotated[
        str | None,
        typer.Option("--cert-sha256", help="Redfish: accept only the certificate with this SHA-256 fingerprint."),
    ] = None,
    timeout: Annotated[float, typer.Option(help="Deadline for the whole poll, seconds.")] = 10.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the PollResult as JSON.")] = False,
) -> int:
    """Poll one controller. Exit 0 healthy, 1 warning, 2 critical, 3 unknown (unreachable, auth, bad arguments)."""
    if timeout <= 0:
        raise InputError("--timeout must be positive")
    if protocol == "ipmi":
        password = _secret(password_env, password_file, "password")
        if password is None:
            raise InputError("IPMI needs --password-env VAR or --password-file FILE")
        suites = tuple(cipher_suite) if cipher_suite else (17, 3)
        if 0 in suites:
            raise InputError("cipher suite 0 sends no authentication; it is never used")
        from fleet.collectors.ipmi import poll_ipmi

        result = poll_ipmi(
            IpmiTarget(host=host, port=port or 623, user=user, password=password, cipher_suites=suites),
            timeout=timeout,
        )
    elif protocol == "snmp":
        community = _secret(community_env, community_file, "community")
        auth = _secret(v3_auth_env, None, "v3 auth key")
        priv = _secret(v3_priv_env, None, "v3 priv key")
        if v3_user and (auth is None or priv is None):
            raise InputError("SNMPv3 needs --v3-auth-env and --v3-priv-env (authPriv)")
        if not v3_user and community is None:
            raise InputError("SNMP needs --community-env/--community-file, or --v3-user with its keys")
        from fleet.collectors.snmp import poll_snmp_sync

        result = poll_snmp_sync(
            SnmpTarget(
                host=host,
                port=port or 161,
                community=community,
                v3_user=v3_user,
                v3_auth_key=auth,
                v3_priv_key=priv,
                v3_auth_protocol=v3_auth_protocol,
                v3_priv_protocol=v3_priv_protocol,
            ),
            timeout=timeout,
        )
    elif protocol == "redfish":
        result = _poll_redfish(host, port, user, _secret(password_env, password_file, "password"), insecure, ca_file,
                               cert_sha256, timeout)  # fmt: skip
    else:
        raise InputError(f"unknown protocol {protocol!r} (ipmi, snmp or redfish)")
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        print_poll(result)
    return exit_status(result)


def _poll_redfish(
    host: str,
    port: int | None,
    user: str,
    password: Secret | None,
    insecure: bool,
    ca_file: str | None,
    cert_sha256: str | None,
    timeout: float,
) -> PollResult:
    from pathlib import Path

    from fleet.collectors.redfish import poll_redfish_sync
    from fleet.collectors.redfish.tls import normalise_fingerprint

    if password is None:
        raise InputError("Redfish needs --password-env VAR or --password-file FILE")
    if sum(map(bool, (insecure, ca_file, cert_sha256))) > 1:
        raise InputError("give one of --insecure, --ca-file, --cert-sha256")
    if ca_file and not Path(ca_file).is_file():
        raise InputError(f"--ca-file {ca_file}: no such file")
    try:
        pin = normalise_fingerprint(cert_sha256) if cert_sha256 else None
    except ValueError as exc:
        raise InputError(f"--cert-sha256: {exc}") from None
    target = RedfishTarget(
        host=host, port=port or 443, user=user, password=password, verify=not insecure, ca_file=ca_file, cert_sha256=pin
    )
    return poll_redfish_sync(target, timeout=timeout)


def print_poll(result: PollResult) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    status = exit_status(result)
    label = {0: "OK", 1: "WARNING", 2: "CRITICAL", EXIT_UNKNOWN: "UNKNOWN"}[status]
    if not result.reachable or result.error:
        console.print(f"{label}: {result.host} ({result.protocol}): {result.error or 'unreachable'}")
        return
    bad = [r for r in result.readings if r.state.value in ("warning", "critical")]
    summary = ", ".join(f"{r.slot or r.name} {r.state.value}" for r in bad) or "all parts healthy"
    console.print(f"{label}: {result.host} ({result.protocol}, power {result.power or '?'}): {summary}")
    table = Table("sensor", "kind", "slot", "state", "value", "detail", box=None, pad_edge=False)
    for r in result.readings:
        value = "" if r.value is None else f"{r.value:g} {r.unit or ''}".strip()
        table.add_row(r.name, r.kind.value, r.slot, r.state.value, value, r.detail or "")
    console.print(table)
    for e in result.events:
        console.print(f"event {e.time or '-'} {e.severity.value} {e.slot} {e.text}")
