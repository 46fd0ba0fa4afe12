"""fleet: hardware fleet and spare-parts tracker for a hosting provider's datacenters."""

__version__ = "0.1.0"
