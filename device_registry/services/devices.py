"""Device writes: create, update, move between sites (with history), uplinks (no cycles), delete."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.authz import Principal
from device_registry.crypto import SecretBox
from device_registry.errors import Conflict, Forbidden, InvalidInput, NotFound
from device_registry.models import Credential, Device, DeviceSiteHistory, DeviceTag, DeviceUplink, Role, Site
from device_registry.models.devices import PRIVATE_PREFIX
from device_registry.models.types import utcnow
from device_registry.queries.devices import links_of
from device_registry.schemas.devices import DeviceCreate, DeviceUpdate
from device_registry.services import audit
from device_registry.services.credentials import check_owner_covers, credential_for_device, private_credential
from device_registry.services.sites import resolve_site
from device_registry.text import fold

WRITERS = (Role.ENGINEER,)


def device_snapshot(
    device: Device, tags: Iterable[str] = (), uplink_ids: Iterable[int] = ()
) -> dict[str, Any]:
    return {
        "name": device.name,
        "kind": str(device.kind),
        "site_id": device.site_id,
        "address": device.address,
        "port": device.port,
        "protocols": list(device.protocols or []),
        "lifecycle": str(device.lifecycle),
        "vendor": device.vendor,
        "model": device.model,
        "serial": device.serial,
        "firmware": device.firmware,
        "tags": sorted(tags),
        "uplink_ids": sorted(uplink_ids),
        "credential_id": device.credential_id,
    }


async def get_device(
    session: AsyncSession, principal: Principal, device_id: int, *, for_write: bool = False
) -> Device:
    """A device the principal may see. Reading or writing an invisible one says "not found", exactly as
    for an id that does not exist: a scoped user learns nothing about other scopes' devices."""
    del for_write  # kept for callers' readability; the answer no longer depends on it
    device = await session.scalar(select(Device).where(Device.id == device_id, principal.device_clause()))
    if device is None:
        raise NotFound(f"no device with id {device_id}", field="device_id")
    return device


async def placeable_site(session: AsyncSession, principal: Principal, ref: str | int) -> Site:
    site = await resolve_site(session, ref, field="site")
    if site.valid_to is not None:
        raise InvalidInput(f"site: {site.code} ({site.name}) was closed on {site.valid_to}", field="site")
    principal.check_site_writable(site)
    return site


async def uplink_graph(session: AsyncSession) -> dict[int, set[int]]:
    graph: dict[int, set[int]] = {}
    for device_id, uplink_id in (
        await session.execute(select(DeviceUplink.device_id, DeviceUplink.uplink_id))
    ).all():
        graph.setdefault(device_id, set()).add(uplink_id)
    return graph


def find_cycle(
    graph: Mapping[int, Iterable[int]], device_id: int, uplinks: Iterable[int]
) -> list[int] | None:
    """The uplink chain that would lead from ``device_id`` back to itself, or None."""
    stack: list[tuple[int, list[int]]] = [(u, [device_id, u]) for u in uplinks]
    seen: set[int] = set()
    while stack:
        node, chain = stack.pop()
        if node == device_id:
            return chain
        if node in seen:
            continue
        seen.add(node)
        stack.extend((parent, [*chain, parent]) for parent in graph.get(node, ()))
    return None


async def _set_uplinks(
    session: AsyncSession, principal: Principal, device: Device, uplink_ids: list[int]
) -> None:
    wanted = set(uplink_ids)
    if device.id in wanted:
        raise InvalidInput("uplink_ids: a device cannot be its own uplink", field="uplink_ids")
    if wanted:
        visible = set(
            (
                await session.scalars(
                    select(Device.id).where(Device.id.in_(wanted), principal.device_clause())
                )
            ).all()
        )
        missing = wanted - visible
        if missing:
            raise InvalidInput(f"uplink_ids: no device with id {sorted(missing)}", field="uplink_ids")
        graph = await uplink_graph(session)
        graph.pop(device.id, None)
        cycle = find_cycle(graph, device.id, wanted)
        if cycle:
            hidden = await invisible_ids(session, principal, set(cycle))
            path = " -> ".join("(a device outside your scope)" if n in hidden else str(n) for n in cycle)
            raise InvalidInput(f"uplink_ids: would create a cycle {path}", field="uplink_ids")
    await session.execute(delete(DeviceUplink).where(DeviceUplink.device_id == device.id))
    for uplink_id in sorted(wanted):
        session.add(DeviceUplink(device_id=device.id, uplink_id=uplink_id))


async def invisible_ids(session: AsyncSession, principal: Principal, ids: set[int]) -> set[int]:
    """Those of ``ids`` whose devices ``principal`` may not see."""
    if principal.unscoped or not ids:
        return set()
    visible = select(Device.id).where(Device.id.in_(ids), principal.device_clause())
    return ids - set((await session.scalars(visible)).all())


async def _set_tags(session: AsyncSession, device: Device, tags: list[str]) -> None:
    await session.execute(delete(DeviceTag).where(DeviceTag.device_id == device.id))
    for tag in tags:
        session.add(DeviceTag(device_id=device.id, tag=tag))


async def tags_and_uplinks(session: AsyncSession, device_id: int) -> tuple[list[str], list[int]]:
    links = await links_of(session, [device_id])
    return sorted(links.tags.get(device_id, [])), sorted(links.uplinks.get(device_id, []))


async def _name_free(session: AsyncSession, name: str, exclude_id: int | None = None) -> None:
    query = select(Device.id).where(Device.name == name)
    if exclude_id is not None:
        query = query.where(Device.id != exclude_id)
    if await session.scalar(query) is not None:
        raise Conflict(f"name: a device named {name!r} exists", field="name")


async def move_device(
    session: AsyncSession, device: Device, site: Site, reason: str, at: datetime | None = None
) -> None:
    """Close the device's open history row and open one at ``site``."""
    when = at or utcnow()
    current = await session.scalar(
        select(DeviceSiteHistory).where(
            DeviceSiteHistory.device_id == device.id, DeviceSiteHistory.valid_to.is_(None)
        )
    )
    if current is not None:
        current.valid_to = when
    session.add(DeviceSiteHistory(device_id=device.id, site_id=site.id, valid_from=when, reason=reason))
    device.site_id = site.id


async def create_device(
    session: AsyncSession, principal: Principal, box: SecretBox, data: DeviceCreate
) -> Device:
    principal.require(*WRITERS, action="create devices")
    site = await placeable_site(
        session, principal, data.site_id if data.site_id is not None else data.site_code or ""
    )
    await _name_free(session, data.name)
    credential_id = None
    if data.credential_ref is not None:
        credential_id = (await credential_for_device(session, principal, data.credential_ref, site)).id
    device = Device(
        name=data.name,
        name_folded=fold(data.name),
        kind=data.kind,
        protocols=[str(p) for p in data.protocols],
        address=data.address,
        port=data.port,
        site_id=site.id,
        vendor=data.vendor,
        model=data.model,
        serial=data.serial,
        firmware=data.firmware,
        lifecycle=data.lifecycle,
        description=data.description,
        credential_id=credential_id,
        attributes={},
    )
    session.add(device)
    await session.flush()
    session.add(
        DeviceSiteHistory(
            device_id=device.id, site_id=site.id, valid_from=device.created_at, reason="created"
        )
    )
    if data.credential is not None:
        device.credential_id = (await private_credential(session, box, device.id, data.credential)).id
    await _set_tags(session, device, data.tags)
    await _set_uplinks(session, principal, device, data.uplink_ids)
    await audit.record(
        session,
        principal,
        "create",
        "device",
        device.id,
        device.name,
        None,
        device_snapshot(device, data.tags, data.uplink_ids),
    )
    return device


async def _check_credential_follows(session: AsyncSession, device: Device, site: Site) -> None:
    """A device keeps its shared credential only if the credential's owner covers the new site too."""
    row = await session.get(Credential, device.credential_id) if device.credential_id else None
    if row is not None and row.site_id is not None:
        owner = await session.get(Site, row.site_id)
        check_owner_covers(row, owner, site, "site")


async def update_device(
    session: AsyncSession, principal: Principal, box: SecretBox, device_id: int, data: DeviceUpdate
) -> Device:
    principal.require(*WRITERS, action="edit devices")
    device = await get_device(session, principal, device_id, for_write=True)
    current_site = await session.get(Site, device.site_id)
    assert current_site is not None
    if not principal.unscoped and not principal.scope_frozen:
        principal.check_site_writable(current_site)
    tags, uplinks = await tags_and_uplinks(session, device.id)
    before = device_snapshot(device, tags, uplinks)
    changes = data.model_dump(
        exclude_unset=True,
        exclude={
            "site_code",
            "site_id",
            "tags",
            "uplink_ids",
            "credential",
            "credential_ref",
            "clear_credential",
        },
    )
    if "name" in changes and changes["name"] != device.name:
        await _name_free(session, changes["name"], exclude_id=device.id)
        device.name_folded = fold(changes["name"])
    for key, value in changes.items():
        if value is None and key in ("name", "kind", "lifecycle", "protocols"):
            raise InvalidInput(f"{key}: may not be null", field=key)
        setattr(device, key, [str(p) for p in value] if key == "protocols" else value)
    site_ref = data.site_id if data.site_id is not None else data.site_code
    if site_ref is not None:
        if principal.scope_frozen:
            raise Forbidden("your scope was closed by a re-organisation: ask an admin to re-scope you first")
        site = await placeable_site(session, principal, site_ref)
        if site.id != device.site_id:
            await _check_credential_follows(session, device, site)
            await move_device(session, device, site, "moved")
    if data.tags is not None:
        await _set_tags(session, device, data.tags)
        tags = data.tags
    if data.uplink_ids is not None:
        await _set_uplinks(session, principal, device, data.uplink_ids)
        uplinks = data.uplink_ids
    if data.credential is not None:
        device.credential_id = (await private_credential(session, box, device.id, data.credential)).id
    elif data.credential_ref is not None:
        site_now = await session.get(Site, device.site_id)
        assert site_now is not None
        ref = data.credential_ref
        device.credential_id = (await credential_for_device(session, principal, ref, site_now, device.id)).id
    elif data.clear_credential:
        device.credential_id = None
    after = device_snapshot(device, tags, uplinks)
    if data.credential is not None:
        after["credential"] = "changed"
    await audit.record(session, principal, "update", "device", device.id, device.name, before, after)
    return device


async def delete_device(session: AsyncSession, principal: Principal, device_id: int) -> None:
    principal.require(*WRITERS, action="delete devices")
    device = await get_device(session, principal, device_id, for_write=True)
    site = await session.get(Site, device.site_id)
    assert site is not None
    if not principal.scope_frozen:
        principal.check_site_writable(site)
    dependants = await session.scalar(
        select(DeviceUplink.device_id).where(DeviceUplink.uplink_id == device.id).limit(1)
    )
    if dependants is not None:
        raise Conflict("device: other devices use it as their uplink; re-link them first", field="device_id")
    tags, uplinks = await tags_and_uplinks(session, device.id)
    await audit.record(
        session,
        principal,
        "delete",
        "device",
        device.id,
        device.name,
        device_snapshot(device, tags, uplinks),
        None,
    )
    await session.delete(device)
    await session.flush()
    # Its own credential goes with it: SQLite may hand the id to the next device, which must not
    # find a stranger's secret under device/N.
    await session.execute(delete(Credential).where(Credential.name == f"{PRIVATE_PREFIX}{device_id}"))
