"""Site tree writes: create, update, close (re-organisation), re-parent; and code resolution."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry import site_paths
from device_registry.authz import Principal
from device_registry.errors import Conflict, InvalidInput, NotFound
from device_registry.models import Device, Site, SiteSuccession, User, UserScopeDevice
from device_registry.schemas.bounds import MAX_ROW_ID
from device_registry.schemas.sites import SiteCreate, SiteUpdate
from device_registry.services import audit
from device_registry.text import fold


def site_snapshot(site: Site) -> dict[str, Any]:
    return {
        "code": site.code,
        "code_scheme": site.code_scheme,
        "code_version": site.code_version,
        "name": site.name,
        "kind": str(site.kind),
        "parent_id": site.parent_id,
        "valid_from": site.valid_from.isoformat() if site.valid_from else None,
        "valid_to": site.valid_to.isoformat() if site.valid_to else None,
    }


def site_not_found(ref: str | int, field: str = "site") -> NotFound:
    """The answer for a site that does not exist, and for one outside the caller's scope alike."""
    if isinstance(ref, int) or (ref.startswith("id:") and ref[3:].isdigit()):
        return NotFound(
            f"{field}: no site with id {ref if isinstance(ref, int) else int(ref[3:])}", field=field
        )
    return NotFound(f"{field}: no site with code {ref!r}", field=field)


async def resolve_site(session: AsyncSession, ref: str | int, *, field: str = "site") -> Site:
    """A site by id or by code. Codes repeat across schemes and across the 2025 reform (new communes
    often reuse an old code), so an open site wins over closed ones; ``scheme:version:code`` or
    ``id:N`` selects exactly."""
    if isinstance(ref, int) or (isinstance(ref, str) and ref.startswith("id:") and ref[3:].isdigit()):
        site_id = ref if isinstance(ref, int) else int(ref[3:])
        site = await session.get(Site, site_id) if 0 < site_id <= MAX_ROW_ID else None
        if site is None:
            raise site_not_found(site_id, field)
        return site
    query = select(Site)
    parts = ref.split(":")
    if len(parts) == 3:
        query = query.where(
            Site.code_scheme == parts[0], Site.code_version == parts[1], Site.code == parts[2]
        )
    else:
        query = query.where(Site.code == ref)
    candidates = list((await session.scalars(query)).all())
    if not candidates:
        raise site_not_found(ref, field)
    open_sites = [s for s in candidates if s.valid_to is None]
    pool = open_sites or candidates
    if len(pool) > 1:
        options = ", ".join(f"{s.code_scheme}:{s.code_version}:{s.code} ({s.name})" for s in pool)
        raise InvalidInput(f"{field}: code {ref!r} is ambiguous; use one of {options}", field=field)
    return pool[0]


async def create_site(session: AsyncSession, principal: Principal, data: SiteCreate) -> Site:
    principal.require_admin("create sites")
    parent: Site | None = None
    if data.parent_code is not None or data.parent_id is not None:
        parent = await resolve_site(session, data.parent_id or data.parent_code or "", field="parent")
        if parent.valid_to is not None:
            raise InvalidInput(f"parent: site {parent.code} ({parent.name}) is closed", field="parent")
    existing = await session.scalar(
        select(Site.id).where(
            Site.code_scheme == data.code_scheme,
            Site.code_version == data.code_version,
            Site.code == data.code,
        )
    )
    if existing is not None:
        raise Conflict(
            f"code: a site {data.code_scheme}:{data.code_version}:{data.code} exists", field="code"
        )
    site = Site(
        parent_id=parent.id if parent else None,
        depth=(parent.depth + 1) if parent else 0,
        kind=data.kind,
        code=data.code,
        code_scheme=data.code_scheme,
        code_version=data.code_version,
        name=data.name,
        name_folded=fold(data.name),
        admin_type=data.admin_type,
        latitude=data.latitude,
        longitude=data.longitude,
        valid_from=data.valid_from,
    )
    session.add(site)
    await session.flush()
    site.path = site_paths.child(parent.path if parent else None, site.id)
    await audit.record(session, principal, "create", "site", site.id, site.name, None, site_snapshot(site))
    return site


async def update_site(session: AsyncSession, principal: Principal, site: Site, data: SiteUpdate) -> Site:
    principal.require_admin("edit sites")
    before = site_snapshot(site)
    changes = data.model_dump(exclude_unset=True)
    for key, value in changes.items():
        setattr(site, key, value)
    if "name" in changes and data.name:
        site.name_folded = fold(data.name)
    await audit.record(session, principal, "update", "site", site.id, site.name, before, site_snapshot(site))
    return site


async def reparent_site(session: AsyncSession, principal: Principal, site: Site, parent: Site) -> None:
    """Move a subtree under a new parent, rewriting the materialised paths below it."""
    principal.require_admin("move sites")
    if site_paths.contains(site.path, parent.path):
        raise InvalidInput("parent: a site cannot move below itself", field="parent")
    old_path, new_path = site.path, site_paths.child(parent.path if parent else None, site.id)
    depth_shift = parent.depth + 1 - site.depth
    before = site_snapshot(site)
    descendants = (await session.scalars(select(Site).where(site_paths.subtree(Site.path, old_path)))).all()
    for node in descendants:
        node.path = new_path + node.path[len(old_path) :]
        node.depth += depth_shift
    site.parent_id = parent.id
    await audit.record(session, principal, "move", "site", site.id, site.name, before, site_snapshot(site))


async def subtree_ids(session: AsyncSession, site: Site) -> list[int]:
    return list(
        (await session.scalars(select(Site.id).where(site_paths.subtree(Site.path, site.path)))).all()
    )


async def freeze_scopes(session: AsyncSession, closing_site_ids: Iterable[int]) -> list[int]:
    """Before sites close, users scoped to one of them keep a snapshot of the devices they could see."""
    closing = set(closing_site_ids)
    users = (
        await session.scalars(
            select(User).where(User.scope_site_id.in_(closing), User.scope_frozen.is_(False))
        )
    ).all()
    for user in users:
        scope = await session.get(Site, user.scope_site_id)
        assert scope is not None
        device_ids = (
            await session.scalars(
                select(Device.id).where(
                    Device.site_id.in_(select(Site.id).where(site_paths.subtree(Site.path, scope.path)))
                )
            )
        ).all()
        for device_id in device_ids:
            session.add(UserScopeDevice(user_id=user.id, device_id=device_id))
        user.scope_frozen = True
    return [u.id for u in users]


async def close_sites(
    session: AsyncSession, principal: Principal, sites: list[Site], valid_to: date, reason: str
) -> list[int]:
    """Close sites (not their open descendants: callers choose), freezing scopes first."""
    principal.require_admin("close sites")
    frozen = await freeze_scopes(session, [s.id for s in sites])
    entries = []
    for site in sites:
        if site.valid_to is not None:
            continue
        before = site_snapshot(site)
        site.valid_to = valid_to
        entries.append(
            audit.entry(
                principal,
                "close",
                "site",
                site.id,
                site.name,
                before,
                {**before, "reason": reason, "valid_to": valid_to.isoformat()},
            )
        )
    await audit.record_many(session, entries)
    return frozen


async def close_subtree(
    session: AsyncSession, principal: Principal, site: Site, valid_to: date, successor: Site | None
) -> list[int]:
    """Manual closure: the whole subtree closes; its devices must have been moved out first."""
    principal.require_admin("close sites")
    ids = await subtree_ids(session, site)
    remaining = await session.scalar(select(Device.id).where(Device.site_id.in_(ids)).limit(1))
    if remaining is not None:
        raise Conflict(
            "site: devices still stand in this subtree; move them or use a successor", field="site"
        )
    nodes = list((await session.scalars(select(Site).where(Site.id.in_(ids)))).all())
    frozen = await close_sites(session, principal, nodes, valid_to, "closed")
    if successor is not None:
        session.add(
            SiteSuccession(
                predecessor_id=site.id, successor_id=successor.id, effective=valid_to, reason="closed"
            )
        )
    return frozen
