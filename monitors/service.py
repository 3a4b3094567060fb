"""Monitoring assembled: state engine + scheduler, wired to each other, to alerting and to telemetry.

This is what the serving process owns::

    service = MonitoringService(settings.monitors, events=bus, sink=telemetry_sink, recorder=..., ...)
    service.start()                      # inside the running loop (lifespan start)
    service.update(monitored_devices)    # initially and on every registry change
    await service.remove(device_id)      # device retired
    service.set_topology(Topology(...))  # uplinks changed
    await service.stop()                 # lifespan end
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from device_registry.models.types import utcnow
from monitors.config import MonitorSettings
from monitors.events import EventSink
from monitors.scheduler import MonitoredDevice, MonitorScheduler
from monitors.state import MaintenanceOracle, OutageRecorder, StateEngine
from monitors.status_store import StatusStore
from monitors.topology import Topology
from telemetry.sink import Sink


class MonitoringService:
    def __init__(
        self,
        settings: MonitorSettings,
        *,
        events: EventSink,
        sink: Sink | None,
        recorder: OutageRecorder | None = None,
        maintenance: MaintenanceOracle | None = None,
        topology: Topology | None = None,
        clock: Callable[[], datetime] = utcnow,
        status: StatusStore | None = None,
    ) -> None:
        self.settings = settings
        self.engine = StateEngine(
            events,
            clock=clock,
            topology=topology,
            policies=settings.kinds,
            default_policy=settings.default,
            maintenance=maintenance,
            recorder=recorder,
            parent_check_fresh_s=settings.parent_check_fresh_s,
        )
        self.scheduler = MonitorScheduler(
            self.engine,
            sink,
            tick_s=settings.tick_s,
            max_concurrency=settings.max_concurrency,
            check_timeout_s=settings.check_timeout_s * 2,
            status=status,
        )
        self.engine.parent_checker = self.scheduler.probe
        self.engine.recheck_hint = self.scheduler.recheck

    def start(self) -> None:
        self.scheduler.start()

    async def stop(self) -> None:
        await self.scheduler.stop()

    def update(self, devices: Iterable[MonitoredDevice]) -> None:
        self.scheduler.update(devices)

    async def remove(self, device_id: int) -> None:
        await self.scheduler.remove(device_id)

    def set_topology(self, topology: Topology) -> None:
        self.engine.set_topology(topology)

    def set_maintenance(self, maintenance: MaintenanceOracle | None) -> None:
        self.engine.maintenance = maintenance
