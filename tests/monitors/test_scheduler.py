"""The heap scheduler: spread phases, registry changes without restart, retries, points, lifecycle."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence

from device_registry.targets import DeviceTarget
from monitors.checks.tcp import TcpConnectCheck
from monitors.config import StatePolicy
from monitors.events import DeviceState
from monitors.outages import MemoryOutageRecorder
from monitors.runner import SITE_MEASUREMENT
from monitors.scheduler import (
    SELF_MEASUREMENT,
    STATUS_MEASUREMENT,
    MonitoredDevice,
    MonitorScheduler,
    phase_fraction,
)
from monitors.state import StateEngine
from telemetry.points import Point
from tests.monitors.conftest import Listeners
from tests.monitors.world import FakeClock, RecordedEvents
from tests.support.waits import wait_until


class RecordingSink:
    """``points``: the check_result points; ``statuses``: the device_status points; ``own``: the
    scheduler's self-metric points and the registry's ``site`` (commune location) points."""

    def __init__(self) -> None:
        self.points: list[Point] = []
        self.statuses: list[Point] = []
        self.own: list[Point] = []

    async def write(self, points: Sequence[Point]) -> None:
        for point in points:
            if point.measurement in (SELF_MEASUREMENT, SITE_MEASUREMENT):
                self.own.append(point)
            else:
                (self.statuses if point.measurement == STATUS_MEASUREMENT else self.points).append(point)

    def checks_of(self) -> Counter[str]:
        return Counter(p.tags["device_id"] for p in self.points)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def monitored(device_id: int, port: int, interval: float | None = 10.0) -> MonitoredDevice:
    target = DeviceTarget(
        device_id,
        f"d{device_id}",
        "camera",
        "127.0.0.1",
        port,
        ("HN", "HN-BD", "HN-BD-07"),
        site_kinds=("province", "district", "ward"),
    )
    return MonitoredDevice(target, (TcpConnectCheck(timeout_s=1),), interval)


def build(policy: StatePolicy | None = None):
    sink, mono, clock = RecordingSink(), FakeMonotonic(), FakeClock()
    engine = StateEngine(
        RecordedEvents(),
        clock=clock,
        default_policy=policy or StatePolicy(fail_threshold=2, retry_interval_s=2),
        recorder=MemoryOutageRecorder(),
    )
    scheduler = MonitorScheduler(engine, sink, monotonic=mono)
    engine.parent_checker = scheduler.probe
    engine.recheck_hint = scheduler.recheck
    return scheduler, engine, sink, mono, clock


async def run_for(scheduler: MonitorScheduler, mono: FakeMonotonic, clock: FakeClock, seconds: int) -> None:
    for _ in range(seconds):
        mono.now += 1
        clock.advance(1)
        await scheduler.tick()
        await scheduler.wait_idle()


def test_phases_are_deterministic_and_evenly_spread() -> None:
    buckets = Counter(int(phase_fraction(i) * 60) for i in range(1, 10_001))
    assert len(buckets) == 60
    assert max(buckets.values()) < 1.2 * 10_000 / 60 and min(buckets.values()) > 0.8 * 10_000 / 60
    assert phase_fraction(4711) == phase_fraction(4711)


async def test_each_device_runs_once_per_interval_and_writes_tagged_points(listeners: Listeners) -> None:
    scheduler, _engine, sink, mono, clock = build()
    services = await listeners.open(3)
    scheduler.update(monitored(i + 1, s.port) for i, s in enumerate(services))
    await run_for(scheduler, mono, clock, 30)
    assert sorted(sink.checks_of().values()) == [3, 3, 3]
    point = sink.points[0]
    assert point.measurement == "check_result"
    assert point.tags == {
        "device_id": point.tags["device_id"],
        "device": f"d{point.tags['device_id']}",
        "kind": "camera",
        "province": "HN",
        "district": "HN-BD",
        "commune": "HN-BD-07",
        "site": "HN-BD-07",
        "check": "tcp",
    }
    assert Counter(p.tags["device_id"] for p in sink.statuses) == {"1": 3, "2": 3, "3": 3}
    status = next(p for p in sink.statuses if p.tags["device_id"] == point.tags["device_id"])
    assert status.tags == {k: v for k, v in point.tags.items() if k != "check"}
    assert status.fields == {"state": "up", "severity": 0, "up": 1, "in_maintenance": False}
    assert point.fields["ok"] is True and point.fields["state"] == "up"
    assert isinstance(point.fields["latency_ms"], float)
    assert max(scheduler.stats.lags_s) <= 1.0, "due devices start within one tick"


async def test_interval_change_and_removal_apply_without_restart(listeners: Listeners) -> None:
    scheduler, _engine, sink, mono, clock = build()
    a, b = await listeners.open(2)
    scheduler.update([monitored(1, a.port), monitored(2, b.port)])
    await run_for(scheduler, mono, clock, 20)
    assert sink.checks_of() == {"1": 2, "2": 2}

    sink.points.clear()
    scheduler.update([monitored(1, a.port, interval=2.0)])
    await scheduler.remove(2)
    await run_for(scheduler, mono, clock, 20)
    assert sink.checks_of()["1"] >= 9
    assert "2" not in sink.checks_of()
    assert len(scheduler) == 1


async def test_failure_is_retried_fast_and_confirmed_within_one_interval(listeners: Listeners) -> None:
    scheduler, engine, sink, mono, clock = build(
        StatePolicy(fail_threshold=3, recover_threshold=2, retry_interval_s=2)
    )
    (service,) = await listeners.open(1)
    scheduler.update([monitored(1, service.port, interval=60)])
    await run_for(scheduler, mono, clock, 61)
    assert engine.state_of(1) is DeviceState.UP
    await service.cut()
    waited = 0
    while engine.state_of(1) is not DeviceState.DOWN and waited < 130:
        await run_for(scheduler, mono, clock, 1)
        waited += 1
    assert engine.state_of(1) is DeviceState.DOWN
    assert waited <= 60 + 2 * 2 + 1, "first failure within one interval, then two quick retries"
    failed = [p for p in sink.points if p.fields["ok"] is False]
    assert failed[0].fields["error"] == "unreachable"
    states = [(p.fields["state"], p.fields["up"]) for p in sink.statuses]
    assert list(dict.fromkeys(states)) == [("up", 1), ("soft_down", 0), ("down", 0)]

    await service.restore()
    waited = 0
    while engine.state_of(1) is not DeviceState.UP and waited < 130:
        await run_for(scheduler, mono, clock, 1)
        waited += 1
    assert engine.state_of(1) is DeviceState.UP
    assert waited <= 60 + 2 + 1, "first success within one interval, the second after a quick retry"


async def test_recheck_moves_a_device_to_the_next_tick(listeners: Listeners) -> None:
    scheduler, _engine, sink, mono, clock = build()
    (service,) = await listeners.open(1)
    scheduler.update([monitored(1, service.port, interval=3600)])
    await run_for(scheduler, mono, clock, 1)
    before = len(sink.points)
    scheduler.recheck([1])
    await run_for(scheduler, mono, clock, 1)
    assert len(sink.points) == before + 1


async def test_real_apscheduler_lifecycle(listeners: Listeners) -> None:
    engine = StateEngine(RecordedEvents(), clock=FakeClock())
    sink = RecordingSink()
    scheduler = MonitorScheduler(engine, sink, tick_s=0.1)
    (service,) = await listeners.open(1)
    scheduler.update([monitored(i, service.port, interval=0.5) for i in range(1, 6)])
    started = time.monotonic()
    scheduler.start()

    def two_checks_each() -> bool:
        counts = sink.checks_of()
        return len(counts) == 5 and min(counts.values()) >= 2

    await wait_until(two_checks_each, 10, "two checks of each of the 5 devices", detail=sink.checks_of)
    elapsed = time.monotonic() - started
    await scheduler.stop()
    counts = sink.checks_of()
    assert len(counts) == 5 and all(2 <= n <= 4 for n in counts.values()), counts
    assert elapsed >= 0.5 - 0.1, f"second checks {elapsed:.2f} s after start: sooner than the 0.5 s interval"
    settled = len(sink.points)
    # Kept as a window: only time drives the scheduler, so "no check after stop" needs time to pass
    # (three of its 0.1 s ticks) with no event that could mark it.
    await asyncio.sleep(0.3)
    assert len(sink.points) == settled, "no checks after stop"
