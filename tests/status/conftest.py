"""The district-outage world, built once per test on the database of the ``api`` fixture."""

from __future__ import annotations

import pytest

from tests.status.world import StatusWorld, build_status_world


@pytest.fixture
async def world(api, sessions, box) -> StatusWorld:
    built = await build_status_world(sessions, box)
    api.tokens.update(built.tokens)
    return built
