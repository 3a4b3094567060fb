"""REST: ``GET /api/v1/status``, state counts for a site subtree and each child, scoped like devices."""

from __future__ import annotations

from fastapi import APIRouter

from device_registry.api.deps import CurrentPrincipal, Session
from monitors.status_queries import status_view
from monitors.status_schemas import StatusPublic

router = APIRouter(prefix="/status", tags=["status"])


@router.get("", response_model=StatusPublic)
async def status(
    session: Session, principal: CurrentPrincipal, site: str | None = None, communes: bool = False
) -> StatusPublic:
    """Devices per state (active and maintenance devices; maintenance counts as its own state) in the
    site's subtree and in each child site. Without ``site``: the caller's scope, or the whole tree."""
    return await status_view(session, principal, site, communes=communes)
