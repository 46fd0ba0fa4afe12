"""The servers CSV: `controller_protocol = redfish` with its TLS columns, imported, checked and exported back."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlmodel import select

from fleet.errors import InputError
from fleet.exchange.csv import export_csv, import_csv
from fleet.store.db import read_session
from fleet.store.models import Server
from tests.factories import make_fleet

HEADER = ("hostname,asset_tag,serial,model,site,rack,unit,controller_host,controller_protocol,credential_ref,"
          "controller_tls_verify,controller_ca_file,controller_cert_sha256\n")  # fmt: skip
PIN = "AB:" * 31 + "CD"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_redfish_servers_import_with_their_tls_settings_and_export_back(engine, tmp_path: Path) -> None:
    make_fleet(engine, servers=1)
    csv = tmp_path / "servers.csv"
    pinned_row = f"rf1.par1,AT-RF1,SN-RF1,PowerEdge R640,PAR1,R01,10,127.0.0.5,redfish,env:BMC_PW,,,{PIN}\n"
    insecure_row = "rf2.par1,AT-RF2,SN-RF2,PowerEdge R640,PAR1,R01,12,127.0.0.6,redfish,env:BMC_PW,no,,\n"
    csv.write_text(HEADER + pinned_row + insecure_row)
    assert import_csv(engine, "servers", csv).created == 2
    with read_session(engine) as s:
        rows = {x.hostname: x for x in s.exec(select(Server))}
    pinned, insecure = rows["rf1.par1"], rows["rf2.par1"]
    assert (pinned.controller_protocol, pinned.controller_port) == ("redfish", 443)  # the Redfish default port
    assert pinned.controller_cert_sha256 == PIN.replace(":", "").lower() and pinned.controller_tls_verify
    assert insecure.controller_tls_verify is False and insecure.controller_cert_sha256 is None
    out = io.StringIO()
    export_csv(engine, "servers", out)
    text = out.getvalue()
    assert "controller_cert_sha256" in text.splitlines()[0] and PIN.replace(":", "").lower() in text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_malformed_fingerprint_is_refused_with_its_line(engine, tmp_path: Path) -> None:
    make_fleet(engine, servers=1)
    csv = tmp_path / "servers.csv"
    csv.write_text(HEADER + "rf3.par1,AT-RF3,SN-RF3,PowerEdge R640,PAR1,R01,14,127.0.0.7,redfish,env:X,,,abc\n")
    with pytest.raises(InputError, match=r"servers.csv:2: controller_cert_sha256 must be a SHA-256"):
        import_csv(engine, "servers", csv)
