"""Device writes: create, update, move between sites (with history), uplinks (no cycles), delete."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.authz import Principal
from device_registry.crypto import SecretBox
from device_registry.db import BULK_ROWS, refresh_planner_stats
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
    device: Device | Mapping[str, Any], tags: Iterable[str] = (), uplink_ids: Iterable[int] = ()
) -> dict[str, Any]:
    """The audit shape of a device, from a loaded row or from the values about to be inserted."""
    get: Callable[[str], Any] = device.get if isinstance(device, Mapping) else partial(getattr, device)
    return {
        "name": get("name"),
        "kind": str(get("kind")),
        "site_id": get("site_id"),
        "address": get("address"),
        "port": get("port"),
        "protocols": [str(p) for p in get("protocols") or []],
        "lifecycle": str(get("lifecycle")),
        "vendor": get("vendor"),
        "model": get("model"),
        "serial": get("serial"),
        "firmware": get("firmware"),
        "tags": sorted(tags),
        "uplink_ids": sorted(uplink_ids),
        "credential_id": get("credential_id"),
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


async def uplink_edges(session: AsyncSession) -> dict[Any, list[Any]]:
    """Every stored uplink edge, device id -> uplink ids: one query, for the whole-graph cycle check."""
    graph: dict[Any, list[Any]] = {}
    for device_id, uplink_id in (
        await session.execute(select(DeviceUplink.device_id, DeviceUplink.uplink_id))
    ).all():
        graph.setdefault(device_id, []).append(uplink_id)
    return graph


def find_cycle(edges: Mapping[Any, Iterable[Any]]) -> list[Any] | None:
    """An uplink cycle anywhere in ``edges`` (node -> its uplinks), as the chain of nodes, or None.

    One iterative depth-first pass over the whole graph, so checking a batch of N new or changed devices
    costs O(nodes + edges) once rather than a walk per device. Nodes may be ids or, for an import, the
    file's device names."""
    state: dict[Any, int] = {}
    for start in edges:
        if state.get(start):
            continue
        stack: list[tuple[Any, Iterator[Any]]] = [(start, iter(edges.get(start, ())))]
        path = [start]
        on_path = {start: 0}
        state[start] = 1
        while stack:
            node, children = stack[-1]
            for child in children:
                if state.get(child) == 1:
                    return [*path[on_path[child] :], child]
                if not state.get(child):
                    state[child] = 1
                    on_path[child] = len(path)
                    path.append(child)
                    stack.append((child, iter(edges.get(child, ()))))
                    break
            else:
                state[node] = 2
                stack.pop()
                del on_path[path.pop()]
    return None


def check_acyclic(edges: Mapping[Any, Iterable[Any]]) -> None:
    cycle = find_cycle(edges)
    if cycle:
        raise InvalidInput(
            f"uplink_ids: would create a cycle {' -> '.join(map(str, cycle))}", field="uplink_ids"
        )


async def visible_ids(session: AsyncSession, principal: Principal, wanted: Iterable[int]) -> set[int]:
    """Which of ``wanted`` the principal may see (and so may use as an uplink)."""
    found: set[int] = set()
    for chunk in chunks(wanted):
        query = select(Device.id).where(Device.id.in_(chunk), principal.device_clause())
        found.update((await session.scalars(query)).all())
    return found


def chunks(values: Iterable[Any], size: int = 5000) -> Iterable[list[Any]]:
    """IN-lists in slices: SQLite and asyncpg both cap bound parameters near 32k."""
    items = sorted(set(values))
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def _set_uplinks(
    session: AsyncSession, principal: Principal, device: Device, uplink_ids: list[int]
) -> None:
    wanted = set(uplink_ids)
    if device.id in wanted:
        raise InvalidInput("uplink_ids: a device cannot be its own uplink", field="uplink_ids")
    if wanted:
        missing = wanted - await visible_ids(session, principal, wanted)
        if missing:
            raise InvalidInput(f"uplink_ids: no device with id {sorted(missing)}", field="uplink_ids")
        graph = await uplink_edges(session)
        graph[device.id] = sorted(wanted)
        cycle = find_cycle(graph)
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


class DeviceFields(Protocol):
    """What a new device row is built from: an API/CLI ``DeviceCreate`` or an import row."""

    name: str
    kind: Any
    protocols: list[Any]
    address: str | None
    port: int | None
    lifecycle: Any
    vendor: str | None
    model: str | None
    serial: str | None
    firmware: str | None
    description: str | None


def device_row(data: DeviceFields, site_id: int, credential_id: int | None, now: datetime) -> dict[str, Any]:
    """The ``devices`` row for a new device: the one builder every create path uses."""
    return {
        "name": data.name,
        "name_folded": fold(data.name),
        "kind": data.kind,
        "protocols": [str(p) for p in data.protocols],
        "address": data.address,
        "port": data.port,
        "site_id": site_id,
        "vendor": data.vendor,
        "model": data.model,
        "serial": data.serial,
        "firmware": data.firmware,
        "lifecycle": data.lifecycle,
        "description": data.description,
        "credential_id": credential_id,
        "attributes": {},
        "created_at": now,
        "updated_at": now,
    }


@dataclass
class NewDevice:
    """One device of a batch being created: its row, tags, and uplinks (ids, filled in once every device of
    the batch has one, since an import may link new devices to each other)."""

    row: dict[str, Any]
    tags: list[str]
    uplink_ids: list[int] = field(default_factory=list)
    id: int = 0


async def insert_devices(session: AsyncSession, batch: Sequence[NewDevice], reason: str) -> None:
    """Insert the batch's device rows and their opening site-history rows: one statement each.
    Sets ``NewDevice.id``."""
    if not batch:
        return
    # A plain executemany and one lookup by (unique) name: SQLite would run an INSERT .. RETURNING once per
    # row, which made the insert the slowest part of a large import.
    await session.execute(insert(Device), [n.row for n in batch])
    ids: dict[str, int] = {}
    for chunk in chunks(n.row["name"] for n in batch):
        query = select(Device.name, Device.id).where(Device.name.in_(chunk))
        ids.update((name, device_id) for name, device_id in (await session.execute(query)).all())
    for new in batch:
        new.id = ids[new.row["name"]]
    await session.execute(
        insert(DeviceSiteHistory),
        [
            {
                "device_id": n.id,
                "site_id": n.row["site_id"],
                "valid_from": n.row["created_at"],
                "reason": reason,
            }
            for n in batch
        ],
    )


async def link_devices(session: AsyncSession, principal: Principal, batch: Sequence[NewDevice]) -> None:
    """Tags, uplinks and one "create" audit entry per device of an inserted batch: one statement each."""
    tag_rows = [{"device_id": n.id, "tag": tag} for n in batch for tag in n.tags]
    if tag_rows:
        await session.execute(insert(DeviceTag), tag_rows)
    link_rows = [{"device_id": n.id, "uplink_id": u} for n in batch for u in sorted(set(n.uplink_ids))]
    if link_rows:
        await session.execute(insert(DeviceUplink), link_rows)
    await audit.record_many(
        session,
        (
            audit.entry(
                principal,
                "create",
                "device",
                n.id,
                n.row["name"],
                None,
                device_snapshot(n.row, n.tags, n.uplink_ids),
            )
            for n in batch
        ),
    )


async def create_devices(
    session: AsyncSession, principal: Principal, box: SecretBox, items: Sequence[DeviceCreate]
) -> list[Device]:
    """Create many devices in the caller's transaction, checking all of them before writing any.

    Set-based: one query per referenced table for the whole batch and one cycle check over the whole
    uplink graph, so the API (a batch of one), the CLI, onboarding and the importer share one path."""
    principal.require(*WRITERS, action="create devices")
    if not items:
        return []
    sites: dict[str | int, Site] = {}
    for ref in {d.site_id if d.site_id is not None else d.site_code or "" for d in items}:
        sites[ref] = await placeable_site(session, principal, ref)
    names = [d.name for d in items]
    duplicate = next((n for i, n in enumerate(names) if n in names[:i]), None)
    if duplicate is None:
        for chunk in chunks(names):
            duplicate = await session.scalar(select(Device.name).where(Device.name.in_(chunk)).limit(1))
            if duplicate is not None:
                break
    if duplicate is not None:
        raise Conflict(f"name: a device named {duplicate!r} exists", field="name")
    wanted = {u for d in items for u in d.uplink_ids}
    missing = wanted - await visible_ids(session, principal, wanted)
    if missing:
        raise InvalidInput(f"uplink_ids: no device with id {sorted(missing)}", field="uplink_ids")
    now = utcnow()
    batch: list[NewDevice] = []
    for data in items:
        site = sites[data.site_id if data.site_id is not None else data.site_code or ""]
        credential_id = None
        if data.credential_ref is not None:
            credential_id = (await credential_for_device(session, principal, data.credential_ref, site)).id
        batch.append(
            NewDevice(device_row(data, site.id, credential_id, now), data.tags, list(data.uplink_ids))
        )
    if wanted:
        graph = await uplink_edges(session)
        graph.update((("new", i), n.uplink_ids) for i, n in enumerate(batch))
        check_acyclic(graph)
    await insert_devices(session, batch, "created")
    for new, data in zip(batch, items, strict=True):
        if data.credential is not None:
            new.row["credential_id"] = (await private_credential(session, box, new.id, data.credential)).id
    await link_devices(session, principal, batch)
    if len(batch) >= BULK_ROWS:
        await refresh_planner_stats(session)
    by_id = {
        d.id: d
        for d in (await session.scalars(select(Device).where(Device.id.in_([n.id for n in batch])))).all()
    }
    devices = [by_id[n.id] for n in batch]
    for device, new in zip(devices, batch, strict=True):
        device.credential_id = new.row["credential_id"]
    return devices


async def create_device(
    session: AsyncSession, principal: Principal, box: SecretBox, data: DeviceCreate
) -> Device:
    """One device: a batch of one through ``create_devices``."""
    return (await create_devices(session, principal, box, [data]))[0]


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
