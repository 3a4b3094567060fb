"""The two things the ingest needs from aiomqtt 2.x that it does not expose, kept in one place.

1. Manual QoS 1 acknowledgements: paho-mqtt 2.x has ``manual_ack_set``/``ack``, aiomqtt does not yet
   (empicano/aiomqtt#345, draft PR #346). With manual acks on, paho sends no PUBACK on arrival; we
   send it after the points are durable, so a crash in between leaves the message un-acked in the
   broker's session and it is delivered again.
2. Taking the messages already received without awaiting each one: ``async for`` over
   ``client.messages`` creates a task and an ``asyncio.wait`` per message, which in the bench cost
   more than parsing the payload. The first message of a batch is still awaited the public way (it
   also notices a disconnect); the rest of the batch is taken from the queue without waiting.
"""

from __future__ import annotations

import asyncio

import aiomqtt
import paho.mqtt.client as paho


def _paho(client: aiomqtt.Client) -> paho.Client:
    return client._client


def enable_manual_ack(client: aiomqtt.Client) -> None:
    """Call before connecting, so that messages queued in the session are covered too."""
    _paho(client).manual_ack_set(True)


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
