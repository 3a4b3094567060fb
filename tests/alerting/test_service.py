"""The running service as `ioc serve` wires it: events on the monitors' bus end up at the team's channel."""

from __future__ import annotations

import asyncio

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from monitors.alerting.clock import SystemClock
from monitors.alerting.config import OutboxSettings
from monitors.alerting.service import AlertingService
from monitors.events import DeviceState, EventBus
from tests.alerting.scenario import BOX, change, configure


async def test_events_published_on_the_bus_reach_the_team(sessions, directory, settings, world, webhook):
    settings.outbox = OutboxSettings(poll_interval_s=0.2)
    service = AlertingService.from_settings(settings, sessions, BOX, sites=directory, devices=directory)
    assert isinstance(service.ctx.clock, SystemClock)
    await configure(
        service.ctx, world, commune_url=webhook.url, district_url=webhook.url, province_url=webhook.url
    )
    bus = EventBus()
    await service.start(bus)
    try:
        now = SystemClock().now()
        await bus.publish(change(101, DeviceState.DOWN, now))
        await bus.publish(change(101, DeviceState.DOWN, now))
        await bus.publish(change(101, DeviceState.UP, now))
        received = await asyncio.to_thread(webhook.wait_for, 2, 20)
    finally:
        await service.stop()
    assert [m["title"] for m in received] == [
        "[NGHIÊM TRỌNG] Mất kết nối: CAM-TANHOA-01 – Xã Tân Hòa",
        "[Đã khôi phục] CAM-TANHOA-01 – Xã Tân Hòa",
    ]
    assert service.lifecycle.outcomes == {"fired": 1, "deduplicated": 1, "resolved": 1}


async def test_migration_matches_the_models(db_url):
    """alerting_0001 is hand-written: it must create exactly what the models declare."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    import device_registry.models  # noqa: F401
    from device_registry.db import Base, create_engine
    from monitors.alerting.models import ALERTING_TABLES

    engine: AsyncEngine = create_engine(db_url)
    names = {table.name for table in ALERTING_TABLES}

    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [d for d in compare_metadata(context, Base.metadata) if names & _tables(d)]

    async with engine.connect() as connection:
        differences = await connection.run_sync(diff)
    await engine.dispose()
    assert differences == []
    assert isinstance(Base.metadata, MetaData)


def _tables(difference) -> set[str]:
    found: set[str] = set()
    items = difference if isinstance(difference, list) else [difference]
    for item in items:
        for part in item if isinstance(item, tuple) else (item,):
            table = getattr(part, "table", None)
            if table is not None and hasattr(table, "name"):
                found.add(table.name)
            if hasattr(part, "name") and hasattr(part, "columns") and hasattr(part, "c"):
                found.add(part.name)
            if isinstance(part, str):
                found.add(part)
    return found
