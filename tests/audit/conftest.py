"""The SNMP simulator of tests/snmp, for the default-community probe."""

from tests.snmp.conftest import snmpsim  # noqa: F401 - fixture used by the audit tests
