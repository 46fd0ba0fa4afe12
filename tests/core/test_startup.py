"""Start-up budget: `fleet poll` (a monitoring check, started every few minutes per host) and `fleet --help` load
only what they use. Counted as modules loaded by a real run, not as seconds (those belong to docs/PERFORMANCE.md)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from tests.conftest import REPO, free_port

# Never needed by any check: the database layer, the settings machinery (pydantic: a check reads three settings, and
# only when they are given), the typer/click/rich command line and the syntax highlighter httpx's own CLI drags in,
# the console.
CHECK_NEVER = (
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "fleet.store",
    "fleet.config",
    "pydantic",
    "pydantic_core",
    "pydantic_settings",
    "typer",
    "click",
    "rich",
    "pygments",
    "textual",
)
# Per protocol, on top: the other protocols' libraries; pysnmp's MIB compiler (pysmi, with its HTTP client and
# parser generator: fleet speaks numeric OIDs); pyghmi's Lenovo/Redfish OEM code with its HTTP stack (only a Lenovo
# BMC uses it).
NEVER = {
    "ipmi": (*CHECK_NEVER, "pysnmp", "pysmi", "httpx", "httpcore", "http.client",
             "pyghmi.redfish.command", "pyghmi.util.webclient", "pyghmi.ipmi.oem.lenovo.imm"),
    "snmp": (*CHECK_NEVER, "pyghmi", "pysmi", "httpx", "httpcore", "http.client"),
    "redfish": (*CHECK_NEVER, "pyghmi", "pysnmp", "pysmi"),
}  # fmt: skip
# The check's secrets under the names docs/MONITORING.md gives them: FLEET_* variables that are not settings.
CHECK_ENV = {"FLEET_BMC_PASSWORD": "x", "FLEET_SNMP_COMMUNITY": "x"}


def loaded_by(*argv: str, env: dict[str, str] | None = None) -> tuple[set[str], str]:
    code = (
        "import json, sys\n"
        "from fleet.cli import main\n"
        "try:\n"
        f"    main({list(argv)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "real = [m for m, mod in sys.modules.items() if mod is not None and type(mod).__name__ != '_Deferred']\n"
        "print(json.dumps(sorted(real)))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "XDG_STATE_HOME": "/nonexistent-state",
        **(env or {}),
    }  # no FLEET_* setting: default settings
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    *printed, modules = out.stdout.splitlines()
    return set(json.loads(modules)), "\n".join(printed)


def _offenders(modules: set[str], banned: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == b or m.startswith(b + ".") for b in banned))


def _check(protocol: str, port: int, *secret: str) -> tuple[set[str], str]:
    argv = ("poll", "127.0.0.1", "--protocol", protocol, "--port", str(port), *secret, "-t", "0.3")
    return loaded_by(*argv, env=CHECK_ENV)


def test_an_ipmi_check_loads_only_its_collector() -> None:
    modules, printed = _check("ipmi", free_port(), "--password-env", "FLEET_BMC_PASSWORD")
    assert printed.startswith("UNKNOWN: 127.0.0.1 (ipmi): timeout")  # it did poll
    assert "fleet.collectors.ipmi" in modules and "pyghmi.ipmi.private.session" in modules
    assert _offenders(modules, NEVER["ipmi"]) == []


def test_an_snmp_check_loads_only_its_collector() -> None:
    modules, printed = _check("snmp", free_port(), "--community-env", "FLEET_SNMP_COMMUNITY")
    assert printed.startswith("UNKNOWN: 127.0.0.1 (snmp): timeout")
    assert "fleet.collectors.snmp" in modules and "pysnmp.entity.engine" in modules
    assert _offenders(modules, NEVER["snmp"]) == []


def test_a_redfish_check_loads_only_its_collector() -> None:
    modules, printed = _check("redfish", free_port(socket.SOCK_STREAM), "--password-env", "FLEET_BMC_PASSWORD")
    assert printed.startswith("UNKNOWN: 127.0.0.1 (redfish): unreachable")
    assert "fleet.collectors.redfish" in modules and "httpx" in modules
    assert _offenders(modules, NEVER["redfish"]) == []


def test_a_setting_the_check_reads_loads_the_settings() -> None:
    # FLEET_IPMI_BIND is one of the three a check reads: then the settings are loaded and checked, as for any command
    env = {**CHECK_ENV, "FLEET_IPMI_BIND": "127.0.0.1"}
    argv = ("poll", "127.0.0.1", "--port", str(free_port()), "--password-env", "FLEET_BMC_PASSWORD", "-t", "0.3")
    modules, printed = loaded_by(*argv, env=env)
    assert printed.startswith("UNKNOWN: 127.0.0.1 (ipmi): timeout")
    assert "fleet.config" in modules


def test_the_ipmi_options_read_only_the_settings_a_check_looks_for() -> None:
    from fleet.config import Settings
    from fleet.sweep.ipmi_options import IPMI_SETTINGS, ipmi_options

    read: list[str] = []

    class Spy:
        def __getattr__(self, name: str) -> object:
            read.append(name)
            return getattr(Settings(), name)

    ipmi_options(Spy())  # type: ignore[arg-type]
    assert sorted(set(read)) == sorted(IPMI_SETTINGS)


def test_an_snmp_engine_compiles_no_mib_twice_and_none_with_its_bytecode_cached() -> None:
    code = (
        "import asyncio, builtins, json\n"
        "compiled = []\n"
        "real = builtins.compile\n"
        "def spy(source, filename, *a, **k):\n"
        "    compiled.append(str(filename))\n"
        "    return real(source, filename, *a, **k)\n"
        "from fleet.collectors.snmp import engine\n"
        "builtins.compile = spy\n"
        "async def start():\n"
        "    engine.shared_engine()\n"
        "asyncio.run(start())\n"
        "import pysnmp.smi.mibs as mibs\n"
        "print(json.dumps([mibs.__path__[0], compiled]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    mib_dir, compiled = json.loads(out.stdout)
    from importlib.util import cache_from_source
    from pathlib import Path

    mib_sources = [f for f in compiled if f.startswith(mib_dir)]
    assert len(mib_sources) == len(set(mib_sources))
    assert [f for f in mib_sources if Path(cache_from_source(f)).is_file()] == []


def test_top_level_help_loads_no_command_module() -> None:
    modules, printed = loaded_by("--help")
    assert "poll" in printed and "sweep" in printed
    assert _offenders(modules, (*CHECK_NEVER, "fleet.cli.poll", "fleet.collectors")) == []


def test_the_checks_help_loads_no_collector() -> None:
    modules, printed = loaded_by("poll", "--help")
    assert "--protocol" in printed and "--password-env" in printed
    assert _offenders(modules, (*CHECK_NEVER, "fleet.collectors", "pyghmi", "pysnmp", "httpx")) == []


def test_the_help_table_names_every_command_the_modules_define() -> None:
    code = (
        "import json\n"
        "import fleet.cli as cli\n"
        "cli._register(None)\n"
        "from fleet.cli.root import app\n"
        "names = [c.name or c.callback.__name__ for c in app.registered_commands]\n"
        "names += [g.name for g in app.registered_groups]\n"
        "print(json.dumps(sorted(names)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    from fleet.cli import COMMANDS

    assert sorted(set(COMMANDS) - {"poll"}) == json.loads(out.stdout)


def test_the_checks_shortcut_to_default_settings_matches_the_settings() -> None:
    from fleet import config
    from fleet.cli import poll
    from fleet.collectors.targets import IpmiOptions
    from fleet.sweep.ipmi_options import ipmi_options

    assert (
        config.CONFIG_ENV,
        str(config.DEFAULT_CONFIG),
        config.ENV_PREFIX,
    ) == (poll.CONFIG_ENV, poll.DEFAULT_CONFIG, poll.ENV_PREFIX)
    assert ipmi_options(config.Settings()) == IpmiOptions()


def test_a_bad_setting_is_an_unknown_answer(tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "FLEET_IPMI_BIND": "not-an-address", "FLEET_TEST_PW": "x"}
    argv = [sys.executable, "-m", "fleet", "poll", "127.0.0.1", "--password-env", "FLEET_TEST_PW", "-t", "0.3"]
    out = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 3 and out.stderr == ""
    assert out.stdout.startswith("UNKNOWN: ") and "FLEET_IPMI_BIND" in out.stdout and len(out.stdout.splitlines()) == 1
