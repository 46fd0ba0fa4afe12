"""`fleet poll`: read one controller now and print its health, as a monitoring plugin (docs/MONITORING.md).

Parsed with argparse, not typer: a check runs every few minutes on every host, and its start-up is most of its
cost. This module and what it imports must stay light (tests/core/test_startup.py counts the modules loaded).

Each protocol is a `ProtocolSpec` in PROTOCOLS: its options, its default port and the call that polls; adding a
protocol is adding one entry.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from fleet import __version__
from fleet.cli.plugin import failure, render
from fleet.clock import json_default
from fleet.errors import FleetError, InputError
from fleet.health.model import EXIT_UNKNOWN, PollResult, exit_status

DEFAULT_TIMEOUT = 10.0


# fleet/config.py's names, repeated so that a check can tell without importing pydantic (most of a check's start-up)
# that there is nothing to load; tests/core/test_startup.py keeps them equal to config's.
CONFIG_ENV, DEFAULT_CONFIG, ENV_PREFIX = "FLEET_CONFIG", "fleet.toml", "FLEET_"


def settings_given() -> bool:
    """A settings file, or one of the settings a check reads (the IPMI collector's) in the environment.

    Otherwise the check's settings are their defaults, valid by construction, and it does not load the settings. Other
    FLEET_* variables are none of its business: the check's own secret is often one (`FLEET_BMC_PASSWORD`).
    """
    if os.environ.get(CONFIG_ENV) or os.path.isfile(DEFAULT_CONFIG):
        return True
    from fleet.sweep.ipmi_options import IPMI_SETTINGS

    read = {ENV_PREFIX + name.upper() for name in IPMI_SETTINGS}
    # as the settings read them: names in any case, an empty value is no value
    return any(value and name.upper() in read for name, value in os.environ.items())


class UsageError(Exception):
    """Bad arguments: UNKNOWN (3), as plugins report them."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


@dataclass(frozen=True)
class ProtocolSpec:
    name: str
    default_port: int
    add_options: Callable[[argparse._ArgumentGroup], None]
    # (arguments, port, timeout, cursor) -> result
    poll: Callable[[argparse.Namespace, int, float, dict[str, Any] | None], PollResult]


def _secret(env: str | None, file: str | None, what: str) -> Any:
    from fleet.sweep.secrets import read_secret_env, read_secret_file

    if env and file:
        raise InputError(f"give the {what} by environment variable or by file, not both")
    if env:
        return read_secret_env(env)
    if file:
        return read_secret_file(file)
    return None


# ---------------------------------------------------------------- IPMI


def _ipmi_options(g: argparse._ArgumentGroup) -> None:
    g.add_argument("--user", default="admin", help="IPMI or Redfish user name (default admin).")
    g.add_argument("--password-env", metavar="VAR", help="Environment variable holding the password.")
    g.add_argument("--password-file", metavar="FILE", help="Owner-only file holding the password.")
    g.add_argument(
        "--cipher-suite", type=int, action="append", metavar="N", help="RMCP+ cipher suite to try, repeatable (17, 3)."
    )


def _poll_ipmi(args: argparse.Namespace, port: int, timeout: float, cursor: dict[str, Any] | None) -> PollResult:
    password = _secret(args.password_env, args.password_file, "password")
    if password is None:
        raise InputError("IPMI needs --password-env VAR or --password-file FILE")
    suites = tuple(args.cipher_suite) if args.cipher_suite else (17, 3)
    if 0 in suites:
        raise InputError("cipher suite 0 sends no authentication; it is never used")
    from fleet.collectors.lazy import defer_pyghmi_oem
    from fleet.collectors.targets import IpmiOptions, IpmiTarget

    if settings_given():
        from fleet.sweep.ipmi_options import ipmi_options

        options = ipmi_options()  # the client socket's address, the SDR cache (fleet/config.py)
    else:
        options = IpmiOptions()  # the settings' defaults (tests/core/test_startup.py keeps the two equal)
    defer_pyghmi_oem()
    from fleet.collectors.ipmi import poll_ipmi

    target = IpmiTarget(host=args.host, port=port, user=args.user, password=password, cipher_suites=suites)
    return poll_ipmi(target, timeout=timeout, cursor=cursor, options=options)


# ---------------------------------------------------------------- SNMP


def _snmp_options(g: argparse._ArgumentGroup) -> None:
    g.add_argument("--community-env", metavar="VAR", help="Environment variable holding the SNMPv2c community.")
    g.add_argument("--community-file", metavar="FILE", help="Owner-only file holding the community.")
    g.add_argument("--v3-user", metavar="USER", help="SNMPv3 user (authPriv).")
    g.add_argument("--v3-auth-env", metavar="VAR", help="Environment variable holding the v3 auth key.")
    g.add_argument("--v3-priv-env", metavar="VAR", help="Environment variable holding the v3 priv key.")
    g.add_argument("--v3-auth-protocol", default="sha256", help="sha, sha224, sha256, sha384, sha512.")
    g.add_argument("--v3-priv-protocol", default="aes128", help="aes128, aes192, aes256.")


def _poll_snmp(args: argparse.Namespace, port: int, timeout: float, cursor: dict[str, Any] | None) -> PollResult:
    community = _secret(args.community_env, args.community_file, "community")
    auth = _secret(args.v3_auth_env, None, "v3 auth key")
    priv = _secret(args.v3_priv_env, None, "v3 priv key")
    if args.v3_user and (auth is None or priv is None):
        raise InputError("SNMPv3 needs --v3-auth-env and --v3-priv-env (authPriv)")
    if not args.v3_user and community is None:
        raise InputError("SNMP needs --community-env/--community-file, or --v3-user with its keys")
    from fleet.collectors.lazy import without_mib_compiler

    without_mib_compiler()
    from fleet.collectors.snmp import poll_snmp_sync
    from fleet.collectors.targets import SnmpTarget

    target = SnmpTarget(
        host=args.host,
        port=port,
        community=community,
        v3_user=args.v3_user,
        v3_auth_key=auth,
        v3_priv_key=priv,
        v3_auth_protocol=args.v3_auth_protocol,
        v3_priv_protocol=args.v3_priv_protocol,
    )
    return poll_snmp_sync(target, timeout=timeout)


# ---------------------------------------------------------------- Redfish


def _redfish_options(g: argparse._ArgumentGroup) -> None:
    # --user, --password-env and --password-file are the IPMI group's: the same options serve both protocols.
    g.add_argument("--insecure", action="store_true", help="Do not verify the BMC's TLS certificate.")
    g.add_argument("--ca-file", metavar="FILE", help="Verify the BMC's certificate against this CA bundle.")
    g.add_argument("--cert-sha256", metavar="FP", help="Accept only the certificate with this SHA-256 fingerprint.")


def _poll_redfish(args: argparse.Namespace, port: int, timeout: float, cursor: dict[str, Any] | None) -> PollResult:
    import os

    password = _secret(args.password_env, args.password_file, "password")
    if password is None:
        raise InputError("Redfish needs --password-env VAR or --password-file FILE")
    if sum(map(bool, (args.insecure, args.ca_file, args.cert_sha256))) > 1:
        raise InputError("give one of --insecure, --ca-file, --cert-sha256")
    if args.ca_file and not os.path.isfile(args.ca_file):
        raise InputError(f"--ca-file {args.ca_file}: no such file")
    from fleet.collectors.lazy import without_httpx_cli

    without_httpx_cli()
    from fleet.collectors.redfish import poll_redfish_sync
    from fleet.collectors.redfish.tls import normalise_fingerprint
    from fleet.collectors.targets import RedfishTarget

    try:
        pin = normalise_fingerprint(args.cert_sha256) if args.cert_sha256 else None
    except ValueError as exc:
        raise InputError(f"--cert-sha256: {exc}") from None
    target = RedfishTarget(host=args.host, port=port, user=args.user, password=password, verify=not args.insecure,
                           ca_file=args.ca_file, cert_sha256=pin)  # fmt: skip
    return poll_redfish_sync(target, timeout=timeout, cursor=cursor)


PROTOCOLS: dict[str, ProtocolSpec] = {
    "ipmi": ProtocolSpec("ipmi", 623, _ipmi_options, _poll_ipmi),
    "snmp": ProtocolSpec("snmp", 161, _snmp_options, _poll_snmp),
    "redfish": ProtocolSpec("redfish", 443, _redfish_options, _poll_redfish),
}


# ---------------------------------------------------------------- the command


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 1-65535, not {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="fleet poll",
        allow_abbrev=False,  # `--password` must not quietly mean `--password-env`
        description="Poll one controller and print its health as a monitoring plugin. Exit 0 OK, 1 WARNING, "
        "2 CRITICAL, 3 UNKNOWN (unreachable, timeout, auth, no usable reading, bad arguments).",
        epilog="Secrets are given by environment variable or owner-only file, never on the command line. "
        "See docs/MONITORING.md for Icinga 2 and Nagios definitions.",
    )
    p.add_argument("host", help="Controller address (name or IP).")
    p.add_argument("--protocol", "-P", choices=sorted(PROTOCOLS), default="ipmi", help="Protocol (default ipmi).")
    p.add_argument("--port", "-p", type=_port, help="Port (default 623 for IPMI, 161 for SNMP, 443 for Redfish).")
    p.add_argument(
        "--timeout",
        "-t",
        type=_timeout,
        default=DEFAULT_TIMEOUT,
        help=f"Deadline for the whole poll, seconds (default {DEFAULT_TIMEOUT:g}); keep it below the monitoring "
        "system's own check timeout.",
    )
    p.add_argument("--json", dest="as_json", action="store_true", help="Print the PollResult as JSON.")
    p.add_argument(
        "--all-events", action="store_true", help="Show the whole event log, not only what is new (cursor kept)."
    )
    p.add_argument("--db", metavar="URL", help="Keep the event cursor in this database instead of a state file.")
    p.add_argument("-V", "--version", action="version", version=f"fleet poll {__version__}")
    for spec in PROTOCOLS.values():
        spec.add_options(p.add_argument_group(f"{spec.name.upper()} options"))
    return p


def _cursors(db: str | None) -> Any:
    if db:
        from fleet.cli.poll_cursor_db import DbCursors

        return DbCursors(db)
    from fleet.cli.poll_cursor import FileCursors

    return FileCursors()


def run(argv: Sequence[str]) -> tuple[str, int]:
    """The output and exit status of `fleet poll ARGV`; raises only UsageError and FleetError."""
    args, extra = build_parser().parse_known_args(list(argv))
    if settings_given():
        from fleet.config import load_settings

        load_settings()  # a bad fleet.toml or FLEET_* value is an UNKNOWN answer before anything is polled
    if extra:
        # option names only: what follows an unknown option may be a secret typed on the command line
        names = sorted({a.split("=", 1)[0] for a in extra if a.startswith("-")})
        raise UsageError(f"unknown option(s): {', '.join(names)}" if names else "too many arguments")
    spec = PROTOCOLS[args.protocol]
    port = args.port or spec.default_port
    from fleet.cli.poll_cursor import cursor_key

    store, key = _cursors(args.db), cursor_key(spec.name, args.host, port)
    saved = store.load(key)
    # --all-events: the whole log, and the check's own position left where it was
    cursor = {k: v for k, v in (saved or {}).items() if k not in ("sel", "logs")} if args.all_events else saved
    result = spec.poll(args, port, args.timeout, cursor)
    unsaved = ""
    if result.cursor and result.cursor != saved and not args.all_events:
        try:
            store.save(key, result.cursor)
        except OSError as exc:  # the health answer stands; the next run shows these events again
            unsaved = f"event cursor not saved ({exc.strerror or exc}): the next check shows these events again\n"
    if args.as_json:
        return json.dumps(result.to_dict(), indent=2, default=json_default) + "\n", exit_status(result)
    note = "in the log" if args.all_events else "new since the last check"
    out, status = render(result, events_note=note)
    return out + unsaved, status


def main(argv: Sequence[str]) -> int:
    """Print the plugin output; every outcome, an unexpected error too, has its status word on stdout's first line."""
    try:
        out, status = run(argv)
    except SystemExit as exc:  # -h and -V: argparse printed them
        return int(exc.code or 0)
    except UsageError as exc:
        out, status = failure(EXIT_UNKNOWN, f"{exc} (fleet poll -h for help)"), EXIT_UNKNOWN
    except FleetError as exc:
        out, status = failure(EXIT_UNKNOWN, str(exc)), EXIT_UNKNOWN
    except KeyboardInterrupt:
        out, status = failure(EXIT_UNKNOWN, "interrupted"), EXIT_UNKNOWN
    except Exception as exc:  # a bug must still be a plugin answer, not a traceback read as WARNING
        out, status = failure(EXIT_UNKNOWN, f"internal error: {type(exc).__name__}: {exc}"), EXIT_UNKNOWN
    try:
        sys.stdout.write(out)
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    return status
