"""Fixtures shared by every test area: a migrated database per test on SQLite and on a real PostgreSQL
(one server per run), settings pointing at it, and an API client on the app. The real servers and
device agents are fixtures in ``tests/support/fixtures.py``."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.crypto import SecretBox, generate_key
from device_registry.db import create_engine, session_factory
from ioc.app import create_app
from ioc.migrate import upgrade
from ioc.settings import Settings
from tests.support.api import Api
from tests.support.postgres import PostgresServer

pytest_plugins = ("tests.support.fixtures",)
"""The real servers: PostgreSQL, InfluxDB, VictoriaMetrics, Mosquitto, snmpd, snmpsim, RTSP, SMTP, webhook."""

_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_template(postgres: PostgresServer) -> str:
    """One migrated database; each test gets a copy (CREATE DATABASE … TEMPLATE) in milliseconds."""
    import asyncio

    asyncio.run(postgres.execute("CREATE DATABASE ioc_template"))
    upgrade(postgres.url("ioc_template"))
    return "ioc_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every migration applied once per run; each test copies the file (:func:`sqlite_url`)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "registry.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    """This test's own copy of the migrated SQLite template."""
    target = tmp_path / "registry.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test that takes it runs on SQLite (the embedded default) and on the run's real PostgreSQL."""
    if request.param == "sqlite":
        url: str = request.getfixturevalue("sqlite_url")
        return url
    server: PostgresServer = request.getfixturevalue("postgres")
    template_name: str = request.getfixturevalue("pg_template")
    name = f"test_{next(_counter)}"
    import asyncio

    asyncio.run(server.execute(f"CREATE DATABASE {name} TEMPLATE {template_name}"))
    return server.url(name)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", database_url=db_url, secret_key=generate_key())


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(settings.effective_database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def box(settings: Settings) -> SecretBox:
    assert settings.secret_key is not None
    return SecretBox(settings.secret_key)


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ioc.test") as client:
            yield Api(client, {})
