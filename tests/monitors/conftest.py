"""Fixtures for monitors tests: loopback TCP listeners that can be cut and restored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.support.process import free_port


class Listener:
    """A TCP service on 127.0.0.1 that accepts and closes connections; ``cut``/``restore`` it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.server: asyncio.Server | None = None

    async def restore(self) -> None:
        async def handle(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.close()

        self.server = await asyncio.start_server(handle, "127.0.0.1", self.port)

    async def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None


class Listeners:
    def __init__(self) -> None:
        self.all: list[Listener] = []

    async def open(self, count: int) -> list[Listener]:
        fresh = [Listener(free_port()) for _ in range(count)]
        for listener in fresh:
            await listener.restore()
        self.all.extend(fresh)
        return fresh


@pytest.fixture
async def listeners() -> AsyncIterator[Listeners]:
    pool = Listeners()
    yield pool
    for listener in pool.all:
        await listener.cut()


# The registry's migrated-database fixtures (SQLite and a real PostgreSQL, both at ``upgrade heads``,
# so they include monitors_0001). Imported rather than copied; they could move to tests/conftest.py.
from tests.registry.conftest import (  # noqa: E402, F401
    api,
    db_url,
    pg_template,
    postgres,
    sessions,
    settings,
    sqlite_template,
)
