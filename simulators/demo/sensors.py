"""The demo's MQTT sensors: each connects with its own credentials and publishes SenML every interval.

``python -m simulators.demo.sensors --config sensors.json --control DIR``. The config holds the
broker (``host``, ``port``), ``interval_s`` and a list of sensors (``device_id``, ``username``,
``password``, ``district``, ``quantity``, ``unit``, ``base``) and ``flap_s`` (``[off, on]``
seconds). Readings are stamped on a fixed grid (``bt`` = a multiple of the interval plus the
sensor's phase), so a series has exactly one point per interval and a re-delivered message is the
same point. Faults: ``cut-<district>`` silences a district, ``flap-<device_id>`` silences the sensor
for ``off`` seconds then lets it publish for ``on`` seconds, over and over from the moment the fault
is set, ``malformed-<device_id>`` sends one payload that is not JSON (it must become a dead letter).
A silenced sensor that may speak again publishes its current slot at once, as a real one does when
it reconnects, rather than at its next slot: otherwise a sensor behind a district whose uplink is
back would stay silent up to one interval longer than its switch and could be paged as DOWN.
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

FLAP_S = (240.0, 240.0)
"""Off, then on, this long each, unless the config says otherwise (the demo sizes it to its checks)."""


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


def silent(sensor: dict[str, Any], control: ControlFolder, now: float, flap_s: tuple[float, float]) -> bool:
    if sensor["district"] in control.targets(CUT):
        return True
    flapping_since = control.since(FLAP, str(sensor["device_id"]))
    if flapping_since is None:
        return False
    off, on = flap_s
    return (now - flapping_since) % (off + on) < off


async def run_sensor(
    sensor: dict[str, Any],
    broker: dict[str, Any],
    interval: float,
    control: ControlFolder,
    flap_s: tuple[float, float] = FLAP_S,
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
                due = _slot(time.time(), interval, phase)  # the current slot, now
                while True:
                    if str(sensor["device_id"]) in control.targets(MALFORMED):
                        control.clear(MALFORMED, str(sensor["device_id"]))
                        await client.publish(topic, b'{"bn": "urn:dev:ioc:broken', qos=1)
                    while silent(sensor, control, time.time(), flap_s):
                        await asyncio.sleep(1.0)
                        due = _slot(time.time(), interval, phase)  # speaks again: this slot, at once
                    await client.publish(topic, senml(sensor, due), qos=1)
                    due += interval
                    await asyncio.sleep(max(0.0, due - time.time()))
        except aiomqtt.MqttError:
            await asyncio.sleep(2.0)


def _slot(now: float, interval: float, phase: int) -> float:
    return math.floor((now - phase) / interval) * interval + phase


async def serve(config_path: Path, control: ControlFolder) -> None:
    config = json.loads(await asyncio.to_thread(config_path.read_text))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    off, on = config.get("flap_s", FLAP_S)
    interval = float(config["interval_s"])
    tasks = [
        asyncio.create_task(run_sensor(sensor, config["broker"], interval, control, (float(off), float(on))))
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
