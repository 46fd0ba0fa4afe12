"""A self-signed certificate for a simulated BMC on loopback, as real BMCs ship them: the demo pins its fingerprint
in the server records, the way a site pins each BMC's certificate."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from pathlib import Path


def self_signed(
    folder: Path, host: str = "127.0.0.1", *, valid: tuple[dt.datetime, dt.datetime] | None = None
) -> tuple[Path, Path, str]:
    """(certificate file, key file, SHA-256 fingerprint as 64 hex digits). The key file is owner-only. `valid`: the
    (not before, not after) dates, for a certificate that has expired or is not valid yet; default from yesterday
    for 30 days."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    start, end = valid or (now - dt.timedelta(days=1), now + dt.timedelta(days=30))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "bmc-cert.pem", folder / "bmc-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))  # fmt: skip
    return cert_path, key_path, cert.fingerprint(hashes.SHA256()).hex()
