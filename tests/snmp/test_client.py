"""The SNMP client against real agents: versions, walks, and the typed errors a person will read."""

from __future__ import annotations

import socket

import pytest
from pydantic import SecretStr

from device_registry.credentials import SnmpV3Credential
from provisioning.errors import AuthFailed, DeviceTimeout
from provisioning.snmp.client import SnmpClient
from provisioning.snmp.errors import NoSuchObject
from provisioning.snmp.models import SnmpEndpoint, parse_oid
from tests.support.process import free_port
from tests.support.snmpd import V3_AUTH, V3_PRIV, Agent, community, v3_credential

SYS_NAME = "1.3.6.1.2.1.1.5.0"
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"


async def test_v2c_get_returns_typed_values_and_marks_missing_oids(snmpd: Agent) -> None:
    async with SnmpClient() as client:
        endpoint = SnmpEndpoint("127.0.0.1", community("public"), port=snmpd.port, timeout=1, retries=0)
        name, oid, uptime, absent = await client.get(
            endpoint, [SYS_NAME, "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.99.0"]
        )
    assert name.value == b"snmpd-under-test"
    assert oid.kind == "ObjectIdentifier" and oid.value == "1.3.6.1.4.1.8072.3.2.10"
    assert uptime.kind == "TimeTicks" and isinstance(uptime.value, int)
    assert absent.missing and absent.kind == "noSuchObject"


async def test_v1_walk_and_missing_oid_raise_no_such_object(snmpd: Agent) -> None:
    async with SnmpClient() as client:
        endpoint = SnmpEndpoint("127.0.0.1", community("public", "1"), port=snmpd.port, timeout=1, retries=0)
        walk = await client.walk_table(endpoint, [IF_DESCR])
        with pytest.raises(NoSuchObject):
            await client.get_one(endpoint, "1.3.6.1.2.1.1.99.0")
        # v1 noSuchName on one OID: the others are still answered
        name, absent = await client.get(endpoint, [SYS_NAME, "1.3.6.1.2.1.1.99.0"])
    assert walk.complete and b"lo" in [vb.value for vb in walk.columns[parse_oid(IF_DESCR)].values()]
    assert name.value == b"snmpd-under-test" and absent.missing


async def test_v3_auth_priv_sha_aes_reads_and_walks(snmpd: Agent) -> None:
    async with SnmpClient() as client:
        endpoint = SnmpEndpoint("127.0.0.1", v3_credential(), port=snmpd.port, timeout=1, retries=0)
        name = await client.get_one(endpoint, SYS_NAME)
        walk = await client.walk_table(endpoint, [IF_DESCR, "1.3.6.1.2.1.31.1.1.1.1"])
    assert name.value == b"snmpd-under-test"
    assert walk.complete and len(walk.indexes()) >= 1


@pytest.mark.parametrize(
    ("user", "auth", "priv"),
    [("sha2user", "SHA256", "AES"), ("authonly", "SHA512", "none"), ("noauth", "none", "none")],
)
async def test_v3_security_levels_and_sha2(snmpd: Agent, user: str, auth: str, priv: str) -> None:
    credential = SnmpV3Credential(
        username=user,
        auth_protocol=auth,
        auth_key=SecretStr(V3_AUTH) if auth != "none" else None,
        priv_protocol=priv,
        priv_key=SecretStr(V3_PRIV) if priv != "none" else None,
    )
    async with SnmpClient() as client:
        endpoint = SnmpEndpoint("127.0.0.1", credential, port=snmpd.port, timeout=1, retries=0)
        name = await client.get_one(endpoint, SYS_NAME)
    assert name.value == b"snmpd-under-test"


async def test_walk_stops_at_time_bound_and_says_so(snmpd: Agent) -> None:
    async with SnmpClient() as client:
        endpoint = SnmpEndpoint("127.0.0.1", community("public"), port=snmpd.port, timeout=1, retries=0)
        walk = await client.walk_table(endpoint, [IF_DESCR], max_time=0.0)
    assert not walk.complete and walk.stopped == "stopped after 0s"


async def test_wrong_v3_auth_key_is_auth_failed_not_retryable(snmpd: Agent) -> None:
    async with SnmpClient() as client:
        endpoint = SnmpEndpoint(
            "127.0.0.1", v3_credential(auth_key="not-the-key-1"), port=snmpd.port, timeout=0.5, retries=0
        )
        with pytest.raises(AuthFailed) as caught:
            await client.get(endpoint, [SYS_NAME])
    assert "authentication failed or no answer" in str(caught.value)
    assert caught.value.retryable is False
    assert "not-the-key-1" not in str(caught.value)


async def test_unknown_v3_user_is_auth_failed(snmpd: Agent) -> None:
    async with SnmpClient() as client:
        endpoint = SnmpEndpoint(
            "127.0.0.1", v3_credential(user="intruder"), port=snmpd.port, timeout=0.5, retries=0
        )
        with pytest.raises(AuthFailed):
            await client.get(endpoint, [SYS_NAME])


async def test_wrong_community_reads_as_no_answer_and_is_retryable(snmpd: Agent) -> None:
    async with SnmpClient() as client:
        endpoint = SnmpEndpoint("127.0.0.1", community("guess-me"), port=snmpd.port, timeout=0.2, retries=1)
        with pytest.raises(DeviceTimeout) as caught:
            await client.get(endpoint, [SYS_NAME])
    assert "authentication failed or no answer" in str(caught.value)
    assert "2 tries" in str(caught.value)
    assert caught.value.retryable is True
    assert "guess-me" not in str(caught.value)


async def test_dead_port_times_out() -> None:
    dead = free_port(socket.SOCK_DGRAM)
    async with SnmpClient() as client:
        endpoint = SnmpEndpoint("127.0.0.1", community("public"), port=dead, timeout=0.2, retries=0)
        with pytest.raises(DeviceTimeout):
            await client.get(endpoint, [SYS_NAME])


async def test_walk_stops_at_row_bound_and_says_so(snmpsim: Agent) -> None:
    async with SnmpClient() as client:
        endpoint = SnmpEndpoint(
            "127.0.0.1", community("linux-full-walk"), port=snmpsim.port, timeout=1, retries=0
        )
        bounded = await client.walk_table(endpoint, ["1.3.6.1.2.1.4.20.1.1", "1.3.6.1.2.1.25"], max_rows=3)
        full = await client.walk_table(endpoint, ["1.3.6.1.2.1.2.2.1.2"])
    assert not bounded.complete and "3 rows" in (bounded.stopped or "")
    assert max(len(rows) for rows in bounded.columns.values()) <= 3 + 25
    assert full.complete and len(full.indexes()) == 2


def test_endpoint_and_oid_validation_name_the_field() -> None:
    with pytest.raises(ValueError, match="port"):
        SnmpEndpoint("127.0.0.1", community("x"), port=0)
    with pytest.raises(ValueError, match="oid"):
        parse_oid("1.3.six")
