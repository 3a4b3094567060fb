"""Liveness for load balancers and operators: the database answers, and (under ``ioc serve``) the
state of each service the process supervises.

Unauthenticated, so an error's text (which may name hosts) is shown to admins only; everyone else
sees its type.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy import text

from device_registry.api.deps import Session
from device_registry.models import Role
from device_registry.schemas.health import ServiceHealth, ServiceReport, ServiceStatus
from device_registry.services.users import authenticate

router = APIRouter(tags=["health"])

_optional_bearer = HTTPBearer(auto_error=False)


class HealthPublic(BaseModel):
    status: str
    database: str
    services: list[ServiceHealth] = []


@router.get("/health", response_model=HealthPublic)
async def health(
    request: Request,
    session: Session,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_optional_bearer)],
) -> HealthPublic:
    """Unauthenticated liveness: the API answers, the database answers, and each service's state."""
    await session.execute(text("SELECT 1"))
    report: ServiceReport | None = getattr(request.app.state, "service_report", None)
    services = report() if report else []
    if any(s.last_error for s in services):
        caller = await authenticate(session, credentials.credentials) if credentials else None
        await session.commit()
        if caller is None or caller.role != Role.ADMIN:
            services = [s.model_copy(update={"last_error": None}) for s in services]
    degraded = any(s.status == ServiceStatus.RESTARTING for s in services)
    return HealthPublic(status="degraded" if degraded else "ok", database="ok", services=services)
