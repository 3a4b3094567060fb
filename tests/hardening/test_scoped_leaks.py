"""What a user scoped to commune A, or a client without a token, could read or forge before issue 14."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from ioc.app import create_app
from ioc.settings import Settings
from tests.hardening.conftest import assert_healthy
from tests.support.api import Api

SCRAPE_TOKEN = "scrape-" + "x" * 24


async def test_maintenance_windows_of_other_scopes_are_not_listed(api, world):
    admin = api.as_("admin")
    for body in (
        {"reason": "Thay UPS xã Đông Các", "owner": "team-b", "site_code": "B"},
        {"reason": "Nâng cấp xã Hồng Lý", "owner": "team-a", "site_code": "A"},
        {"reason": "Huyện Vũ Thư", "owner": "team-d1", "site_code": "D1"},
        {"reason": "switch B", "owner": "team-b", "device_id": world.site_ids["dev-B"]},
    ):
        body |= {"starts_at": "2026-03-01T00:00:00+07:00", "ends_at": "2026-03-01T04:00:00+07:00"}
        created = await api.client.post("/api/v1/maintenance-windows", json=body, headers=admin)
        assert created.status_code == 201, created.text

    async def reasons(who: str) -> list[str]:
        response = await api.client.get("/api/v1/maintenance-windows", headers=api.as_(who))
        assert response.status_code == 200
        return sorted(w["reason"] for w in response.json())

    # Commune A's users see A's window and the district window that covers A, nothing of B.
    assert await reasons("maintenance_a") == ["Huyện Vũ Thư", "Nâng cấp xã Hồng Lý"]
    assert await reasons("engineer_a") == ["Huyện Vũ Thư", "Nâng cấp xã Hồng Lý"]
    assert len(await reasons("operator")) == 4  # unscoped
    assert len(await reasons("admin")) == 4
    await assert_healthy(api)


@pytest.fixture
async def scraped(settings: Settings) -> AsyncIterator[Api]:
    app = create_app(settings.model_copy(update={"metrics_token": SecretStr(SCRAPE_TOKEN)}))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ioc.test") as client:
            yield Api(client, {})


async def test_metrics_are_for_admins_and_the_scrape_token_only(scraped, sessions):
    from tests.registry.seed import build_world

    world = await build_world(sessions)
    scraped.tokens.update(world.tokens | {"scraper": SCRAPE_TOKEN, "forged": SCRAPE_TOKEN + "y"})
    for who in ("maintenance_a", "engineer_a", "operator"):
        refused = await scraped.client.get("/metrics", headers=scraped.as_(who))
        assert refused.status_code == 403, who
        assert "ioc_" not in refused.text and "process_" not in refused.text
    assert (await scraped.client.get("/metrics")).status_code == 401
    assert (await scraped.client.get("/metrics", headers=scraped.as_("forged"))).status_code == 401
    for who in ("admin", "scraper"):
        allowed = await scraped.client.get("/metrics", headers=scraped.as_(who))
        assert allowed.status_code == 200 and "ioc_telemetry_points_written_total" in allowed.text
    await assert_healthy(scraped)


FORGED = "cam-1\n2026-03-01 00:00:00 INFO admin logged in from 10.0.0.1\x1b[2J\x1b[31m"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/devices", {"name": FORGED, "kind": "camera", "site_code": "A"}, "name"),
        (
            "/api/v1/devices",
            {"name": "cam-2", "kind": "camera", "site_code": "A", "vendor": FORGED},
            "vendor",
        ),
        ("/api/v1/sites", {"code": "X1", "name": FORGED, "kind": "site", "parent_code": "A"}, "name"),
        ("/api/v1/me/tokens", {"name": "laptop\u202egnp.exe"}, "name"),
    ],
    ids=["device-name", "device-vendor", "site-name", "token-name-bidi"],
)
async def test_names_with_control_characters_are_refused(api, world, path, body, field):
    who = "admin" if path == "/api/v1/sites" else "engineer_a"
    before = await api.client.get("/api/v1/devices", headers=api.as_("admin"))
    response = await api.client.post(path, json=body, headers=api.as_(who))
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert any(e["loc"][-1] == field and "control characters" in e["msg"] for e in errors), errors
    after = await api.client.get("/api/v1/devices", headers=api.as_("admin"))
    assert after.json() == before.json()
    sites = await api.client.get("/api/v1/sites", params={"search": "X1"}, headers=api.as_("admin"))
    assert all(s["code"] != "X1" for s in sites.json()["items"])
    tokens = await api.client.get("/api/v1/me/tokens", headers=api.as_(who))
    assert len(tokens.json()) == 1
    await assert_healthy(api)


async def test_renaming_a_device_to_a_forged_log_line_is_refused(api, world):
    device = world.site_ids["dev-A"]
    response = await api.client.patch(
        f"/api/v1/devices/{device}", json={"name": FORGED}, headers=api.as_("engineer_a")
    )
    assert response.status_code == 422 and response.json()["detail"][0]["loc"][-1] == "name"
    unchanged = await api.client.get(f"/api/v1/devices/{device}", headers=api.as_("admin"))
    assert unchanged.json()["name"] == "dev-A"
