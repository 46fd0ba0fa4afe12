"""Simulated devices for demos and tests (loopback only)."""
