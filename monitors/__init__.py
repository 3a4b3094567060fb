"""Scheduled checks, outage state machine, topology, maintenance windows and alerting."""
