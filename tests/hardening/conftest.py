"""Hardening tests (issue 14): each finding's attack against a live app, then the refusal, that nothing
was written, and that the server still answers. On SQLite only: the attacks are in the API layer, and
the registry's own tests cover both databases."""

from __future__ import annotations

import pytest

from tests.registry.seed import World, build_world
from tests.support.api import Api


@pytest.fixture
def db_url(sqlite_url: str) -> str:
    """SQLite only: these tests are about the API's edges, not the database."""
    return sqlite_url


@pytest.fixture
async def world(api: Api, sessions) -> World:
    """The registry's small world (sites P > D1 > A, A2; P > D2 > B; a user per role) with a switch in A
    and in B."""
    w = await build_world(sessions)
    api.tokens.update(w.tokens)
    for site in ("A", "B"):
        response = await api.client.post(
            "/api/v1/devices",
            json={"name": f"dev-{site}", "kind": "switch", "site_code": site},
            headers=api.as_("admin"),
        )
        assert response.status_code == 201, response.text
        w.site_ids[f"dev-{site}"] = response.json()["id"]
    return w


async def assert_healthy(api: Api) -> None:
    response = await api.client.get("/api/v1/health")
    assert response.status_code == 200 and response.json()["database"] == "ok"
