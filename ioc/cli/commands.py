"""Every top-level command: its one-line help and the modules that register it.

``ioc --help`` is printed from this table alone, and ``ioc NAME …`` imports only NAME's modules, so a
command never pays for another's dependencies (zeep, pysnmp, aiohttp, alembic, fastapi…).
``tests/unit/test_cli_imports.py`` checks the table against the commands the modules really register.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Entry:
    help: str
    modules: tuple[str, ...]


_PROTOCOLS = ("ioc.cli.snmp", "ioc.cli.onvif", "ioc.cli.mqtt")

COMMANDS: dict[str, Entry] = {
    "init": Entry(
        "Create IOC_HOME, the secret key and the database; print the first admin token once.",
        ("ioc.cli.admin",),
    ),
    "migrate": Entry(
        "Apply database migrations (``ioc init`` does this too), then seal secrets stored in clear by "
        "earlier versions (alert channel URLs), which needs the secret key.",
        ("ioc.cli.admin",),
    ),
    "serve": Entry(
        "Run every configured service in one process (or ``--only NAME`` to scale one out).",
        ("ioc.cli.admin",),
    ),
    "status": Entry(
        "Devices per state in the site's subtree, for each child and the communes under them.",
        ("ioc.cli.status",),
    ),
    "check": Entry(
        "Run the device's checks now (the ones the monitors run for it) and print each result.",
        ("ioc.cli.status",),
    ),
    "alerts": Entry("Alerts: list, acknowledge, resolve; teams, channels, routes.", ("ioc.cli.alerts",)),
    "demo": Entry(
        "A living Thái Bình fleet on real Mosquitto, InfluxDB and a local mailbox.", ("ioc.cli.demo",)
    ),
    "devices": Entry("Devices: cameras, switches, routers, sensors…", ("ioc.cli.devices",)),
    "grafana": Entry(
        "Grafana: dashboards as provisioning files (export) or through the API (push).", ("ioc.cli.grafana",)
    ),
    "sla": Entry("Uptime (SLA) over a period, excluding maintenance.", ("ioc.cli.monitors",)),
    "maintenance": Entry(
        "Maintenance windows: checks run, alerts stay quiet, SLA excludes them.", ("ioc.cli.monitors",)
    ),
    "probe": Entry("Read a device's identity and capabilities without saving anything.", _PROTOCOLS),
    "discover": Entry("Find devices on a network segment.", _PROTOCOLS),
    "onboard": Entry("Probe a device, then save it in the registry.", _PROTOCOLS),
    "telemetry": Entry(
        "The durable telemetry writer: spool, delivery counters, quarantine.",
        ("ioc.cli.telemetry", "ioc.cli.mqtt"),
    ),
    "mqtt": Entry("The MQTT broker: generated config, credentials, revocation.", ("ioc.cli.mqtt",)),
    "deadletters": Entry("Payloads the ingest refused, with the reason.", ("ioc.cli.mqtt",)),
    "sites": Entry("Sites: provinces, districts, communes, buildings.", ("ioc.cli.sites",)),
    "outages": Entry("Outages: root failures with the devices cut off behind them.", ("ioc.cli.status",)),
    "users": Entry("Users, roles, scopes and API tokens.", ("ioc.cli.users",)),
    "credentials": Entry("Stored device credentials (write-only secrets).", ("ioc.cli.users",)),
    "audit": Entry("The audit log.", ("ioc.cli.users",)),
}

MODULES: tuple[str, ...] = tuple(dict.fromkeys(m for entry in COMMANDS.values() for m in entry.modules))
