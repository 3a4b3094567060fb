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
    ("engineer_a", "update", "B", 404),  # another scope's device: as if it did not exist
    ("engineer_a", "move_to", "B", 403),
    ("engineer_a", "delete", "A", 204),
    ("engineer_a", "delete", "B", 404),
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
def settings(settings):
    """The SNMP and ONVIF rows target loopback (nothing listens): allowed, so that what refuses them
    is the role or the scope, before any packet."""
    from provisioning.onvif.settings import OnvifSettings
    from provisioning.snmp.settings import SnmpSettings

    loopback = ["127.0.0.0/8"]
    return settings.model_copy(
        update={
            "onvif": OnvifSettings(allowed_networks=loopback),
            "snmp": SnmpSettings(allowed_networks=loopback),
        }
    )


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
    if expected in (403, 404):
        if expected == 404:
            assert str(world.site_ids["dev-B"]) in response.json()["detail"]  # no more than the id sent
            assert "scope" not in response.json()["detail"]
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


# --- Every other route: (actor, request) -> refusal, and the database exactly as it was. ---------------
# Requests are (method, path, json); {A}/{B} are device ids in communes A/B, {win_B} a maintenance window
# on B, {alert_B} a firing alert of B's device, {token_admin} the admin's token id, {user_op} the
# operator's user id, {site_A} commune A's site id.
REFUSALS = [
    # sites: only admins write the tree
    ("engineer_d1", ("PATCH", "/api/v1/sites/{site_A}", {"name": "Đổi tên"}), 403),
    ("engineer_a", ("POST", "/api/v1/sites/{site_A}/close", {"valid_to": "2026-01-01"}), 403),
    # credentials, users, tokens, audit
    (
        "maintenance_a",
        (
            "POST",
            "/api/v1/credentials",
            {"name": "c1", "credential": {"protocol": "snmp", "community": "public"}},
        ),
        403,
    ),
    (
        "operator",
        (
            "POST",
            "/api/v1/credentials",
            {"name": "c1", "credential": {"protocol": "snmp", "community": "public"}},
        ),
        403,
    ),
    ("engineer_a", ("PATCH", "/api/v1/users/{user_op}", {"role": "admin"}), 403),
    ("engineer_a", ("POST", "/api/v1/users/{user_op}/tokens", {"name": "stolen"}), 403),
    ("maintenance_a", ("DELETE", "/api/v1/tokens/{token_admin}", None), 404),
    ("operator", ("GET", "/api/v1/users", None), 403),
    ("engineer_d1", ("GET", "/api/v1/audit", None), 403),
    # devices: a refused move leaves the device in A
    ("engineer_a", ("PATCH", "/api/v1/devices/{A}", {"site_code": "B"}), 403),
    ("engineer_a", ("GET", "/api/v1/devices/{B}/history", None), 404),
    # monitors: SLA and maintenance windows within scope only
    (
        "maintenance_a",
        ("GET", "/api/v1/sla?site=B&from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z", None),
        403,
    ),
    (
        "maintenance_a",
        (
            "POST",
            "/api/v1/maintenance-windows",
            {
                "reason": "r",
                "owner": "o",
                "site_code": "B",
                "starts_at": "2026-03-01T00:00:00+07:00",
                "ends_at": "2026-03-01T04:00:00+07:00",
            },
        ),
        403,
    ),
    (
        "engineer_a",
        (
            "POST",
            "/api/v1/maintenance-windows",
            {
                "reason": "r",
                "owner": "o",
                "device_id": "{B}",
                "starts_at": "2026-03-01T00:00:00+07:00",
                "ends_at": "2026-03-01T04:00:00+07:00",
            },
        ),
        404,  # another scope's device: as if it did not exist
    ),
    (
        "operator",
        (
            "POST",
            "/api/v1/maintenance-windows",
            {
                "reason": "r",
                "owner": "o",
                "site_code": "A",
                "starts_at": "2026-03-01T00:00:00+07:00",
                "ends_at": "2026-03-01T04:00:00+07:00",
            },
        ),
        403,
    ),
    ("engineer_a", ("DELETE", "/api/v1/maintenance-windows/{win_B}", None), 404),
    ("operator", ("DELETE", "/api/v1/maintenance-windows/{win_B}", None), 403),
    # alerting: out-of-scope alerts do not exist for the caller; engineers do not acknowledge
    ("maintenance_a", ("GET", "/api/v1/alerts/{alert_B}", None), 404),
    ("maintenance_a", ("GET", "/api/v1/alerts/{alert_B}/deliveries", None), 404),
    ("maintenance_a", ("POST", "/api/v1/alerts/{alert_B}/ack", {"comment": "x"}), 404),
    ("maintenance_a", ("POST", "/api/v1/alerts/{alert_B}/resolve", None), 404),
    ("engineer_d1", ("POST", "/api/v1/alerts/{alert_B}/ack", {"comment": "x"}), 403),
    # sensors and their broker credentials
    (
        "engineer_a",
        ("POST", "/api/v1/mqtt/onboard", {"name": "s-1", "kind": "sensor", "site_code": "B"}),
        403,
    ),
    (
        "maintenance_a",
        ("POST", "/api/v1/mqtt/onboard", {"name": "s-1", "kind": "sensor", "site_code": "A"}),
        403,
    ),
    ("operator", ("POST", "/api/v1/mqtt/onboard", {"name": "s-1", "kind": "sensor", "site_code": "A"}), 403),
    ("engineer_a", ("POST", "/api/v1/mqtt/devices/{B}/password", None), 404),
    ("maintenance_a", ("POST", "/api/v1/mqtt/devices/{A}/password", None), 403),
    ("operator", ("POST", "/api/v1/mqtt/devices/{A}/revoke", None), 403),
    # SNMP and ONVIF: refused before any packet is sent (the targets are loopback, nothing listens)
    (
        "operator",
        (
            "POST",
            "/api/v1/snmp/probe",
            {"host": "127.0.0.1", "port": 9, "credential": {"protocol": "snmp", "community": "public"}},
        ),
        403,
    ),
    (
        "maintenance_a",
        (
            "POST",
            "/api/v1/snmp/onboard",
            {
                "host": "127.0.0.1",
                "port": 9,
                "site_code": "A",
                "credential": {"protocol": "snmp", "community": "public"},
            },
        ),
        403,
    ),
    (
        "maintenance_a",
        (
            "POST",
            "/api/v1/snmp/discover",
            {"cidr": "127.0.0.1/32", "port": 9, "credentials": [{"protocol": "snmp", "community": "public"}]},
        ),
        403,
    ),
    (
        "operator",
        (
            "POST",
            "/api/v1/onvif/onboard",
            {"address": "127.0.0.1", "port": 9, "username": "u", "password": "p", "site_code": "A"},
        ),
        403,
    ),
    (
        "engineer_a",
        (
            "POST",
            "/api/v1/onvif/onboard",
            {"address": "127.0.0.1", "port": 9, "username": "u", "password": "p", "site_code": "B"},
        ),
        403,
    ),
    # discovery is for network engineers: refused before any packet or broker connection
    (
        "operator",
        ("POST", "/api/v1/onvif/discover", {"address": "127.0.0.1", "port": 9, "timeout_s": 0.1}),
        403,
    ),
    (
        "maintenance_a",
        ("POST", "/api/v1/mqtt/discover", {"host": "127.0.0.1", "port": 9, "listen_s": 0.1}),
        403,
    ),
    (None, ("POST", "/api/v1/mqtt/discover", {"listen_s": 0.1}), 401),
    # status and outages (merged from the status branch): another commune is as if it did not exist
    ("maintenance_a", ("GET", "/api/v1/status?site=B", None), 404),
    ("engineer_a", ("GET", "/api/v1/outages?site=B", None), 404),
    (None, ("GET", "/api/v1/status", None), 401),
    # dead letters and metrics
    ("maintenance_a", ("GET", "/metrics", None), 403),
    (None, ("GET", "/api/v1/deadletters", None), 401),
    (None, ("POST", "/api/v1/mqtt/onboard", {"name": "s-1", "kind": "sensor", "site_code": "A"}), 401),
    (None, ("DELETE", "/api/v1/maintenance-windows/{win_B}", None), 401),
]

IGNORED_COLUMNS = {"last_used_at"}


async def _snapshot(sessions) -> dict[str, list[tuple]]:
    """Every row of every table, minus token use times (authentication touches them) and the audit log."""
    from sqlalchemy import text

    from device_registry.db import Base  # the full metadata: ioc.app imported every area's models

    tables: dict[str, list[tuple]] = {}
    async with sessions() as session:
        for table in Base.metadata.sorted_tables:
            if table.name == "audit_log":
                continue
            columns = [c.name for c in table.columns if c.name not in IGNORED_COLUMNS]
            rows = await session.execute(text(f"SELECT {', '.join(columns)} FROM {table.name} ORDER BY 1"))
            tables[table.name] = [tuple(r) for r in rows]
    return tables


@pytest.fixture
async def full_world(api, world, sessions):
    """``world`` plus a maintenance window and a firing alert in commune B."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from device_registry.models import ApiToken
    from monitors.alerting.models import Alert

    admin = api.as_("admin")
    window = await api.client.post(
        "/api/v1/maintenance-windows",
        json={
            "reason": "UPS",
            "owner": "team-b",
            "site_code": "B",
            "starts_at": "2026-03-01T00:00:00+07:00",
            "ends_at": "2026-03-01T04:00:00+07:00",
        },
        headers=admin,
    )
    assert window.status_code == 201, window.text
    async with sessions() as session, session.begin():
        alert = Alert(
            dedup_key=f"device:{world.site_ids['dev-B']}",
            opened_by="test",
            device_id=world.site_ids["dev-B"],
            severity="critical",
            started_at=datetime.now(UTC),
        )
        session.add(alert)
        await session.flush()
        token_admin = await session.scalar(
            select(ApiToken.id).where(ApiToken.user_id == world.user_ids["admin"])
        )
        values = {
            "A": world.site_ids["dev-A"],
            "B": world.site_ids["dev-B"],
            "site_A": world.site_ids["A"],
            "win_B": window.json()["id"],
            "alert_B": alert.id,
            "token_admin": token_admin,
            "user_op": world.user_ids["operator"],
        }
    return values


def _fill(value, ids):
    if isinstance(value, str):
        for key, v in ids.items():
            if value == f"{{{key}}}":
                return v
            value = value.replace(f"{{{key}}}", str(v))
        return value
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_every_route_refuses_outside_role_and_scope_and_writes_nothing(api, full_world, sessions):
    """One world for the whole table (building one per row cost ~2 s each); the database is compared
    in full before and after every refused request."""
    wrong: list[str] = []
    for who, (method, path, body), expected in REFUSALS:
        before = await _snapshot(sessions)
        response = await api.client.request(
            method,
            _fill(path, full_world),
            json=_fill(body, full_world),
            headers=api.as_(who) if who else {},
        )
        label = f"{who} {method} {path}"
        if response.status_code != expected:
            wrong.append(f"{label}: {response.status_code} (expected {expected}) {response.text[:200]}")
        elif await _snapshot(sessions) != before:
            wrong.append(f"{label}: refused, but the database changed")
        elif expected == 404 and "scope" in response.text:
            wrong.append(f"{label}: the 404 mentions a scope: {response.text}")
    assert not wrong, "\n".join(wrong)
    # The refused move: the device is still in A.
    device = await api.client.get(_fill("/api/v1/devices/{A}", full_world), headers=api.as_("admin"))
    assert device.json()["site"]["code"] == "A"
    health = await api.client.get("/api/v1/health")
    assert health.status_code == 200 and health.json()["database"] == "ok"
