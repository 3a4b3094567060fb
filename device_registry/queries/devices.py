from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry import site_paths
from device_registry.authz import Principal
from device_registry.models import (
    Credential,
    Device,
    DeviceKind,
    DeviceSiteHistory,
    DeviceTag,
    DeviceUplink,
    Lifecycle,
    Site,
)
from device_registry.queries.without_inventory import devices_without_inventory
from device_registry.schemas.common import Page
from device_registry.schemas.devices import (
    DevicePublic,
    DeviceStatePublic,
    OperState,
    SiteHistoryPublic,
    SiteRef,
)
from device_registry.services.sites import resolve_site
from device_registry.text import like_pattern


@dataclass
class Links:
    """Tags and uplink ids per device id."""

    tags: dict[int, list[str]] = field(default_factory=dict)
    uplinks: dict[int, list[int]] = field(default_factory=dict)


async def links_of(session: AsyncSession, device_ids: Sequence[int]) -> Links:
    """Tags and uplinks of many devices, a few thousand ids per query (bound-parameter limits)."""
    links = Links()
    for start in range(0, len(device_ids), 5000):
        chunk = list(device_ids[start : start + 5000])
        tag_rows = await session.execute(
            select(DeviceTag.device_id, DeviceTag.tag).where(DeviceTag.device_id.in_(chunk))
        )
        for device_id, tag in tag_rows.all():
            links.tags.setdefault(device_id, []).append(tag)
        uplink_rows = await session.execute(
            select(DeviceUplink.device_id, DeviceUplink.uplink_id).where(DeviceUplink.device_id.in_(chunk))
        )
        for device_id, uplink_id in uplink_rows.all():
            links.uplinks.setdefault(device_id, []).append(uplink_id)
    return links


class DeviceStateSource(Protocol):
    """Where device states come from: the monitors' store, wired by the composition root (``ioc``),
    since the registry must not import the monitors."""

    async def states(
        self, session: AsyncSession, devices: Sequence[Device]
    ) -> dict[int, DeviceStatePublic]: ...

    def clause(self, states: Sequence[OperState]) -> ColumnElement[bool]:
        """SQL condition: the device is in one of ``states``."""
        ...


@dataclass(frozen=True, slots=True)
class DeviceFilter:
    site: str | None = None
    kind: DeviceKind | None = None
    lifecycle: Lifecycle | None = None
    tag: str | None = None
    vendor: str | None = None
    search: str | None = None
    state: ColumnElement[bool] | None = None


async def filtered(session: AsyncSession, principal: Principal, flt: DeviceFilter) -> Select[Device]:
    query = select(Device).where(principal.device_clause())
    if flt.site:
        root = await resolve_site(session, flt.site, field="site")
        query = query.where(
            Device.site_id.in_(select(Site.id).where(site_paths.subtree(Site.path, root.path)))
        )
    if flt.kind:
        query = query.where(Device.kind == flt.kind)
    if flt.lifecycle:
        query = query.where(Device.lifecycle == flt.lifecycle)
    if flt.vendor:
        query = query.where(func.lower(Device.vendor) == flt.vendor.lower())
    if flt.tag:
        query = query.where(Device.id.in_(select(DeviceTag.device_id).where(DeviceTag.tag == flt.tag)))
    if flt.state is not None:
        query = query.where(flt.state)
    if flt.search:
        pattern = like_pattern(flt.search)
        query = query.where(
            or_(
                Device.name_folded.like(pattern, escape="\\"),
                Device.address == flt.search.strip(),
                Device.serial == flt.search.strip(),
            )
        )
    return query


async def device_views(
    session: AsyncSession, devices: Sequence[Device], states: DeviceStateSource | None = None
) -> list[DevicePublic]:
    """Public shapes for a page of devices: one batched query each for tags, uplinks, sites, credentials
    (and states, when a source is given)."""
    if not devices:
        return []
    state_of = await states.states(session, devices) if states is not None else {}
    links = await links_of(session, [d.id for d in devices])
    site_ids = {d.site_id for d in devices}
    sites = {s.id: s for s in (await session.scalars(select(Site).where(Site.id.in_(site_ids)))).all()}
    credential_ids = {d.credential_id for d in devices if d.credential_id}
    credential_names = (
        dict(
            (
                await session.execute(
                    select(Credential.id, Credential.name).where(Credential.id.in_(credential_ids))
                )
            ).all()
        )
        if credential_ids
        else {}
    )
    views = []
    for d in devices:
        site = sites[d.site_id]
        ref_name = credential_names.get(d.credential_id) if d.credential_id else None
        views.append(
            DevicePublic(
                id=d.id,
                name=d.name,
                kind=d.kind,
                protocols=list(d.protocols or []),
                address=d.address,
                port=d.port,
                site=SiteRef(id=site.id, code=site.code, name=site.name, open=site.valid_to is None),
                uplink_ids=sorted(links.uplinks.get(d.id, [])),
                tags=sorted(links.tags.get(d.id, [])),
                lifecycle=d.lifecycle,
                vendor=d.vendor,
                model=d.model,
                serial=d.serial,
                firmware=d.firmware,
                description=d.description,
                has_credential=d.credential_id is not None,
                credential_ref=None if ref_name is None or ref_name.startswith("device/") else ref_name,
                attributes=dict(d.attributes or {}),
                created_at=d.created_at,
                updated_at=d.updated_at,
                state=state_of.get(d.id),
            )
        )
    return views


async def list_devices(
    session: AsyncSession,
    principal: Principal,
    flt: DeviceFilter,
    limit: int = 50,
    offset: int = 0,
    states: DeviceStateSource | None = None,
) -> Page[DevicePublic]:
    """A page of the devices ``principal`` may see. Their ``attributes`` lack SNMP's interface inventory
    (:mod:`~device_registry.queries.without_inventory`): one device's read and
    ``/api/v1/snmp/devices/{id}/interfaces`` carry it."""
    query = await filtered(session, principal, flt)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    # The page's ids first: PostgreSQL computes the select list for the rows OFFSET skips too, and
    # dropping the inventory from 1,000 skipped switches made a page 10x slower than the page itself.
    page = query.with_only_columns(Device.id).order_by(Device.id).limit(limit).offset(offset)
    rows = await devices_without_inventory(
        session, select(Device).where(Device.id.in_(page)).order_by(Device.id)
    )
    return Page(items=await device_views(session, rows, states), total=total, limit=limit, offset=offset)


async def site_history(session: AsyncSession, device_id: int) -> list[SiteHistoryPublic]:
    rows = await session.execute(
        select(DeviceSiteHistory, Site)
        .join(Site, Site.id == DeviceSiteHistory.site_id)
        .where(DeviceSiteHistory.device_id == device_id)
        .order_by(DeviceSiteHistory.valid_from, DeviceSiteHistory.id)
    )
    return [
        SiteHistoryPublic(
            site=SiteRef(id=site.id, code=site.code, name=site.name, open=site.valid_to is None),
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            reason=row.reason,
        )
        for row, site in rows.all()
    ]
