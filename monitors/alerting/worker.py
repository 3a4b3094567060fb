"""Deliver outbox rows: notifications through apprise, annotations through Grafana, each off the loop.

Every attempt is recorded (``alert_deliveries``) with its result. A retryable failure reschedules the row
with exponential backoff and never gives up, so a channel that is down for hours still gets every message
once it is back; a permanent failure (channel deleted, Grafana rejected the body) marks the row failed.
Rows of one alert in one lane (a channel, or Grafana) go out strictly in order: a recovery message never
overtakes its outage message, and an annotation's end is never patched before it was created.

Delivery is at-least-once across a crash between sending and recording the result: a channel may then see
a message twice. For Grafana a retried create first looks for the annotation by its ``ioc-alert-<id>``
tag, so a create whose answer was lost is not duplicated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import aliased

from grafana.annotations import GrafanaAnnotations, GrafanaError
from monitors.alerting import channels
from monitors.alerting.context import AlertingContext
from monitors.alerting.errors import DeliveryError
from monitors.alerting.models import Alert, Channel, Delivery, OutboxItem, OutboxKind, OutboxStatus

log = logging.getLogger(__name__)

Sender = Callable[[str, str, str], None]


@dataclass
class _Job:
    item: OutboxItem
    url: str | None
    """As stored: sealed (monitors/alerting/channel_urls.py), opened only in the delivering thread."""
    alert: Alert


@dataclass
class _Result:
    ok: bool
    error: str | None = None
    retryable: bool = True
    annotation_id: int | None = None
    duration_ms: int = 0


class OutboxWorker:
    def __init__(
        self,
        ctx: AlertingContext,
        *,
        annotations: GrafanaAnnotations | None = None,
        sender: Sender = channels.send,
    ) -> None:
        self.ctx = ctx
        self.settings = ctx.settings.outbox
        self.annotations = annotations
        self.sender = sender
        self._pool = ThreadPoolExecutor(
            max_workers=self.settings.concurrency, thread_name_prefix="alert-outbox"
        )
        self._wake = asyncio.Event()
        self._failing: set[str] = set()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def wake(self) -> None:
        """Deliver now rather than at the next poll (called after new rows were committed)."""
        self._wake.set()

    def backoff(self, attempts: int) -> timedelta:
        seconds = min(self.settings.base_backoff_s * 2 ** max(0, attempts - 1), self.settings.max_backoff_s)
        return timedelta(seconds=seconds)

    async def _due(self) -> list[_Job]:
        now = self.ctx.clock.now()
        earlier = aliased(OutboxItem)
        blocked = exists().where(
            and_(
                earlier.alert_id == OutboxItem.alert_id,
                earlier.lane == OutboxItem.lane,
                earlier.status == OutboxStatus.PENDING,
                earlier.id < OutboxItem.id,
            )
        )
        async with self.ctx.sessions() as session:
            rows = await session.execute(
                select(OutboxItem, Alert, Channel.url)
                .join(Alert, Alert.id == OutboxItem.alert_id)
                .outerjoin(Channel, Channel.id == OutboxItem.channel_id)
                .where(OutboxItem.status == OutboxStatus.PENDING, OutboxItem.next_attempt_at <= now, ~blocked)
                .order_by(OutboxItem.id)
                .limit(self.settings.batch_size)
            )
            return [_Job(item, url, alert) for item, alert, url in rows.all()]

    async def run_once(self) -> int:
        """Attempt every row due now (one batch); returns how many were attempted."""
        jobs = await self._due()
        if not jobs:
            return 0
        loop = asyncio.get_running_loop()
        results = await asyncio.gather(
            *(loop.run_in_executor(self._pool, self._deliver, job) for job in jobs)
        )
        now = self.ctx.clock.now()
        async with self.ctx.writing() as session:
            ids = [job.item.id for job in jobs]
            rows = {r.id: r for r in await session.scalars(select(OutboxItem).where(OutboxItem.id.in_(ids)))}
            for job, result in zip(jobs, results, strict=True):
                row = rows[job.item.id]
                row.attempts += 1
                session.add(
                    Delivery(
                        outbox_id=row.id,
                        attempt=row.attempts,
                        at=now,
                        ok=result.ok,
                        error=result.error,
                        duration_ms=result.duration_ms,
                    )
                )
                if result.ok:
                    row.status, row.sent_at, row.last_error = OutboxStatus.SENT, now, None
                    if result.annotation_id is not None:
                        alert = await session.get(Alert, row.alert_id)
                        if alert is not None:
                            alert.annotation_id = result.annotation_id
                    self._log_change(row.lane, None)
                elif result.retryable:
                    row.next_attempt_at = now + self.backoff(row.attempts)
                    row.last_error = result.error
                    self._log_change(row.lane, result.error)
                else:
                    row.status, row.last_error = OutboxStatus.FAILED, result.error
                    log.error("outbox %s (%s) failed for good: %s", row.id, row.lane, result.error)
        return len(jobs)

    def _log_change(self, lane: str, error: str | None) -> None:
        """Log a lane going bad or coming back once, not every retry."""
        if error is not None and lane not in self._failing:
            self._failing.add(lane)
            log.warning("alert delivery to %s failing, will retry: %s", lane, error)
        elif error is None and lane in self._failing:
            self._failing.discard(lane)
            log.warning("alert delivery to %s recovered", lane)

    def _deliver(self, job: _Job) -> _Result:
        """Runs in a worker thread: blocking apprise or Grafana calls are fine here."""
        started = time.monotonic()
        try:
            annotation_id = self._perform(job)
            result = _Result(ok=True, annotation_id=annotation_id)
        except (DeliveryError, GrafanaError) as error:
            result = _Result(ok=False, error=str(error), retryable=error.retryable)
        except Exception as error:  # an unexpected library failure must not kill the worker
            result = _Result(ok=False, error=f"{type(error).__name__}: {error}", retryable=True)
        result.duration_ms = int((time.monotonic() - started) * 1000)
        return result

    def _perform(self, job: _Job) -> int | None:
        item = job.item
        if item.kind == OutboxKind.NOTIFY:
            if job.url is None:
                raise DeliveryError("channel was deleted", retryable=False)
            self.sender(self.ctx.channel_urls.open(job.url), item.subject, item.body)
            return None
        if self.annotations is None:
            raise DeliveryError("Grafana is not configured", retryable=True)
        payload: dict[str, Any] = dict(item.payload)
        if item.kind == OutboxKind.ANNOTATION_OPEN:
            tag = f"ioc-alert-{item.alert_id}"
            if item.attempts > 0:
                found = self.annotations.find_by_tag(tag)
                if found is not None:
                    return found
            return self.annotations.open_region(
                start_ms=int(payload["time"]),
                text=str(payload["text"]),
                tags=list(payload["tags"]),
                dashboard_uid=payload.get("dashboardUID"),
            )
        if job.alert.annotation_id is None:
            raise DeliveryError("the annotation was never created, nothing to close", retryable=False)
        self.annotations.close_region(job.alert.annotation_id, end_ms=int(payload["timeEnd"]))
        return None

    async def run_forever(self) -> None:
        while True:
            try:
                attempted = await self.run_once()
            except Exception:
                log.exception("outbox pass failed; retrying")
                attempted = 0
            if attempted:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.poll_interval_s)
                # Woken by new rows: let a burst of them accumulate so one pass takes them together.
                await asyncio.sleep(self.settings.gather_s)
