"""The running alerting service: consume the monitors' events, escalate, deliver the outbox.

``ioc serve`` wires it as::

    service = AlertingService.from_settings(settings.alerting, sessions, box, sites=..., devices=...)
    await service.start(event_bus)      # subscribes to the bus, starts three tasks
    ...
    await service.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.crypto import SecretBox
from grafana.annotations import GrafanaAnnotations
from monitors.alerting.clock import Clock, SystemClock
from monitors.alerting.config import AlertingSettings
from monitors.alerting.context import AlertingContext
from monitors.alerting.directory import DeviceDirectory, SiteDirectory
from monitors.alerting.escalation import Escalator
from monitors.alerting.lifecycle import AlertLifecycle, Outcome
from monitors.alerting.worker import OutboxWorker
from monitors.events import EventBus, StateChange

log = logging.getLogger(__name__)

BATCH_MAX = 200
QUEUEING = {Outcome.FIRED, Outcome.FLAPPING, Outcome.RESOLVED}
"""Outcomes that wrote outbox rows: only these wake the worker."""


class AlertingService:
    def __init__(self, ctx: AlertingContext, *, worker: OutboxWorker | None = None) -> None:
        """``worker``: how the outbox is delivered (Grafana annotations, another sender); by default
        through the channels alone."""
        self.ctx = ctx
        self.lifecycle = AlertLifecycle(ctx)
        self.escalator = Escalator(ctx)
        self.worker = worker or OutboxWorker(ctx)
        self._tasks: list[asyncio.Task[None]] = []
        self._queue: asyncio.Queue[StateChange] | None = None

    @classmethod
    def from_settings(
        cls,
        settings: AlertingSettings,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        *,
        sites: SiteDirectory,
        devices: DeviceDirectory,
        clock: Clock | None = None,
    ) -> AlertingService:
        ctx = AlertingContext(
            sessions=sessions,
            sites=sites,
            devices=devices,
            box=box,
            settings=settings,
            clock=clock or SystemClock(),
        )
        annotations = None
        if settings.grafana.url:
            token = settings.grafana.token.get_secret_value() if settings.grafana.token else None
            annotations = GrafanaAnnotations(settings.grafana.url, token, timeout=settings.grafana.timeout_s)
        return cls(ctx, worker=OutboxWorker(ctx, annotations=annotations))

    async def handle(self, event: StateChange) -> str:
        outcome = await self.lifecycle.handle(event)
        if outcome in QUEUEING:
            self.worker.wake()
        return outcome

    async def drained(self) -> None:
        """Return once every event published so far has been handled (used by the benchmark)."""
        if self._queue is not None:
            await self._queue.join()

    async def consume(self, queue: asyncio.Queue[StateChange]) -> None:
        """Handle events as they come; during a storm, whatever has queued up is handled as one batch."""
        while True:
            batch = [await queue.get()]
            while len(batch) < BATCH_MAX and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                outcomes = await self.lifecycle.handle_many(batch)
                if QUEUEING.intersection(outcomes):
                    self.worker.wake()
            except Exception:
                log.exception("alerting could not handle %d event(s)", len(batch))
            finally:
                for _ in batch:
                    queue.task_done()

    async def _escalate_forever(self) -> None:
        while True:
            try:
                await self.escalator.tick()
            except Exception:
                log.exception("escalation pass failed; retrying")
            await asyncio.sleep(self.ctx.settings.escalation_interval_s)

    async def start(self, bus: EventBus) -> None:
        queue = self._queue = bus.subscribe()
        self._tasks = [
            asyncio.create_task(self.consume(queue), name="alerting-consume"),
            asyncio.create_task(self.worker.run_forever(), name="alerting-outbox"),
            asyncio.create_task(self._escalate_forever(), name="alerting-escalation"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await asyncio.to_thread(self.worker.close)
