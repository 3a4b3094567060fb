"""Many sensors publishing at full speed: one paho connection per sensor, QoS 1, round-robin.

Shared by the MQTT burst test and the MQTT benches, so the test reproduces the load the benches measure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import paho.mqtt.client as paho

Message = Callable[[int, int], tuple[str, str]]
"""``message(i, device_id) -> (topic, payload)`` for the i-th message of the run."""


def publish_round_robin(
    port: int,
    sensors: Sequence[tuple[int, str]],
    count: int,
    message: Message,
    *,
    client_prefix: str,
    inflight: int = 1000,
    timeout: float = 120,
) -> float:
    """Connect every sensor (device id, password), then publish ``count`` messages round-robin over them
    and wait until the broker acknowledged each. Returns the publishing seconds, connection set-up
    excluded."""
    clients = []
    for device_id, password in sensors:
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"{client_prefix}-{device_id}")
        client.username_pw_set(str(device_id), password)
        client.max_inflight_messages_set(inflight)
        client.max_queued_messages_set(0)
        client.connect("127.0.0.1", port)
        client.loop_start()
        clients.append((device_id, client))
    try:
        start = time.monotonic()
        infos = []
        for i in range(count):
            device_id, client = clients[i % len(clients)]
            topic, payload = message(i, device_id)
            infos.append(client.publish(topic, payload, qos=1))
        for info in infos:
            info.wait_for_publish(timeout=timeout)
        return time.monotonic() - start
    finally:
        for _, client in clients:
            client.disconnect()
            client.loop_stop()
