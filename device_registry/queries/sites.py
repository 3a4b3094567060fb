from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry import site_paths
from device_registry.models import Site, SiteKind, SiteSuccession
from device_registry.schemas.common import Page
from device_registry.schemas.sites import SitePublic
from device_registry.services.sites import resolve_site
from device_registry.text import like_pattern


@dataclass(frozen=True, slots=True)
class SiteFilter:
    under: str | None = None
    search: str | None = None
    kind: SiteKind | None = None
    include_closed: bool = False


async def site_views(session: AsyncSession, sites: Sequence[Site]) -> list[SitePublic]:
    ancestor_ids = {i for s in sites for i in site_paths.decode(s.path)}
    names = (
        dict((await session.execute(select(Site.id, Site.name).where(Site.id.in_(ancestor_ids)))).all())
        if ancestor_ids
        else {}
    )
    ids = [s.id for s in sites]
    successors: dict[int, list[str]] = {}
    if ids:
        rows = await session.execute(
            select(SiteSuccession.predecessor_id, Site.code)
            .join(Site, Site.id == SiteSuccession.successor_id)
            .where(SiteSuccession.predecessor_id.in_(ids))
            .order_by(SiteSuccession.is_primary.desc(), Site.code)
        )
        for predecessor_id, code in rows.all():
            successors.setdefault(predecessor_id, []).append(code)
    views = []
    for site in sites:
        view = SitePublic.model_validate(site)
        view.path_names = [names[i] for i in site_paths.decode(site.path) if i in names]
        view.successor_codes = successors.get(site.id, [])
        views.append(view)
    return views


async def list_sites(
    session: AsyncSession, flt: SiteFilter, limit: int = 100, offset: int = 0
) -> Page[SitePublic]:
    query = select(Site)
    if flt.under:
        root = await resolve_site(session, flt.under, field="under")
        query = query.where(site_paths.subtree(Site.path, root.path), Site.id != root.id)
    if flt.search:
        pattern = like_pattern(flt.search)
        query = query.where(or_(Site.name_folded.like(pattern, escape="\\"), Site.code == flt.search.strip()))
    if flt.kind:
        query = query.where(Site.kind == flt.kind)
    if not flt.include_closed:
        query = query.where(Site.valid_to.is_(None))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = (await session.scalars(query.order_by(Site.path).limit(limit).offset(offset))).all()
    return Page(items=await site_views(session, rows), total=total, limit=limit, offset=offset)
