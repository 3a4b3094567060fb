"""SLA for a site subtree straight from the registry database: the ``ioc sla report`` and API path.

Membership and maintenance follow where devices stand *now* (a device moved mid-period counts, with its
whole period, under its current site); outages are their own records whatever site they happened in.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from monitors.maintenance import MaintenanceCalendar
from monitors.maintenance_store import list_windows
from monitors.outage_store import load_outages
from monitors.registry_source import by_kind, devices_under_site, site_tree
from monitors.sla import SlaReport, sla_report

MAX_PERIOD = timedelta(days=366)
"""A year's report (a leap year's too); longer ones are several reports."""


async def site_sla(
    session: AsyncSession,
    site_ref: str | int,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    count_unreachable: bool = True,
) -> SlaReport:
    """Per device, for the whole subtree (group ``site CODE``) and per kind (groups ``kind NAME``)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("from/to: must be timezone-aware")
    if end <= start:
        raise ValueError("to: must be after from")
    if end - start > MAX_PERIOD:
        raise ValueError(f"to: the period may span at most {MAX_PERIOD.days} days")
    root, devices = await devices_under_site(session, site_ref)
    ids = [d.device_id for d in devices]
    outages = await load_outages(session, start, end, ids) if ids else []
    parent, _codes = await site_tree(session)
    calendar = MaintenanceCalendar(
        await list_windows(session), site_of={d.device_id: d.site_id for d in devices}, site_parent=parent
    )
    groups: dict[str, list[int]] = {f"site {root.code}": ids}
    groups.update({f"kind {kind}": members for kind, members in by_kind(devices).items()})

    def compute() -> SlaReport:
        return sla_report(
            groups,
            outages,
            calendar.report_lookup(start, end),
            start,
            end,
            now=now,
            count_unreachable=count_unreachable,
        )

    # Cron arithmetic over a long period takes seconds: never on the loop that serves API and monitors.
    return await asyncio.to_thread(compute)
