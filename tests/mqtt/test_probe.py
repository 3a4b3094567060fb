"""Probing a real Mosquitto: the right login connects and reads what the broker tells this user; a
wrong password is a refused login naming ``password``, mapped to a 422 like every protocol's."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from provisioning.errors import AuthFailed
from provisioning.mqtt.models import MqttEndpoint
from provisioning.mqtt.probe import probe
from provisioning.responses import device_error_body, device_error_status
from tests.support.mosquitto import INGEST_USER, Broker


async def test_probe_with_the_right_login_reads_the_broker(broker: Broker) -> None:
    endpoint = MqttEndpoint(
        "127.0.0.1", broker.port, username=INGEST_USER, password=SecretStr(broker.ingest_password)
    )
    result = await probe(endpoint, version_wait_s=2.0)
    assert (result.host, result.port, result.authenticated) == ("127.0.0.1", broker.port, True)
    # The platform's ACL gives the ingest user its telemetry topics only, so $SYS stays unread.
    assert result.broker_version is None
    assert len(result.notes) == 1 and "$SYS/broker/version" in result.notes[0]


async def test_probe_with_a_wrong_password_is_a_refused_login(broker: Broker) -> None:
    endpoint = MqttEndpoint("127.0.0.1", broker.port, username=INGEST_USER, password=SecretStr("wrong"))
    with pytest.raises(AuthFailed) as refused:
        await probe(endpoint)
    error = refused.value
    assert "wrong" not in str(error)
    assert device_error_status(error) == 422
    assert device_error_body(error) == {
        "detail": f"mqtt://127.0.0.1:{broker.port}: authentication failed",
        "field": "password",
        "kind": "auth_failed",
        "retryable": False,
    }


def test_endpoint_takes_the_tls_port_by_default_parses_bracketed_ipv6_and_refuses_port_0() -> None:
    # The plain default (1883) is asserted with every endpoint type's in tests/registry/test_device_errors.py.
    assert MqttEndpoint.split("broker.local", tls=True) == ("broker.local", 8883)
    assert MqttEndpoint.split("[fd00::1]:2883") == ("fd00::1", 2883)
    with pytest.raises(ValueError, match=r"HOST\[:PORT\]: port must be 1-65535"):
        MqttEndpoint.split("broker.local:0")
