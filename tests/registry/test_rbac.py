"""Who may write where: a user scoped to one commune gets 403 on every write outside it."""

from __future__ import annotations

import pytest

from tests.registry.seed import build_world

CSV_HEADER = "name,kind,site\n"

# (actor, action, target) -> expected status.  Targets: A is the scope of engineer_a and maintenance_a;
# B is in another district; D1 is engineer_d1's district, which contains A and A2.
CASES = [
    ("engineer_a", "create", "A", 201),
    ("engineer_a", "create", "A2", 403),
    ("engineer_a", "create", "B", 403),
    ("engineer_a", "update", "A", 200),
    ("engineer_a", "update", "B", 403),
    ("engineer_a", "move_to", "B", 403),
    ("engineer_a", "delete", "A", 204),
    ("engineer_a", "delete", "B", 403),
    ("engineer_a", "import", "A", 200),
    ("engineer_a", "import", "B", 403),
    ("engineer_a", "create_site", "A", 403),
    ("engineer_a", "create_user", "A", 403),
    ("engineer_d1", "create", "A2", 201),
    ("engineer_d1", "move_to", "A2", 200),
    ("engineer_d1", "create", "B", 403),
    ("maintenance_a", "create", "A", 403),
    ("maintenance_a", "update", "A", 403),
    ("maintenance_a", "delete", "A", 403),
    ("maintenance_a", "import", "A", 403),
    ("operator", "create", "A", 403),
    ("operator", "update", "B", 403),
    ("operator", "import", "B", 403),
    ("admin", "create", "B", 201),
    ("admin", "update", "B", 200),
    ("admin", "create_site", "A", 201),
    ("admin", "create_user", "A", 201),
]


@pytest.fixture
async def world(api, sessions):
    w = await build_world(sessions)
    api.tokens.update(w.tokens)
    admin = api.as_("admin")
    for site in ("A", "B"):
        response = await api.client.post(
            "/api/v1/devices",
            json={"name": f"dev-{site}", "kind": "switch", "site_code": site},
            headers=admin,
        )
        assert response.status_code == 201
        w.site_ids[f"dev-{site}"] = response.json()["id"]
    return w


async def perform(api, world, who, action, target):
    h = api.as_(who)
    c = api.client
    if action == "create":
        return await c.post(
            "/api/v1/devices",
            json={"name": f"new-{target}", "kind": "camera", "site_code": target},
            headers=h,
        )
    if action == "update":
        return await c.patch(
            f"/api/v1/devices/{world.site_ids[f'dev-{target}']}", json={"vendor": "Cisco"}, headers=h
        )
    if action == "move_to":
        return await c.patch(
            f"/api/v1/devices/{world.site_ids['dev-A']}", json={"site_code": target}, headers=h
        )
    if action == "delete":
        return await c.delete(f"/api/v1/devices/{world.site_ids[f'dev-{target}']}", headers=h)
    if action == "import":
        body = CSV_HEADER + f"imported-{target},camera,{target}\n"
        return await c.post(
            "/api/v1/devices/import", content=body.encode(), headers={**h, "Content-Type": "text/csv"}
        )
    if action == "create_site":
        return await c.post(
            "/api/v1/sites",
            json={"code": "BLD-1", "name": "Tòa nhà", "kind": "site", "parent_code": target},
            headers=h,
        )
    if action == "create_user":
        return await c.post("/api/v1/users", json={"username": "new-user", "role": "operator"}, headers=h)
    raise AssertionError(action)


@pytest.mark.parametrize(
    ("who", "action", "target", "expected"), CASES, ids=[f"{w}-{a}-{t}" for w, a, t, _ in CASES]
)
async def test_write_permissions(api, world, who, action, target, expected):
    response = await perform(api, world, who, action, target)
    assert response.status_code == expected, response.text
    if expected == 403:
        listing = await api.client.get("/api/v1/devices", params={"limit": 1000}, headers=api.as_("admin"))
        names = {d["name"] for d in listing.json()["items"]}
        assert names == {"dev-A", "dev-B"}, "a refused write changed something"
        assert all(d["vendor"] is None for d in listing.json()["items"])


async def test_scoped_reads_see_only_their_subtree(api, world):
    def names(response):
        return sorted(d["name"] for d in response.json()["items"])

    assert names(await api.client.get("/api/v1/devices", headers=api.as_("maintenance_a"))) == ["dev-A"]
    assert names(await api.client.get("/api/v1/devices", headers=api.as_("operator"))) == ["dev-A", "dev-B"]
    hidden = await api.client.get(
        f"/api/v1/devices/{world.site_ids['dev-B']}", headers=api.as_("maintenance_a")
    )
    assert hidden.status_code == 404
