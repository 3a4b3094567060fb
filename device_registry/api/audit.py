from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from device_registry.api.deps import CurrentPrincipal, Session
from device_registry.queries.audit import AuditFilter, list_audit
from device_registry.schemas.bounds import Offset, RowId
from device_registry.schemas.common import Page
from device_registry.schemas.users import AuditPublic

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get("", response_model=Page[AuditPublic])
async def list_(
    session: Session,
    principal: CurrentPrincipal,
    object_type: str | None = None,
    object_id: RowId | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    offset: Offset = 0,
) -> Page[AuditPublic]:
    """Admins only: entries name devices and users outside any one scope."""
    principal.require_admin("read the audit log")
    flt = AuditFilter(object_type=object_type, object_id=object_id, actor=actor, action=action, since=since)
    return await list_audit(session, flt, min(max(limit, 1), 1000), max(offset, 0))
