"""The state of each service ``ioc serve`` supervises, as ``/api/v1/health`` reports it.

Apart from the route so the serving process's supervisor can use it without importing the web stack
(an ingest process has no API).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from pydantic import BaseModel


class ServiceStatus(StrEnum):
    STARTING = "starting"
    RUNNING = "running"
    RESTARTING = "restarting"
    STOPPED = "stopped"


class ServiceHealth(BaseModel):
    name: str
    status: ServiceStatus
    restarts: int
    last_error: str | None = None
    """Admins only; others get ``None`` and the type in ``last_error_type``."""
    last_error_type: str | None = None
    next_restart_in_s: float | None = None


ServiceReport = Callable[[], list[ServiceHealth]]
"""What ``ioc serve`` puts on ``app.state.service_report``."""
