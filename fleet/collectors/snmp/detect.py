"""Which profile fits a host: sysObjectID first, then which vendor subtrees answer.

One GETNEXT carries sysDescr, sysObjectID and a probe per vendor root, so detection costs one round trip. Probes
matter because several controllers (IBM IMM, Supermicro, hosts running OMSA or LSI agents) identify themselves as a
plain net-snmp Linux box.
"""

from __future__ import annotations

from typing import Any

from fleet.collectors.snmp.decode import as_text, oid
from fleet.collectors.snmp.engine import Oid, is_end

SYS_DESCR = oid("1.3.6.1.2.1.1.1")
SYS_OBJECT_ID = oid("1.3.6.1.2.1.1.2")

# (profile, sysObjectID prefix)
BY_OBJECT_ID: tuple[tuple[str, Oid], ...] = (
    ("dell-idrac", oid("1.3.6.1.4.1.674.10892.5")),
    ("dell-idrac", oid("1.3.6.1.4.1.674.10892.2")),
    ("hpe", oid("1.3.6.1.4.1.232")),
    ("lenovo-xcc", oid("1.3.6.1.4.1.19046")),
    ("ibm-imm", oid("1.3.6.1.4.1.2.3.51.3")),
    ("fujitsu-irmc", oid("1.3.6.1.4.1.231")),
    ("supermicro", oid("1.3.6.1.4.1.21317")),
    ("supermicro", oid("1.3.6.1.4.1.10876")),
    ("apc-ups", oid("1.3.6.1.4.1.318")),
)
# (profile, a subtree only that vendor's agent serves), in order of preference.
PROBES: tuple[tuple[str, Oid], ...] = (
    ("ibm-imm", oid("1.3.6.1.4.1.2.3.51.3.1")),
    ("lenovo-xcc", oid("1.3.6.1.4.1.19046.11.1.1")),
    ("dell-idrac", oid("1.3.6.1.4.1.674.10892.5.4")),
    ("dell-omsa", oid("1.3.6.1.4.1.674.10892.1")),
    ("hpe", oid("1.3.6.1.4.1.232.6")),
    ("cisco-cimc", oid("1.3.6.1.4.1.9.9.719.1")),
    ("fujitsu-irmc", oid("1.3.6.1.4.1.231.2.10.2.2.10")),
    ("supermicro", oid("1.3.6.1.4.1.21317.1.3")),
    ("apc-ups", oid("1.3.6.1.4.1.318.1.1.1")),
)
GENERIC = "linux"


def probe_oids() -> list[Oid]:
    return [SYS_DESCR, SYS_OBJECT_ID, *(root for _name, root in PROBES)]


def choose(answers: list[tuple[Oid, Any]]) -> tuple[str, str]:
    """(profile name, sysDescr) from the GETNEXT answers to probe_oids(), in the same order."""
    asked = probe_oids()
    # GETNEXT answers endOfMibView with the asked OID itself as the name: that is "absent", not a hit.
    got: dict[Oid, tuple[Oid, Any]] = {
        asked[i]: answers[i] for i in range(min(len(asked), len(answers))) if not is_end(answers[i][1])
    }
    descr = ""
    if SYS_DESCR in got and got[SYS_DESCR][0][: len(SYS_DESCR)] == SYS_DESCR:
        descr = as_text(got[SYS_DESCR][1])
    object_id: Oid = ()
    if SYS_OBJECT_ID in got and got[SYS_OBJECT_ID][0][: len(SYS_OBJECT_ID)] == SYS_OBJECT_ID:
        value = got[SYS_OBJECT_ID][1]
        object_id = tuple(value.asTuple()) if hasattr(value, "asTuple") else ()
    for name, prefix in BY_OBJECT_ID:
        if object_id[: len(prefix)] == prefix:
            return name, descr
    for name, root in PROBES:
        if root in got and got[root][0][: len(root)] == root:
            return name, descr
    return GENERIC, descr
