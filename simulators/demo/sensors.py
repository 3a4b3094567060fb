"""The demo's MQTT sensors: each connects with its own credentials and publishes SenML every interval.

``python -m simulators.demo.sensors --config sensors.json --control DIR``. The config holds the
broker (``host``, ``port``), ``interval_s`` and a list of sensors (``device_id``, ``username``,
``password``, ``district``, ``quantity``, ``unit``, ``base``). Readings are stamped on a fixed grid
(``bt`` = a multiple of the interval plus the sensor's phase), so a series has exactly one point per
interval and a re-delivered message is the same point. Faults: ``cut-<district>`` silences a
district, ``flap-<device_id>`` alternates four minutes on and four off, ``malformed-<device_id>``
sends one payload that is not JSON (it must become a dead letter).
"""

from __future__ import annotations

import asyncio
import json
import math
import signal
import time
from pathlib import Path
from typing import Any

import aiomqtt

from simulators.demo.control import CUT, FLAP, MALFORMED, ControlFolder, run_simulator

FLAP_PERIOD_S = 240
"""On and off this long each: the monitors' MQTT freshness tolerates three missed 60 s intervals, so a
shorter silence would never show."""


def reading(sensor: dict[str, Any], at: float) -> float:
    """A plausible slow wave around the sensor's base value."""
    base = float(sensor["base"])
    wave = math.sin(at / 600.0 + sensor["device_id"]) * 0.1 * (abs(base) or 1.0)
    return round(base + wave, 3)


def senml(sensor: dict[str, Any], at: float) -> bytes:
    record = {
        "bn": f"urn:dev:ioc:{sensor['device_id']}:",
        "bt": at,
        "n": sensor["quantity"],
        "u": sensor["unit"],
        "v": reading(sensor, at),
    }
    return json.dumps([record]).encode()


def silent(sensor: dict[str, Any], control: ControlFolder, now: float) -> bool:
    if sensor["district"] in control.targets(CUT):
        return True
    return str(sensor["device_id"]) in control.targets(FLAP) and int(now // FLAP_PERIOD_S) % 2 == 1


async def run_sensor(
    sensor: dict[str, Any], broker: dict[str, Any], interval: float, control: ControlFolder
) -> None:
    topic = f"ioc/v1/d/{sensor['device_id']}/senml"
    phase = sensor["device_id"] % int(interval)
    while True:
        try:
            async with aiomqtt.Client(
                broker["host"],
                broker["port"],
                username=sensor["username"],
                password=sensor["password"],
                identifier=f"demo-sensor-{sensor['device_id']}",
                protocol=aiomqtt.ProtocolVersion.V311,
                keepalive=60,
            ) as client:
                due = math.floor((time.time() - phase) / interval) * interval + phase  # the current slot, now
                while True:
                    if str(sensor["device_id"]) in control.targets(MALFORMED):
                        control.clear(MALFORMED, str(sensor["device_id"]))
                        await client.publish(topic, b'{"bn": "urn:dev:ioc:broken', qos=1)
                    if not silent(sensor, control, due):
                        await client.publish(topic, senml(sensor, due), qos=1)
                    due += interval
                    await asyncio.sleep(max(0.0, due - time.time()))
        except aiomqtt.MqttError:
            await asyncio.sleep(2.0)


async def serve(config_path: Path, control: ControlFolder) -> None:
    config = json.loads(await asyncio.to_thread(config_path.read_text))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    tasks = [
        asyncio.create_task(run_sensor(sensor, config["broker"], float(config["interval_s"]), control))
        for sensor in config["sensors"]
    ]
    print(f"READY {len(tasks)} sensors", flush=True)
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def main() -> None:
    run_simulator(serve, __doc__ or "")


if __name__ == "__main__":
    main()
