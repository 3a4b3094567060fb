"""REST: ``GET /api/v1/status``, state counts for a site subtree and each child, scoped like devices."""

from __future__ import annotations

from fastapi import APIRouter

from device_registry.api.deps import CurrentPrincipal, Session
from monitors.status_queries import home_site, readable_site, status_tree
from monitors.status_schemas import StatusPublic

router = APIRouter(prefix="/status", tags=["status"])


@router.get("", response_model=StatusPublic)
async def status(
    session: Session, principal: CurrentPrincipal, site: str | None = None, communes: bool = False
) -> StatusPublic:
    """Devices per state (active and maintenance devices; maintenance counts as its own state) in the
    site's subtree and in each child site. Without ``site``: the caller's scope, or the whole tree."""
    root = await readable_site(session, principal, site) if site else await home_site(session, principal)
    tree = await status_tree(session, principal, root, with_leaves=communes)
    return StatusPublic(
        **tree.root.public().model_dump(),
        children=[c.public() for c in tree.children],
        communes=[c.public() for c in tree.leaves] if communes else None,
    )
