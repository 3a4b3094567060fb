"""Onboarding through the CLI and the REST API: probe first, then device + credential + SNMP facts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from device_registry.authz import Principal
from device_registry.crypto import generate_key
from device_registry.db import create_engine, session_factory
from device_registry.models import Credential, Device, Role, SiteKind
from device_registry.schemas.sites import SiteCreate
from device_registry.schemas.users import TokenCreate, UserCreate
from device_registry.services.sites import create_site
from device_registry.services.users import create_user, issue_token
from ioc.app import create_app
from ioc.migrate import upgrade
from ioc.settings import Settings
from provisioning.facts import read_facts
from provisioning.snmp.models import SnmpFacts, SnmpInterfaceFacts
from provisioning.snmp.settings import SnmpSettings
from tests.support.snmpd import V3_AUTH, V3_PRIV, V3_USER, Agent

IOC = str(Path(sys.executable).parent / "ioc")
ADMIN = Principal.system("test-admin")


def ioc(home: Path, *args: str, check: bool = True, env: dict[str, str] | None = None) -> Any:
    done = subprocess.run(
        [IOC, "--json", *args],
        capture_output=True,
        text=True,
        # The simulators listen on loopback, which probes refuse unless allowlisted.
        env={**os.environ, "IOC_HOME": str(home), "IOC_SNMP__ALLOWED_NETWORKS": "127.0.0.0/8", **(env or {})},
        timeout=60,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"ioc {' '.join(args)} failed ({done.returncode}): {done.stderr}")
    return done


async def interfaces_of(db_url: str, device_id: int) -> list[SnmpInterfaceFacts]:
    """The interfaces onboarding stored, read back through the one facts reader."""
    engine = create_engine(db_url)
    try:
        async with session_factory(engine)() as session:
            device = await session.get(Device, device_id)
            assert device is not None
            facts = read_facts(device.attributes, SnmpFacts)
            assert facts is not None
            return facts.interfaces
    finally:
        await engine.dispose()


async def test_cli_probe_json_then_onboard_saves_device_credential_and_interfaces(
    tmp_path: Path, snmpsim: Agent, snmpd: Agent
) -> None:
    home = tmp_path / "home"
    probed = json.loads(
        ioc(
            home,
            "probe",
            "snmp",
            f"127.0.0.1:{snmpd.port}",
            "--v3-user",
            V3_USER,
            "--auth-proto",
            "SHA",
            "--priv-proto",
            "AES",
            env={"IOC_SNMP_AUTH_KEY": V3_AUTH, "IOC_SNMP_PRIV_KEY": V3_PRIV},
        ).stdout
    )
    for key in (
        "vendor",
        "enterprise_number",
        "model",
        "os",
        "sys_object_id",
        "sys_descr",
        "sys_name",
        "uptime_s",
    ):
        assert key in probed
    # net-snmp's enterprise names the agent, not the box: vendor unknown, and the notes say why
    assert probed["vendor"] is None and probed["sys_name"] == "snmpd-under-test"
    assert any("net-snmp agent" in note for note in probed["notes"])
    assert any(i["name"] == "lo" for i in probed["interfaces"])

    ioc(home, "init")
    ioc(home, "sites", "add", "HN", "Hà Nội", "--kind", "province")
    refused = ioc(
        home,
        "onboard",
        "snmp",
        f"127.0.0.1:{snmpsim.port}",
        "--site",
        "HN",
        "--community",
        "nope",
        "--timeout",
        "0.2",
        "--retries",
        "0",
        check=False,
    )
    assert refused.returncode != 0 and "authentication failed or no answer" in refused.stderr
    saved = json.loads(
        ioc(
            home,
            "onboard",
            "snmp",
            f"127.0.0.1:{snmpsim.port}",
            "--site",
            "HN",
            "--community",
            "winxp-full-walk",
        ).stdout
    )
    assert saved["name"] == "CRAY" and saved["probe"]["vendor"] is None  # Windows SNMP service: any PC maker
    shown = json.loads(ioc(home, "devices", "show", str(saved["device_id"])).stdout)
    assert shown["address"] == "127.0.0.1" and shown["port"] == snmpsim.port and shown["vendor"] is None
    db_url = f"sqlite+aiosqlite:///{home / 'registry.db'}"
    rows = await interfaces_of(db_url, saved["device_id"])
    assert [r.if_index for r in rows] == [1, 65539, 65540] and rows[1].mac == "00:0e:35:d3:3d:53"
    assert shown["attributes"]["snmp"]["version"] == 1 and "winxp-full-walk" not in json.dumps(shown)
    assert [i["if_index"] for i in shown["attributes"]["snmp"]["interfaces"]] == [1, 65539, 65540]
    listed = json.loads(ioc(home, "devices", "list").stdout)
    assert listed["total"] == 1  # the refused onboarding wrote nothing
    (item,) = listed["items"]  # the listing leaves the inventory out, and keeps the other facts
    assert item["attributes"]["snmp"] == {
        k: v for k, v in shown["attributes"]["snmp"].items() if k != "interfaces"
    }


def test_cli_discover_finds_only_answering_addresses_and_refuses_huge_networks(
    tmp_path: Path, snmpsim: Agent
) -> None:
    home = tmp_path / "home"
    found = json.loads(
        ioc(
            home,
            "discover",
            "snmp",
            "127.0.0.0/30",
            "--port",
            str(snmpsim.port),
            "--community",
            "wrong",
            "--community",
            "linux-full-walk",
            "--timeout",
            "0.3",
        ).stdout
    )
    assert [(h["address"], h["sys_name"], h["credential"]) for h in found["found"]] == [
        ("127.0.0.1", "tt", "v2c community #2")
    ]
    assert (found["network"], found["hosts"], found["asked"], found["complete"]) == (
        "127.0.0.0/30",
        2,
        2,
        True,
    )
    assert "linux-full-walk" not in json.dumps(found)
    huge = ioc(home, "discover", "snmp", "10.0.0.0/15", "--community", "public", check=False)
    assert huge.returncode != 0 and "--force" in huge.stderr
    bad = ioc(home, "probe", "snmp", "127.0.0.1", "--v3-user", "u", "--auth-proto", "SHA9", "--auth-key", "k" * 8,
              check=False)  # fmt: skip
    assert bad.returncode != 0 and "--auth-proto" in bad.stderr and "Traceback" not in bad.stderr


@pytest.fixture
async def api_world(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, str, str]]:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'registry.db'}"
    import asyncio

    await asyncio.to_thread(upgrade, db_url)
    engine = create_engine(db_url)
    async with session_factory(engine)() as session, session.begin():
        await create_site(session, ADMIN, SiteCreate(code="TB", name="Thái Bình", kind=SiteKind.PROVINCE))
        user = await create_user(session, ADMIN, UserCreate(username="eng", role=Role.ENGINEER))
        token = (await issue_token(session, ADMIN, user, TokenCreate())).token
    await engine.dispose()
    app = create_app(
        Settings(
            home=tmp_path / "home",
            database_url=db_url,
            secret_key=generate_key(),
            snmp=SnmpSettings(allowed_networks=["127.0.0.0/8"]),
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ioc.test") as client:
            yield client, token, db_url


async def test_rest_probe_and_onboard(
    api_world: tuple[httpx.AsyncClient, str, str], snmpsim: Agent, tmp_path: Path
) -> None:
    client, token, db_url = api_world
    auth = {"Authorization": f"Bearer {token}"}
    credential = {"protocol": "snmp", "version": "2c", "community": "linux-full-walk"}
    probed = await client.post(
        "/api/v1/snmp/probe",
        json={"host": "127.0.0.1", "port": snmpsim.port, "credential": credential},
        headers=auth,
    )
    assert probed.status_code == 200 and probed.json()["os"] == "Linux 2.6.21.5-smp"
    # `ioc --json probe snmp` prints the very model the API answers: same keys, same values but timing
    printed = json.loads(
        ioc(
            tmp_path / "home", "probe", "snmp", f"127.0.0.1:{snmpsim.port}", "--community", "linux-full-walk"
        ).stdout
    )
    timing = ("rtt_ms", "uptime_s")
    assert {k: v for k, v in printed.items() if k not in timing} == {
        k: v for k, v in probed.json().items() if k not in timing
    }
    assert set(printed) == set(probed.json()) and printed["interfaces"]

    swept = await client.post(
        "/api/v1/snmp/discover",
        json={"cidr": "127.0.0.0/30", "port": snmpsim.port, "credentials": [credential], "timeout": 0.3},
        headers=auth,
    )
    assert swept.status_code == 200, swept.text
    assert swept.json()["asked"] == 2 and [h["address"] for h in swept.json()["found"]] == ["127.0.0.1"]
    huge = await client.post(
        "/api/v1/snmp/discover", json={"cidr": "10.0.0.0/8", "credentials": [credential]}, headers=auth
    )
    assert huge.status_code == 422 and "cidr" in huge.text

    silent = await client.post(
        "/api/v1/snmp/onboard",
        json={
            "host": "127.0.0.1",
            "port": snmpsim.port,
            "credential": {**credential, "community": "x"},
            "timeout": 0.2,
            "retries": 0,
            "site_code": "TB",
        },
        headers=auth,
    )
    assert silent.status_code == 502 and silent.json()["kind"] == "timeout"
    assert "authentication failed or no answer" in silent.json()["detail"]

    created = await client.post(
        "/api/v1/snmp/onboard",
        json={
            "host": "127.0.0.1",
            "port": snmpsim.port,
            "credential": credential,
            "site_code": "TB",
            "name": "tb-core-1",
        },
        headers=auth,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["name"] == "tb-core-1" and "linux-full-walk" not in created.text
    assert body["probe"]["os"] == "Linux 2.6.21.5-smp" and body["notes"] == body["probe"]["notes"]
    rows = await interfaces_of(db_url, body["device_id"])
    assert [r.name for r in rows] == ["lo", "eth0"]
    inventory = await client.get(f"/api/v1/snmp/devices/{body['device_id']}/interfaces", headers=auth)
    assert inventory.status_code == 200
    assert [i["name"] for i in inventory.json()["interfaces"]] == ["lo", "eth0"]
    assert [i["mac"] for i in inventory.json()["interfaces"]] == [
        i["mac"] for i in body["probe"]["interfaces"]
    ]
    engine = create_engine(db_url)
    async with session_factory(engine)() as session:
        device = await session.get(Device, body["device_id"])
        assert device is not None and device.protocols == ["snmp"]
        facts = read_facts(device.attributes, SnmpFacts)
        assert facts is not None and facts.enterprise_number == 8072 and facts.sys_object_id is not None
        stored = await session.get(Credential, device.credential_id)
        assert stored is not None and b"linux-full-walk" not in stored.secret  # sealed, not plain
    await engine.dispose()
