"""REST: SLA over a site subtree, and maintenance windows. Mounted by the app factory under /api/v1.

Follows the registry's API patterns: its session and principal dependencies, its domain errors (so
the same handlers map them to 403/404/422 with the field named), scope checks on the site subtree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from device_registry.api.deps import CurrentPrincipal, Session
from device_registry.authz import Principal
from device_registry.errors import Forbidden, InvalidInput, NotFound
from device_registry.models import Device, Role, Site
from device_registry.schemas.bounds import RowId
from device_registry.schemas.common import PlainText
from device_registry.services.devices import get_device
from device_registry.services.sites import resolve_site
from monitors.maintenance import DEFAULT_TIMEZONE, MAX_DURATION_S, MaintenanceError, MaintenanceWindow
from monitors.maintenance_store import add_window, delete_window, list_windows, visible_to
from monitors.models import MaintenanceWindowRow
from monitors.sla_query import MAX_PERIOD, site_sla

WINDOW_WRITERS = (Role.ENGINEER, Role.MAINTENANCE)

router = APIRouter(tags=["monitors"])


class SlaRow(BaseModel):
    scope: str
    name: str
    devices: int
    period_s: float
    maintenance_s: float
    monitored_s: float
    down_s: float
    uptime_pct: float | None


class SlaPublic(BaseModel):
    site: str
    from_: datetime = Field(serialization_alias="from")
    to: datetime
    groups: list[SlaRow]
    devices: list[SlaRow]


class WindowCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)

    reason: PlainText = Field(min_length=1, max_length=2000)
    owner: PlainText = Field(min_length=1, max_length=200)
    device_id: RowId | None = None
    site_code: str | None = Field(default=None, max_length=64)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    cron: str | None = Field(default=None, max_length=120)
    duration_s: float | None = Field(default=None, gt=0, le=MAX_DURATION_S)
    timezone: str = Field(default=DEFAULT_TIMEZONE, min_length=1, max_length=64)


class WindowPublic(BaseModel):
    id: int
    reason: str
    owner: str
    device_id: int | None
    site_id: int | None
    starts_at: datetime | None
    ends_at: datetime | None
    cron: str | None
    duration_s: float | None
    timezone: str


def _aware(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidInput(f"{field}: include a UTC offset (e.g. 2026-03-01T00:00:00+07:00)", field=field)
    return value.astimezone(UTC)


def _public(window: MaintenanceWindow) -> WindowPublic:
    assert window.id is not None
    return WindowPublic(**window.values())


async def _site_in_scope(session: Session, principal: Principal, ref: str | int, field: str) -> Site:
    site = await resolve_site(session, ref, field=field)
    if not principal.site_in_scope(site):
        raise Forbidden(f"{field}: site {site.code} is outside your scope")
    return site


@router.get("/sla", response_model=SlaPublic, response_model_by_alias=True)
async def sla(
    session: Session,
    principal: CurrentPrincipal,
    site: str,
    from_: Annotated[datetime, Query(alias="from")],
    to: datetime,
    exclude_unreachable: bool = False,
) -> SlaPublic:
    """Uptime % per device, for the site subtree and per device kind; maintenance excluded."""
    start, end = _aware(from_, "from"), _aware(to, "to")
    if end <= start:
        raise InvalidInput("to: must be after from", field="to")
    if end - start > MAX_PERIOD:
        raise InvalidInput(f"to: the period may span at most {MAX_PERIOD.days} days", field="to")
    root = await _site_in_scope(session, principal, site, "site")
    report = await site_sla(
        session, root.id, start, end, now=datetime.now(UTC), count_unreachable=not exclude_unreachable
    )

    def rows(scope: str, items: list[Any]) -> list[SlaRow]:
        return [SlaRow(scope=scope, **item.as_row()) for item in items]

    return SlaPublic(
        site=root.code,
        from_=start,
        to=end,
        groups=rows("group", report.groups),
        devices=rows("device", report.devices),
    )


@router.get("/maintenance-windows", response_model=list[WindowPublic])
async def list_(session: Session, principal: CurrentPrincipal) -> list[WindowPublic]:
    """The windows covering the caller's scope (all of them for admins and unscoped users)."""
    return [_public(w) for w in await list_windows(session, principal)]


@router.post("/maintenance-windows", response_model=WindowPublic, status_code=status.HTTP_201_CREATED)
async def create(data: WindowCreate, session: Session, principal: CurrentPrincipal) -> WindowPublic:
    principal.require(*WINDOW_WRITERS, action="plan maintenance")
    if (data.device_id is None) == (data.site_code is None):
        raise InvalidInput("device_id/site_code: give exactly one", field="device_id")
    site_id = None
    if data.site_code is not None:
        site_id = (await _site_in_scope(session, principal, data.site_code, "site_code")).id
    else:
        assert data.device_id is not None
        device = await get_device(session, principal, data.device_id)  # invisible: 404, like unknown
        await _site_in_scope(session, principal, device.site_id, "device_id")
    try:
        window = MaintenanceWindow(**data.model_dump(exclude={"site_code"}), site_id=site_id)
    except MaintenanceError as error:
        field = str(error).split(":", 1)[0].split("/", 1)[0]
        raise InvalidInput(str(error), field=field) from None
    stored = await add_window(session, principal, window)
    await session.commit()
    return _public(stored)


@router.delete("/maintenance-windows/{window_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(window_id: RowId, session: Session, principal: CurrentPrincipal) -> None:
    principal.require(*WINDOW_WRITERS, action="plan maintenance")
    row = await session.scalar(
        select(MaintenanceWindowRow).where(MaintenanceWindowRow.id == window_id, visible_to(principal))
    )
    if row is None:  # absent, or another scope's: the same answer
        raise NotFound(f"no maintenance window {window_id}", field="window_id")
    scope: int | None = row.site_id
    if scope is None and row.device_id is not None:
        device = await session.get(Device, row.device_id)
        scope = device.site_id if device else None
    if scope is not None:
        await _site_in_scope(session, principal, scope, "window_id")
    await delete_window(session, principal, window_id)
    await session.commit()


def monitors_router() -> APIRouter:
    from monitors import outages_api, status_api

    outer = APIRouter(prefix="/api/v1")
    outer.include_router(router)
    outer.include_router(status_api.router)
    outer.include_router(outages_api.router)
    return outer
