"""Alerting fixtures: a Thái Bình site tree, a movable clock, real receivers. The database is the root
``db_url``: every alerting test runs on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.db import create_engine, session_factory
from monitors.alerting.config import AlertingSettings, GrafanaAnnotationSettings, OutboxSettings
from monitors.alerting.context import AlertingContext
from monitors.alerting.directory import RegistryDirectory
from monitors.alerting.service import AlertingService
from tests.alerting.scenario import BOX
from tests.alerting.world import START, World, build_world
from tests.support.fake_grafana import FakeGrafana


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(db_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> World:
    return await build_world(sessions)


@pytest.fixture
def directory(sessions: async_sessionmaker[AsyncSession], world: World) -> RegistryDirectory:
    return RegistryDirectory(sessions)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def settings() -> AlertingSettings:
    return AlertingSettings(
        dashboard_url="http://grafana.ioc.local/d/ioc-fleet",
        outbox=OutboxSettings(base_backoff_s=10, max_backoff_s=600, concurrency=4),
    )


@pytest.fixture
def context(sessions: Any, directory: RegistryDirectory, clock: FakeClock, settings: AlertingSettings):
    return AlertingContext(
        sessions=sessions, sites=directory, devices=directory, box=BOX, settings=settings, clock=clock
    )


@pytest.fixture
async def service(context: AlertingContext) -> AsyncIterator[AlertingService]:
    built = AlertingService(context)
    yield built
    await built.stop()


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
