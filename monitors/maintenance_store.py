"""Maintenance windows in the registry database; validated as ``MaintenanceWindow`` before writing,
and again when read back: a row written before a rule existed, or by hand, may no longer mean anything.
Such a row is logged once and skipped, so one bad window never breaks listing, the SLA or the monitors'
registry refresh for everyone."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, literal, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.authz import Principal
from device_registry.models import Device, Site
from device_registry.services import audit
from monitors.maintenance import WINDOW_FIELDS, MaintenanceError, MaintenanceWindow
from monitors.models import MaintenanceWindowRow
from monitors.stored_rows import report_invalid

log = logging.getLogger(__name__)


def _to_window(row: MaintenanceWindowRow) -> MaintenanceWindow:
    return MaintenanceWindow(**{name: getattr(row, name) for name in WINDOW_FIELDS})


def _snapshot(window: MaintenanceWindow) -> dict[str, Any]:
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in window.values().items()
        if name != "id"
    }


async def add_window(
    session: AsyncSession, principal: Principal, window: MaintenanceWindow
) -> MaintenanceWindow:
    """``window`` was validated on construction; the database adds the scope's foreign keys. Audited as
    ``principal``'s change: a window silences alerts, so who planned it matters."""
    row = MaintenanceWindowRow(**{name: value for name, value in window.values().items() if name != "id"})
    session.add(row)
    await session.flush()
    stored = _to_window(row)
    await audit.record(
        session, principal, "create", "maintenance_window", row.id, row.reason, None, _snapshot(stored)
    )
    return stored


async def list_windows(session: AsyncSession, principal: Principal | None = None) -> list[MaintenanceWindow]:
    """Every stored window that still validates (the others are logged once and left out); with
    ``principal`` only those it may see (:func:`visible_to`)."""
    query = select(MaintenanceWindowRow).order_by(MaintenanceWindowRow.id)
    if principal is not None:
        query = query.where(visible_to(principal))
    windows = []
    for row in await session.scalars(query):
        try:
            windows.append(_to_window(row))
        except (MaintenanceError, TypeError, ValueError, OverflowError) as error:
            report_invalid(log, "maintenance window", row.id, str(error))
    return windows


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """A scoped user sees the windows that cover their area: those on one of their devices, on a site
    of their subtree, or on a site above it (a district window silences their commune too). Windows
    elsewhere (their reasons, owners and schedules) stay hidden."""
    if principal.unscoped:
        return true()
    on_my_device = MaintenanceWindowRow.device_id.in_(select(Device.id).where(principal.device_clause()))
    if principal.scope_frozen or principal.scope_path is None:
        return on_my_device
    scope = principal.scope_path
    covering_sites = select(Site.id).where(
        or_(Site.path.startswith(scope, autoescape=True), literal(scope).startswith(Site.path))
    )
    return or_(on_my_device, MaintenanceWindowRow.site_id.in_(covering_sites))


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
