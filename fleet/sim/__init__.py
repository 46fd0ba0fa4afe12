"""Simulated fleets and controllers, for `fleet demo` and the tests (loopback only)."""
