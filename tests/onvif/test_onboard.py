"""Onboarding against the simulator: probe first, then device, encrypted credential and profiles."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.authz import Principal
from device_registry.crypto import SecretBox, generate_key
from device_registry.errors import Forbidden, NotFound
from device_registry.models import Credential, Device
from ioc.app import create_app
from ioc.settings import Settings
from provisioning.errors import AuthFailed, MalformedResponse
from provisioning.facts import read_facts
from provisioning.onvif.models import OnvifFacts
from provisioning.onvif.onboard import onboard_onvif
from provisioning.onvif.settings import OnvifSettings
from tests.registry.seed import World, build_world
from tests.support.onvif import PASSWORD

ADMIN = Principal.system("test-onvif")


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        database_url=sqlite_url,
        secret_key=generate_key(),
        onvif=OnvifSettings(allowed_networks=["127.0.0.0/8"]),  # the simulated cameras are on loopback
    )


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> World:
    return await build_world(sessions)


@pytest.fixture
def box(settings: Settings) -> SecretBox:
    assert settings.secret_key is not None
    return SecretBox(settings.secret_key)


async def _onboard(sessions, box, port: int, password: SecretStr = PASSWORD, **kwargs):
    async with sessions() as session, session.begin():
        return await onboard_onvif(
            session,
            kwargs.pop("principal", ADMIN),
            box,
            host="127.0.0.1",
            port=port,
            username="admin",
            password=password,
            site=kwargs.pop("site", "A"),
            **kwargs,
        )


async def _count_devices(sessions) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count(Device.id))) or 0)


async def test_nvr_is_saved_with_channels_profiles_and_encrypted_credential(fleet, sessions, box, world):
    cam = await fleet(channels=3, manufacturer="Dahua", model="NVR4104", serial="NVR-77", h265_only=True)
    result = await _onboard(sessions, box, cam.port, set_ntp="10.0.0.1")
    assert (result.kind, result.name) == ("nvr", "Dahua NVR4104 NVR-77")
    async with sessions() as session:
        device = await session.get(Device, result.device_id)
        assert device is not None
        assert (device.vendor, device.model, device.serial, device.site_id) == (
            "Dahua",
            "NVR4104",
            "NVR-77",
            world.site_ids["A"],
        )
        onvif = device.attributes["onvif"]
        assert len(onvif["channels"]) == 3 and len(onvif["profiles"]) == 6
        assert {p["encoding"] for p in onvif["profiles"]} == {"H265"}
        assert onvif["ntp_server"] == "10.0.0.1"
        credential = await session.get(Credential, device.credential_id)
        assert credential is not None
        assert b"admin123" not in credential.secret
        decrypted = box.open(credential.secret)
        assert decrypted.password.get_secret_value() == "admin123"
    assert cam.ntp_servers == ["10.0.0.1"]


async def test_media1_only_camera_without_snapshot_is_onboarded_with_notes(fleet, sessions, box, world):
    cam = await fleet(media1_only=True, no_snapshot=True)
    result = await _onboard(sessions, box, cam.port, name="Cổng UBND xã")
    assert result.kind == "camera"
    async with sessions() as session:
        device = await session.get(Device, result.device_id)
        assert device is not None and device.name == "Cổng UBND xã"
        notes = device.attributes["onvif"]["notes"]
    assert (
        any("no Media2" in n for n in notes)
        and "GetSnapshotUri not supported: device offers no snapshot URI" in notes
    )


@pytest.mark.parametrize(
    ("settings_", "error"),
    [({"wrong_password": "fault"}, AuthFailed), ({"broken": "bomb"}, MalformedResponse)],
)
async def test_failed_probe_leaves_the_registry_untouched(fleet, sessions, box, world, settings_, error):
    cam = await fleet(**settings_)
    password = SecretStr("wrong") if error is AuthFailed else PASSWORD
    with pytest.raises(error):
        await _onboard(sessions, box, cam.port, password=password)
    assert await _count_devices(sessions) == 0
    async with sessions() as session:
        assert await session.scalar(select(func.count(Credential.id))) == 0


async def test_unknown_site_is_refused_before_the_camera_is_contacted(fleet, sessions, box, world):
    cam = await fleet()
    with pytest.raises(NotFound) as caught:
        await _onboard(sessions, box, cam.port, site="NO-SUCH-SITE")
    assert caught.value.field == "site"
    assert cam.requests == 0
    assert await _count_devices(sessions) == 0


async def test_same_serial_twice_is_a_conflict(fleet, sessions, box, world):
    cam = await fleet(serial="ONE")
    await _onboard(sessions, box, cam.port)
    from device_registry.errors import Conflict

    with pytest.raises(Conflict, match="serial"):
        await _onboard(sessions, box, cam.port, name="again")
    assert await _count_devices(sessions) == 1


async def test_engineer_outside_scope_cannot_onboard(fleet, sessions, box, world):
    cam = await fleet()
    async with sessions() as session:
        from device_registry.services.users import authenticate

        engineer = await authenticate(session, world.tokens["engineer_a"])
    assert engineer is not None
    with pytest.raises(Forbidden):
        await _onboard(sessions, box, cam.port, principal=engineer, site="B")
    assert await _count_devices(sessions) == 0


@pytest.fixture
async def api(settings: Settings, world: World) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ioc.test") as client:
            yield client


async def test_rest_onboarding(fleet, api, world, sessions):
    cam = await fleet(model="DS-2CD", serial="REST-1")
    body = {
        "address": "127.0.0.1",
        "port": cam.port,
        "username": "admin",
        "password": "admin123",
        "site_code": "A",
    }
    engineer = {"Authorization": f"Bearer {world.tokens['engineer_a']}"}
    operator = {"Authorization": f"Bearer {world.tokens['operator']}"}

    assert (await api.post("/api/v1/onvif/onboard", json=body, headers=operator)).status_code == 403
    wrong = await api.post("/api/v1/onvif/onboard", json={**body, "password": "nope"}, headers=engineer)
    assert wrong.status_code == 422
    assert wrong.json()["field"] == "password" and wrong.json()["detail"].endswith("authentication failed")
    assert "nope" not in wrong.text
    bad = await api.post("/api/v1/onvif/onboard", json={**body, "address": "10.0.0.300"}, headers=engineer)
    assert bad.status_code == 422 and "address" in bad.text
    assert await _count_devices(sessions) == 0

    created = await api.post("/api/v1/onvif/onboard", json=body, headers=engineer)
    assert created.status_code == 201, created.text
    data = created.json()
    assert data["kind"] == "camera" and data["probe"]["serial"] == "REST-1"
    assert "admin123" not in created.text
    device = await api.get(f"/api/v1/devices/{data['device_id']}", headers=engineer)
    assert device.json()["serial"] == "REST-1"


async def test_rest_onboarding_stores_the_address_and_rtsp_choices(fleet, api, world, sessions):
    cam = await fleet(serial="NAT-1", reported_host="127.87.0.65", reported_port=80)
    engineer = {"Authorization": f"Bearer {world.tokens['engineer_a']}"}
    body = {"address": "127.0.0.1", "port": cam.port, "username": "admin", "password": "admin123"}
    pinned = await api.post(
        "/api/v1/onvif/onboard", json={**body, "site_code": "A", "rtsp_basic_auth": True}, headers=engineer
    )
    assert pinned.status_code == 201, pinned.text
    assert pinned.json()["probe"]["profiles"][0]["snapshot_uri"].startswith(f"http://127.0.0.1:{cam.port}/")
    async with sessions() as session:
        device = await session.get(Device, pinned.json()["device_id"])
        assert device is not None
        facts = read_facts(device.attributes, OnvifFacts)
        assert facts is not None and facts.rtsp_basic_auth is True and facts.keep_reported_addresses is False
        assert "rtsp_basic_auth" not in device.attributes  # inside the ONVIF facts, not beside them
    # The opt-out takes the reported address at its word: nothing listens there.
    kept = await api.post(
        "/api/v1/onvif/onboard",
        json={**body, "site_code": "A", "keep_reported_addresses": True, "timeout_s": 2},
        headers=engineer,
    )
    assert kept.status_code == 502 and kept.json()["kind"] == "unreachable"
