"""Credentials do not cross scopes: a device's own credential serves no other device, and a shared one
serves only devices under its owning site, referenced only by users whose scope covers that site."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from ioc.migrate import upgrade
from tests.security.conftest import Live, unique

SNMP = {"protocol": "snmp", "version": "2c", "community": "camera-b-secret"}


def _tree(live: Live) -> dict[str, str]:
    """province P > district D > communes A, A2; province P > district E > commune B."""
    codes = {k: unique(k) for k in ("P", "D", "E", "A", "A2", "B")}
    live.site(codes["P"], kind="province")
    live.site(codes["D"], codes["P"], kind="district")
    live.site(codes["E"], codes["P"], kind="district")
    for commune, parent in (("A", "D"), ("A2", "D"), ("B", "E")):
        live.site(codes[commune], codes[parent])
    return codes


def _add_device(client: httpx.Client, site: str, kind: str = "switch", **extra: object) -> httpx.Response:
    """``POST /api/v1/devices`` of a new uniquely named device at ``site``."""
    return client.post(
        "/api/v1/devices", json={"name": unique(f"{kind}-"), "kind": kind, "site_code": site, **extra}
    )


def test_a_cameras_private_credential_cannot_be_borrowed_by_api_import_or_cli(live: Live) -> None:
    codes = _tree(live)
    _, engineer_a = live.user("engineer", codes["A"])
    _, engineer_b = live.user("engineer", codes["B"])
    with live.client(engineer_b) as b:
        camera = _add_device(b, codes["B"], "camera", credential=SNMP)
        assert camera.status_code == 201, camera.text
    private = f"device/{camera.json()['id']}"
    devices, credential_of = live.count("devices"), live.sql("SELECT id, credential_id FROM devices")

    with live.client(engineer_a) as a:
        stolen = _add_device(a, codes["A"], "camera", credential_ref=private)
        # B's camera is out of A's sight: its credential answers exactly as one no device has.
        absent = _add_device(a, codes["A"], "camera", credential_ref="device/999999")
        assert stolen.status_code == absent.status_code == 404, stolen.text
        assert stolen.json() == {
            **absent.json(),
            "detail": absent.json()["detail"].replace("999999", private[7:]),
        }
        own = _add_device(a, codes["A"], "camera")
        assert own.status_code == 201
        devices += 1
        credential_of = live.sql("SELECT id, credential_id FROM devices")
        patched = a.patch(f"/api/v1/devices/{own.json()['id']}", json={"credential_ref": private})
        assert patched.status_code == 404 and patched.json()["field"] == "credential_ref"
        csv = f"name,kind,site,credential\n{unique('imp-')},camera,{codes['A']},{private}\n"
        imported = a.post("/api/v1/devices/import", content=csv, headers={"Content-Type": "text/csv"})
        assert imported.status_code == 422, imported.text
        assert imported.json()["errors"][0] | {"line": 2} == {
            "line": 2,
            "field": "credential",
            "message": f"no credential named {private!r}",
        }
        squat = a.post("/api/v1/credentials", json={"name": "device/999999", "credential": SNMP})
        assert squat.status_code == 422 and squat.json()["field"] == "name"
    cli = live.ioc(
        "--json",
        "devices",
        "add",
        unique("cli-"),
        "--kind",
        "camera",
        "--site",
        codes["A"],
        "--credential",
        private,
    )
    assert cli.returncode != 0 and "credential_ref" in cli.stderr, cli.stderr
    assert live.count("devices") == devices
    assert live.sql("SELECT id, credential_id FROM devices") == credential_of

    # SQLite hands a deleted last row's id to the next device: the old camera's secret must not wait there.
    with live.client(engineer_b) as b:
        gone = _add_device(b, codes["B"], "camera", credential=SNMP).json()["id"]
        assert b.delete(f"/api/v1/devices/{gone}").status_code == 204
    assert live.sql("SELECT count(*) FROM credentials WHERE name = ?", f"device/{gone}") == [(0,)]
    with live.client(engineer_a) as a:
        heir = _add_device(a, codes["A"], "camera").json()["id"]
        inherited = a.patch(f"/api/v1/devices/{heir}", json={"credential_ref": f"device/{gone}"})
        assert inherited.status_code in (403, 404), inherited.text
    assert live.healthy()


def test_shared_credentials_belong_to_a_site_and_stay_in_its_subtree(live: Live) -> None:
    codes = _tree(live)
    _, engineer_a = live.user("engineer", codes["A"])
    _, engineer_d = live.user("engineer", codes["D"])
    _, engineer_b = live.user("engineer", codes["B"])
    name_b = unique("community-b-")
    with live.client(engineer_b) as b:
        made = b.post("/api/v1/credentials", json={"name": name_b, "credential": SNMP})
        assert made.status_code == 201 and made.json()["site_code"] == codes["B"], (
            made.text
        )  # default: own scope
        wider = b.post(
            "/api/v1/credentials", json={"name": unique("x-"), "credential": SNMP, "site_code": codes["P"]}
        )
        nowhere = b.post(
            "/api/v1/credentials", json={"name": unique("x-"), "credential": SNMP, "site_code": "NO-SUCH"}
        )
        # P exists but lies outside B's scope: the same answer as a code no site has.
        assert wider.status_code == nowhere.status_code == 404, wider.text
        assert wider.json() == {
            **nowhere.json(),
            "detail": nowhere.json()["detail"].replace("NO-SUCH", codes["P"]),
        }
    with live.client(engineer_d) as d:
        name_d = unique("community-d-")
        assert d.post("/api/v1/credentials", json={"name": name_d, "credential": SNMP}).status_code == 201
    credentials = live.count("credentials")
    devices = live.count("devices")
    with live.client(engineer_a) as a:
        listed = {c["name"] for c in a.get("/api/v1/credentials").json()}
        assert name_b not in listed and name_d not in listed  # D is above A's scope: not A's to use
        for ref in (name_b, name_d):
            used = _add_device(a, codes["A"], credential_ref=ref)
            assert used.status_code == 404 and used.json()["field"] == "credential_ref", used.text
    with live.as_admin() as admin:
        outside = _add_device(admin, codes["A"], credential_ref=name_b)
        assert outside.status_code == 422 and outside.json()["field"] == "credential_ref", outside.text
    with live.client(engineer_d) as d:
        inside = _add_device(d, codes["A2"], credential_ref=name_d)
        assert inside.status_code == 201, inside.text
        moved = d.patch(f"/api/v1/devices/{inside.json()['id']}", json={"site_code": codes["B"]})
        assert moved.status_code in (403, 422)  # B is outside both D's scope and the credential's site
    with live.as_admin() as admin:  # even an admin cannot carry D's credential out of D
        carried = admin.patch(f"/api/v1/devices/{inside.json()['id']}", json={"site_code": codes["B"]})
        assert carried.status_code == 422 and carried.json()["field"] == "site", carried.text
        csv = f"name,kind,site\n{inside.json()['name']},switch,{codes['B']}\n"
        imported = admin.post("/api/v1/devices/import", content=csv, headers={"Content-Type": "text/csv"})
        assert imported.status_code == 422 and imported.json()["errors"][0]["field"] == "site", imported.text
    assert live.sql("SELECT site_id FROM devices WHERE id = ?", inside.json()["id"]) == [
        (live.ids[codes["A2"]],)
    ]
    assert live.count("credentials") == credentials and live.count("devices") == devices + 1
    assert live.healthy()


def test_migration_gives_existing_shared_credentials_their_devices_common_site(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    url = f"sqlite+aiosqlite:///{db}"
    upgrade(url, "0001_registry")
    old = "2025-01-01 00:00:00"
    with sqlite3.connect(db) as conn:
        sites = [(1, None, "/1/", "P"), (2, 1, "/1/2/", "D"), (3, 2, "/1/2/3/", "A"), (4, 2, "/1/2/4/", "A2")]
        for site_id, parent, path, code in sites:
            conn.execute(
                "INSERT INTO sites (id, parent_id, path, depth, kind, code, code_scheme, code_version, name, "
                "name_folded, created_at, updated_at) VALUES (?, ?, ?, 0, 'site', ?, 'local', '', ?, ?, ?, ?)",
                (site_id, parent, path, code, code, code.lower(), old, old),
            )
        for cred_id, name in ((1, "used-in-a-and-a2"), (2, "unused"), (3, "device/1")):
            conn.execute(
                "INSERT INTO credentials (id, name, protocol, secret, created_at, updated_at) "
                "VALUES (?, ?, 'snmp', x'00', ?, ?)",
                (cred_id, name, old, old),
            )
        for dev_id, site, cred in ((1, 3, 3), (2, 3, 1), (3, 4, 1)):
            conn.execute(
                "INSERT INTO devices (id, name, name_folded, kind, protocols, site_id, lifecycle, credential_id, "
                "attributes, created_at, updated_at) VALUES (?, ?, ?, 'switch', '[]', ?, 'active', ?, '{}', ?, ?)",
                (dev_id, f"d{dev_id}", f"d{dev_id}", site, cred, old, old),
            )
        conn.execute(
            "INSERT INTO users (id, username, full_name, role, scope_frozen, active, created_at) "
            "VALUES (1, 'ops', '', 'admin', 0, 1, ?)",
            (old,),
        )
        for token_id, revoked in ((1, None), (2, old)):
            conn.execute(
                "INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, created_at, revoked_at) "
                "VALUES (?, 1, '', ?, 'ioc_x', ?, ?)",
                (token_id, f"h{token_id}", old, revoked),
            )
    asyncio.run(asyncio.to_thread(upgrade, url))
    with sqlite3.connect(db) as conn:
        owners = dict(conn.execute("SELECT name, site_id FROM credentials").fetchall())
        expiries = dict(conn.execute("SELECT id, expires_at FROM api_tokens").fetchall())
    assert owners == {"used-in-a-and-a2": 2, "unused": None, "device/1": None}
    assert expiries[2] is None  # revoked: left alone
    expires = datetime.fromisoformat(expiries[1]).replace(tzinfo=UTC)
    assert abs(expires - (datetime.now(UTC) + timedelta(days=90))) < timedelta(minutes=5)
