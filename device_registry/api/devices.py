from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status

from device_registry.api.deps import CurrentPrincipal, Runtime, Session
from device_registry.errors import InvalidInput
from device_registry.models import DeviceKind, Lifecycle
from device_registry.queries.devices import DeviceFilter, device_views, filtered, list_devices, site_history
from device_registry.schemas.bounds import Offset, RowId
from device_registry.schemas.common import Page
from device_registry.schemas.devices import (
    DeviceCreate,
    DevicePublic,
    DeviceUpdate,
    OperState,
    SiteHistoryPublic,
)
from device_registry.services import devices as service
from device_registry.services.importer import detect_format, export_devices, import_devices

router = APIRouter(prefix="/devices", tags=["devices"])
IMPORT_PATH = "/api/v1/devices/import"
"""The one route allowed a body above the default limit (``ioc.body_limit``), once authenticated."""


@router.get("", response_model=Page[DevicePublic])
async def list_(
    session: Session,
    principal: CurrentPrincipal,
    rt: Runtime,
    site: str | None = None,
    kind: DeviceKind | None = None,
    lifecycle: Lifecycle | None = None,
    tag: str | None = None,
    vendor: str | None = None,
    search: str | None = None,
    state: Annotated[list[OperState] | None, Query(max_length=7, description="any of these states")] = None,
    limit: int = 50,
    offset: Offset = 0,
) -> Page[DevicePublic]:
    """Devices in your scope. ``attributes.snmp`` comes without ``interfaces`` (up to 2,048 per switch):
    ``GET /api/v1/devices/{id}`` and ``GET /api/v1/snmp/devices/{id}/interfaces`` carry them."""
    if state and rt.states is None:
        raise InvalidInput("state: device states are not available in this process", field="state")
    flt = DeviceFilter(
        site=site,
        kind=kind,
        lifecycle=lifecycle,
        tag=tag,
        vendor=vendor,
        search=search,
        state=rt.states.clause(state) if state and rt.states else None,
    )
    return await list_devices(session, principal, flt, min(max(limit, 1), 1000), max(offset, 0), rt.states)


@router.post("", response_model=DevicePublic, status_code=status.HTTP_201_CREATED)
async def create(
    data: DeviceCreate, session: Session, principal: CurrentPrincipal, rt: Runtime
) -> DevicePublic:
    (device,) = await service.create_devices(session, principal, rt.box, [data])
    await session.commit()
    return (await device_views(session, [device], rt.states))[0]


@router.post("/import")
async def import_(
    request: Request,
    session: Session,
    principal: CurrentPrincipal,
    dry_run: bool = False,
    format: Literal["csv", "yaml"] | None = None,
) -> dict[str, object]:
    """Body: the CSV or YAML file itself (``Content-Type: text/csv`` or ``application/yaml``).

    The role is checked before the body is read: only writers get the larger import limit's worth."""
    principal.require(*service.WRITERS, action="import devices")
    body = await request.body()
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(f"body: not UTF-8 at byte {error.start}", field="body") from None
    fmt = format or detect_format(None, request.headers.get("content-type"))
    result = await import_devices(session, principal, text, fmt, dry_run=dry_run)
    if dry_run:
        await session.rollback()
    else:
        await session.commit()
    return {**result.as_dict(), "created_names": result.created[:100], "updated_names": result.updated[:100]}


@router.get(
    "/export",
    response_class=Response,
    responses={
        200: {
            "description": "The devices in the caller's scope, in the import format",
            "content": {"text/csv": {"schema": {"type": "string"}}, "application/yaml": {"schema": {}}},
        }
    },
)
async def export(
    session: Session,
    principal: CurrentPrincipal,
    format: Literal["csv", "yaml"] = "csv",
    site: str | None = None,
) -> Response:
    query = await filtered(session, principal, DeviceFilter(site=site))
    devices = list((await session.scalars(query)).all())
    body = await export_devices(session, principal, devices, format)
    media = "text/csv" if format == "csv" else "application/yaml"
    return Response(body, media_type=f"{media}; charset=utf-8")


@router.get("/{device_id}", response_model=DevicePublic)
async def get(device_id: RowId, session: Session, principal: CurrentPrincipal, rt: Runtime) -> DevicePublic:
    device = await service.get_device(session, principal, device_id)
    return (await device_views(session, [device], rt.states))[0]


@router.get("/{device_id}/history", response_model=list[SiteHistoryPublic])
async def history(device_id: RowId, session: Session, principal: CurrentPrincipal) -> list[SiteHistoryPublic]:
    await service.get_device(session, principal, device_id)
    return await site_history(session, device_id)


@router.patch("/{device_id}", response_model=DevicePublic)
async def update(
    device_id: RowId, data: DeviceUpdate, session: Session, principal: CurrentPrincipal, rt: Runtime
) -> DevicePublic:
    device = await service.update_device(session, principal, rt.box, device_id, data)
    await session.commit()
    return (await device_views(session, [device], rt.states))[0]


@router.delete("/{device_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete(device_id: RowId, session: Session, principal: CurrentPrincipal) -> Response:
    await service.delete_device(session, principal, device_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
