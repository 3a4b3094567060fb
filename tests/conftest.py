"""Fixtures shared by every test area: a migrated database per test on SQLite and on a real PostgreSQL
(one server per run), settings pointing at it, an API client on the app, and the real device agents
several areas check against (net-snmp's snmpd, simulated ONVIF cameras, GStreamer's RTSP server)."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import AsyncIterator, Iterator
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
from tests.support.onvif import Fleet, RtspServer, start_rtsp_server
from tests.support.postgres import PostgresServer, start_postgres
from tests.support.snmpd import Agent, start_snmpd
from tests.telemetry.servers import InfluxServer, start_influxdb

_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pg_template(postgres: PostgresServer) -> str:
    """One migrated database; each test gets a copy (CREATE DATABASE … TEMPLATE) in milliseconds."""
    import asyncio

    asyncio.run(postgres.execute("CREATE DATABASE ioc_template"))
    upgrade(postgres.url("ioc_template"))
    return "ioc_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "registry.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "registry.db"
        shutil.copy(template, target)
        return f"sqlite+aiosqlite:///{target}"
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


@pytest.fixture(scope="session")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    agent = start_snmpd(tmp_path_factory.mktemp("snmpd"))
    try:
        yield agent
    finally:
        agent.process.stop()


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    """``cam = await fleet(h265_only=True)``: starts one simulated camera per call, all stopped at the end."""
    cameras = Fleet()
    try:
        yield cameras
    finally:
        await cameras.stop_all()


@pytest.fixture(scope="session")
def rtsp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    server = start_rtsp_server(tmp_path_factory.mktemp("rtsp"))
    try:
        yield server
    finally:
        server.process.stop()


@pytest.fixture
def influxdb(tmp_path: Path) -> Iterator[InfluxServer]:
    server = start_influxdb(tmp_path / "influxdb")
    try:
        yield server
    finally:
        server.process.stop()
