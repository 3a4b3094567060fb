"""Runs every device's checks on its interval and feeds the results to the state engine.

Shape, from measurements on the target machine: one APScheduler job per device costs ~400 µs of CPU
per run and APScheduler 3's interval ``jitter`` accumulates (a 60 s job with jitter 60 runs every
60-120 s). So there is ONE ``AsyncIOScheduler`` job, a ``tick_s`` tick that pops the devices now due
from a heap keyed by due time (~17 µs per device). Each device's phase within its interval is derived
from its id (Fibonacci hashing), so start times are spread evenly and stay put across restarts and
interval changes, instead of 10,000 checks firing in the same second.

Heap entries carry a generation number: ``update``/``remove``/``recheck`` bump a device's generation
and push a new entry; stale entries are skipped when popped (lazy deletion, no O(n) heap surgery).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from device_registry.targets import DeviceTarget
from monitors.checks.base import Check, CheckResult
from monitors.events import DeviceState
from monitors.state import Observation, StateEngine
from monitors.status_store import DeviceStatus, StatusStore
from telemetry.points import FieldValue, Point
from telemetry.sink import Sink

log = logging.getLogger(__name__)

MEASUREMENT = "check_result"
STATUS_MEASUREMENT = "device_status"
"""One point per scheduled evaluation of a device; its fields are documented in docs/telemetry.md."""
SELF_MEASUREMENT = "monitor_scheduler"
"""The scheduler's own rate and lateness, every ``SELF_METRICS_INTERVAL_S`` (Platform health dashboard)."""
SELF_METRICS_INTERVAL_S = 10.0
STATE_SEVERITY = {
    DeviceState.UP.value: 0,
    "maintenance": 1,
    DeviceState.UNKNOWN.value: 2,
    DeviceState.FLAPPING.value: 3,
    DeviceState.SOFT_DOWN.value: 4,
    DeviceState.UNREACHABLE.value: 5,
    DeviceState.DOWN.value: 6,
}
"""``device_status.severity``: orders the states so dashboards can take the worst one with ``max``."""
_GOLDEN = 0x9E3779B97F4A7C15
_U64 = (1 << 64) - 1


def phase_fraction(device_id: int) -> float:
    """A fixed, evenly spread position in [0, 1) for a device id (consecutive ids land far apart)."""
    return ((device_id * _GOLDEN) & _U64) / float(1 << 64)


class _LoggedOnChange:
    """A write repeated every tick: logged when it starts failing and when it works again, not every tick."""

    def __init__(self, failed: str, recovered: str) -> None:
        self._failed = failed
        self._recovered = recovered
        self._failing = False

    async def run(self, write: Awaitable[None], count: int) -> None:
        """``count``: how many items ``write`` carries, for the ``%d`` of the failure message."""
        try:
            await write
        except Exception:
            if not self._failing:
                log.exception(self._failed, count)
            self._failing = True
        else:
            if self._failing:
                log.warning(self._recovered)
            self._failing = False


@dataclass(frozen=True, slots=True)
class MonitoredDevice:
    """What the scheduler needs per device; built from the registry (``interval_s`` None: kind policy)."""

    target: DeviceTarget
    checks: tuple[Check, ...]
    interval_s: float | None = None


@dataclass
class SchedulerStats:
    checks: int = 0
    check_errors: int = 0
    lags_s: deque[float] = field(default_factory=lambda: deque(maxlen=200_000))
    """How late each scheduled check started versus its due time (includes the tick quantisation)."""
    tick_late_s: deque[float] = field(default_factory=lambda: deque(maxlen=10_000))
    """How much later than ``tick_s`` after the previous tick each tick ran (event-loop pressure)."""


@dataclass(slots=True)
class _Slot:
    device: MonitoredDevice
    generation: int = 0
    in_flight: bool = False


class MonitorScheduler:
    """Owns the tick job; ``start``/``stop`` are the lifecycle the serving process calls."""

    def __init__(
        self,
        engine: StateEngine,
        sink: Sink | None,
        *,
        tick_s: float = 1.0,
        max_concurrency: int = 500,
        check_timeout_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
        status: StatusStore | None = None,
    ) -> None:
        """``status`` receives each device's state and last results once per tick (the status views)."""
        self._engine = engine
        self._sink = sink
        self._status = status
        self._rounds: dict[int, tuple[datetime, list[CheckResult]]] = {}
        self._status_writes = _LoggedOnChange(
            "writing the status of %d device(s) failed; next round retries",
            "writing device status works again",
        )
        self._tick_s = tick_s
        self._limit = asyncio.Semaphore(max_concurrency)
        self._check_timeout_s = check_timeout_s
        self._monotonic = monotonic
        self._epoch = monotonic()
        self._slots: dict[int, _Slot] = {}
        self._heap: list[tuple[float, int, int]] = []  # (due, generation, device_id)
        self._tasks: set[asyncio.Task[None]] = set()
        self._pending: list[Point] = []
        self._sink_writes = _LoggedOnChange(
            "writing %d monitor points failed; dropping them", "writing monitor points works again"
        )
        self._scheduler: AsyncIOScheduler | None = None
        self._last_tick: float | None = None
        self.stats = SchedulerStats()
        self._host = socket.gethostname()
        self.self_metrics_interval_s = SELF_METRICS_INTERVAL_S
        self._self_metrics_at = float("-inf")
        self._window_lags: list[float] = []

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Call from inside the running event loop (the app's lifespan)."""
        if self._scheduler is not None:
            return
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            self.tick,
            "interval",
            seconds=self._tick_s,
            id="monitors-tick",
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        scheduler.start()
        self._scheduler = scheduler

    async def stop(self, grace_s: float | None = None) -> None:
        """Stop ticking; let checks in flight finish (so their state changes are recorded whole) for up
        to ``grace_s`` (default: the check timeout), cancel what is left, flush the points produced."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        tasks = list(self._tasks)
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=grace_s or self._check_timeout_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._flush()
        await self._flush_status()

    # -- registry changes ------------------------------------------------------------------------

    def update(self, devices: Iterable[MonitoredDevice]) -> None:
        """Add devices or replace their target/checks/interval; takes effect at the next due time."""
        now = self._monotonic()
        for device in devices:
            device_id = device.target.device_id
            self._engine.register(device_id, device.target.kind)
            slot = self._slots.get(device_id)
            if slot is None:
                slot = self._slots[device_id] = _Slot(device)
                self._push(slot, self._next_slot(device_id, self._interval(device), now))
                continue
            interval_changed = self._interval(slot.device) != self._interval(device)
            slot.device = device
            if interval_changed and not slot.in_flight:
                self._push(slot, self._next_slot(device_id, self._interval(device), now))

    async def sync(self, devices: Iterable[MonitoredDevice]) -> list[int]:
        """Make the monitored set exactly ``devices``: update those, remove the rest. Returns removed ids."""
        wanted = list(devices)
        keep = {d.target.device_id for d in wanted}
        self.update(wanted)
        gone = [device_id for device_id in self._slots if device_id not in keep]
        for device_id in gone:
            await self.remove(device_id)
        return gone

    async def remove(self, device_id: int) -> None:
        """A retired device: no further checks; its open outage is closed."""
        slot = self._slots.pop(device_id, None)
        if slot is not None:
            slot.generation += 1
        await self._engine.forget(device_id)

    def recheck(self, device_ids: Iterable[int]) -> None:
        """Check these devices at the next tick (the engine asks after an uplink recovers)."""
        now = self._monotonic()
        for device_id in device_ids:
            slot = self._slots.get(device_id)
            if slot is not None and not slot.in_flight:
                self._push(slot, now)

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, device_id: object) -> bool:
        return device_id in self._slots

    # -- the tick --------------------------------------------------------------------------------

    async def tick(self) -> None:
        """Start every due check (bounded by ``max_concurrency``) and hand buffered points to the sink."""
        now = self._monotonic()
        if self._last_tick is not None:
            self.stats.tick_late_s.append(max(0.0, now - self._last_tick - self._tick_s))
        self._last_tick = now
        self._buffer_self_metrics(now)
        heap = self._heap
        while heap and heap[0][0] <= now:
            due, generation, device_id = heapq.heappop(heap)
            slot = self._slots.get(device_id)
            if slot is None or slot.generation != generation or slot.in_flight:
                continue
            slot.in_flight = True
            task = asyncio.create_task(self._scheduled_run(slot, due))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        for due_work, flush in ((self._pending, self._flush), (self._rounds, self._flush_status)):
            if due_work:
                task = asyncio.create_task(flush())
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def probe(self, device_id: int) -> Observation:
        """Run a device's checks right now (the engine's on-demand parent check); points are kept."""
        slot = self._slots.get(device_id)
        if slot is None:
            return Observation(True, "not monitored")
        results = await self._run_checks(slot.device)
        self._buffer(slot.device, results)
        return self._verdict(results)

    async def _scheduled_run(self, slot: _Slot, due: float) -> None:
        device_id = slot.device.target.device_id
        try:
            async with self._limit:
                lag = self._monotonic() - due
                self.stats.lags_s.append(lag)
                self._window_lags.append(lag)
                results = await self._run_checks(slot.device)
                verdict = self._verdict(results)
                await self._engine.observe(device_id, verdict)
                self._buffer(slot.device, results, verdict)
        finally:
            slot.in_flight = False
            if self._slots.get(device_id) is slot:
                self._reschedule(slot)

    def _reschedule(self, slot: _Slot) -> None:
        device_id = slot.device.target.device_id
        now = self._monotonic()
        if self._engine.retrying(device_id):
            due = now + self._engine.policy_of(device_id).retry_interval_s
        else:
            due = self._next_slot(device_id, self._interval(slot.device), now)
        self._push(slot, due)

    async def _run_checks(self, device: MonitoredDevice) -> list[CheckResult]:
        return list(await asyncio.gather(*(self._run_one(check, device.target) for check in device.checks)))

    async def _run_one(self, check: Check, target: DeviceTarget) -> CheckResult:
        try:
            async with asyncio.timeout(self._check_timeout_s):
                return await check.run(target)
        except TimeoutError:
            return CheckResult(check.name, False, None, f"{check.name}: no verdict in time", "timeout")
        except Exception:
            self.stats.check_errors += 1
            log.exception("check %s on device %s raised", check.name, target.device_id)
            return CheckResult(check.name, False, None, f"{check.name}: internal error", "check_error")
        finally:
            self.stats.checks += 1

    @staticmethod
    def _verdict(results: Sequence[CheckResult]) -> Observation:
        """A device is up when every one of its checks passes; the first failure explains why not."""
        for result in results:
            if not result.ok:
                return Observation(False, result.reason)
        return Observation(True)

    # -- timing ----------------------------------------------------------------------------------

    def _interval(self, device: MonitoredDevice) -> float:
        if device.interval_s is not None:
            return device.interval_s
        return self._engine.policy_of(device.target.device_id).interval_s

    def _next_slot(self, device_id: int, interval: float, now: float) -> float:
        """The first time after ``now`` on the device's grid ``epoch + phase + k * interval``."""
        offset = self._epoch + phase_fraction(device_id) * interval
        periods = max(0, int((now - offset) // interval) + 1)
        due = offset + periods * interval
        return due if due > now else due + interval

    def _push(self, slot: _Slot, due: float) -> None:
        slot.generation += 1
        heapq.heappush(self._heap, (due, slot.generation, slot.device.target.device_id))
        if len(self._heap) > 4 * len(self._slots) + 1024:
            self._compact()

    def _compact(self) -> None:
        """Drop stale entries when re-pushes have bloated the heap (many interval changes/rechecks)."""
        self._heap = [e for e in self._heap if (s := self._slots.get(e[2])) and s.generation == e[1]]
        heapq.heapify(self._heap)

    # -- points ----------------------------------------------------------------------------------

    def _buffer(
        self, device: MonitoredDevice, results: Sequence[CheckResult], verdict: Observation | None = None
    ) -> None:
        """``check_result`` points for ``results``; with ``verdict`` (a scheduled evaluation the engine
        has just observed) also the ``device_status`` point. The status store gets the round too."""
        if self._status is not None:
            self._rounds[device.target.device_id] = (self._engine.now(), list(results))
        if self._sink is None:
            return
        target = device.target
        time_ns = time.time_ns()
        state = self._engine.state_of(target.device_id).value
        tags = target.tags
        if verdict is not None:
            self._pending.append(
                Point(STATUS_MEASUREMENT, self._status_fields(target, verdict), time_ns, tags)
            )
        for result in results:
            fields: dict[str, FieldValue] = {"ok": result.ok, "state": state}
            if result.latency_ms is not None:
                fields["latency_ms"] = float(result.latency_ms)
            if result.error_kind:
                fields["error"] = result.error_kind
            self._pending.append(Point(MEASUREMENT, fields, time_ns, {**tags, "check": result.check}))

    def _buffer_self_metrics(self, now: float) -> None:
        """Cumulative check counts (rates come from ``non_negative_derivative``) and the lateness of
        the checks started since the previous self point."""
        if self._sink is None or now - self._self_metrics_at < self.self_metrics_interval_s:
            return
        self._self_metrics_at = now
        lags = sorted(self._window_lags)
        self._window_lags = []
        fields: dict[str, FieldValue] = {
            "devices": len(self._slots),
            "checks": self.stats.checks,
            "check_errors": self.stats.check_errors,
            "lag_p95_s": lags[int(0.95 * (len(lags) - 1))] if lags else 0.0,
            "lag_max_s": lags[-1] if lags else 0.0,
        }
        self._pending.append(Point(SELF_MEASUREMENT, fields, time.time_ns(), {"host": self._host}))

    def _status_fields(self, target: DeviceTarget, verdict: Observation) -> dict[str, FieldValue]:
        """``state``: ``maintenance`` while a window covers the device, else ``flapping`` while it
        flaps, else the engine's state; ``up``: 1 when every check of this evaluation passed;
        ``in_maintenance``: whether a window covers the device (lets availability leave it out)."""
        device_id = target.device_id
        in_maintenance = self._engine.in_maintenance(device_id)
        if in_maintenance:
            state = "maintenance"
        elif self._engine.is_flapping(device_id):
            state = DeviceState.FLAPPING.value
        else:
            state = self._engine.state_of(device_id).value
        return {
            "state": state,
            "severity": STATE_SEVERITY.get(state, STATE_SEVERITY[DeviceState.UNKNOWN.value]),
            "up": int(verdict.ok),
            "in_maintenance": in_maintenance,
        }

    async def _flush(self) -> None:
        if not self._pending or self._sink is None:
            return
        points, self._pending = self._pending, []
        await self._sink_writes.run(self._sink.write(points), len(points))

    async def _flush_status(self) -> None:
        """The state is read now, not at check time: an on-demand uplink check is observed after it
        was buffered, and the row should carry the verdict."""
        if not self._rounds or self._status is None:
            return
        rounds, self._rounds = self._rounds, {}
        statuses = [
            DeviceStatus(device_id, self._engine.snapshot(device_id, at), at, results)
            for device_id, (at, results) in rounds.items()
        ]
        await self._status_writes.run(self._status.write(statuses), len(statuses))

    async def wait_idle(self) -> None:
        """Until no check or flush is in flight (tests and benches)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._flush()
            await self._flush_status()
