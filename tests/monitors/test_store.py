"""Outage records, maintenance windows and the SLA in the real registry database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import QueuePool

import monitors.models  # noqa: F401  (registers the monitors' tables on Base)
from device_registry.authz import Principal
from device_registry.db import Base, create_engine, session_factory, transaction
from device_registry.errors import NotFound
from device_registry.models import AuditEntry
from monitors.events import DeviceState
from monitors.maintenance import MaintenanceCalendar, MaintenanceWindow
from monitors.maintenance_store import add_window, delete_window, list_windows
from monitors.outage_store import SqlOutageRecorder, load_outages
from monitors.sla_query import site_sla
from telemetry.ingest.directory import CredentialDirectory
from tests.monitors.registry_world import DeviceKind, registry
from tests.monitors.world import T0, World
from tests.support.waits import wait_until

DAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=30)
"""Midnight UTC a month ago: a whole past day whenever the suite runs."""
PLANNER = Principal.system("planner")


def at(hour: float) -> datetime:
    return DAY + timedelta(hours=hour)


async def test_migration_matches_the_models(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            diffs = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
                )
            )
    finally:
        await engine.dispose()
    ours = [d for d in diffs if "monitor_" in repr(d)]
    assert ours == []


async def test_district_outage_is_stored_with_history_and_affected_count(db_url: str) -> None:
    async with registry(db_url) as reg:
        switch = await reg.add_device("sw-d1", DeviceKind.SWITCH, "D1")
        communes = [
            await reg.add_device(f"cam-a-{i}", DeviceKind.CAMERA, "A", uplinks=("sw-d1",)) for i in range(8)
        ]
        world = World(topology={c: (switch,) for c in communes}, store=SqlOutageRecorder(reg.sessions))
        await world.check_rounds(1, switch, *communes)
        world.dead.update([switch, *communes])
        await world.check_rounds(3, *communes)
        await world.check_rounds(3, switch)
        world.dead.clear()
        await world.check_rounds(2, switch)
        await world.check_rounds(1, *communes)

        async with reg.sessions() as session:
            stored = await load_outages(session, T0, world.clock.now, with_history=True)
        (root,) = [o for o in stored if o.is_root]
        assert (root.device_id, root.affected_count) == (switch, len(communes))
        assert [h.state for h in root.history] == [DeviceState.DOWN, DeviceState.UP]
        assert root.start.tzinfo is not None and root.end is not None
        suppressed = [o for o in stored if not o.is_root]
        assert sorted(o.device_id for o in suppressed) == communes
        assert {o.root_cause_device_id for o in suppressed} == {switch}
        async with reg.sessions() as session:
            assert [o.device_id for o in await load_outages(session, T0, world.clock.now, [switch])] == [
                switch
            ]


async def test_maintenance_windows_round_trip_and_refuse_unknown_scopes(db_url: str) -> None:
    async with registry(db_url) as reg:
        camera = await reg.add_device("cam-a", DeviceKind.CAMERA, "A")
        async with transaction(reg.sessions) as session:
            nightly = await add_window(
                session,
                PLANNER,
                MaintenanceWindow(
                    reason="firmware", owner="ops", site_id=reg.sites["D1"], cron="0 2 * * *", duration_s=3600
                ),
            )
            once = await add_window(
                session,
                PLANNER,
                MaintenanceWindow(
                    reason="swap",
                    owner="ops",
                    device_id=camera,
                    starts_at=T0,
                    ends_at=T0 + timedelta(hours=1),
                ),
            )
        async with reg.sessions() as session:
            windows = await list_windows(session)
        assert [w.id for w in windows] == [nightly.id, once.id]
        assert windows[1].starts_at == T0 and windows[0].cron == "0 2 * * *"
        calendar = MaintenanceCalendar(
            windows, site_of={camera: reg.sites["A"]}, site_parent={reg.sites["A"]: reg.sites["D1"]}
        )
        assert calendar.covers(camera, T0 + timedelta(minutes=30))
        assert calendar.covers(camera, T0.replace(hour=19, minute=30)), "nightly on the district"

        with pytest.raises(IntegrityError):
            async with transaction(reg.sessions) as session:
                await add_window(
                    session,
                    PLANNER,
                    MaintenanceWindow(
                        reason="x", owner="o", site_id=999_999, starts_at=T0, ends_at=T0 + timedelta(1)
                    ),
                )
        assert once.id is not None
        async with transaction(reg.sessions) as session:
            assert await delete_window(session, PLANNER, once.id)
            assert not await delete_window(session, PLANNER, once.id)
        async with reg.sessions() as session:
            assert [w.id for w in await list_windows(session)] == [nightly.id]
            trail = (
                await session.execute(
                    select(AuditEntry.action, AuditEntry.object_id, AuditEntry.actor, AuditEntry.before)
                    .where(AuditEntry.object_type == "maintenance_window")
                    .order_by(AuditEntry.id)
                )
            ).all()
        assert [(a, i, who) for a, i, who, _ in trail] == [
            ("create", nightly.id, "planner"),
            ("create", once.id, "planner"),
            ("delete", once.id, "planner"),
        ]
        assert trail[2].before["reason"] == "swap" and trail[2].before["device_id"] == camera


async def test_site_sla_matches_a_hand_computed_day(db_url: str) -> None:
    """D1 subtree: switch (D1), cam1 (commune A), cam2 (commune A2); camB in D2 is outside.
    switch: down 10-11            -> 82,800 / 86,400
    cam1:   unreachable 10-11, down 14-16, site A maintenance 15-17
            monitored 86,400 - 7,200 = 79,200; down 3,600 + 3,600 = 7,200 -> 72,000 / 79,200
    cam2:   nothing               -> 86,400 / 86,400
    D1:     241,200 / 252,000; cameras: 158,400 / 165,600."""
    async with registry(db_url) as reg:
        switch = await reg.add_device("sw", DeviceKind.SWITCH, "D1")
        cam1 = await reg.add_device("cam1", DeviceKind.CAMERA, "A", uplinks=("sw",))
        cam2 = await reg.add_device("cam2", DeviceKind.CAMERA, "A2", uplinks=("sw",))
        cam_b = await reg.add_device("camB", DeviceKind.CAMERA, "B")
        recorder = SqlOutageRecorder(reg.sessions)
        for device, root, state, start, end in [
            (switch, switch, DeviceState.DOWN, 10, 11),
            (cam1, switch, DeviceState.UNREACHABLE, 10, 11),
            (cam1, cam1, DeviceState.DOWN, 14, 16),
            (cam_b, cam_b, DeviceState.DOWN, 0, 24),
        ]:
            outage = await recorder.open(device, root, state, at(start), "test")
            await recorder.close(outage, at(end), "back")
        async with transaction(reg.sessions) as session:
            await add_window(
                session,
                PLANNER,
                MaintenanceWindow(
                    reason="pole work",
                    owner="team-a",
                    site_id=reg.sites["A"],
                    starts_at=at(15),
                    ends_at=at(17),
                ),
            )
        async with reg.sessions() as session:
            report = await site_sla(session, "D1", DAY, at(24), now=at(30))
            strict = await site_sla(session, "D1", DAY, at(24), now=at(30), count_unreachable=False)
            with pytest.raises(NotFound, match="site"):
                await site_sla(session, "NOPE", DAY, at(24), now=at(30))

    devices = {a.name: a for a in report.devices}
    assert set(devices) == {str(switch), str(cam1), str(cam2)}
    assert devices[str(switch)].uptime_pct == pytest.approx(100 * 82_800 / 86_400)
    assert (devices[str(cam1)].monitored_s, devices[str(cam1)].down_s) == (79_200, 7_200)
    assert devices[str(cam2)].uptime_pct == 100.0
    groups = {g.name: g for g in report.groups}
    assert groups["site D1"].uptime_pct == pytest.approx(100 * 241_200 / 252_000)
    assert groups["kind camera"].uptime_pct == pytest.approx(100 * 158_400 / 165_600)
    assert groups["kind switch"].devices == 1
    assert {a.name: a.down_s for a in strict.devices}[str(cam1)] == 3_600


async def test_a_burst_of_outage_writes_behind_a_held_write_lock_leaves_the_ingest_a_connection(
    sqlite_url: str,
) -> None:
    """A district cut records a hundred outages at once while another writer holds SQLite's lock:
    the recorder's transactions queue inside it, not on the pool, so the MQTT ingest's device lookup
    (a read, which WAL lets through) still gets a connection of the default pool (5 + 10)."""
    path = make_url(sqlite_url).database
    assert path is not None
    async with registry(sqlite_url) as reg:
        device = await reg.add_device("sw-d1", DeviceKind.SWITCH, "D1")
    engine = create_engine(sqlite_url, pool_timeout=1)
    sessions = session_factory(engine)
    recorder = SqlOutageRecorder(sessions)
    blocker = sqlite3.connect(path, timeout=10, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # a long write elsewhere (a bulk import, a status flush)
        burst = [
            asyncio.create_task(recorder.open(device, device, DeviceState.UNREACHABLE, at(0), "cut"))
            for _ in range(100)
        ]
        # Both of the recorder's writers hold a connection, stuck on the lock; the other 98 queue behind.
        pool = engine.pool
        assert isinstance(pool, QueuePool)  # the default pool (5 + 10)
        await wait_until(lambda: pool.checkedout() >= 2, 10, "two outage writers holding a connection")
        lookup = CredentialDirectory(sessions)
        await lookup.refresh()  # raised sqlalchemy's pool TimeoutError before the recorder was bounded
        assert not await lookup.is_known(device)  # it holds no MQTT credential
        blocker.execute("COMMIT")
        ids = await asyncio.wait_for(asyncio.gather(*burst), 60)
    finally:
        blocker.close()
        await engine.dispose()
    assert len(set(ids)) == 100
