"""Discover MQTT publishers: listen to the platform's topic tree for a bounded time and report the
device keys the registry does not know.

MQTT has nothing to sweep: a broker only shows who publishes. So, as ThingsBoard lists devices that
connect before they are provisioned, discovery subscribes with a service login to
``ioc/v1/d/+/{telemetry,senml,status}`` for at most :data:`MAX_LISTEN_S` and counts per device key
(the topic's device segment): first and last seen, messages, topic kinds and a sample of field names,
never values. A plain subscription receives copies: the ingest's shared subscription loses nothing.
Every count and size is bounded; past :data:`MAX_PUBLISHERS` keys the listen stops, ``complete=False``.
Keys that are registered devices are not candidates; registered MQTT devices in the caller's scope
that stayed silent are listed apart (at most :data:`MAX_SILENT`).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import String, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.authz import Principal
from device_registry.models import Device, Protocol
from provisioning.mqtt.client import connect
from provisioning.mqtt.models import MqttEndpoint
from provisioning.mqtt.topics import INGEST_KINDS, PREFIX, TopicError, ingest_filter, parse_device_id

MAX_LISTEN_S = 30.0
MAX_PUBLISHERS = 1000
MAX_FIELDS = 16
"""Field names kept per publisher: enough to recognise a device, not a copy of its data."""
MAX_NAME = 64
"""Longest device key or field name kept; longer ones are cut."""
MAX_PEEK_BYTES = 64 * 1024
"""Payloads larger than this are counted but not read for field names."""
MAX_SILENT = 100


@dataclass(slots=True)
class Publisher:
    key: str
    """The topic's device segment as published (cut to :data:`MAX_NAME`)."""
    device_id: int | None
    """``key`` as a device id; None when it is not one (``ioc/v1/d/pump-7/telemetry``)."""
    first_seen: datetime
    last_seen: datetime
    messages: int = 0
    retained: int = 0
    """Messages the broker kept from before the listen (a retained status)."""
    kinds: set[str] = field(default_factory=set)
    fields: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Heard:
    publishers: dict[str, Publisher]
    messages: int
    listened_s: float
    complete: bool
    """False when :data:`MAX_PUBLISHERS` keys ended the listen early."""


@dataclass(frozen=True, slots=True)
class SilentDevice:
    device_id: int
    name: str


@dataclass(frozen=True, slots=True)
class MqttDiscovery:
    heard: Heard
    candidates: list[Publisher]
    registered_heard: int
    silent: list[SilentDevice]
    silent_total: int


def field_names(kind: str, payload: bytes) -> list[str]:
    """Names in a telemetry (``{"fields": {...}}``) or SenML (``[{"n": ...}]``) payload; [] otherwise.

    Lenient on purpose: an unreadable payload still makes its publisher a candidate."""
    if kind == "status" or len(payload) > MAX_PEEK_BYTES:
        return []
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        return []
    names: list[str] = []
    if isinstance(data, dict) and isinstance(data.get("fields"), dict):
        names = [str(name) for name in data["fields"]]
    elif isinstance(data, list):
        base = ""
        for record in data:
            if not isinstance(record, dict):
                continue
            if isinstance(record.get("bn"), str):
                base = record["bn"].rpartition(":")[2]  # a URN base names the device, not the field
            if isinstance(record.get("n"), str):
                names.append(base + record["n"])
    return [name[:MAX_NAME] for name in names[:MAX_FIELDS]]


def _key(topic: str) -> tuple[str, str] | None:
    """(device key, kind) of ``ioc/v1/d/KEY/KIND``; None for any other topic."""
    head, _, rest = topic.partition(f"{PREFIX}/")
    key, _, kind = rest.partition("/")
    if head or not key or "/" in kind:
        return None
    return key[:MAX_NAME], kind


async def listen(
    endpoint: MqttEndpoint, *, listen_s: float, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> Heard:
    """Subscribe to every device's ingest topics and count what arrives for ``listen_s`` seconds."""
    listen_s = min(listen_s, MAX_LISTEN_S)
    publishers: dict[str, Publisher] = {}
    messages = 0
    complete = True
    started = time.monotonic()
    async with connect(endpoint) as client:
        for ingest_kind in INGEST_KINDS:
            await client.subscribe(ingest_filter(ingest_kind, share_group=None), qos=0)
        try:
            async with asyncio.timeout(listen_s):
                async for message in client.messages:
                    parsed = _key(message.topic.value)
                    if parsed is None:
                        continue
                    key, kind = parsed
                    seen = publishers.get(key)
                    if seen is None:
                        if len(publishers) >= MAX_PUBLISHERS:
                            complete = False
                            break
                        try:
                            device_id: int | None = parse_device_id(key)
                        except TopicError:
                            device_id = None
                        at = now()
                        seen = publishers[key] = Publisher(key, device_id, at, at)
                    messages += 1
                    seen.messages += 1
                    seen.retained += int(bool(message.retain))
                    seen.last_seen = now()
                    seen.kinds.add(kind[:MAX_NAME])
                    if len(seen.fields) < MAX_FIELDS and isinstance(message.payload, bytes | bytearray):
                        for name in field_names(kind, bytes(message.payload)):
                            if name not in seen.fields and len(seen.fields) < MAX_FIELDS:
                                seen.fields.append(name)
        except TimeoutError:
            pass
    return Heard(publishers, messages, round(time.monotonic() - started, 3), complete)


async def classify(session: AsyncSession, principal: Principal, heard: Heard) -> MqttDiscovery:
    """Candidates: keys that are no registered device (checked over the whole registry, so a device
    of another scope is never offered for onboarding). Silent: the caller's MQTT devices not heard."""
    ids = {p.device_id for p in heard.publishers.values() if p.device_id is not None}
    known = set((await session.scalars(select(Device.id).where(Device.id.in_(ids)))).all()) if ids else set()
    candidates = [p for p in heard.publishers.values() if p.device_id not in known]
    candidates.sort(key=lambda p: (p.first_seen, p.key))
    speaks_mqtt = cast(Device.protocols, String).like(f'%"{Protocol.MQTT.value}"%')
    quiet = [principal.device_clause(), speaks_mqtt, *([Device.id.not_in(known)] if known else [])]
    silent_total = await session.scalar(select(func.count()).select_from(Device).where(*quiet)) or 0
    rows = await session.execute(
        select(Device.id, Device.name).where(*quiet).order_by(Device.id).limit(MAX_SILENT)
    )
    silent = [SilentDevice(device_id, name) for device_id, name in rows.all()]
    return MqttDiscovery(heard, candidates, len(known), silent, silent_total)


async def discover(
    session: AsyncSession, principal: Principal, endpoint: MqttEndpoint, *, listen_s: float
) -> MqttDiscovery:
    """Listen, then classify. Raises ``DeviceError`` when the broker cannot be reached or refuses."""
    return await classify(session, principal, await listen(endpoint, listen_s=listen_s))
