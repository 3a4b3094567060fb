"""The MQTT client: the one module that imports aiomqtt and paho-mqtt (moved here from telemetry/ingest).

It opens the short connections of the probe (:func:`connect`) and carries what the ingest needs from
aiomqtt 2.x that it does not expose:

1. Manual QoS 1 acknowledgements: paho-mqtt 2.x has ``manual_ack_set``/``ack``, aiomqtt does not yet
   (empicano/aiomqtt#345, draft PR #346). With manual acks on, paho sends no PUBACK on arrival; we
   send it after the points are durable, so a crash in between leaves the message un-acked in the
   broker's session and it is delivered again.
3. Reading the socket in large chunks: paho reads every packet with three ``recv`` calls (command
   byte, length, body) and aiomqtt's reader handles one packet per event-loop turn, so each message
   cost three syscalls, an ``epoll`` and a loop iteration (the largest share of the ingest's CPU in
   the bench profile). :func:`enable_fast_reads` serves paho's reads from a 64 KiB buffer and lets
   one readiness event drain every packet already received (bounded, then continued on the next
   loop turn). paho's per-packet debug logging is turned off too (errors still surface through
   aiomqtt as ``MqttError``), and so is its per-message walk of per-topic callbacks (we add none).
4. Reading no further ahead than the ingest stores (:meth:`FastReads.hold_at`): the broker's
   ``max_inflight_messages`` was meant to bound the messages received and not yet acknowledged, but
   Mosquitto 2.0.11 does not hold a subscriber to it once that subscriber acknowledges: with the
   window at 1000 and a subscriber acking 2000 msg/s under a faster burst, it had 10 000 to 16 000
   un-acked messages out (measured with bare paho). The ingest then read a 200 000-message burst
   into memory before storing any of it, each 2000-packet read starving the batches (one event-loop
   turn each) and the writer's flusher. So the reader stops watching the socket while enough
   messages wait and resumes when the batches have taken them; the unread bytes stay in the kernel
   and then in the broker's session queue, where they belong.
2. Taking the messages already received without awaiting each one: ``async for`` over
   ``client.messages`` creates a task and an ``asyncio.wait`` per message, which in the bench cost
   more than parsing the payload. The first message of a batch is still awaited the public way (it
   also notices a disconnect); the rest of the batch is taken from the queue without waiting
   (:meth:`FastReads.take_ready`).
"""

from __future__ import annotations

import asyncio
import ssl
import struct
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager, suppress

import aiomqtt
import paho.mqtt.client as paho
from aiomqtt import Client, Message, MqttError, ProtocolVersion

from provisioning.mqtt.errors import translate
from provisioning.mqtt.models import MqttEndpoint

__all__ = [
    "Client",
    "FastReads",
    "Message",
    "MqttError",
    "ProtocolVersion",
    "ack_batch",
    "connect",
    "enable_fast_reads",
    "enable_manual_ack",
]


def _paho(client: aiomqtt.Client) -> paho.Client:
    return client._client


def enable_manual_ack(client: aiomqtt.Client) -> None:
    """Call before connecting, so that messages queued in the session are covered too."""
    _paho(client).manual_ack_set(True)


READ_CHUNK = 64 * 1024
MAX_PACKETS_PER_EVENT = 2000
"""Bounds one reader callback: a QoS 0 flood (not limited by the broker's in-flight window) cannot
starve the event loop; what is left in the buffer is read on the next loop turn."""


class _BufferedRecv:
    """paho's ``_sock_recv`` served from one large read; raises what the original raises."""

    def __init__(self, raw: Callable[[int], bytes]) -> None:
        self._raw = raw
        self._buffer = b""
        self._pos = 0

    def __call__(self, size: int) -> bytes:
        if self._pos >= len(self._buffer):
            data = self._raw(READ_CHUNK)  # BlockingIOError when nothing is there; b"" at EOF
            if not data:
                return data
            self._buffer, self._pos = data, 0
        start = self._pos
        self._pos = min(start + size, len(self._buffer))
        return self._buffer[start : self._pos]

    def pending(self) -> int:
        return len(self._buffer) - self._pos


class FastReads:
    """paho's reads for one connection: buffered, drained per readiness event, and held back while
    ``max_waiting`` received messages wait to be taken (see :meth:`hold_at`)."""

    def __init__(self, client: aiomqtt.Client) -> None:
        self._client = client
        self._mqtt = _paho(client)
        self._queue: asyncio.Queue[aiomqtt.Message] = client._queue
        self._recv = _BufferedRecv(self._mqtt._sock_recv)
        self._max_waiting: int | None = None
        self._paused: object | None = None
        """The socket whose reader is removed while enough messages wait; ``None`` when reading."""
        self.peak_waiting = 0
        """The most messages that waited at once (read, not yet taken); tests and the bench read it."""

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    def hold_at(self, max_waiting: int) -> None:
        """From now on stop reading the socket while ``max_waiting`` messages wait to be taken.

        Call it once subscribed, not before: a persistent session's backlog arrives right after
        CONNACK, and a reader paused before the SUBACK behind it would never see the SUBACK."""
        self._max_waiting = max_waiting

    def loop_read(self, max_packets: int = 1) -> paho.MQTTErrorCode:
        mqtt, recv, limit = self._mqtt, self._recv, self._max_waiting
        for _ in range(MAX_PACKETS_PER_EVENT):
            if mqtt._sock is None:
                return paho.MQTTErrorCode.MQTT_ERR_NO_CONN
            if limit is not None and self._queue.qsize() >= limit:
                self._pause()
                return paho.MQTTErrorCode.MQTT_ERR_SUCCESS
            rc = mqtt._packet_read()
            if rc > 0:
                self._note_peak()
                return mqtt._loop_rc_handle(rc)
            if rc == paho.MQTTErrorCode.MQTT_ERR_AGAIN:
                self._note_peak()
                return paho.MQTTErrorCode.MQTT_ERR_SUCCESS
        self._note_peak()
        if recv.pending():  # the kernel will not signal bytes we already hold
            asyncio.get_running_loop().call_soon(self._read_ready)
        return paho.MQTTErrorCode.MQTT_ERR_SUCCESS

    def take_ready(self, limit: int) -> list[aiomqtt.Message]:
        """Up to ``limit`` messages that have already arrived; never waits. Reading resumes once
        fewer than ``max_waiting`` are left."""
        queue = self._queue
        out: list[aiomqtt.Message] = []
        while len(out) < limit:
            try:
                out.append(queue.get_nowait())
            except asyncio.QueueEmpty:
                break
        if self._paused is not None and self._max_waiting is not None and queue.qsize() < self._max_waiting:
            self._resume()
        return out

    def _note_peak(self) -> None:
        waiting = self._queue.qsize()
        if waiting > self.peak_waiting:
            self.peak_waiting = waiting

    def _pause(self) -> None:
        """Stop watching the socket: unread bytes stay in the kernel, then in the broker's session
        queue: the backpressure the broker's in-flight window was meant to give and does not."""
        self._note_peak()
        sock = self._mqtt._sock
        if sock is None or self._paused is sock:
            return
        asyncio.get_running_loop().remove_reader(sock.fileno())
        self._paused = sock

    def _resume(self) -> None:
        paused, self._paused = self._paused, None
        sock = self._mqtt._sock
        if sock is None or sock is not paused:
            return  # closed meanwhile: aiomqtt reports the disconnect, the next session reads anew
        loop = asyncio.get_running_loop()
        loop.add_reader(sock.fileno(), self._read_ready)
        loop.call_soon(self._read_ready)  # bytes already buffered here raise no readiness event

    def _read_ready(self) -> None:
        """The reader callback, as aiomqtt's own: a read that raises means the connection broke."""
        try:
            self.loop_read()
        except Exception as error:
            disconnected: asyncio.Future[None] = self._client._disconnected
            if not disconnected.done():
                disconnected.set_exception(error)


def enable_fast_reads(client: aiomqtt.Client) -> FastReads:
    """Call before connecting (each session builds a new client, so the buffer starts empty)."""
    mqtt = _paho(client)
    mqtt.disable_logger()
    reads = FastReads(client)
    mqtt._sock_recv = reads._recv  # type: ignore[method-assign,assignment]
    mqtt.loop_read = reads.loop_read  # type: ignore[method-assign]
    mqtt._on_message_filtered = _NO_TOPIC_CALLBACKS  # type: ignore[assignment]
    return reads


class _NoTopicCallbacks:
    """paho matches every message's topic against per-topic callbacks; the ingest registers none
    (``message_callback_add`` is never called), so the tree walk per message is skipped."""

    def iter_match(self, topic: str) -> tuple[()]:
        return ()


_NO_TOPIC_CALLBACKS = _NoTopicCallbacks()


_PUBACK = struct.Struct("!BBH")


def ack_batch(client: aiomqtt.Client, messages: Iterable[aiomqtt.Message]) -> None:
    """Acknowledge ``messages`` in order with one outgoing write.

    paho queues every PUBACK as a packet of its own and wakes its socket pair for each (a ``send``
    per message: the costliest line of the ack path in the e2e profile). The PUBACKs of a batch,
    concatenated, are the same bytes on the wire, queued once. (QoS 2 is not subscribed to; it would
    go through paho's own ``ack``.)"""
    mqtt = _paho(client)
    pubacks = bytearray()
    for message in messages:
        if message.qos == 1:
            pubacks += _PUBACK.pack(paho.PUBACK, 2, message.mid)
        elif message.qos == 2:
            mqtt.ack(message.mid, 2)
    if pubacks:
        mqtt._packet_queue(paho.PUBACK, bytes(pubacks), 0, 1)


@asynccontextmanager
async def connect(endpoint: MqttEndpoint, *, client_id: str | None = None) -> AsyncIterator[aiomqtt.Client]:
    """A clean MQTT 3.1.1 session to ``endpoint``; any failure (connect, refusal, lost connection)
    leaves as a typed ``DeviceError`` from :func:`provisioning.mqtt.errors.translate`."""
    password = endpoint.password.get_secret_value() if endpoint.password is not None else None
    client = aiomqtt.Client(
        endpoint.host,
        endpoint.port,
        username=endpoint.username,
        password=password,
        identifier=client_id,
        protocol=aiomqtt.ProtocolVersion.V311,
        clean_session=True,
        tls_context=ssl.create_default_context() if endpoint.tls else None,
        timeout=endpoint.timeout,
        keepalive=max(5, int(endpoint.timeout * 2)),
    )
    where = endpoint.label
    try:
        async with asyncio.timeout(endpoint.timeout):
            await client.__aenter__()
    except (MqttError, OSError, TimeoutError) as error:
        raise translate(error, where) from None
    try:
        yield client
    except (MqttError, OSError, TimeoutError) as error:
        raise translate(error, where) from None
    finally:
        with suppress(MqttError):
            await client.__aexit__(None, None, None)
