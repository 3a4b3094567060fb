"""Every real server the tests talk to, as pytest fixtures: one place to find how each is started.

Registered for the whole suite by ``tests/conftest.py`` (``pytest_plugins``). Each server runs on a free
loopback port from a temporary folder and is stopped when its scope ends; a missing binary fails the
test with its install command. The servers themselves are in the sibling modules, which the benches
use too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Protocol, TypeVar

import pytest

from tests.support.mosquitto import Broker, start_broker
from tests.support.onvif import Fleet, RtspServer, start_rtsp_server
from tests.support.postgres import PostgresServer, start_postgres
from tests.support.process import ManagedProcess
from tests.support.receivers import SmtpServer, WebhookReceiver
from tests.support.snmpd import Agent, start_snmpd, start_snmpsim
from tests.support.tsdb import InfluxServer, VictoriaServer, start_influxdb, start_victoria


class _RunsAProcess(Protocol):
    @property
    def process(self) -> ManagedProcess: ...


S = TypeVar("S", bound=_RunsAProcess)


def _stopped_at_end(server: S) -> Iterator[S]:
    """Yield a started server to its fixture's scope and stop its process when the scope ends."""
    try:
        yield server
    finally:
        server.process.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The run's one PostgreSQL (one per xdist worker); tests get databases copied from a template."""
    server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def influxdb(tmp_path: Path) -> Iterator[InfluxServer]:
    yield from _stopped_at_end(start_influxdb(tmp_path / "influxdb"))


@pytest.fixture
def victoria(tmp_path: Path) -> Iterator[VictoriaServer]:
    yield from _stopped_at_end(start_victoria(tmp_path / "victoria"))


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """Mosquitto from the platform's generated config (the ingest service user only)."""
    yield from _stopped_at_end(start_broker(tmp_path))


@pytest.fixture(scope="session")
def snmpd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    yield from _stopped_at_end(start_snmpd(tmp_path_factory.mktemp("snmpd")))


@pytest.fixture(scope="session")
def snmpsim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    """snmpsim with real device walks; community = recording name."""
    yield from _stopped_at_end(start_snmpsim(tmp_path_factory.mktemp("snmpsim")))


@pytest.fixture(scope="session")
def rtsp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    yield from _stopped_at_end(start_rtsp_server(tmp_path_factory.mktemp("rtsp")))


@pytest.fixture
async def fleet() -> AsyncIterator[Fleet]:
    """``cam = await fleet(h265_only=True)``: starts one simulated camera per call, all stopped at the end."""
    cameras = Fleet()
    try:
        yield cameras
    finally:
        await cameras.stop_all()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()
