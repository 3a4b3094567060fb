"""The MQTT ingest service: broker -> parse -> durable sink -> PUBACK.

Shape of one cycle: take every message already received (up to ``max_batch``), parse each, write
all accepted points to the sink in one call, record dead letters, then acknowledge the batch in
arrival order. Acks go out only after ``Sink.write`` returned, so a crash anywhere before leaves the
messages in the broker's persistent session (clean session off, a stable client id) and they are
delivered again: at-least-once, never lost. Several processes split the stream through the shared
subscription ``$share/<group>/ioc/v1/d/+/<kind>``.

Lifecycle: ``await service.run()`` runs until cancelled and reconnects on broker loss; on
cancellation it reads no more, stores and acknowledges the batch in hand (``drain_s``), and flushes
last-seen times before returning.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

from provisioning.mqtt.client import (
    Client,
    FastReads,
    Message,
    MqttError,
    ProtocolVersion,
    ack_batch,
    enable_fast_reads,
    enable_manual_ack,
)
from provisioning.mqtt.topics import INGEST_KINDS, TopicError, TopicKind, ingest_filter, parse_topic
from provisioning.mqtt.url import MqttUrl
from telemetry.ingest.deadletters import DeadLetterStore, NewDeadLetter
from telemetry.ingest.directory import DeviceDirectory
from telemetry.ingest.lastseen import LastSeenStore
from telemetry.ingest.parse import PayloadFormat, parse_payload
from telemetry.ingest.records import Accepted, Rejection, RejectReason
from telemetry.ingest.status import parse_status
from telemetry.points import FieldValue, Point
from telemetry.sink import Sink

log = logging.getLogger(__name__)

RECONNECT_FIRST_S = 0.5
SELF_MEASUREMENT = "mqtt_ingest"
"""The ingest's own counters (IngestStats), every ``last_seen_flush_s``."""
FORMATS = {TopicKind.TELEMETRY: PayloadFormat.JSON, TopicKind.SENML: PayloadFormat.SENML}


@dataclass(frozen=True)
class IngestConfig:
    url: MqttUrl
    client_id: str
    """Stable per ingest instance: the broker keeps this id's session (and un-acked messages)."""
    share_group: str | None = "ioc"
    max_batch: int = 1000
    max_waiting: int = 2000
    """Messages read from the broker and not yet taken into a batch; at this many the ingest stops
    reading its socket until the batches catch up. Mosquitto's ``max_inflight_messages`` does not
    bound this (provisioning/mqtt/client.py, point 4), and without a bound a burst is read into memory faster
    than it is stored."""
    linger_s: float = 0.002
    linger_below: int = 100
    last_seen_flush_s: float = 5.0
    reconnect_max_s: float = 30.0
    sink_retry_s: float = 1.0
    drain_s: float = 5.0
    """On cancellation, how long the batch in hand may take to be stored and acknowledged."""
    self_metrics: bool = False
    """Write an ``mqtt_ingest`` point with the counters every ``last_seen_flush_s`` (``ioc serve``
    does; tests that count exactly the points of their messages leave it off)."""


@dataclass
class IngestStats:
    received: int = 0
    points: int = 0
    dead_letters: int = 0
    dead_letters_lost: int = 0
    batches: int = 0


@dataclass(frozen=True, slots=True)
class _Stored:
    """A message's points, with what a dead letter needs if the sink refuses them."""

    topic: str
    device_id: int
    payload: bytes
    points: list[Point]


@dataclass
class _Outcome:
    points: list[_Stored] = field(default_factory=list)
    letters: list[NewDeadLetter] = field(default_factory=list)


class IngestService:
    def __init__(
        self,
        config: IngestConfig,
        *,
        sink: Sink,
        dead_letters: DeadLetterStore,
        last_seen: LastSeenStore,
        directory: DeviceDirectory,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._sink = sink
        self._dead_letters = dead_letters
        self._last_seen = last_seen
        self._directory = directory
        self._clock = clock
        self.stats = IngestStats()
        self.subscribed = asyncio.Event()
        self._broker_down_logged = False
        self._sink_down_logged = False
        self._reconnect_delay = RECONNECT_FIRST_S
        self._reads: FastReads | None = None
        self._peak_waiting = 0

    @property
    def peak_waiting(self) -> int:
        """The most messages that were read and waited to be taken at once, since start."""
        reads = self._reads
        return max(self._peak_waiting, reads.peak_waiting if reads is not None else 0)

    async def run(self) -> None:
        flusher = asyncio.create_task(self._flush_last_seen_forever(), name="ingest-last-seen")
        try:
            while True:
                try:
                    await self._session()
                except MqttError as error:
                    self.subscribed.clear()
                    if not self._broker_down_logged:
                        log.warning("MQTT broker %s unreachable or lost: %s", self.config.url, error)
                        self._broker_down_logged = True
                    await asyncio.sleep(self._reconnect_delay)
                    self._reconnect_delay = min(self._reconnect_delay * 2, self.config.reconnect_max_s)
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            with contextlib.suppress(Exception):
                await asyncio.shield(self._last_seen.flush())

    def _client(self) -> tuple[Client, FastReads]:
        """MQTT 3.1.1 with a persistent session (clean session off) on purpose: paho builds a
        ``Properties`` object for every MQTT 5 PUBLISH, which cost ~250 µs per message in the bench,
        ten times the rest of the ingest. In 3.1.1 the broker's ``max_inflight_messages`` is meant to
        bound the un-acked window (Mosquitto 2.0.11 lets it grow, so ``max_waiting`` bounds what we
        read) and ``persistent_client_expiration`` expires abandoned sessions."""
        url = self.config.url
        client = Client(
            url.host,
            url.port,
            username=url.username,
            password=url.password.get_secret_value() if url.password else None,
            identifier=self.config.client_id,
            protocol=ProtocolVersion.V311,
            clean_session=False,
            tls_context=ssl.create_default_context() if url.tls else None,
            keepalive=30,
        )
        enable_manual_ack(client)
        return client, enable_fast_reads(client)

    async def _session(self) -> None:
        client, reads = self._client()
        self._peak_waiting = self.peak_waiting
        self._reads = reads
        async with client:
            for kind in INGEST_KINDS:
                await client.subscribe(ingest_filter(kind, self.config.share_group), qos=1)
            reads.hold_at(self.config.max_waiting)
            if self._broker_down_logged:
                log.warning("MQTT broker %s reachable again", self.config.url)
                self._broker_down_logged = False
            self._reconnect_delay = RECONNECT_FIRST_S
            self.subscribed.set()
            messages = client.messages
            while True:
                batch = [await anext(messages)]
                batch += reads.take_ready(self.config.max_batch - 1)
                if len(batch) < self.config.linger_below:
                    # A short wait under load turns many tiny batches (one fsync each) into few large ones.
                    await asyncio.sleep(self.config.linger_s)
                    batch += reads.take_ready(self.config.max_batch - len(batch))
                await self._store_and_ack(client, batch)

    async def _store_and_ack(self, client: Client, batch: list[Message]) -> None:
        """Cancellation (a graceful stop) does not cut a batch short: it is stored and acknowledged
        for up to ``drain_s`` first, so a stop costs no redelivery. Past that (a sink that does not
        take it) it is abandoned un-acked, and the broker delivers it again to the next session."""
        work = asyncio.ensure_future(self._handle(batch))
        try:
            await asyncio.shield(work)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(work, self.config.drain_s)
            if work.done() and not work.cancelled() and work.exception() is None:
                self._ack(client, batch)
            raise
        self._ack(client, batch)

    def _ack(self, client: Client, batch: list[Message]) -> None:
        ack_batch(client, batch)
        self.stats.batches += 1

    async def _handle(self, batch: Sequence[Message]) -> None:
        now = self._clock()
        self.stats.received += len(batch)
        outcome = _Outcome()
        for message in batch:
            await self._classify(message, now, outcome)
        await self._write_points(outcome)
        if outcome.letters:
            self.stats.dead_letters += len(outcome.letters)
            try:
                await self._dead_letters.add(outcome.letters)
            except Exception as error:
                # Diagnostics must not hold good telemetry hostage: count and move on.
                self.stats.dead_letters_lost += len(outcome.letters)
                log.error("could not record %d dead letters: %s", len(outcome.letters), error)

    async def _classify(self, message: Message, now: float, outcome: _Outcome) -> None:
        topic = message.topic.value
        payload = message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
        try:
            target = parse_topic(topic)
        except TopicError as error:
            outcome.letters.append(
                NewDeadLetter(topic, None, Rejection(RejectReason.BAD_TOPIC, str(error)), payload, now)
            )
            return
        device_id = target.device_id
        known = self._directory.cached(device_id)
        if known is None:
            known = await self._directory.is_known(device_id)
        if not known:
            rejection = Rejection(RejectReason.UNKNOWN_DEVICE, f"device {device_id} has no active credential")
            outcome.letters.append(NewDeadLetter(topic, device_id, rejection, payload, now))
            return
        if target.kind is TopicKind.STATUS:
            status = parse_status(payload, device_id, now, self._directory.tags(device_id))
            if isinstance(status, Rejection):
                outcome.letters.append(NewDeadLetter(topic, device_id, status, payload, now))
            elif not message.retain:  # a retained status is old news replayed at subscribe time
                outcome.points.append(_Stored(topic, device_id, payload, [status]))
                self._last_seen.touch(device_id, now)
            return
        self._last_seen.touch(device_id, now)
        result = parse_payload(payload, device_id, FORMATS[target.kind], now)
        if isinstance(result, Accepted):
            outcome.points.append(
                _Stored(topic, device_id, payload, result.points(self._directory.tags(device_id)))
            )
        else:
            outcome.letters.append(NewDeadLetter(topic, device_id, result, payload, now))

    async def _write_points(self, outcome: _Outcome) -> None:
        points = [point for stored in outcome.points for point in stored.points]
        if not points:
            return
        while True:
            try:
                await self._sink.write(points)
            except ValueError:
                await self._write_one_by_one(outcome)
                return
            except Exception as error:
                if not self._sink_down_logged:
                    log.error("telemetry sink failing, holding acks and retrying: %s", error)
                    self._sink_down_logged = True
                await asyncio.sleep(self.config.sink_retry_s)
                continue
            if self._sink_down_logged:
                log.warning("telemetry sink writing again")
                self._sink_down_logged = False
            self.stats.points += len(points)
            return

    async def _write_one_by_one(self, outcome: _Outcome) -> None:
        """The sink said some point can never be stored: find which message, dead-letter only it."""
        for stored in outcome.points:
            try:
                await self._sink.write(stored.points)
                self.stats.points += len(stored.points)
            except ValueError as error:
                why = Rejection(RejectReason.STORE_REFUSED, str(error)[:500])
                now = self._clock()
                outcome.letters.append(
                    NewDeadLetter(stored.topic, stored.device_id, why, stored.payload, now)
                )

    async def _flush_last_seen_forever(self) -> None:
        while True:
            await asyncio.sleep(self.config.last_seen_flush_s)
            try:
                await self._last_seen.flush()
            except Exception as error:
                log.error("could not flush last-seen times: %s", error)
            if self.config.self_metrics:
                await self.write_self_metrics()

    async def write_self_metrics(self) -> None:
        """The counters as one ``mqtt_ingest`` point (cumulative per process; the Platform health
        dashboard turns them into rates). A sink that refuses it costs one sample, nothing else."""
        fields: dict[str, FieldValue] = dict(asdict(self.stats))
        point = Point(
            SELF_MEASUREMENT, fields, round(self._clock() * 1e9), {"client_id": self.config.client_id}
        )
        try:
            await self._sink.write([point])
        except Exception as error:
            log.debug("could not write ingest self-metrics: %s", error)
