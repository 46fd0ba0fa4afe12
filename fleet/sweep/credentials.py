"""From a server record to a collector target: the credential reference is resolved here, at the edge, just before
a poll, and the secret lives only in the target object (which never prints it)."""

from __future__ import annotations

from fleet.collectors.targets import IpmiTarget, RedfishTarget, SnmpTarget
from fleet.errors import SecretError
from fleet.store.models import Server
from fleet.sweep.secrets import resolve, resolve_field


def target_for(server: Server) -> IpmiTarget | SnmpTarget | RedfishTarget:
    """Raises SecretError when the reference is missing or cannot be resolved."""
    ref = server.credential_ref
    if not ref:
        raise SecretError(f"{server.hostname}: no credential reference")
    if server.controller_protocol == "ipmi":
        user = server.controller_user or resolve_field(ref, "user") or "admin"
        return IpmiTarget(
            host=server.controller_host, port=server.controller_port, user=user, password=resolve(ref, "password")
        )
    if server.controller_protocol == "snmp":
        v3_user = resolve_field(ref, "v3_user")
        if v3_user:
            return SnmpTarget(
                host=server.controller_host,
                port=server.controller_port,
                v3_user=v3_user,
                v3_auth_key=resolve(ref, "auth_key"),
                v3_priv_key=resolve(ref, "priv_key"),
                v3_auth_protocol=resolve_field(ref, "auth_protocol") or "sha256",
                v3_priv_protocol=resolve_field(ref, "priv_protocol") or "aes128",
            )
        return SnmpTarget(host=server.controller_host, port=server.controller_port, community=resolve(ref, "community"))
    if server.controller_protocol == "redfish":
        return RedfishTarget(
            host=server.controller_host,
            port=server.controller_port,
            user=server.controller_user or resolve_field(ref, "user") or "admin",
            password=resolve(ref, "password"),
            verify=server.controller_tls_verify,
            ca_file=server.controller_ca_file,
            cert_sha256=server.controller_cert_sha256,
        )
    raise SecretError(f"{server.hostname}: controller protocol {server.controller_protocol!r} is not polled")
