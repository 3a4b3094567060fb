"""The durable telemetry writer: ``write()`` spools to disk, a background flusher delivers batches.

Delivery is at-least-once: a point leaves the spool only after the server answered 2xx for a request
containing it. A crash between the server storing a batch and the spool forgetting it re-sends that
batch on the next start; InfluxDB (and VictoriaMetrics with deduplication) store a point with the same
measurement, tag set and timestamp once, so the re-send overwrites itself instead of duplicating.

Lifecycle is explicit so the application owns it (FastAPI lifespan, ``ioc serve``)::

    async with TelemetryWriter(config) as writer:   # or: await writer.start() ... await writer.stop()
        await writer.write(points)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import random
import socket
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TypeVar

from telemetry import metrics
from telemetry.config import WriterConfig
from telemetry.influx_output import InfluxOutput, RejectedPoints, TransientFailure
from telemetry.line_protocol import Dialect, encode_points
from telemetry.points import Point
from telemetry.spool import Chunk, Settlement, Spool, SpoolStatus

log = logging.getLogger(__name__)

T = TypeVar("T")


class WriterNotRunning(RuntimeError):
    """``write()`` before ``start()`` or after ``stop()``."""


class TelemetryWriter:
    """Implements :class:`telemetry.sink.Sink`. One instance per spool directory."""

    def __init__(self, config: WriterConfig) -> None:
        self.config = config
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._spool: Spool | None = None
        self._output: InfluxOutput | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._idle = False
        """The flusher found nothing unsent and sleeps until the next self-metrics tick: the next
        ``write()`` must wake it, or a partial batch would wait that long instead of ``flush_interval``."""
        self._stopping = asyncio.Event()
        self._attempt = 0
        self._server_down = False
        """The last failure got no answer at all: the backoff uses the small cap and the probe."""
        self.failed_attempts = 0
        """Batch requests that failed transiently since start (tests and the bench bound it)."""
        self._last_batch_s = 0.0
        self._last_self_metrics = 0.0
        self._blocked_reason: str | None = None
        self._drop_logged_at = 0.0
        self._dropped_since_log = 0
        self._host = socket.gethostname()
        self._dialect = config.target.dialect if config.target is not None else Dialect.PREVIOUS_BYTE

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open (and replay) the spool, then start the flusher. Blocking set-up runs off the loop."""
        if self._flusher is not None:
            raise RuntimeError("telemetry writer already started")
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="telemetry-spool")
        self._spool = await self._run(
            Spool, self.config.spool_dir, self.config.spool_max_bytes, self.config.batch_size
        )
        if self._spool.pending_points:
            log.info(
                "telemetry spool: replaying %d points from %s", self._spool.pending_points, self._spool.path
            )
        if self.config.target is not None:
            self._output = InfluxOutput(self.config.target)
        else:
            log.warning("telemetry: no InfluxDB configured (IOC_INFLUX_URL); points stay in the spool")
        self._stopping.clear()
        self._last_self_metrics = time.monotonic()
        metrics.WRITERS.track(str(self._spool.path), self)
        self._flusher = asyncio.create_task(self._flush_forever(), name="telemetry-flusher")

    async def stop(self) -> None:
        """Drain for up to ``stop_timeout`` seconds, then stop; what is left is replayed at next start."""
        if self._flusher is None:
            return
        self._stopping.set()
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._flusher), self.config.stop_timeout)
        except TimeoutError:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
        finally:
            self._flusher = None
            if self._spool is not None:
                metrics.WRITERS.untrack(str(self._spool.path))
            if self._output is not None:
                await self._output.aclose()
                self._output = None
            spool, executor = self._spool, self._executor
            self._spool = self._executor = None
            if spool is not None and executor is not None:
                await asyncio.get_running_loop().run_in_executor(executor, spool.close)
            if executor is not None:
                executor.shutdown(wait=False)

    async def __aenter__(self) -> TelemetryWriter:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- the Sink contract -----------------------------------------------------------------------

    async def write(self, points: Sequence[Point]) -> None:
        """Validate and encode all of ``points``, then store them in one durable transaction.

        Raises :class:`telemetry.line_protocol.InvalidPoint` (a ``ValueError``) naming the first bad
        point and field; then nothing of this call is stored.
        """
        if self._spool is None or self._stopping.is_set():
            raise WriterNotRunning("telemetry writer is not running: call start() first")
        if not points:
            return
        # Encoding runs in the default executor, not the spool thread, so the flusher's peek and
        # acknowledge never queue behind a large encode.
        lines = await asyncio.to_thread(encode_points, points, self.config.time_window, self._dialect)
        spool = self._spool
        dropped = await self._run(spool.append, lines)
        if dropped:
            self._note_dropped(dropped)
        if self._idle or spool.pending_points >= self.config.batch_size:
            self._idle = False
            self._wake.set()

    # -- observation -----------------------------------------------------------------------------

    def snapshot(self) -> dict[str, float]:
        """Plain numbers for Prometheus and self-metric points (safe to read from any thread)."""
        spool = self._spool
        if spool is None:
            return {}
        oldest = spool.oldest_ns
        values: dict[str, float] = {
            "spool_points": spool.pending_points,
            "spool_bytes": spool.pending_bytes,
            "oldest_unsent_age_seconds": 0.0 if oldest is None else max(0.0, (time.time_ns() - oldest) / 1e9),
            "last_batch_seconds": self._last_batch_s,
            "quarantine_points": spool.quarantined_points,
        }
        values.update({name: float(value) for name, value in spool.counters.items()})
        return values

    async def status(self) -> SpoolStatus:
        if self._spool is None:
            raise WriterNotRunning("telemetry writer is not running")
        return await self._run(self._spool.status)

    # -- internals -------------------------------------------------------------------------------

    async def _run(self, fn: Callable[..., T], *args: object) -> T:
        if self._executor is None:
            raise WriterNotRunning("telemetry writer is not running")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _note_dropped(self, dropped: int) -> None:
        """Log spool overflow at most once a minute with the running total: loud, never silent, no flood."""
        self._dropped_since_log += dropped
        now = time.monotonic()
        if now - self._drop_logged_at >= 60.0:
            log.error(
                "telemetry spool full (%d bytes): dropped the %d oldest points since the last report",
                self.config.spool_max_bytes,
                self._dropped_since_log,
            )
            self._drop_logged_at = now
            self._dropped_since_log = 0

    async def _flush_forever(self) -> None:
        """Keep flushing through unexpected errors (disk full, a bug): log once, back off, go on.

        The points stay in the spool, so carrying on is always safe; dying silently is not.
        """
        while True:
            try:
                await self._flush_loop()
                return
            except Exception as error:
                if self._blocked_reason != repr(error):
                    log.exception("telemetry flusher failed; retrying with backoff")
                    self._blocked_reason = repr(error)
                if self._stopping.is_set():
                    return
                await self._back_off()

    async def _flush_loop(self) -> None:
        """Hand full batches (or partial ones after ``flush_interval``) to up to ``max_in_flight``
        concurrent deliveries, so the server works on one batch while the next is read and compressed.

        ``after_id`` is the last chunk handed out; chunks up to it are in flight or settled. After a
        failed delivery everything in flight is awaited and reading restarts from the oldest chunk.
        """
        assert self._spool is not None
        spool = self._spool
        size = self.config.batch_size
        partial_since: float | None = None
        in_flight: dict[asyncio.Task[bool], int] = {}
        after_id = 0
        failed = False
        try:
            while True:
                self._wake.clear()
                for task in [task for task in in_flight if task.done()]:
                    del in_flight[task]
                    failed = not task.result() or failed  # result() re-raises a delivery's bug
                if failed:
                    if in_flight:
                        await asyncio.wait(in_flight)
                        continue
                    failed, after_id = False, 0
                    if self._stopping.is_set():
                        return
                    await self._back_off()
                    continue
                await self._maybe_write_self_metrics()
                stopping = self._stopping.is_set()
                unsent = spool.pending_points - sum(in_flight.values())
                if self._output is None or unsent <= 0:
                    partial_since = None
                    if in_flight:
                        await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                        continue
                    after_id = 0
                    if stopping:
                        return
                    self._idle = True
                    await self._sleep(self._next_self_metrics_in())
                    self._idle = False
                    continue
                if unsent < size and not stopping:
                    now = time.monotonic()
                    partial_since = partial_since or now
                    remaining = self.config.flush_interval - (now - partial_since)
                    if remaining > 0:
                        await self._sleep(min(remaining, self._next_self_metrics_in()))
                        continue
                partial_since = None
                if len(in_flight) >= self.config.max_in_flight:
                    await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                    continue
                batch = await self._run(spool.peek, size, after_id)
                if not batch:  # the counts ran ahead of the file (a drop, a settle in progress)
                    if in_flight:
                        await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                    elif after_id:
                        after_id = 0
                    else:  # never spin on a count that disagrees with the file
                        await self._sleep(self.config.flush_interval)
                    continue
                after_id = batch[-1].id
                task = asyncio.create_task(self._deliver(batch), name="telemetry-delivery")
                in_flight[task] = sum(chunk.count for chunk in batch)
        finally:
            for task in in_flight:
                task.cancel()
            await asyncio.gather(*in_flight, return_exceptions=True)

    async def _sleep(self, seconds: float) -> None:
        """Wait for ``seconds`` or until woken (new full batch, stop)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(seconds, 0.0))

    def _backoff(self) -> float:
        """Exponential backoff with jitter: half the delay fixed, half random, so restarts spread out.

        Capped at ``retry_max_down`` while the server is known down (no answer at all), since the probe
        and the small cap bring delivery back soon after it returns; at ``retry_max`` while it answers
        but refuses, where retrying sooner would change nothing."""
        cap = self.config.retry_max_down if self._server_down else self.config.retry_max
        delay = min(cap, self.config.retry_initial * 2 ** min(self._attempt, 30))
        self._attempt += 1
        return delay / 2 + random.uniform(0, delay / 2)

    async def _back_off(self) -> None:
        """Wait one backoff period after a failed delivery. New data never shortens it (``write()``'s
        wake-up is not heard here): whatever the ingest rate, each in-flight slot makes at most one
        attempt per period. Only stopping ends it early, or the probe seeing a down server answer
        again, so delivery resumes within about ``probe_interval`` of the server's return."""
        deadline = time.monotonic() + self._backoff()
        output = self._output
        down = self._server_down
        while not self._stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            step = min(remaining, self.config.probe_interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), step)
            if output is None or self._stopping.is_set() or deadline - time.monotonic() <= 0:
                continue
            up = await output.probe(min(1.0, self.config.probe_interval * 4))
            if up and down:
                log.info("telemetry: %s answers again, resuming delivery", output.target.probe_url)
                self._attempt = 0  # a server just back starts a new backoff, not the outage's long one
                return
            down = not up
            self._server_down = down

    async def _deliver(self, batch: list[Chunk]) -> bool:
        """Send ``batch``; bisect refused ones. True when every point is acknowledged or quarantined.

        Whatever got settled is applied to the spool in one transaction at the end, even when a
        transient failure interrupts a bisection half-way: settled points are never sent again.
        """
        assert self._spool is not None and self._output is not None
        started = time.monotonic()
        outcome = Settlement()
        points = sum(chunk.count for chunk in batch)
        try:
            try:
                await self._output.send(b"\n".join(chunk.body for chunk in batch))
                outcome.write_all(batch)
            except RejectedPoints:
                lines = [(chunk.id, i, line) for chunk in batch for i, line in enumerate(chunk.lines())]
                await self._bisect(lines, outcome)
        except TransientFailure as failure:
            self.failed_attempts += 1
            self._server_down = failure.status is None
            await self._run(self._spool.record_failure, points, str(failure))
            if self._blocked_reason != str(failure):
                log.warning(
                    "telemetry: delivery to %s failed, retrying with backoff: %s",
                    self.config.target.url if self.config.target else "?",
                    failure,
                )
                self._blocked_reason = str(failure)
            return False
        finally:
            if outcome:
                await self._run(self._spool.settle, batch, outcome)
        elapsed = time.monotonic() - started
        self._last_batch_s = elapsed
        metrics.BATCH_SECONDS.observe(elapsed)
        if self._blocked_reason is not None:
            log.warning("telemetry: delivery recovered after: %s", self._blocked_reason)
            self._blocked_reason = None
        self._attempt = 0
        self._server_down = False
        return True

    async def _bisect(self, lines: list[tuple[int, int, bytes]], outcome: Settlement) -> None:
        """Refused batch: split in halves until the refused points stand alone, then quarantine them.

        At most ``2 * len(lines)`` requests, and each point ends written or quarantined: no loop.
        A good point sharing a batch with a bad one is always written.
        """
        assert self._output is not None
        middle = len(lines) // 2
        for half in (lines[:middle], lines[middle:]):
            if not half:
                continue
            try:
                await self._output.send(b"\n".join(line for _, _, line in half))
            except RejectedPoints as refused:
                if len(half) > 1:
                    await self._bisect(half, outcome)
                    continue
                chunk_id, index, line = half[0]
                outcome.refuse(chunk_id, index, refused.status, refused.reason)
                log.warning(
                    "telemetry: quarantined a point the server refused (HTTP %s: %s): %s",
                    refused.status,
                    refused.reason,
                    line[:200].decode(errors="replace"),
                )
                continue
            for chunk_id, index, _ in half:
                outcome.write(chunk_id, index)

    def _next_self_metrics_in(self) -> float:
        interval = self.config.self_metrics_interval
        if interval <= 0:
            return self.config.flush_interval
        return max(0.0, interval - (time.monotonic() - self._last_self_metrics))

    async def _maybe_write_self_metrics(self) -> None:
        interval = self.config.self_metrics_interval
        if interval <= 0 or self._spool is None or time.monotonic() - self._last_self_metrics < interval:
            return
        self._last_self_metrics = time.monotonic()
        snap = self.snapshot()
        fields: dict[str, float | int] = {
            name: int(value) if name not in ("oldest_unsent_age_seconds", "last_batch_seconds") else value
            for name, value in snap.items()
        }
        point = Point(self.config.self_metrics_measurement, fields, time.time_ns(), {"host": self._host})
        spool = self._spool
        await self._run(spool.append, encode_points([point], dialect=self._dialect))
