"""REST: the dead letters, newest first, limited to the devices the caller may see."""

from __future__ import annotations

from fastapi import APIRouter, Query
from sqlalchemy import select

from device_registry.api.deps import CurrentPrincipal, Runtime, Session
from device_registry.models import Device
from telemetry.ingest.deadletters import DeadLetterView, list_dead_letters
from telemetry.ingest.records import RejectReason

router = APIRouter(tags=["mqtt"])


@router.get("/deadletters")
async def dead_letters(
    session: Session,
    principal: CurrentPrincipal,
    rt: Runtime,
    device_id: int | None = None,
    reason: RejectReason | None = None,
    limit: int = Query(100, ge=1, le=1000),
    before_id: int | None = Query(None, description="Page back: ids below this one."),
) -> list[DeadLetterView]:
    """Unscoped users see every dead letter (unknown devices included); scoped users only those of
    devices in their sites."""
    visible = None
    if not principal.unscoped:
        visible = set((await session.scalars(select(Device.id).where(principal.device_clause()))).all())
    return await list_dead_letters(
        rt.sessions, device_id=device_id, reason=reason, limit=limit, before_id=before_id, device_ids=visible
    )
