"""The two things the ingest needs from aiomqtt 2.x that it does not expose, kept in one place.

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
2. Taking the messages already received without awaiting each one: ``async for`` over
   ``client.messages`` creates a task and an ``asyncio.wait`` per message, which in the bench cost
   more than parsing the payload. The first message of a batch is still awaited the public way (it
   also notices a disconnect); the rest of the batch is taken from the queue without waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiomqtt
import paho.mqtt.client as paho


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


def enable_fast_reads(client: aiomqtt.Client) -> None:
    """Call before connecting (each session builds a new client, so the buffer starts empty)."""
    mqtt = _paho(client)
    mqtt.disable_logger()
    recv = _BufferedRecv(mqtt._sock_recv)
    mqtt._sock_recv = recv  # type: ignore[method-assign,assignment]

    def loop_read(max_packets: int = 1) -> paho.MQTTErrorCode:
        for _ in range(MAX_PACKETS_PER_EVENT):
            if mqtt._sock is None:
                return paho.MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = mqtt._packet_read()
            if rc > 0:
                return mqtt._loop_rc_handle(rc)
            if rc == paho.MQTTErrorCode.MQTT_ERR_AGAIN:
                return paho.MQTTErrorCode.MQTT_ERR_SUCCESS
        if recv.pending():  # the kernel will not signal bytes we already hold
            asyncio.get_running_loop().call_soon(loop_read)
        return paho.MQTTErrorCode.MQTT_ERR_SUCCESS

    mqtt.loop_read = loop_read  # type: ignore[method-assign]
    mqtt._on_message_filtered = _NO_TOPIC_CALLBACKS  # type: ignore[assignment]


class _NoTopicCallbacks:
    """paho matches every message's topic against per-topic callbacks; the ingest registers none
    (``message_callback_add`` is never called), so the tree walk per message is skipped."""

    def iter_match(self, topic: str) -> tuple[()]:
        return ()


_NO_TOPIC_CALLBACKS = _NoTopicCallbacks()


def ack(client: aiomqtt.Client, message: aiomqtt.Message) -> None:
    if message.qos > 0:
        _paho(client).ack(message.mid, message.qos)


def take_ready(client: aiomqtt.Client, limit: int) -> list[aiomqtt.Message]:
    """Up to ``limit`` messages that have already arrived; never waits."""
    queue: asyncio.Queue[aiomqtt.Message] = client._queue
    out: list[aiomqtt.Message] = []
    while len(out) < limit:
        try:
            out.append(queue.get_nowait())
        except asyncio.QueueEmpty:
            break
    return out
