"""Every sub-command module, imported once so it registers itself on the root app."""

from __future__ import annotations

from ioc.cli import admin, alerts, devices, monitors, sites, telemetry, users  # noqa: F401
