"""Maintenance windows in the registry database; validated as ``MaintenanceWindow`` before writing,
and again when read back: a row written before a rule existed, or by hand, may no longer mean anything.
Such a row is logged once and skipped, so one bad window never breaks listing, the SLA or the monitors'
registry refresh for everyone."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.authz import Principal
from device_registry.services import audit
from monitors.maintenance import MaintenanceError, MaintenanceWindow
from monitors.models import MaintenanceWindowRow
from monitors.stored_rows import report_invalid

log = logging.getLogger(__name__)


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


def _snapshot(window: MaintenanceWindow) -> dict[str, Any]:
    return {
        "reason": window.reason,
        "owner": window.owner,
        "device_id": window.device_id,
        "site_id": window.site_id,
        "starts_at": window.starts_at.isoformat() if window.starts_at else None,
        "ends_at": window.ends_at.isoformat() if window.ends_at else None,
        "cron": window.cron,
        "duration_s": window.duration_s,
        "timezone": window.timezone,
    }


async def add_window(
    session: AsyncSession, principal: Principal, window: MaintenanceWindow
) -> MaintenanceWindow:
    """``window`` was validated on construction; the database adds the scope's foreign keys. Audited as
    ``principal``'s change: a window silences alerts, so who planned it matters."""
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
    stored = _to_window(row)
    await audit.record(
        session, principal, "create", "maintenance_window", row.id, row.reason, None, _snapshot(stored)
    )
    return stored


async def list_windows(session: AsyncSession) -> list[MaintenanceWindow]:
    """Every stored window that still validates; the others are logged once and left out."""
    rows = await session.scalars(select(MaintenanceWindowRow).order_by(MaintenanceWindowRow.id))
    windows = []
    for row in rows:
        try:
            windows.append(_to_window(row))
        except (MaintenanceError, TypeError, ValueError, OverflowError) as error:
            report_invalid(log, "maintenance window", row.id, str(error))
    return windows


async def delete_window(session: AsyncSession, principal: Principal, window_id: int) -> bool:
    row = await session.get(MaintenanceWindowRow, window_id)
    if row is None:
        return False
    await audit.record(
        session, principal, "delete", "maintenance_window", row.id, row.reason, _snapshot(_to_window(row))
    )
    await session.delete(row)
    await session.flush()
    return True
