"""Monitoring as a service of ``ioc serve``: registry in, checks running, changes picked up live.

``RegistryMonitors.run`` runs until cancelled (``ioc.services`` awaits it). It starts by
restoring the states saved in ``monitor_device_status`` (docs/monitors.md, "Restarts"), so a restart
of ``ioc serve`` or of this service neither pages an open outage again nor loses its start. Registry
changes (device added, retired, moved, put in maintenance, interval or uplinks changed, maintenance
windows) are applied every ``registry_refresh_s`` without restarting anything; ``refresh()`` may also
be called right after a write for immediate effect.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.crypto import SecretBox
from device_registry.models.types import utcnow
from device_registry.queries.targets import PlaceLocation, commune_locations
from monitors.checks.defaults import DefaultChecks
from monitors.checks.mqtt_freshness import LastSeen
from monitors.config import MonitorSettings
from monitors.events import EventSink
from monitors.maintenance import MaintenanceCalendar
from monitors.maintenance_store import list_windows
from monitors.outage_store import SqlOutageRecorder
from monitors.registry_source import load_snapshot, monitored_devices
from monitors.service import MonitoringService
from monitors.status_store import SqlStatusStore
from telemetry.points import Point
from telemetry.sink import Sink

log = logging.getLogger(__name__)

SITE_MEASUREMENT = "site"
"""Commune coordinates (``lat``, ``lon``, ``name``) tagged ``province``/``district``/``commune``."""


class RegistryMonitors:
    """A ``MonitoringService`` kept in step with the registry database."""

    def __init__(
        self,
        settings: MonitorSettings,
        sessions: async_sessionmaker[AsyncSession],
        *,
        events: EventSink,
        sink: Sink | None,
        last_seen: LastSeen | None = None,
        box: SecretBox | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """``box`` opens device credentials for the checks that log in (SNMP, RTSP); without it
        switches get ICMP alone and streams are described anonymously."""
        self.settings = settings
        self._sessions = sessions
        self._box = box
        self.checks = DefaultChecks(
            timeout_s=settings.check_timeout_s,
            last_seen=last_seen,
            publish_interval_s=settings.mqtt_publish_interval_s,
            clock_drift_warn_s=settings.clock_drift_warn_s,
        )
        self.calendar = MaintenanceCalendar()
        self._clock = clock
        self._status = SqlStatusStore(sessions)
        self.service = MonitoringService(
            settings,
            events=events,
            sink=sink,
            recorder=SqlOutageRecorder(sessions),
            maintenance=self.calendar,
            clock=clock,
            status=self._status,
        )
        self._skipped: set[str] = set()
        self._uncovered: dict[int, str] = {}
        self._sink = sink

    async def refresh(self) -> None:
        async with self._sessions() as session:
            snapshot = await load_snapshot(session, self._box)
            windows = await list_windows(session)
            places = await commune_locations(session) if self._sink is not None else []
        await self._write_places(places)
        self.calendar.set_sites(snapshot.site_of, snapshot.site_parent)
        self.calendar.set_windows(windows)
        self.calendar.set_devices_in_maintenance(snapshot.in_maintenance)
        self.service.set_topology(snapshot.topology)
        devices, skipped = monitored_devices(snapshot, self.checks)
        for reason in sorted(set(skipped) - self._skipped):
            log.warning("not monitored: %s", reason)
        self._skipped = set(skipped)
        for device_id, why in snapshot.uncovered.items():
            if self._uncovered.get(device_id) != why:
                log.warning("%s", why)
        self._uncovered = snapshot.uncovered
        removed = await self.service.scheduler.sync(devices)
        self.checks.forget({d.target.device_id for d in devices})
        if removed:
            log.info("stopped monitoring %d device(s): %s", len(removed), removed[:20])

    async def restore(self) -> None:
        """Take back the states saved before this process started (call before the first refresh)."""
        policies = [self.settings.default, *self.settings.kinds.values()]
        window = timedelta(seconds=max(p.flap_window_s for p in policies))
        try:
            saved = await self._status.load(self._clock() - window)
        except Exception:
            log.exception("could not read the saved device states; every device starts UNKNOWN")
            return
        self.service.engine.restore(saved)

    async def _forget_unmonitored(self) -> None:
        """A device restored from before the restart but no longer monitored (retired meanwhile): its
        open outage is closed now rather than left open for ever."""
        engine, scheduler = self.service.engine, self.service.scheduler
        for device_id in sorted(d for d in engine.known() if d not in scheduler):
            await engine.forget(device_id)

    async def run(self) -> None:
        await self.restore()
        await self.refresh()
        await self._forget_unmonitored()
        self.service.start()
        failing = False
        try:
            while True:
                await asyncio.sleep(self.settings.registry_refresh_s)
                try:
                    await self.refresh()
                except Exception:
                    if not failing:
                        log.exception("registry refresh failed; monitoring continues with the last view")
                    failing = True
                else:
                    failing = False
        finally:
            await self.service.stop()
            await self.checks.close()

    async def _write_places(self, places: list[PlaceLocation]) -> None:
        """One ``site`` point per commune with coordinates, so the dashboards' map needs InfluxDB alone
        (the registry is not a Grafana datasource). Written at every refresh: a commune the reform
        closes stops appearing within one refresh; a failing sink only costs the map this round."""
        if self._sink is None or not places:
            return
        now_ns = time.time_ns()
        points = [
            Point(SITE_MEASUREMENT, {"lat": p.latitude, "lon": p.longitude, "name": p.name}, now_ns, p.tags)
            for p in places
        ]
        try:
            await self._sink.write(points)
        except Exception as error:
            log.warning("could not write %d site points: %s", len(points), error)
