from __future__ import annotations

from fastapi import APIRouter, status

from device_registry.api.deps import CurrentPrincipal, Session
from device_registry.errors import NotFound
from device_registry.models import Site, SiteKind
from device_registry.queries.sites import SiteFilter, list_sites, site_views
from device_registry.schemas.bounds import Offset, RowId
from device_registry.schemas.common import Page
from device_registry.schemas.sites import SiteClose, SiteCreate, SitePublic, SiteUpdate
from device_registry.services import sites as service

router = APIRouter(prefix="/sites", tags=["sites"])


async def _get(session: Session, site_id: RowId) -> Site:
    site = await session.get(Site, site_id)
    if site is None:
        raise NotFound(f"no site with id {site_id}", field="site_id")
    return site


@router.get("", response_model=Page[SitePublic])
async def list_(
    session: Session,
    _: CurrentPrincipal,
    under: str | None = None,
    search: str | None = None,
    kind: SiteKind | None = None,
    include_closed: bool = False,
    limit: int = 100,
    offset: Offset = 0,
) -> Page[SitePublic]:
    flt = SiteFilter(under=under, search=search, kind=kind, include_closed=include_closed)
    return await list_sites(session, flt, min(max(limit, 1), 1000), max(offset, 0))


@router.post("", response_model=SitePublic, status_code=status.HTTP_201_CREATED)
async def create(data: SiteCreate, session: Session, principal: CurrentPrincipal) -> SitePublic:
    site = await service.create_site(session, principal, data)
    await session.commit()
    return (await site_views(session, [site]))[0]


@router.get("/{site_id}", response_model=SitePublic)
async def get(site_id: RowId, session: Session, _: CurrentPrincipal) -> SitePublic:
    return (await site_views(session, [await _get(session, site_id)]))[0]


@router.patch("/{site_id}", response_model=SitePublic)
async def update(
    site_id: RowId, data: SiteUpdate, session: Session, principal: CurrentPrincipal
) -> SitePublic:
    site = await service.update_site(session, principal, await _get(session, site_id), data)
    await session.commit()
    return (await site_views(session, [site]))[0]


@router.post("/{site_id}/close", response_model=SitePublic)
async def close(site_id: RowId, data: SiteClose, session: Session, principal: CurrentPrincipal) -> SitePublic:
    site = await _get(session, site_id)
    successor = (
        await service.resolve_site(session, data.successor_code, field="successor_code")
        if data.successor_code
        else None
    )
    await service.close_subtree(session, principal, site, data.valid_to, successor)
    await session.commit()
    return (await site_views(session, [site]))[0]
