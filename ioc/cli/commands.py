"""Every sub-command module, imported once so it registers itself on the root app."""

from __future__ import annotations

from ioc.cli import (  # noqa: F401
    admin,
    alerts,
    demo,
    devices,
    grafana,
    monitors,
    mqtt,
    onvif,
    probe_groups,
    sites,
    snmp,
    status,
    telemetry,
    users,
)
