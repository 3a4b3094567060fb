"""The IOC dashboards, built with grafana-foundation-sdk; one module per dashboard."""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import Dashboard

from grafana.dashboards import availability, device, fleet, platform
from grafana.dashboards.common import FOLDER_TITLE, FOLDER_UID

__all__ = ["FOLDER_TITLE", "FOLDER_UID", "all_dashboards"]


def all_dashboards() -> list[Dashboard]:
    return [module.build().build() for module in (fleet, device, availability, platform)]
