"""Alerting fixtures: a migrated SQLite database, a Thái Bình site tree, a movable clock, real receivers."""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.db import create_engine, session_factory
from monitors.alerting.config import AlertingSettings, GrafanaAnnotationSettings, OutboxSettings
from monitors.alerting.context import AlertingContext
from monitors.alerting.directory import DeviceInfo, SiteEntry, StaticDirectory
from monitors.alerting.service import AlertingService
from tests.alerting.receivers import SmtpServer, WebhookReceiver
from tests.support.fake_grafana import FakeGrafana

MIGRATION = Path(__file__).resolve().parents[2] / "ioc" / "migrations" / "versions" / "alerting_0001.py"

PROVINCE, VU_THU, TAN_HOA, SONG_LANG, KIEN_XUONG, VU_LE = 1, 2, 3, 4, 5, 6
SITES = {
    PROVINCE: SiteEntry("Tỉnh Thái Bình", None, "34"),
    VU_THU: SiteEntry("Huyện Vũ Thư", PROVINCE, "344"),
    TAN_HOA: SiteEntry("Xã Tân Hòa", VU_THU, "13279"),
    SONG_LANG: SiteEntry("Xã Song Lãng", VU_THU, "13282"),
    KIEN_XUONG: SiteEntry("Huyện Kiến Xương", PROVINCE, "345"),
    VU_LE: SiteEntry("Xã Vũ Lễ", KIEN_XUONG, "13330"),
}


def _codes(site_id: int) -> tuple[str, ...]:
    chain: list[str] = []
    current: int | None = site_id
    while current is not None:
        chain.insert(0, SITES[current].code)
        current = SITES[current].parent_id
    return tuple(chain)


DEVICES = {
    101: DeviceInfo(101, "CAM-TANHOA-01", "camera", TAN_HOA, _codes(TAN_HOA)),
    102: DeviceInfo(102, "SW-VUTHU-CORE", "switch", VU_THU, _codes(VU_THU)),
    103: DeviceInfo(103, "CAM-SONGLANG-02", "camera", SONG_LANG, _codes(SONG_LANG)),
    104: DeviceInfo(104, "CAM-VULE-01", "camera", VU_LE, _codes(VU_LE)),
    105: DeviceInfo(105, "UPS-TANHOA-01", "ups", TAN_HOA, _codes(TAN_HOA)),
}


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def migrate(connection: Connection) -> None:
    """Apply alerting_0001 exactly as Alembic would (its down revision, the registry, is not here yet)."""
    connection.execute(text("CREATE TABLE users (id INTEGER PRIMARY KEY, username VARCHAR(64) UNIQUE)"))
    connection.execute(text("INSERT INTO users (id, username) VALUES (1, 'lan'), (2, 'minh')"))
    spec = importlib.util.spec_from_file_location("alerting_0001", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with Operations.context(MigrationContext.configure(connection)):
        module.upgrade()


@pytest.fixture
async def sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(migrate)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def directory() -> StaticDirectory:
    return StaticDirectory(sites=SITES, devices=DEVICES)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 25, 1, 30, tzinfo=UTC))  # 08:30 in Hà Nội


@pytest.fixture
def settings() -> AlertingSettings:
    return AlertingSettings(
        dashboard_url="http://grafana.ioc.local/d/ioc-fleet",
        outbox=OutboxSettings(base_backoff_s=10, max_backoff_s=600, concurrency=4),
    )


@pytest.fixture
def context(sessions: Any, directory: StaticDirectory, clock: FakeClock, settings: AlertingSettings):
    return AlertingContext(
        sessions=sessions, sites=directory, devices=directory, settings=settings, clock=clock
    )


@pytest.fixture
async def service(context: AlertingContext) -> AsyncIterator[AlertingService]:
    built = AlertingService(context)
    yield built
    await built.stop()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    fake = FakeGrafana().start()
    yield fake
    fake.stop()
    assert fake.violations == [], "requests Grafana's OpenAPI spec does not accept"


@pytest.fixture
def grafana_settings(settings: AlertingSettings, grafana: FakeGrafana) -> AlertingSettings:
    settings.grafana = GrafanaAnnotationSettings(
        url=grafana.url, token=grafana.token, dashboard_uid="ioc-fleet"
    )
    return settings
