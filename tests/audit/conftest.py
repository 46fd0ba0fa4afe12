"""The audit tests' benches: the shared lab's ipmi_sim configurations (one weakness each, started by
tests/audit/ipmilab.py) and the SNMP simulator of tests/snmp, for the default-community probe."""

from __future__ import annotations

from tests.audit.ipmilab import running as lab_sims  # noqa: F401 - one starter of the lab's simulators
from tests.snmp.conftest import snmpsim  # noqa: F401 - fixture used by the audit tests
