"""A private Icinga 2 instance for the tests: own config, own state in a temp dir, API on 127.0.0.1 only.

No systemd and nothing written to /etc or /var: every path constant is pointed into the temp dir, the daemon runs
as the current user, and its TLS certificates (the API needs them) are made here with a throwaway CA.
"""

from __future__ import annotations

import base64
import datetime as dt
import grp
import json
import os
import pwd
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

NODE = "fleet-test-node"


def icinga2_binary() -> str | None:
    return shutil.which("icinga2")


def _cert(subject: str, key: rsa.RSAPrivateKey, issuer: x509.Name, signer: rsa.RSAPrivateKey, ca: bool) -> bytes:
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def write_certs(certs: Path) -> Path:
    """CA and node certificate where the ApiListener looks (DataDir/certs); returns the CA file."""
    certs.mkdir(parents=True)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fleet test CA")])
    (certs / "ca.crt").write_bytes(_cert("fleet test CA", ca_key, ca_name, ca_key, ca=True))
    node_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (certs / f"{NODE}.crt").write_bytes(_cert(NODE, node_key, ca_name, ca_key, ca=False))
    (certs / f"{NODE}.key").write_bytes(_key_pem(node_key))
    (certs / f"{NODE}.key").chmod(0o600)
    return certs / "ca.crt"


def base_config(api_port: int, api_password: str) -> str:
    return f"""
const NodeName = "{NODE}"
const ZoneName = "{NODE}"
include <itl>
object Endpoint NodeName {{ }}
object Zone ZoneName {{ endpoints = [ NodeName ] }}
object ApiListener "api" {{
  bind_host = "127.0.0.1"
  bind_port = {api_port}
  accept_config = false
  accept_commands = false
}}
object ApiUser "fleet-test" {{
  password = "{api_password}"
  permissions = [ "*" ]
}}
object CheckerComponent "checker" {{ }}
"""


@dataclass
class Icinga:
    root: Path
    api_port: int
    api_password: str
    ca_file: Path
    process: subprocess.Popen[bytes] | None = None

    def _ssl(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.ca_file))
        ctx.check_hostname = False  # the node certificate names the node, not 127.0.0.1; the CA is still checked
        return ctx

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        token = base64.b64encode(f"fleet-test:{self.api_password}".encode()).decode()
        request = urllib.request.Request(
            f"https://127.0.0.1:{self.api_port}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Accept": "application/json",
                "Content-Type": "application/json",
                "Authorization": f"Basic {token}",
            },
        )
        with urllib.request.urlopen(request, context=self._ssl(), timeout=30) as response:
            return json.load(response)

    def start(self, config: str, env: dict[str, str]) -> None:
        conf = self.root / "icinga2.conf"
        conf.write_text(config)
        user, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
        dirs = {"DataDir": "lib", "LogDir": "log", "CacheDir": "cache", "SpoolDir": "spool", "InitRunDir": "run"}
        defines = [f"-D{k}={self.root / v}" for k, v in dirs.items()]
        defines += [f"-DConfigDir={self.root}", f"-DRunAsUser={user}", f"-DRunAsGroup={group}"]
        for d in dirs.values():
            (self.root / d).mkdir(exist_ok=True)
        log = open(self.root / "daemon.log", "wb")  # noqa: SIM115 - closed when the process is stopped
        binary = icinga2_binary()
        assert binary is not None
        self.process = subprocess.Popen(
            [binary, "daemon", "-c", str(conf), *defines],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # its own process group: stopped as a whole, checks included
            # checks inherit the daemon's environment
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **env},
        )
        self._wait_for_api(deadline=time.monotonic() + 90)

    def _wait_for_api(self, deadline: float) -> None:
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"icinga2 exited with {self.process.returncode}: {self.log_tail()}")
            try:
                self.api("GET", "/v1/status/IcingaApplication")
                return
            except (urllib.error.URLError, ConnectionError, ssl.SSLError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the Icinga API did not answer within 90 s: {self.log_tail()}") from None
                time.sleep(0.2)

    def log_tail(self) -> str:
        path = self.root / "daemon.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def check_now(self, host: str) -> None:
        """Run every check of `host` at once instead of at the random offsets Icinga spreads first checks over."""
        flt = f'host.name=="{host}"'
        self.api("POST", "/v1/actions/reschedule-check", {"type": "Service", "filter": flt, "force": True})

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            # Its state and logs are thrown away with the temp dir: a daemon still busy after a short grace (a check
            # in flight while the machine is loaded) is killed rather than waited for.
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def check_results(self, host: str) -> dict[str, dict[str, Any]]:
        """service name -> last_check_result (only services that have one)."""
        data = self.api("GET", f"/v1/objects/services?filter=host.name==%22{host}%22&attrs=last_check_result")
        out = {}
        for item in data["results"]:
            result = item["attrs"]["last_check_result"]
            if result:
                out[item["name"].split("!", 1)[1]] = result
        return out

    def parsed_perfdata(self, host: str, service: str) -> list[dict[str, Any]]:
        """Icinga's own parse of a service's performance data (parse_performance_data in its console)."""
        script = (
            f'var r = []; for (p in get_service("{host}", "{service}").last_check_result.performance_data) '
            "{ r.add(parse_performance_data(p)) }; r"
        )
        data = self.api("POST", "/v1/console/execute-script", {"command": script})
        (result,) = data["results"]
        assert result["code"] == 200, result
        return list(result["result"])
