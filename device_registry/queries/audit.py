from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.models import AuditEntry
from device_registry.schemas.common import Page
from device_registry.schemas.users import AuditPublic


@dataclass(frozen=True, slots=True)
class AuditFilter:
    object_type: str | None = None
    object_id: int | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None


async def list_audit(
    session: AsyncSession, flt: AuditFilter, limit: int = 50, offset: int = 0
) -> Page[AuditPublic]:
    query = select(AuditEntry)
    if flt.object_type:
        query = query.where(AuditEntry.object_type == flt.object_type)
    if flt.object_id is not None:
        query = query.where(AuditEntry.object_id == flt.object_id)
    if flt.actor:
        query = query.where(AuditEntry.actor == flt.actor)
    if flt.action:
        query = query.where(AuditEntry.action == flt.action)
    if flt.since:
        query = query.where(AuditEntry.at >= flt.since)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = (await session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset))).all()
    return Page(items=[AuditPublic.model_validate(r) for r in rows], total=total, limit=limit, offset=offset)
