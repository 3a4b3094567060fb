"""Probe a broker: connect with the given login, read its version from ``$SYS`` if it publishes one.

Used before pointing the platform (or a gateway) at a broker: a refused login is an ``AuthFailed``
naming ``password``, a broker that does not answer a ``DeviceUnreachable``/``DeviceTimeout``, exactly
as an SNMP agent or an ONVIF camera would fail.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from provisioning.mqtt.client import connect
from provisioning.mqtt.models import MqttEndpoint

VERSION_TOPIC = "$SYS/broker/version"
"""Mosquitto (and others) publish it retained; a broker may also deny it to this user."""


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """What a broker told us in one short session. ``notes`` says what could not be read and why,
    in the same words as the other protocols' probes."""

    host: str
    port: int
    tls: bool
    authenticated: bool
    broker_version: str | None
    notes: list[str] = field(default_factory=list)


async def probe(endpoint: MqttEndpoint, *, version_wait_s: float = 1.0) -> ProbeResult:
    notes: list[str] = []
    version: str | None = None
    async with connect(endpoint) as client:
        await client.subscribe(VERSION_TOPIC, qos=0)
        try:
            async with asyncio.timeout(version_wait_s):
                async for message in client.messages:
                    payload = message.payload
                    if isinstance(payload, bytes | bytearray):
                        version = bytes(payload).decode("utf-8", "replace")[:200]
                    break
        except TimeoutError:
            notes.append(
                f"broker version: nothing on {VERSION_TOPIC} (not published, or denied to this user)"
            )
    return ProbeResult(
        host=endpoint.host,
        port=endpoint.port,
        tls=endpoint.tls,
        authenticated=endpoint.username is not None,
        broker_version=version,
        notes=notes,
    )
