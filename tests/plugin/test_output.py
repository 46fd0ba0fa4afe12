"""The plugin output's rules, on hand-made results (pure formatting: no controller needed)."""

from __future__ import annotations

import pytest

from fleet.cli import poll as poll_cli
from fleet.cli.plugin import perfdata, render
from fleet.health.model import Kind, PollResult, Reading, State
from tests.plugin.perf import parse_perfdata, split_output


def result(*readings: Reading) -> PollResult:
    return PollResult(host="bmc1", protocol="ipmi", reachable=True, readings=list(readings), power="on")


def test_first_line_has_status_counts_and_perfdata_after_one_pipe() -> None:
    out, status = render(
        result(
            Reading("PSU2 Status", Kind.PSU, "PSU2", State.CRITICAL, detail="failure detected"),
            Reading("FAN3", Kind.FAN, "FAN3", State.WARNING, 1400, "RPM", "below lower non-critical", 1500, None),
            Reading("CPU1 Temp", Kind.TEMPERATURE, "CPU1", State.OK, 45, "°C", None, None, 85, None, 90),
        )
    )
    assert status == 2
    assert out.splitlines()[0].count("|") == 1
    text, perf, _long = split_output(out)
    assert text.startswith("CRITICAL: bmc1 (ipmi, power on): 1 critical, 1 warning: PSU2 critical")
    assert perf["critical parts"][:4] == ["1", "", "0", "0"] and perf["warning parts"][:2] == ["1", "0"]
    # Icinga reads C as degrees Celsius; °C would be dropped; RPM has no unit; a lower limit is a range
    assert perf["CPU1 Temp"][:3] == ["45C", "85", "90"]
    assert perf["FAN3"][:3] == ["1400", "1500:", ""]


def test_pipes_and_control_characters_from_data_never_reach_the_output() -> None:
    out, _ = render(
        result(
            Reading("PS2 | lost=1 \x1b]0;owned\x07", Kind.PSU, "PSU2", State.CRITICAL, detail="mode=N+1 | lost=1"),
            Reading("Fan [/] zone 'a'=b", Kind.FAN, "", State.OK, 5000, "RPM"),
        )
    )
    assert out.count("|") == 1  # the perfdata separator only
    assert "\x1b" not in out and "\x07" not in out
    assert "mode=N+1 / lost=1" in out
    _text, perf, _long = split_output(out)
    assert perf["Fan [/] zone a_b"][0] == "5000"


def test_labels_stay_unique_and_numbers_plain() -> None:
    items = perfdata(
        result(
            Reading("Temp", Kind.TEMPERATURE, "", State.OK, 0.00001, "C"),
            Reading("Temp", Kind.TEMPERATURE, "", State.OK, 1234567.0, "C"),
        )
    )
    perf = parse_perfdata(" ".join(items))
    assert perf["Temp"][0] == "0C" and perf["Temp #2"][0] == "1234567C"


@pytest.mark.parametrize(
    ("readings", "expected"),
    [
        ((), "no health reading"),
        ((Reading("PS1", Kind.PSU, "PSU1", State.UNKNOWN, detail="expected INTEGER, got OCTET STRING"),), "1 of 1"),
        (
            (
                Reading("PS1", Kind.PSU, "PSU1", State.OK),
                Reading("PS2", Kind.PSU, "PSU2", State.UNKNOWN, detail="value 99 not in the MIB's enumeration"),
            ),
            "1 of 2 readings unusable (PS2: value 99 not in the MIB's enumeration)",
        ),
    ],
)
def test_unknown_or_missing_readings_are_never_ok(readings: tuple[Reading, ...], expected: str) -> None:
    out, status = render(result(*readings))
    assert status == 3
    assert out.startswith("UNKNOWN: ") and expected in out.splitlines()[0]


def test_an_unexpected_error_is_unknown_with_exit_3(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    def broken(*_args: object) -> PollResult:
        raise RuntimeError("decoder exploded | on purpose")

    spec = poll_cli.PROTOCOLS["ipmi"]
    monkeypatch.setitem(poll_cli.PROTOCOLS, "ipmi", poll_cli.ProtocolSpec("ipmi", 623, spec.add_options, broken))
    status = poll_cli.main(["127.0.0.1", "--password-env", "PATH"])
    out = capsys.readouterr().out
    assert status == 3
    assert out == "UNKNOWN: internal error: RuntimeError: decoder exploded / on purpose\n"


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        ([], "required: host"),
        (["h", "--timeout", "nan"], "--timeout"),
        (["h", "-t", "0"], "--timeout"),
        (["h", "--port", "70000"], "port must be 1-65535"),
        (["h", "--protocol", "telnet"], "invalid choice"),
        (["h"], "IPMI needs --password-env"),
        (["h", "-P", "snmp"], "SNMP needs --community-env"),
        (["h", "--password-env", "FLEET_TEST_UNSET_VARIABLE"], "FLEET_TEST_UNSET_VARIABLE is not set"),
    ],
)
def test_bad_arguments_are_one_unknown_line(argv: list[str], reason: str, capsys) -> None:
    status = poll_cli.main(argv)
    captured = capsys.readouterr()
    assert status == 3
    lines = captured.out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("UNKNOWN: ") and reason in lines[0], captured.out
    assert captured.err == ""


@pytest.mark.parametrize("argv", [["h", "--password", "hunter2"], ["h", "--password=hunter2"], ["h", "x", "hunter2"]])
def test_a_secret_typed_on_the_command_line_is_never_echoed(argv: list[str], capsys) -> None:
    assert poll_cli.main(argv) == 3
    out = capsys.readouterr().out
    assert out.startswith("UNKNOWN: ") and "hunter2" not in out
