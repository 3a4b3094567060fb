"""Alerting fixtures: a migrated SQLite database, a Thái Bình site tree, a movable clock, real receivers."""

from __future__ import annotations

import asyncio
import itertools
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.db import create_engine, session_factory
from ioc.migrate import upgrade
from monitors.alerting.config import AlertingSettings, GrafanaAnnotationSettings, OutboxSettings
from monitors.alerting.context import AlertingContext
from monitors.alerting.directory import RegistryDirectory
from monitors.alerting.service import AlertingService
from tests.alerting.scenario import BOX
from tests.alerting.world import START, World, build_world
from tests.support.fake_grafana import FakeGrafana
from tests.support.postgres import PostgresServer

_databases = itertools.count()


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every migration (the registry's and alerting_0001) applied once; each test gets a copy."""
    path = tmp_path_factory.mktemp("alerting-template") / "registry.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(migrated_template: Path, tmp_path: Path) -> str:
    target = tmp_path / "registry.db"
    shutil.copy(migrated_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Every alerting test runs on SQLite (the embedded default) and on a real PostgreSQL."""
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
        return url
    server: PostgresServer = request.getfixturevalue("postgres")  # the run's one PostgreSQL
    template: str = request.getfixturevalue("pg_template")
    name = f"alerting_{next(_databases)}"
    asyncio.run(server.execute(f"CREATE DATABASE {name} TEMPLATE {template}"))
    return server.url(name)


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
