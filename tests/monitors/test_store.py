"""Outage records and maintenance windows in a real (SQLite) registry database, and the migration."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy.exc import IntegrityError

from device_registry.db import Base, session_factory, transaction
from monitors.events import DeviceState
from monitors.maintenance import MaintenanceCalendar, MaintenanceWindow
from monitors.maintenance_store import add_window, delete_window, list_windows
from monitors.models import MONITOR_TABLES
from monitors.outage_store import SqlOutageRecorder, load_outages
from monitors.sla import sla_report
from tests.monitors.db import monitors_database, registry_tables
from tests.monitors.world import T0, World

ROOT = Path(__file__).resolve().parents[2]
SWITCH, COMMUNES = 1, list(range(100, 110))


async def test_district_outage_is_stored_and_feeds_the_sla(tmp_path: Path) -> None:
    engine = await monitors_database(tmp_path / "r.db", [SWITCH, *COMMUNES], [])
    sessions = session_factory(engine)
    world = World(topology={c: (SWITCH,) for c in COMMUNES}, store=SqlOutageRecorder(sessions))
    try:
        await world.check_rounds(1, SWITCH, *COMMUNES)
        world.dead.update([SWITCH, *COMMUNES])
        await world.check_rounds(3, *COMMUNES)
        await world.check_rounds(3, SWITCH)
        world.dead.clear()
        await world.check_rounds(2, SWITCH)
        await world.check_rounds(1, *COMMUNES)
        end = world.clock.now

        async with sessions() as session:
            stored = await load_outages(session, T0, end, with_history=True)
        roots = [o for o in stored if o.is_root]
        assert len(roots) == 1 and roots[0].device_id == SWITCH
        assert roots[0].affected_count == len(COMMUNES)
        assert [h.state for h in roots[0].history] == [DeviceState.DOWN, DeviceState.UP]
        assert sorted(o.device_id for o in stored if not o.is_root) == COMMUNES
        assert all(o.end is not None and o.start.tzinfo is not None for o in stored)

        report = sla_report({"district": [SWITCH, *COMMUNES]}, stored, lambda *_: [], T0, end, now=end)
        switch = next(a for a in report.devices if a.name == str(SWITCH))
        assert switch.down_s == (roots[0].end - roots[0].start).total_seconds()  # type: ignore[operator]
        async with sessions() as session:
            only_switch = await load_outages(session, T0, end, [SWITCH])
        assert [o.device_id for o in only_switch] == [SWITCH]
    finally:
        await engine.dispose()


async def test_maintenance_windows_round_trip_and_foreign_keys(tmp_path: Path) -> None:
    engine = await monitors_database(tmp_path / "r.db", [5], [10])
    sessions = session_factory(engine)
    try:
        async with transaction(sessions) as session:
            nightly = await add_window(
                session,
                MaintenanceWindow(
                    reason="firmware", owner="ops", site_id=10, cron="0 2 * * *", duration_s=3600
                ),
            )
            once = await add_window(
                session,
                MaintenanceWindow(
                    reason="swap", owner="ops", device_id=5, starts_at=T0, ends_at=T0 + timedelta(hours=1)
                ),
            )
        async with sessions() as session:
            windows = await list_windows(session)
        assert [w.id for w in windows] == [nightly.id, once.id]
        assert windows[1].starts_at == T0 and windows[0].cron == "0 2 * * *"
        calendar = MaintenanceCalendar(windows, site_of={5: 10}, site_parent={10: None})
        assert calendar.covers(5, T0 + timedelta(minutes=30))

        with pytest.raises(IntegrityError):
            async with transaction(sessions) as session:
                await add_window(
                    session,
                    MaintenanceWindow(
                        reason="x", owner="o", site_id=999, starts_at=T0, ends_at=T0 + timedelta(1)
                    ),
                )
        async with transaction(sessions) as session:
            assert await delete_window(session, once.id)
            assert not await delete_window(session, once.id)
        async with sessions() as session:
            assert [w.id for w in await list_windows(session)] == [nightly.id]
    finally:
        await engine.dispose()


def test_migration_creates_exactly_the_models_tables(tmp_path: Path) -> None:
    path = ROOT / "ioc" / "migrations" / "versions" / "monitors_0001.py"
    spec = importlib.util.spec_from_file_location("monitors_0001", path)
    assert spec and spec.loader
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    assert (migration.revision, migration.down_revision) == ("monitors_0001", "0001_registry")
    assert migration.branch_labels == ("monitors",)

    devices, sites = registry_tables()
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'm.db'}")
    with engine.begin() as conn:
        Base.metadata.create_all(conn, tables=[devices, sites])
        context = MigrationContext.configure(conn)
        with Operations.context(context):
            migration.upgrade()
        ours = sa.MetaData()
        for table in [devices, sites, *MONITOR_TABLES]:
            table.to_metadata(ours)
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), ours)
        assert diffs == []
        with Operations.context(MigrationContext.configure(conn)):
            migration.downgrade()
        assert not {t.name for t in MONITOR_TABLES} & set(sa.inspect(conn).get_table_names())
    engine.dispose()
