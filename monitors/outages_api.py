"""REST: ``GET /api/v1/outages``, root outages with the devices cut off behind them, scoped like devices."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from device_registry.api.deps import CurrentPrincipal, Session
from device_registry.errors import InvalidInput
from monitors.api import _aware
from monitors.status_queries import readable_site, root_outages
from monitors.status_schemas import OutagePublic

router = APIRouter(prefix="/outages", tags=["outages"])


@router.get("", response_model=list[OutagePublic])
async def list_(
    session: Session,
    principal: CurrentPrincipal,
    open: bool = False,
    site: str | None = None,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[OutagePublic]:
    """Newest first. ``open=true``: only those still going on; ``from``/``to``: overlapping that period."""
    start = _aware(from_, "from") if from_ is not None else None
    end = _aware(to, "to") if to is not None else None
    if start is not None and end is not None and end <= start:
        raise InvalidInput("to: must be after from", field="to")
    root = await readable_site(session, principal, site) if site else None
    return await root_outages(
        session,
        principal,
        open_only=open,
        root=root,
        start=start,
        end=end,
        limit=limit,
        now=datetime.now(UTC),
    )
