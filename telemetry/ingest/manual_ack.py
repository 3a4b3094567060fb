"""Manual QoS 1 acknowledgements on an aiomqtt client.

aiomqtt 2.x does not expose paho-mqtt 2.x's ``manual_ack_set``/``ack`` yet (empicano/aiomqtt#345,
draft PR #346), so this module reaches the wrapped paho client in one place. With manual acks on,
paho does not send PUBACK when a message arrives; we send it after the points are durable, so a
crash in between leaves the message un-acked in the broker's session and it is redelivered.
"""

from __future__ import annotations

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
