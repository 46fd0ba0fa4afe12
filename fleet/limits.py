"""Bounds that the settings, the command line and the collectors share (a module of no imports: the collectors load
without the settings, and the settings without the collectors)."""

# Polls in flight at once in one process, the most `--concurrency` (and `sweep_concurrency`) may ask: the IPMI
# engine's sessions share pyghmi's sockets, 64 to a socket, and each poll of any protocol holds a socket or two.
MAX_CONCURRENCY = 1024

# An IPMI poll whose BMC has sent nothing for this long gives its concurrency slot up and goes on knocking beside
# the others (fleet.collectors.ipmi.engine, "Slots"); the command line's help says so.
KNOCK_AFTER_S = 1.5
