"""Maintenance windows in the registry database; validated as ``MaintenanceWindow`` before writing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from monitors.maintenance import MaintenanceWindow
from monitors.models import MaintenanceWindowRow


def _to_window(row: MaintenanceWindowRow) -> MaintenanceWindow:
    return MaintenanceWindow(
        id=row.id,
        reason=row.reason,
        owner=row.owner,
        device_id=row.device_id,
        site_id=row.site_id,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        cron=row.cron,
        duration_s=row.duration_s,
        timezone=row.timezone,
    )


async def add_window(session: AsyncSession, window: MaintenanceWindow) -> MaintenanceWindow:
    """``window`` was validated on construction; the database adds the scope's foreign keys."""
    row = MaintenanceWindowRow(
        device_id=window.device_id,
        site_id=window.site_id,
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        cron=window.cron,
        duration_s=window.duration_s,
        timezone=window.timezone,
        reason=window.reason,
        owner=window.owner,
    )
    session.add(row)
    await session.flush()
    return _to_window(row)


async def list_windows(session: AsyncSession) -> list[MaintenanceWindow]:
    rows = await session.scalars(select(MaintenanceWindowRow).order_by(MaintenanceWindowRow.id))
    return [_to_window(row) for row in rows]


async def delete_window(session: AsyncSession, window_id: int) -> bool:
    row = await session.get(MaintenanceWindowRow, window_id)
    if row is None:
        return False
    await session.delete(row)
    await session.flush()
    return True
