"""Run one collector over many devices: bounded concurrency, a deadline per device, failures contained.

Shared by every collector. Why it is shaped this way:
* Devices are polled concurrently, each under its own deadline, so a cycle where 10% of devices never
  answer lasts about one device timeout, not N x timeout. Devices that failed last cycle ("suspects")
  get their own lane so they never hold the slots of the live ones (``concurrency`` is sized for
  answers: ~100 in flight overflow UDP receive buffers on a small host).
* No overload spiral. The suspect lane is small (8) and bounded: a device that timed out because its
  agent was overloaded must not come back 256-wide and overload it further (measured: 5, then 85,
  then 136 of 200 devices lost over three cycles with a 256-wide lane). A device that timed out this
  cycle is retried once, in the suspect lane, after its first attempt has finished, never beside it;
  suspects get no retry; a device whose previous poll is still running is not polled again. The
  request rate itself adapts below this (``provisioning.snmp.pacing``: AIMD per agent and overall).
* A device's failure never leaves :meth:`CycleRunner.run_once`; it is logged once when the device's
  state changes (up -> failing, failing for a new reason, failing -> up), never every cycle. That state
  lives in the runner's :class:`DeviceStates`, so two runners (tests, two collectors) never share it.
* All points of a cycle, plus self-metrics, go to the sink in one ``write`` after the devices finish.
* Polls can be spread over part of the interval (``spread``): device ``i`` of ``n`` starts
  ``i/n x spread`` seconds into the cycle instead of every device at once. Measured in the province
  demo (985 devices, 60 s cycles): the SNMP and camera cycles both fired in the same ~8 s, an snmpsim
  process serving a district's 30 agents then answered a plain GET in up to 1.3 s (0.015 s otherwise)
  and the poller saw round trips of up to 4 s, which a loaded machine turned into timeouts. Spread
  over half the interval, the same work arrives a few devices a second. A device keeps its place in
  the list, so it is polled one interval after its previous poll and rates are unaffected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from device_registry.targets import DeviceTarget
from provisioning.errors import DeviceError, DeviceTimeout
from telemetry import metrics
from telemetry.collector import Collector
from telemetry.points import Point
from telemetry.sink import Sink

log = logging.getLogger(__name__)

SELF_POLL = "collector_poll"
SELF_CYCLE = "collector_cycle"


@dataclass(frozen=True, slots=True)
class DeviceOutcome:
    device_id: int
    ok: bool
    duration_s: float
    points: int = 0
    error_kind: str | None = None
    error: str | None = None


@dataclass(slots=True)
class CycleSummary:
    collector: str
    started_ns: int
    duration_s: float
    devices: int
    ok: int
    failed: int
    points: int
    outcomes: list[DeviceOutcome] = field(default_factory=list)

    @property
    def failures(self) -> dict[int, str]:
        return {o.device_id: o.error or "" for o in self.outcomes if not o.ok}


class DeviceStates:
    """Last known state per device, so a failure is logged when it changes and not every cycle."""

    def __init__(self, logger: logging.Logger = log) -> None:
        self._last: dict[int, str | None] = {}
        self._log = logger

    def record(self, target: DeviceTarget, outcome: DeviceOutcome) -> bool:
        """Remember ``outcome``; return True (and log) when it differs from the previous one."""
        state = None if outcome.ok else f"{outcome.error_kind}: {outcome.error}"
        previous = self._last.get(target.device_id, "never polled")
        self._last[target.device_id] = state
        if previous == state:
            return False
        if state is None:
            if previous != "never polled":
                self._log.warning("device %s (%s) UP again", target.device_id, target.name)
        else:
            self._log.warning("device %s (%s) DOWN: %s", target.device_id, target.name, state)
        return True

    def state(self, device_id: int) -> str | None:
        return self._last.get(device_id)

    def failing(self, device_id: int) -> bool:
        """True when the device's last poll failed (never-polled devices are not suspects)."""
        return self._last.get(device_id) is not None

    def forget(self, keep: set[int]) -> set[int]:
        """Drop devices no longer polled; returns their ids."""
        gone = set(self._last) - keep
        for device_id in gone:
            del self._last[device_id]
        return gone


class CycleRunner:
    """Polls every target with ``collector`` and writes the points through ``sink``.

    ``device_timeout`` bounds one device's whole ``collect`` (all its requests and retries); pick it
    at least the protocol's timeout x (retries + 1) so the protocol's own retries get to run.
    ``retry_timeouts`` gives a device that timed out its one retry this cycle (see the module docstring).
    The collector's ``points_on_failure(target, error)`` are written for failed devices (e.g.
    ``device_health up=0``), and its ``forget(device_id)`` is called for devices that left the target
    list, so per-device state does not outlive the device (:class:`telemetry.collector.Collector`).
    """

    def __init__(
        self,
        collector: Collector[Any],
        sink: Sink,
        *,
        concurrency: int = 64,
        suspect_concurrency: int = 8,
        device_timeout: float = 10.0,
        retry_timeouts: bool = True,
        logger: logging.Logger = log,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency: must be >= 1")
        if suspect_concurrency < 1:
            raise ValueError("suspect_concurrency: must be >= 1")
        if device_timeout <= 0:
            raise ValueError("device_timeout: must be positive")
        self.collector = collector
        self.sink = sink
        self.concurrency = concurrency
        self.suspect_concurrency = suspect_concurrency
        self.device_timeout = device_timeout
        self.retry_timeouts = retry_timeouts
        self.states = DeviceStates(logger)
        self._clock_ns = clock_ns
        self._busy: set[int] = set()
        self.retried = 0
        """Devices retried after a timeout in the last cycle."""

    async def run_once(self, targets: Sequence[DeviceTarget], *, spread_s: float = 0.0) -> CycleSummary:
        started_ns = self._clock_ns()
        started = time.perf_counter()
        healthy = asyncio.Semaphore(self.concurrency)
        suspect = asyncio.Semaphore(self.suspect_concurrency)
        points: list[Point] = []

        retried: list[int] = []

        async def one(index: int, target: DeviceTarget) -> DeviceOutcome:
            if spread_s > 0:
                await asyncio.sleep(spread_s * index / len(targets))
            device_id = target.device_id
            if device_id in self._busy:
                return DeviceOutcome(device_id, False, 0.0, 0, "busy", "previous poll still running")
            self._busy.add(device_id)
            try:
                suspected = self.states.failing(device_id)
                async with suspect if suspected else healthy:
                    outcome, error = await self._poll(target, points)
                if (
                    error is not None
                    and outcome.error_kind == "timeout"
                    and not suspected
                    and self.retry_timeouts
                ):
                    retried.append(device_id)
                    async with suspect:
                        outcome, error = await self._poll(target, points)
                if error is not None:
                    self._failure_points(target, error, points)
                self.states.record(target, outcome)
                return outcome
            finally:
                self._busy.discard(device_id)

        outcomes = list(await asyncio.gather(*(one(i, t) for i, t in enumerate(targets))))
        self.retried = len(retried)
        gone = self.states.forget({t.device_id for t in targets})
        for device_id in gone:
            self.collector.forget(device_id)
        duration = time.perf_counter() - started
        self._export(outcomes, gone, duration)
        summary = CycleSummary(
            collector=self.collector.name,
            started_ns=started_ns,
            duration_s=duration,
            devices=len(outcomes),
            ok=sum(o.ok for o in outcomes),
            failed=sum(not o.ok for o in outcomes),
            points=len(points),
            outcomes=outcomes,
        )
        now = self._clock_ns()
        by_id = {t.device_id: t for t in targets}
        for outcome in outcomes:
            target = by_id[outcome.device_id]
            fields: dict[str, float | int | str] = {
                "up": int(outcome.ok),
                "duration_ms": round(outcome.duration_s * 1000, 3),
            }
            if outcome.error_kind:
                fields["error_kind"] = outcome.error_kind
            points.append(
                Point(
                    SELF_POLL,
                    fields,
                    now,
                    {"collector": self.collector.name, **target.tags},
                )
            )
        points.append(
            Point(
                SELF_CYCLE,
                {
                    "duration_s": round(duration, 4),
                    "devices": summary.devices,
                    "ok": summary.ok,
                    "failed": summary.failed,
                    "points": summary.points,
                },
                now,
                {"collector": self.collector.name},
            )
        )
        await self.sink.write(points)
        return summary

    def _export(self, outcomes: Sequence[DeviceOutcome], gone: set[int], duration: float) -> None:
        """The same self-metrics on ``/metrics``; devices that left the target list leave it too."""
        name = self.collector.name
        for outcome in outcomes:
            metrics.POLL_SECONDS.labels(name).observe(outcome.duration_s)
            metrics.DEVICE_UP.labels(name, str(outcome.device_id)).set(int(outcome.ok))
        for device_id in gone:
            with contextlib.suppress(KeyError):
                metrics.DEVICE_UP.remove(name, str(device_id))
        metrics.CYCLE_SECONDS.labels(name).set(duration)

    def _failure_points(self, target: DeviceTarget, error: Exception, points: list[Point]) -> None:
        try:
            points.extend(self.collector.points_on_failure(target, error))
        except Exception:  # a collector bug must not stop the other devices
            log.debug("collector %s: points_on_failure crashed", self.collector.name, exc_info=True)

    async def _poll(
        self, target: DeviceTarget, points: list[Point]
    ) -> tuple[DeviceOutcome, Exception | None]:
        started = time.perf_counter()
        error: Exception | None = None
        got: list[Point] = []
        try:
            async with asyncio.timeout(self.device_timeout):
                got = await self.collector.collect(target)
        except TimeoutError:
            error = DeviceTimeout(f"no result within {self.device_timeout:g}s")
        except DeviceError as failure:
            error = failure
        except Exception as failure:  # a collector bug must not stop the other devices
            error = failure
            log.debug(
                "collector %s crashed on device %s", self.collector.name, target.device_id, exc_info=True
            )
        duration = time.perf_counter() - started
        if error is None:
            points.extend(got)
            outcome = DeviceOutcome(target.device_id, True, duration, len(got))
        else:
            kind = error.kind if isinstance(error, DeviceError) else f"bug:{type(error).__name__}"
            outcome = DeviceOutcome(target.device_id, False, duration, 0, kind, str(error))
        return outcome, error

    async def run_forever(
        self,
        targets: Callable[[], Awaitable[Sequence[DeviceTarget]]],
        interval: float,
        *,
        on_cycle: Callable[[CycleSummary], None] | None = None,
        spread: float = 0.0,
    ) -> None:
        """One cycle every ``interval`` seconds, on a fixed grid; a cycle that overruns skips slots.
        ``spread``: the fraction of the interval over which the cycle's polls start (module docstring)."""
        if not 0 <= spread < 1:
            raise ValueError("spread: must be a fraction of the interval, 0 <= spread < 1")
        next_start = time.monotonic()
        while True:
            try:
                summary = await self.run_once(await targets(), spread_s=interval * spread)
                if on_cycle is not None:
                    on_cycle(summary)
            except Exception:
                log.exception("%s cycle failed", self.collector.name)
            next_start += interval
            now = time.monotonic()
            if next_start < now:
                next_start += interval * ((now - next_start) // interval + 1)
            await asyncio.sleep(next_start - now)
