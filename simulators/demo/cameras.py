"""The demo's cameras: the ONVIF simulator serving every camera of a fleet file, steered by faults.

``python -m simulators.demo.cameras --config cameras.json --control DIR``. The config is a list of
``{"district": KEY, "camera": {CameraConfig fields}}``. A ``cut-<district>`` file makes that
district's cameras answer nothing within any client's timeout (a lost uplink); ``drift-<name>``
moves that camera's clock 15 minutes ahead. Prints ``READY`` once every camera listens.
"""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import timedelta
from pathlib import Path

from simulators.demo.control import CUT, DRIFT, ControlFolder, run_simulator
from simulators.onvif_camera import CameraConfig, CameraFleet

HANG_S = 15.0
"""Longer than any client waits for one answer; short enough not to hold a shutdown for long."""
DRIFT_S = 900.0


async def serve(config: Path, control: ControlFolder) -> None:
    entries = json.loads(await asyncio.to_thread(config.read_text))
    fleet = await CameraFleet([CameraConfig(**entry["camera"]) for entry in entries]).start()
    districts = [entry["district"] for entry in entries]
    print("READY " + " ".join(str(camera.port) for camera in fleet.cameras), flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        while not stop.is_set():
            cut = control.targets(CUT)
            drifting = control.targets(DRIFT)
            for camera, district in zip(fleet.cameras, districts, strict=True):
                camera.config.slow_s = HANG_S if district in cut else 0.0
                wanted = timedelta(seconds=DRIFT_S if camera.config.name in drifting else 0.0)
                if (camera.config.name in drifting) != (
                    camera.clock_offset >= timedelta(seconds=DRIFT_S / 2)
                ):
                    camera.clock_offset = wanted
            with_timeout = asyncio.create_task(stop.wait())
            await asyncio.wait({with_timeout}, timeout=1.0)
            with_timeout.cancel()
    finally:
        await fleet.stop()


def main() -> None:
    run_simulator(serve, __doc__ or "")


if __name__ == "__main__":
    main()
