"""Alerting across scopes, against the live `ioc serve`: a user scoped to commune A probing B's alerts and
channels gets the answer "not found" gives, and nobody reads a channel's bot token through the API."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from device_registry.authz import Principal
from device_registry.crypto import SecretBox, load_or_create_key_file
from device_registry.db import create_engine, session_factory
from monitors.alerting import admin
from monitors.alerting.channel_urls import ChannelUrls
from monitors.alerting.directory import RegistryDirectory
from monitors.alerting.models import Alert
from tests.security.conftest import Live, unique

TOKEN = "7301234567:AAH-b0t-t0ken-of-commune-b"
SECRET_URL = f"json://bot:{TOKEN}@127.0.0.1:9/hook/{TOKEN}"
GONE = 987654


@dataclass
class Seeded:
    alert_b: int
    device_b: int
    team_a: str
    team_b: str


async def _seed(live: Live, codes: dict[str, str], device_b: int, member_a: int) -> Seeded:
    """What alerting would hold after an outage in B: teams, channels (sealed with the server's key) and
    a firing alert on B's switch."""
    urls = ChannelUrls(SecretBox(load_or_create_key_file(live.home / "secret.key", create=False)))
    actor = Principal.system("test-seed")
    engine = create_engine(f"sqlite+aiosqlite:///{live.db}")
    sessions = session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            team_a = await admin.create_team(session, actor, unique("Đội xã A "))
            team_b = await admin.create_team(session, actor, unique("Đội xã B "))
            await admin.add_member(session, actor, team_a.id, member_a)
            for team in (team_a, team_b):
                await admin.add_channel(session, actor, urls, team.id, "zalo", SECRET_URL)
            await admin.add_route(
                session,
                actor,
                RegistryDirectory(sessions),
                unique("b-"),
                team_b.id,
                site_id=live.ids[codes["B"]],
            )
            alert = Alert(
                dedup_key=f"device:{device_b}",
                opened_by=unique("evt-"),
                device_id=device_b,
                severity="critical",
                team_id=team_b.id,
                started_at=datetime.now(UTC),
                context={"device_name": "SW-DONGCAC-01", "site_path": ["Tỉnh", "Xã Đông Các"]},
            )
            session.add(alert)
            await session.flush()
            return Seeded(alert.id, device_b, team_a.name, team_b.name)
    finally:
        await engine.dispose()


def _communes(live: Live) -> dict[str, str]:
    """A province P with communes A and B: the codes, unique in the shared live registry."""
    codes = {k: unique(k) for k in ("P", "A", "B")}
    live.site(codes["P"], kind="province")
    live.site(codes["A"], codes["P"])
    live.site(codes["B"], codes["P"])
    return codes


def _same_as_absent(found: httpx.Response, absent: httpx.Response, real: int) -> None:
    """``found`` (about B's object ``real``) reads exactly like ``absent`` (about id GONE)."""
    assert found.status_code == absent.status_code == 404, found.text
    assert found.text.replace(str(real), str(GONE)) == absent.text


def test_a_scoped_user_probing_another_communes_alerts_and_channels_learns_nothing(live: Live) -> None:
    codes = _communes(live)
    maintenance_id, maintenance_a = live.user("maintenance", codes["A"])
    _, engineer_a = live.user("engineer", codes["A"])
    _, operator = live.user("operator")
    with live.as_admin() as a:
        made = a.post(
            "/api/v1/devices", json={"name": unique("sw-b-"), "kind": "switch", "site_code": codes["B"]}
        )
        assert made.status_code == 201, made.text
    seeded = asyncio.run(_seed(live, codes, made.json()["id"], maintenance_id))
    acks = live.count("alert_acknowledgements")

    for token in (maintenance_a, engineer_a):
        with live.client(token) as a:
            for method, path, body in (
                ("GET", "/api/v1/alerts/{}", None),
                ("GET", "/api/v1/alerts/{}/deliveries", None),
                ("POST", "/api/v1/alerts/{}/ack", {"comment": "của tôi"}),
                ("POST", "/api/v1/alerts/{}/resolve", None),
            ):
                found = a.request(method, path.format(seeded.alert_b), json=body)
                absent = a.request(method, path.format(GONE), json=body)
                if found.status_code == 403:  # engineers may not ack at all: refused before any lookup
                    assert absent.status_code == 403 and found.text == absent.text
                    continue
                _same_as_absent(found, absent, seeded.alert_b)
                assert "SW-DONGCAC" not in found.text and "device" not in found.text
            assert a.get("/api/v1/alerts").json() == []
    assert live.count("alert_acknowledgements") == acks
    assert live.sql("SELECT status FROM alerts WHERE id = ?", seeded.alert_b) == [("firing",)]

    # Channels: scheme only, for every role; a scoped user sees their own team's channels, not B's.
    listings = {}
    for who, token in (("admin", live.admin), ("operator", operator), ("maintenance_a", maintenance_a)):
        with live.client(token) as c:
            response = c.get("/api/v1/alert-channels")
        assert response.status_code == 200, response.text
        assert TOKEN not in response.text and "bot:" not in response.text
        listings[who] = {(ch["team"], ch["url"]) for ch in response.json()}
    assert {(seeded.team_a, "json://***"), (seeded.team_b, "json://***")} <= listings["operator"]
    assert listings["admin"] == listings["operator"]
    assert listings["maintenance_a"] == {(seeded.team_a, "json://***")}
    with live.client(engineer_a) as c:
        assert c.get("/api/v1/alert-channels").json() == []
    # At rest, too: the rows hold Fernet tokens, the audit rows the scheme.
    stored = live.sql("SELECT url FROM alert_channels")
    assert stored and all(TOKEN not in url and "://" not in url for (url,) in stored)
    assert not live.sql("SELECT id FROM audit_log WHERE coalesce(\"after\", '') LIKE ?", f"%{TOKEN[:10]}%")
    assert live.healthy()


def test_a_scoped_user_probing_another_communes_credentials_learns_nothing(live: Live) -> None:
    codes = _communes(live)
    _, engineer_a = live.user("engineer", codes["A"])
    shared_b = unique("community-b-")
    snmp = {"protocol": "snmp", "version": "2c", "community": "b-secret"}
    with live.as_admin() as a:
        made = a.post(
            "/api/v1/credentials", json={"name": shared_b, "credential": snmp, "site_code": codes["B"]}
        )
        assert made.status_code == 201, made.text
        camera = a.post(
            "/api/v1/devices",
            json={"name": unique("cam-b-"), "kind": "camera", "site_code": codes["B"], "credential": snmp},
        )
        assert camera.status_code == 201, camera.text
    camera_b = camera.json()["id"]
    devices, credentials = live.count("devices"), live.count("credentials")

    def add(a: httpx.Client, ref: str) -> httpx.Response:
        body = {"name": unique("sw-a-"), "kind": "switch", "site_code": codes["A"], "credential_ref": ref}
        return a.post("/api/v1/devices", json=body)

    with live.client(engineer_a) as a:
        _same_as_absent(add(a, f"device/{camera_b}"), add(a, f"device/{GONE}"), camera_b)
        borrowed, missing = add(a, shared_b), add(a, "no-such-credential")
        assert borrowed.status_code == missing.status_code == 404
        assert borrowed.text.replace(shared_b, "no-such-credential") == missing.text
        owned_by_b = a.post(
            "/api/v1/credentials", json={"name": unique("x-"), "credential": snmp, "site_code": codes["B"]}
        )
        owned_nowhere = a.post(
            "/api/v1/credentials", json={"name": unique("x-"), "credential": snmp, "site_code": "NO-SUCH"}
        )
        assert owned_by_b.status_code == owned_nowhere.status_code == 404
        assert owned_by_b.text.replace(codes["B"], "NO-SUCH") == owned_nowhere.text
        by_id = a.post(
            "/api/v1/credentials",
            json={"name": unique("x-"), "credential": snmp, "site_code": f"id:{live.ids[codes['B']]}"},
        )
        assert by_id.status_code == 404
        assert (
            by_id.text.replace(str(live.ids[codes["B"]]), str(GONE))
            == a.post(
                "/api/v1/credentials",
                json={"name": unique("x-"), "credential": snmp, "site_code": f"id:{GONE}"},
            ).text
        )
        assert shared_b not in a.get("/api/v1/credentials").text
    assert (live.count("devices"), live.count("credentials")) == (devices, credentials)
    assert live.healthy()
