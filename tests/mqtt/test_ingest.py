"""The ingest against a real Mosquitto: good values reach the sink, everything else is a dead letter."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import aiomqtt
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from provisioning.mqtt.onboard import revoke_sensor
from provisioning.mqtt.topics import TopicKind, device_topic
from telemetry.config import WriterConfig
from telemetry.influx_output import InfluxTarget
from telemetry.ingest.deadletters import DeadLetterStore, NewDeadLetter, list_dead_letters
from telemetry.ingest.directory import CredentialDirectory
from telemetry.ingest.importer import import_payloads, split_payloads
from telemetry.ingest.lastseen import LastSeenStore, last_seen
from telemetry.ingest.parse import PayloadFormat
from telemetry.ingest.records import Rejection, RejectReason
from telemetry.ingest.service import IngestConfig, IngestService
from telemetry.points import Point
from telemetry.sink import Sink
from telemetry.writer import TelemetryWriter
from tests.mqtt.conftest import ADMIN, onboard
from tests.mqtt.sinks import RecordingSink
from tests.support.mosquitto import Broker
from tests.support.process import require_binary
from tests.support.tsdb import INFLUX_DB, InfluxServer
from tests.support.waits import wait_until


@asynccontextmanager
async def running_ingest(
    broker: Broker, sessions: async_sessionmaker[AsyncSession], sink: Sink
) -> AsyncIterator[IngestService]:
    """The ingest service subscribed to the broker and writing into ``sink``; cancelled on exit."""
    service = IngestService(
        IngestConfig(url=broker.ingest_url, client_id="ingest-test", last_seen_flush_s=0.2),
        sink=sink,
        dead_letters=DeadLetterStore(sessions),
        last_seen=LastSeenStore(sessions),
        directory=CredentialDirectory(sessions, miss_refresh_s=0.0),
    )
    task = asyncio.create_task(service.run())
    async with asyncio.timeout(10):
        await service.subscribed.wait()
    yield service
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


@pytest.fixture
async def ingest(
    broker: Broker, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[tuple[IngestService, RecordingSink]]:
    sink = RecordingSink()
    async with running_ingest(broker, sessions, sink) as service:
        yield service, sink


@pytest.fixture
async def stored_ingest(
    broker: Broker, sessions: async_sessionmaker[AsyncSession], influxdb: InfluxServer, tmp_path: Path
) -> AsyncIterator[IngestService]:
    """The ingest as ``ioc serve`` runs it: into the real telemetry writer and on into a real InfluxDB."""
    target = InfluxTarget(url=influxdb.url, database=INFLUX_DB)
    config = WriterConfig(
        spool_dir=tmp_path / "spool", target=target, flush_interval=0.1, self_metrics_interval=0
    )
    async with TelemetryWriter(config) as writer, running_ingest(broker, sessions, writer) as service:
        yield service


def stored_points(influxdb: InfluxServer) -> list[dict[str, object]]:
    """Every ``sensor`` point in InfluxDB, as {column: value} without the empty columns."""
    rows = []
    for series in influxdb.query('SELECT * FROM "sensor"'):
        for values in series["values"]:
            row = dict(zip(series["columns"], values, strict=True))
            rows.append({k: v for k, v in row.items() if v is not None and k != "time"})
    return rows


async def test_forged_unknown_and_malformed_messages_end_as_dead_letters_and_good_ones_in_influxdb(
    broker: Broker,
    sessions: async_sessionmaker[AsyncSession],
    influxdb: InfluxServer,
    stored_ingest: IngestService,
) -> None:
    (a, a_password), (b, b_password), (stale, stale_password) = await onboard(sessions, 3)
    await broker.sync(sessions)
    async with sessions() as session, session.begin():  # revoked, broker not reloaded yet: ingest refuses
        await revoke_sensor(session, ADMIN, stale)
    senml = device_topic(a, TopicKind.SENML)
    bad = {
        b"not json at all": RejectReason.NOT_JSON,
        b'[{"n":"level","v":NaN}]': RejectReason.NOT_FINITE,
        b'[{"n":"level","v":' + b"[" * 500 + b"]" * 500 + b"}]": RejectReason.SCHEMA,
        b'[{"n":"level","vs":"\xff\xfe"}]': RejectReason.NOT_JSON,
        b'[{"n":"level","v":1,"x_":2}]': RejectReason.MUST_UNDERSTAND,
        f'[{{"bn":"urn:dev:ioc:{b}:","n":"level","v":9}}]'.encode(): RejectReason.IDENTITY_MISMATCH,
        b"": RejectReason.NOT_JSON,
        b'[{"bver":10,"n":"a","v":1},{"bver":9,"n":"b","v":2}]': RejectReason.SCHEMA,
    }
    device = aiomqtt.Client("127.0.0.1", broker.port, username=str(a), password=a_password)
    async with device as dev:  # the broker's ACL must drop the first one: a writing as b
        await dev.publish(device_topic(b, TopicKind.SENML), b'[{"n":"level","u":"m","v":99}]', qos=1)
        good = [{"bn": f"urn:dev:ioc:{a}:", "n": "level", "u": "m", "v": 1.25}]
        await dev.publish(senml, json.dumps(good), qos=1)
        await dev.publish(device_topic(a, TopicKind.TELEMETRY), b'{"fields": {"pump_on": true}}', qos=1)
        for payload in bad:
            await dev.publish(senml, payload, qos=1)
    async with aiomqtt.Client("127.0.0.1", broker.port, username=str(stale), password=stale_password) as old:
        await old.publish(device_topic(stale, TopicKind.SENML), b'[{"n":"level","v":1}]', qos=1)
    # b's own message on the topic a forged to: one topic's messages arrive in order (MQTT 3.1.1
    # section 4.6), so once it is stored a forged message that got through would be stored too.
    async with aiomqtt.Client("127.0.0.1", broker.port, username=str(b), password=b_password) as own:
        await own.publish(device_topic(b, TopicKind.SENML), b'[{"n":"sentinel","v":1}]', qos=1)

    async def settled() -> bool:
        points = await asyncio.to_thread(stored_points, influxdb)
        return len(points) >= 3 and len(await list_dead_letters(sessions)) >= len(bad) + 1

    await wait_until(settled, 10, "3 points in InfluxDB and every bad message a dead letter")
    points = stored_points(influxdb)
    fields = {"level", "pump_on", "sentinel"}
    assert sorted(
        ((p["device_id"], p.get("unit_level"), {k: v for k, v in p.items() if k in fields}) for p in points),
        key=str,
    ) == sorted(
        [
            (str(a), "m", {"level": 1.25}),
            (str(a), None, {"pump_on": True}),
            (str(b), None, {"sentinel": 1.0}),
        ],
        key=str,
    )
    for point in points:  # the device's tags (docs/telemetry.md): a commune at the root of this tree
        device_tags = {k: v for k, v in point.items() if k not in fields | {"unit_level"}}
        assert device_tags == {
            "device_id": device_tags["device_id"],
            "device": device_tags["device"],
            "kind": "sensor",
            "commune": "X1",
            "site": "X1",
        }
        assert str(device_tags["device"]).startswith("sensor-")
    letters = await list_dead_letters(sessions)
    by_payload = {letter.payload_base64: letter for letter in letters}
    assert len(letters) == len(bad) + 1
    for payload, reason in bad.items():
        letter = by_payload[base64.b64encode(payload).decode()]
        assert (letter.reason, letter.device_id, letter.topic) == (reason, a, senml)
    unknown = [letter for letter in letters if letter.device_id == stale]
    assert [letter.reason for letter in unknown] == [RejectReason.UNKNOWN_DEVICE]
    await wait_until(lambda: _seen(sessions, a), 10, f"device {a} last seen")
    assert stored_ingest.stats.points == 3


async def _seen(sessions: async_sessionmaker[AsyncSession], device_id: int) -> bool:
    return device_id in await last_seen(sessions)


async def test_dead_letters_are_bounded_and_queryable(sessions: async_sessionmaker[AsyncSession]) -> None:
    store = DeadLetterStore(sessions, max_rows=5, max_payload_bytes=8)
    for i in range(12):  # dead letters name any device id, registered or not: no foreign key
        rejection = Rejection(RejectReason.SCHEMA if i % 2 else RejectReason.NOT_JSON, f"case {i}")
        await store.add([NewDeadLetter(f"ioc/v1/d/{i}/senml", i, rejection, b"0123456789abcdef", 1.8e9 + i)])
    letters = await list_dead_letters(sessions)
    assert [letter.detail for letter in letters] == [f"case {i}" for i in (11, 10, 9, 8, 7)]
    assert (
        letters[0].payload_size == 16
        and letters[0].payload_truncated
        and letters[0].payload_text == "01234567"
    )
    schema_only = await list_dead_letters(sessions, reason=RejectReason.SCHEMA)
    assert [letter.device_id for letter in schema_only] == [11, 9, 7]
    assert [letter.device_id for letter in await list_dead_letters(sessions, device_id=10)] == [10]
    page = await list_dead_letters(sessions, limit=2, before_id=letters[1].id)
    assert [letter.detail for letter in page] == ["case 9", "case 8"]


async def test_file_import_stores_accepted_records_through_the_sink_and_reports_rejections(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    [(device, _)] = await onboard(sessions, 1)
    sink = RecordingSink()
    lines = b'[{"n":"level","u":"m","v":1.5}]\n[{"n":"level","u":"furlong","v":2}]\n'
    result = await import_payloads(
        split_payloads(lines),
        device,
        PayloadFormat.SENML,
        directory=CredentialDirectory(sessions),
        now=1.79e9,
        sink=sink,
    )
    assert [(p.tags["unit_level"], p.fields, p.time_ns) for p in sink.points] == [
        ("m", {"level": 1.5}, 1790 * 10**15)
    ]
    assert (sink.points[0].tags["device_id"], sink.points[0].tags["commune"]) == (str(device), "X1")
    assert [(item, r.reason) for item, r in result.rejected] == [(2, RejectReason.UNKNOWN_UNIT)]
    unknown = await import_payloads(
        split_payloads(lines),
        999,
        PayloadFormat.SENML,
        directory=CredentialDirectory(sessions),
        now=1.79e9,
        sink=sink,
    )
    assert {r.reason for _, r in unknown.rejected} == {RejectReason.UNKNOWN_DEVICE} and not unknown.accepted
    assert len(sink.points) == 1


async def test_status_will_message_becomes_a_point_but_a_replayed_retained_status_does_not(
    broker: Broker,
    sessions: async_sessionmaker[AsyncSession],
    ingest: tuple[IngestService, RecordingSink],
    tmp_path: Path,
) -> None:
    _, sink = ingest
    [(device, password)] = await onboard(sessions, 1)
    await broker.sync(sessions)
    status = device_topic(device, TopicKind.STATUS)
    publisher = require_binary("mosquitto_pub", "mosquitto-clients")
    # A sensor that says "online" (retained) and then loses power: the broker publishes its will.
    argv = [publisher, "-h", "127.0.0.1", "-p", str(broker.port), "-u", str(device), "-P", password,
            "-t", status, "-q", "1", "-r", "-l", "--will-topic", status, "--will-payload", "offline",
            "--will-qos", "1", "--will-retain"]  # fmt: skip
    sensor = await asyncio.create_subprocess_exec(
        *argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        assert sensor.stdin is not None
        sensor.stdin.write(b"online\n")
        await sensor.stdin.drain()
        await wait_until(lambda: _has_status(sink, [True]), 10, "status online")
    finally:
        sensor.kill()  # power loss: no DISCONNECT, so the broker publishes the will
        await sensor.wait()
    await wait_until(lambda: _has_status(sink, [True, False]), 10, "status online, then the will")
    # An ingest subscribing afresh (no shared group) gets the retained "offline" replayed: not news.
    late = IngestService(
        IngestConfig(url=broker.ingest_url, client_id="ingest-late", share_group=None),
        sink=sink,
        dead_letters=DeadLetterStore(sessions),
        last_seen=LastSeenStore(sessions),
        directory=CredentialDirectory(sessions),
    )
    task = asyncio.create_task(late.run())
    try:
        await wait_until(lambda: _received(late), 10, "a message received by the late ingest")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert _statuses(sink) == [True, False]
    status_tags = [p.tags for p in sink.points if p.measurement == "sensor_status"]
    assert all(t["device_id"] == str(device) and t["commune"] == "X1" for t in status_tags)


async def _received(service: IngestService) -> bool:
    return service.stats.received >= 1


def _statuses(sink: RecordingSink) -> list[object]:
    return [p.fields["online"] for p in sink.points if p.measurement == "sensor_status"]


async def _has_status(sink: RecordingSink, expected: list[bool]) -> bool:
    return _statuses(sink) == expected


class FlakySink(RecordingSink):
    """Fails twice with a disk error, then refuses any point named ``bad`` as unstorable."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 2

    async def write(self, points: Sequence[Point]) -> None:
        if self.failures:
            self.failures -= 1
            raise OSError("spool disk full")
        if any("bad" in p.fields for p in points):
            raise ValueError("field v of point 'bad' cannot be stored")
        await super().write(points)


async def test_sink_errors_hold_the_acks_and_an_unstorable_message_becomes_a_dead_letter(
    broker: Broker, sessions: async_sessionmaker[AsyncSession]
) -> None:
    [(device, password)] = await onboard(sessions, 1)
    await broker.sync(sessions)
    sink = FlakySink()
    service = IngestService(
        IngestConfig(url=broker.ingest_url, client_id="ingest-flaky", sink_retry_s=0.05, linger_s=0.2),
        sink=sink,
        dead_letters=DeadLetterStore(sessions),
        last_seen=LastSeenStore(sessions),
        directory=CredentialDirectory(sessions),
    )
    task = asyncio.create_task(service.run())
    try:
        await wait_until(lambda: _subscribed(service), 10, "the ingest subscribed")
        topic = device_topic(device, TopicKind.SENML)
        async with aiomqtt.Client(
            "127.0.0.1", broker.port, username=str(device), password=password
        ) as sensor:
            await sensor.publish(topic, b'[{"n":"good","v":1}]', qos=1)
            await sensor.publish(topic, b'[{"n":"bad","v":2}]', qos=1)
        await wait_until(lambda: _dead_letters(sessions, 1), 10, "one dead letter")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert sink.failures == 0
    assert [list(p.fields) for p in sink.points] == [["good"]]
    [letter] = await list_dead_letters(sessions)
    assert (letter.reason, letter.device_id, letter.topic) == (RejectReason.STORE_REFUSED, device, topic)
    assert letter.payload_text == '[{"n":"bad","v":2}]' and "cannot be stored" in letter.detail


async def _subscribed(service: IngestService) -> bool:
    return service.subscribed.is_set()


async def _dead_letters(sessions: async_sessionmaker[AsyncSession], count: int) -> bool:
    return len(await list_dead_letters(sessions)) >= count


async def test_ingest_reconnects_after_a_broker_restart(
    broker: Broker, sessions: async_sessionmaker[AsyncSession], ingest: tuple[IngestService, RecordingSink]
) -> None:
    """Mosquitto 2.0.11 does not restore *shared* subscriptions from its persistence file (plain ones
    it does), so the ingest must re-subscribe on every connection, which it does; a message published
    between the broker's restart and that re-subscription has no subscriber (docs/mqtt.md)."""
    _, sink = ingest
    [(device, password)] = await onboard(sessions, 1)
    await broker.sync(sessions)
    topic = device_topic(device, TopicKind.SENML)
    await asyncio.to_thread(broker.process.restart)
    await asyncio.to_thread(broker.wait_ingest_subscribed, "ingest-test", connections=2, within=20)
    async with aiomqtt.Client("127.0.0.1", broker.port, username=str(device), password=password) as sensor:
        await sensor.publish(topic, b'[{"n":"level","v":3}]', qos=1)
    await wait_until(lambda: _points(sink, 1), 20, "the message published after the re-subscription")
    assert [dict(p.fields) for p in sink.points] == [{"level": 3.0}]


async def _points(sink: RecordingSink, count: int) -> bool:
    return len(sink.points) >= count
