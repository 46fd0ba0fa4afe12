"""Start-up budget: `fleet poll` (a monitoring check, started every few minutes per host) and `fleet --help` load
only what they use. Counted as modules loaded by a real run, not as seconds (those belong to docs/PERFORMANCE.md)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO, free_port

# Never needed by a poll: the database layer, the typer/click/rich command line, the console, the other protocol,
# and pyghmi's Lenovo/Redfish OEM code with its HTTP stack (only a Lenovo BMC uses it).
POLL_NEVER = (
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "typer",
    "click",
    "rich",
    "textual",
    "pysnmp",
    "http.client",
    "pydantic",
)


def loaded_by(*argv: str) -> tuple[set[str], str]:
    code = (
        "import json, sys\n"
        "from fleet.cli import main\n"
        "try:\n"
        f"    main({list(argv)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "real = [m for m, mod in sys.modules.items() if type(mod).__name__ != '_Deferred']\n"
        "print(json.dumps(sorted(real)))\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "CHECK_PW": "x",
        "XDG_STATE_HOME": "/nonexistent-state",
    }  # no FLEET_*: default settings
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    *printed, modules = out.stdout.splitlines()
    return set(json.loads(modules)), "\n".join(printed)


def _offenders(modules: set[str], banned: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == b or m.startswith(b + ".") for b in banned))


def test_an_ipmi_check_loads_only_its_collector() -> None:
    modules, printed = loaded_by(
        "poll", "127.0.0.1", "--port", str(free_port()), "--password-env", "CHECK_PW", "-t", "0.3"
    )
    assert printed.startswith("UNKNOWN: 127.0.0.1 (ipmi): timeout")  # it did poll
    assert "fleet.collectors.ipmi" in modules
    assert _offenders(modules, POLL_NEVER) == []
    assert _offenders(modules, ("pyghmi.redfish.command", "pyghmi.util.webclient", "pyghmi.ipmi.oem.lenovo.imm")) == []


def test_top_level_help_loads_no_command_module() -> None:
    modules, printed = loaded_by("--help")
    assert "poll" in printed and "sweep" in printed
    assert _offenders(modules, ("sqlalchemy", "sqlmodel", "typer", "rich", "textual", "fleet.store")) == []


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
