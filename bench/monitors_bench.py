"""Monitors bench: 10,000 devices checked every 60 s on loopback, plus the measurements behind the design.

    .venv/bin/python bench/monitors_bench.py [--devices 10000] [--interval 60] [--duration 170]

Prints, each next to a baseline measured in the same run:
  1. ICMP for 1,000 loopback hosts (127.0.x.y): icmplib unprivileged (DGRAM) vs icmplib raw vs one
     fping batch process: CPU per host.
  2. Dispatch cost: the heap tick with no-op checks vs one APScheduler job per device.
  3. The full run: achieved checks/s vs the 10,000/60 needed, scheduler lag p50/p99 vs an idle loop's
     timer lag, CPU share vs idle, failure -> DOWN time for 100 devices cut mid-run (vs the interval),
     RSS. The run is shortened (default 170 s) and figures are per-second rates that extrapolate.
     check_result points go through the real durable writer (spool only: no server configured).

Unprivileged ICMP needs ``net.ipv4.ping_group_range`` to include our group. When it does not and we
are root, the bench re-executes itself in a private network namespace (``unshare -n``) with the
sysctl set there, so nothing on the host changes; all traffic stays on that namespace's loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from apscheduler.events import EVENT_JOB_MISSED  # noqa: E402
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # noqa: E402
from icmplib import async_ping  # noqa: E402

from device_registry.targets import DeviceTarget  # noqa: E402
from monitors.checks.base import CheckResult  # noqa: E402
from monitors.checks.icmp import IcmpCheck, unprivileged_icmp_allowed  # noqa: E402
from monitors.checks.tcp import TcpConnectCheck  # noqa: E402
from monitors.config import MonitorSettings, StatePolicy  # noqa: E402
from monitors.events import DeviceState, EventBus  # noqa: E402
from monitors.outages import MemoryOutageRecorder  # noqa: E402
from monitors.scheduler import MonitoredDevice, MonitorScheduler  # noqa: E402
from monitors.service import MonitoringService  # noqa: E402
from monitors.state import Observation, StateEngine  # noqa: E402
from monitors.topology import Topology  # noqa: E402
from telemetry.config import WriterConfig  # noqa: E402
from telemetry.points import Point  # noqa: E402
from telemetry.writer import TelemetryWriter  # noqa: E402

NETNS_MARK = "IOC_MONITORS_BENCH_NETNS"


def loopback(i: int) -> str:
    return f"127.0.{(i // 250) % 250 + 1}.{i % 250 + 1}"


def pct(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cpu() -> float:
    return time.process_time()


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class CountingSink:
    """Counts points on their way to the real durable writer (spool on disk, no server: spool only)."""

    def __init__(self, inner: TelemetryWriter) -> None:
        self.inner = inner
        self.points = 0

    async def write(self, points: Sequence[Point]) -> None:
        await self.inner.write(points)
        self.points += len(points)


class NoopCheck:
    name = "noop"

    async def run(self, target: DeviceTarget) -> CheckResult:
        return CheckResult.success(self.name, 0.0)


# -- 1. ICMP ---------------------------------------------------------------------------------------


async def icmplib_cost(hosts: list[str], privileged: bool) -> tuple[float, int]:
    limit = asyncio.Semaphore(200)

    async def one(address: str) -> bool:
        async with limit:
            return (await async_ping(address, count=1, timeout=1, privileged=privileged)).is_alive

    started = cpu()
    alive = await asyncio.gather(*(one(h) for h in hosts))
    return (cpu() - started) / len(hosts), sum(alive)


def fping_cost(hosts: list[str]) -> tuple[float, int]:
    fping = shutil.which("fping")
    if fping is None:
        raise SystemExit("fping not found: apt-get install -y fping")
    before_self, before_children = cpu(), children_cpu()
    done = subprocess.run(
        [fping, "-c1", "-t500", "-q", "-i1", *hosts], capture_output=True, text=True, check=False
    )
    spent = (cpu() - before_self) + (children_cpu() - before_children)
    alive = sum(1 for line in done.stderr.splitlines() if "1/1/0%" in line)
    return spent / len(hosts), alive


async def bench_icmp() -> None:
    hosts = [loopback(i) for i in range(1000)]
    print("1. ICMP, 1,000 loopback hosts, CPU per host (lower is better)")
    dgram, alive_d = await icmplib_cost(hosts, privileged=False)
    rows = [("icmplib unprivileged (DGRAM)", dgram, alive_d)]
    if os.geteuid() == 0:
        raw, alive_r = await icmplib_cost(hosts, privileged=True)
        rows.append(("icmplib raw socket (baseline)", raw, alive_r))
    fp, alive_f = fping_cost(hosts)
    rows.append(("fping, one 1,000-host batch (baseline)", fp, alive_f))
    per_tick = [fping_cost(hosts[i : i + 167]) for i in range(0, 1000, 167)]
    rows.append(
        (
            "fping, 167-host batches (1 s tick at 10k/60s)",
            sum(c * 167 for c, _ in per_tick) / 1000,
            sum(a for _, a in per_tick),
        )
    )
    for name, cost, alive in rows:
        print(f"   {name:46s} {cost * 1e6:7.1f} µs/host   alive {alive}/1000")
    share = dgram * 10_000 / 60 * 100
    print(f"   chosen: icmplib DGRAM per check; at 10,000/60 s it costs {share:.2f} % of a core in total")


# -- 2. dispatch -----------------------------------------------------------------------------------


async def bench_dispatch(devices: int, interval: float = 10.0, seconds: float = 10.8) -> None:
    """Same work per run on both sides (a no-op check, then ``engine.observe``); only dispatch differs."""
    print(f"2. Dispatch cost, {devices} devices every {interval:.0f} s with no-op checks, CPU per run")
    noop = NoopCheck()
    engine = StateEngine(EventBus(), clock=lambda: datetime.now(UTC))
    scheduler = MonitorScheduler(engine, None, tick_s=1.0, max_concurrency=1000)
    scheduler.update(
        MonitoredDevice(DeviceTarget(i, f"d{i}", "x", "127.0.0.1"), (noop,), interval_s=interval)
        for i in range(1, devices + 1)
    )
    started_cpu = cpu()
    scheduler.start()
    await asyncio.sleep(seconds)
    await scheduler.stop()
    runs = scheduler.stats.checks
    heap_cost = (cpu() - started_cpu) / max(runs, 1)
    print(f"   one 1 s tick over a heap      {heap_cost * 1e6:8.1f} µs/run   ({runs} runs)")

    engine = StateEngine(EventBus(), clock=lambda: datetime.now(UTC))
    done = 0

    async def job(device_id: int) -> None:
        nonlocal done
        result = await noop.run(DeviceTarget(device_id, "d", "x", "127.0.0.1"))
        await engine.observe(device_id, Observation(result.ok))
        done += 1

    missed = 0

    def on_missed(_event: object) -> None:
        nonlocal missed
        missed += 1

    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # one 'missed' warning per job otherwise
    aps = AsyncIOScheduler(timezone=UTC)
    aps.add_listener(on_missed, EVENT_JOB_MISSED)
    for i in range(1, devices + 1):
        aps.add_job(job, "interval", args=(i,), seconds=interval, id=str(i), max_instances=1)
    started_cpu = cpu()
    aps.start()
    await asyncio.sleep(seconds)
    aps.shutdown(wait=False)
    aps_cost = (cpu() - started_cpu) / max(done, 1)
    print(
        f"   one APScheduler job/device    {aps_cost * 1e6:8.1f} µs/run   ({done} runs, {missed} missed: "
        "same-interval jobs fire together; baseline)"
    )


# -- 3. the full run -------------------------------------------------------------------------------


async def loop_lag(seconds: float) -> list[float]:
    lags = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        asked = time.monotonic()
        await asyncio.sleep(0.05)
        lags.append(time.monotonic() - asked - 0.05)
    return lags


async def bench_run(devices: int, interval: float, duration: float, cut_at: float) -> None:
    print(f"3. {devices} devices every {interval:.0f} s, {duration:.0f} s run (shortened; rates extrapolate)")
    process = psutil.Process()
    idle_cpu0, idle_t0 = cpu(), time.monotonic()
    idle_lags = await loop_lag(5.0)
    idle_share = (cpu() - idle_cpu0) / (time.monotonic() - idle_t0)

    tcp_count = 100
    servers: list[asyncio.Server] = []

    async def handle(_r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.close()

    for _ in range(tcp_count):
        servers.append(await asyncio.start_server(handle, "127.0.0.1", 0))
    ports = [s.sockets[0].getsockname()[1] for s in servers]

    policy = StatePolicy(fail_threshold=3, recover_threshold=2, interval_s=interval, retry_interval_s=10)
    settings = MonitorSettings(default=policy, tick_s=1.0, max_concurrency=500, check_timeout_s=2)
    bus = EventBus(maxsize=100_000)
    inbox = bus.subscribe()
    spool = Path(tempfile.mkdtemp(prefix="monitors-bench-spool-"))
    writer = TelemetryWriter(WriterConfig(spool_dir=spool, target=None, self_metrics_interval=0))
    await writer.start()
    sink = CountingSink(writer)
    service = MonitoringService(
        settings, events=bus, sink=sink, recorder=MemoryOutageRecorder(), topology=Topology({})
    )
    icmp = IcmpCheck(timeout_s=2, privileged=False)
    tcp = TcpConnectCheck(timeout_s=2)
    monitored = []
    for i in range(1, devices + 1):
        if i <= tcp_count:
            target = DeviceTarget(i, f"d{i}", "camera", "127.0.0.1", ports[i - 1], ("HN", "HN-BD"))
            monitored.append(MonitoredDevice(target, (tcp,)))
        else:
            target = DeviceTarget(i, f"d{i}", "switch", loopback(i), None, ("HN", "HN-BD"))
            monitored.append(MonitoredDevice(target, (icmp,)))
    service.update(monitored)

    down_at: dict[int, float] = {}

    async def drain() -> None:
        while True:
            event = await inbox.get()
            if event.current is DeviceState.DOWN:
                down_at.setdefault(event.device_id, time.monotonic())

    drainer = asyncio.create_task(drain())
    start, cpu0 = time.monotonic(), cpu()
    service.start()
    await asyncio.sleep(cut_at)
    checks_before_cut = service.scheduler.stats.checks
    cut_time = time.monotonic()
    for server in servers:
        server.close()
    await asyncio.sleep(max(0.0, duration - cut_at))
    elapsed = time.monotonic() - start
    spent = cpu() - cpu0
    checks = service.scheduler.stats.checks
    lags = list(service.scheduler.stats.lags_s)
    rss = process.memory_info().rss
    await service.stop()
    drainer.cancel()
    await writer.stop()
    shutil.rmtree(spool, ignore_errors=True)

    needed = devices / interval
    rate = checks / elapsed
    steady = checks_before_cut / cut_at
    print(
        f"   checks/s achieved           {rate:8.1f}  (steady before cut {steady:.1f}; needed {needed:.1f})"
    )
    ms = [x * 1e3 for x in lags]
    print(f"   lag due -> start p50/p99/max {pct(ms, 0.5):6.1f} / {pct(ms, 0.99):6.1f} / {max(ms):6.1f} ms")
    print("      (includes up to one 1 s tick of quantisation by design)")
    ticks = [x * 1e3 for x in service.scheduler.stats.tick_late_s]
    idle = [x * 1e3 for x in idle_lags]
    print(
        f"   tick lateness p50/p99       {pct(ticks, 0.5):6.1f} / {pct(ticks, 0.99):6.1f} ms"
        f"   (baseline: idle loop 50 ms timer lateness p99 {pct(idle, 0.99):.1f} ms)"
    )
    share = 100 * spent / elapsed
    print(
        f"   CPU share of one core       {share:8.1f} %"
        f"  (idle baseline {100 * idle_share:.2f} %; target < 30 %)"
    )
    times = [down_at[d] - cut_time for d in range(1, tcp_count + 1) if d in down_at]
    worst = max(times) if times else float("nan")
    print(
        f"   failure -> DOWN ({len(times)}/{tcp_count} cut): p50 {pct(times, 0.5):5.1f} s, max {worst:5.1f} s"
        f" = {worst / interval:.2f} intervals (target <= 2)"
    )
    print(
        f"   RSS                         {rss / 2**20:8.1f} MiB   points spooled by the writer {sink.points}"
    )
    print(f"   extrapolated per hour: {rate * 3600:,.0f} checks, CPU {spent / elapsed * 3600:,.0f} core-s")


def reexec_in_netns() -> None:
    if os.environ.get(NETNS_MARK) or unprivileged_icmp_allowed() or os.geteuid() != 0:
        return
    unshare = shutil.which("unshare")
    if unshare is None:
        return
    print("bench: ping_group_range excludes us; re-running in a private network namespace", flush=True)
    script = 'ip link set lo up && sysctl -qw net.ipv4.ping_group_range="0 2147483647" && exec "$@"'
    env = {**os.environ, NETNS_MARK: "1"}
    os.execvpe(unshare, [unshare, "-n", "sh", "-c", script, "sh", sys.executable, *sys.argv], env)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--dispatch-devices", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=60.0)
    parser.add_argument("--duration", type=float, default=170.0)
    parser.add_argument("--cut-at", type=float, default=65.0)
    parser.add_argument("--skip", default="", help="comma list of parts to skip: icmp,dispatch,run")
    args = parser.parse_args()
    skip = set(args.skip.split(","))
    print(
        f"monitors bench: {os.cpu_count()} cores, ping_group_range allows us: {unprivileged_icmp_allowed()}"
    )
    if "icmp" not in skip:
        await bench_icmp()
    if "dispatch" not in skip:
        await bench_dispatch(args.dispatch_devices)
    if "run" not in skip:
        await bench_run(args.devices, args.interval, args.duration, args.cut_at)


if __name__ == "__main__":
    reexec_in_netns()
    asyncio.run(main())
