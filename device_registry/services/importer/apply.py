"""Writing a validated import: updates in place, new devices through the registry's shared bulk create
path (same row builder, history, tags, uplinks and audit snapshot as the API)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.authz import Principal
from device_registry.db import BULK_ROWS, refresh_planner_stats
from device_registry.models import DeviceTag, DeviceUplink
from device_registry.models.types import utcnow
from device_registry.queries.devices import links_of
from device_registry.services import audit
from device_registry.services.devices import (
    WRITERS,
    NewDevice,
    device_row,
    device_snapshot,
    insert_devices,
    invisible_ids,
    link_devices,
    move_device,
)
from device_registry.services.importer.parse import Format, parse
from device_registry.services.importer.validate import validate


@dataclass
class ImportResult:
    dry_run: bool
    rows: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "rows": self.rows,
            "created": len(self.created),
            "updated": len(self.updated),
            "unchanged": self.unchanged,
        }


_SCALARS = ("kind", "address", "port", "lifecycle", "vendor", "model", "serial", "firmware", "description")


def _no_progress(_done: int, _total: int) -> None:
    return None


async def import_devices(
    session: AsyncSession,
    principal: Principal,
    text: str,
    fmt: Format,
    *,
    dry_run: bool = False,
    progress: Callable[[int, int], None] = _no_progress,
) -> ImportResult:
    """Validate the whole file, then write it in the caller's transaction. ``progress(done, total)``
    counts validation as the first half and writing as the second."""
    principal.require(*WRITERS, action="import devices")
    raw_rows, columns = parse(text, fmt)
    plan = await validate(session, principal, raw_rows, columns, progress)
    progress(len(raw_rows), 2 * len(raw_rows))
    result = ImportResult(dry_run=dry_run, rows=len(plan.rows))
    present = set(columns)
    now = utcnow()

    new_rows = [row for _, row in plan.rows if row.name not in plan.existing]
    result.created = [row.name for row in new_rows]
    ids: dict[str, int] = {name: device.id for name, device in plan.existing.items()}
    ids.update(plan.external_uplinks)
    entries: list[dict[str, Any]] = []
    changed_ids: list[int] = []

    links = await links_of(session, [d.id for d in plan.existing.values()])
    name_of = {device_id: name for name, device_id in ids.items()}
    # Uplinks the caller cannot see were not in their export: keep them, never count them as changes.
    hidden = await invisible_ids(session, principal, {u for us in links.uplinks.values() for u in us})
    for _, row in plan.rows:
        device = plan.existing.get(row.name)
        if device is None:
            continue
        tags, uplinks = sorted(links.tags.get(device.id, [])), sorted(links.uplinks.get(device.id, []))
        before = device_snapshot(device, tags, uplinks)
        updates = {c: getattr(row, c) for c in _SCALARS if c in present}
        if "protocols" in present:
            updates["protocols"] = [str(p) for p in row.protocols]
        if row.credential:
            updates["credential_id"] = plan.credentials[row.credential]
        site = plan.sites[row.site]
        differs = any(getattr(device, k) != v for k, v in updates.items()) or site.id != device.site_id
        differs |= "tags" in present and sorted(row.tags) != tags
        differs |= "uplinks" in present and sorted(row.uplinks) != sorted(
            name_of.get(i, f"#{i}") for i in uplinks if i not in hidden
        )
        if not differs:
            result.unchanged += 1
            continue
        result.updated.append(row.name)
        if dry_run:
            continue
        for key, value in updates.items():
            setattr(device, key, value)
        if site.id != device.site_id:
            await move_device(session, device, site, "import", at=now)
        changed_ids.append(device.id)
        entries.append(
            audit.entry(
                principal,
                "update",
                "device",
                device.id,
                device.name,
                before,
                device_snapshot(device, row.tags if "tags" in present else tags, uplinks),
            )
        )
    if dry_run:
        return result

    batch = [
        NewDevice(
            device_row(row, plan.sites[row.site].id, plan.credentials.get(row.credential or ""), now),
            row.tags if "tags" in present else [],
        )
        for row in new_rows
    ]
    await insert_devices(session, batch, "import")
    ids.update((new.row["name"], new.id) for new in batch)
    if "uplinks" in present:
        for new, row in zip(batch, new_rows, strict=True):
            new.uplink_ids = [ids[u] for u in row.uplinks]
    await link_devices(session, principal, batch)
    changed = set(changed_ids)
    changed_rows = [row for _, row in plan.rows if ids[row.name] in changed]
    if "tags" in present and changed_rows:
        await session.execute(delete(DeviceTag).where(DeviceTag.device_id.in_(changed_ids)))
        tag_rows = [{"device_id": ids[row.name], "tag": tag} for row in changed_rows for tag in row.tags]
        if tag_rows:
            await session.execute(insert(DeviceTag), tag_rows)
    if "uplinks" in present and changed_rows:
        await session.execute(
            delete(DeviceUplink).where(
                DeviceUplink.device_id.in_(changed_ids), DeviceUplink.uplink_id.not_in(hidden)
            )
        )
        link_rows = [
            {"device_id": ids[row.name], "uplink_id": ids[u]} for row in changed_rows for u in row.uplinks
        ]
        if link_rows:
            await session.execute(insert(DeviceUplink), link_rows)
    await audit.record_many(session, entries)
    if len(batch) + len(changed_ids) >= BULK_ROWS:
        await refresh_planner_stats(session)
    await audit.record(session, principal, "import", "device", None, f"{fmt} import", None, result.as_dict())
    progress(2 * len(raw_rows), 2 * len(raw_rows))
    return result
