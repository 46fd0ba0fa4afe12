"""`fleet poll --protocol redfish` against a BMC that speaks TLS with a self-signed certificate (sushy-static -c/-k):
verified against a CA file, pinned by fingerprint, refused when neither fits; the JSON and exit statuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.redfish.conftest import CORPUS, Served, self_signed, serve, stop, wait_ready

pytestmark = pytest.mark.redfish
PASSWORD = "s3cret-not-on-the-command-line"
STATE = tempfile.mkdtemp(prefix="fleet-redfish-check-")


@pytest.fixture(scope="module")
def bmc(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Iterator[tuple[Served, Path, str]]:
    folder = tmp_path_factory.mktemp("tls")
    cert, key, pin = self_signed(folder)
    served = serve(CORPUS / "csm-XL675d_A100" / "redfish" / "v1", cert=(cert, key))
    wait_ready(served)
    yield served, cert, pin
    stop(served)


def fleet(port: int, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "fleet", "poll", "127.0.0.1", "--protocol", "redfish", "--port", str(port)]
    # The check keeps its log cursor in a state file: a folder of this test run's own, not the user's.
    env = {**os.environ, "BMC_PASSWORD": PASSWORD, "XDG_STATE_HOME": STATE}
    cmd += ["--user", "fleet", "--password-env", "BMC_PASSWORD", "--timeout", "30", *args]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=90, env=env)


def test_verified_against_the_ca_file_gives_json_and_the_critical_status(bmc) -> None:
    served, cert, _pin = bmc
    out = fleet(served.port, "--ca-file", str(cert), "--json")
    assert out.returncode == 2, out.stderr  # the tree's critical drive (NON-OK.txt)
    data = json.loads(out.stdout)
    assert data["protocol"] == "redfish" and data["reachable"] and data["error"] is None
    assert {r["slot"] for r in data["readings"] if r["state"] == "critical"} == {"Disk 1"}
    assert {r["slot"] for r in data["readings"] if r["state"] == "absent" and r["kind"] == "psu"} == {"PSU5", "PSU6"}
    assert any(i["serial"] == "5XBMF0C5NF200E" for i in data["inventory"])
    assert PASSWORD not in out.stdout + out.stderr


def test_pinned_fingerprint_accepts_that_certificate_only(bmc) -> None:
    served, _cert, pin = bmc
    assert fleet(served.port, "--cert-sha256", ":".join(pin[i : i + 2] for i in range(0, 64, 2))).returncode == 2
    wrong = fleet(served.port, "--cert-sha256", "0" * 64, "--json")
    assert wrong.returncode == 3
    assert json.loads(wrong.stdout)["error"] == "protocol: TLS certificate does not match the pinned fingerprint"


def test_self_signed_certificate_is_refused_unless_told(bmc) -> None:
    served, _cert, _pin = bmc
    refused = fleet(served.port, "--json")
    assert refused.returncode == 3
    assert "not trusted" in json.loads(refused.stdout)["error"]
    assert fleet(served.port, "--insecure").returncode == 2


def test_bad_arguments_are_one_line_and_unknown(bmc) -> None:
    served, cert, _pin = bmc
    # A monitoring plugin's answer: the status word and the reason on the first line of stdout.
    both = fleet(served.port, "--insecure", "--ca-file", str(cert))
    assert both.returncode == 3 and both.stdout.startswith("UNKNOWN") and "give one of" in both.stdout
    assert "Traceback" not in both.stdout + both.stderr
    bad_pin = fleet(served.port, "--cert-sha256", "abc")
    assert bad_pin.returncode == 3 and "64 hex digits" in bad_pin.stdout.splitlines()[0]


def test_nothing_listening_is_unreachable_not_a_failure() -> None:
    import socket

    from tests.conftest import free_port

    out = fleet(free_port(socket.SOCK_STREAM), "--insecure", "--json")
    assert out.returncode == 3
    data = json.loads(out.stdout)
    assert (data["reachable"], data["error"], data["readings"]) == (False, "unreachable", [])
