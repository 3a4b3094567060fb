"""A fresh SQLite registry with the seed world, for ONVIF onboarding tests (``registry`` fixture)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from device_registry.crypto import SecretBox, generate_key
from device_registry.db import create_engine, session_factory
from tests.registry.seed import build_world
from tests.support.onvif import Registry


@pytest.fixture
async def registry(sqlite_url: str) -> AsyncIterator[Registry]:
    engine = create_engine(sqlite_url)
    sessions = session_factory(engine)
    await build_world(sessions)
    try:
        yield Registry(sessions, SecretBox(generate_key()))
    finally:
        await engine.dispose()
