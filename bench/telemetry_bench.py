"""Telemetry writer figures, each next to a baseline measured in the same run on the same machine.

    .venv/bin/python -m bench.telemetry_bench [--points 200000]

1. Spool choice: group commit of N lines into SQLite WAL (synchronous=FULL) vs an append-only segment
   file with one fsync per batch, and SQLite committing per point (why group commit matters).
2. Throughput through spool + batching (Point objects in, acknowledged by the server out) vs a raw
   ``influxdb-client`` synchronous batch write of the same points, pre-encoded, to the same
   VictoriaMetrics (``/api/v2/write``); and vs a raw ``httpx`` POST to InfluxDB 1.x (``/write``), which
   ``influxdb-client`` cannot talk to. Target: >= 80% of raw.
3. ``write()`` latency (validate + encode + one durable transaction) p50/p99.
4. Disk bytes per point in the spool for an interface-counter point.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import logging
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from influxdb_client import InfluxDBClient, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS

from telemetry.config import WriterConfig
from telemetry.influx_output import InfluxTarget
from telemetry.line_protocol import encode_points
from telemetry.points import Point
from telemetry.spool import Spool
from telemetry.writer import TelemetryWriter
from tests.support.tsdb import INFLUX_DB, start_influxdb, start_victoria

BATCH = 5000
BASE_NS = (time.time_ns() // 1_000_000_000 - 7200) * 1_000_000_000


def interface_points(n: int, measurement: str) -> list[Point]:
    """What an SNMP interface poll produces: 3 tags, 4 counters, one timestamp per ms."""
    return [
        Point(
            measurement,
            {"in_octets": 10_000_000 + i, "out_octets": 20_000_000 + i, "in_errors": i % 7, "util": i / n},
            BASE_NS + i * 1_000_000,
            {"device": f"sw-{i % 50:02d}", "site": "Phường Vĩnh Ninh", "ifName": f"ge-0/0/{i % 24}"},
        )
        for i in range(n)
    ]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# -- 1. spool choice --------------------------------------------------------------------------------


def bench_spool_choice(folder: Path, lines: list[bytes], batch: int) -> None:
    batches = [lines[i : i + batch] for i in range(0, len(lines), batch)]

    spool = Spool(folder / "sqlite", max_bytes=1 << 34)
    sqlite_lat = [timed(lambda b=b: spool.append(b)) for b in batches]  # type: ignore[misc]
    spool.close()

    segment = folder / "segment.log"
    segment_lat: list[float] = []
    with open(segment, "ab") as handle:
        for b in batches:

            def append(b: list[bytes] = b) -> None:
                handle.write(b"".join(len(x).to_bytes(4, "little") + x for x in b))
                handle.flush()
                os.fsync(handle.fileno())

            segment_lat.append(timed(append))

    per_point = Spool(folder / "per_point", max_bytes=1 << 34)
    sample = lines[:300]
    per_point_s = timed(lambda: [per_point.append([x]) for x in sample])
    per_point.close()

    n = len(lines)
    print(f"1. spool choice, {n} lines in batches of {batch}, one fsync per batch:")
    print(
        f"   SQLite WAL FULL : {n / sum(sqlite_lat):>10,.0f} points/s, batch commit "
        f"p50 {statistics.median(sqlite_lat) * 1e3:.1f} ms p99 {pct(sqlite_lat, 0.99) * 1e3:.1f} ms"
    )
    print(
        f"   segment + fsync : {n / sum(segment_lat):>10,.0f} points/s, batch commit "
        f"p50 {statistics.median(segment_lat) * 1e3:.1f} ms p99 {pct(segment_lat, 0.99) * 1e3:.1f} ms"
    )
    print(f"   SQLite, commit per point (no group commit): {len(sample) / per_point_s:,.0f} points/s")


# -- 2. throughput ----------------------------------------------------------------------------------


async def through_writer(folder: Path, target: InfluxTarget, points: list[Point]) -> float:
    config = WriterConfig(
        spool_dir=folder, target=target, batch_size=BATCH, flush_interval=0.05, self_metrics_interval=0
    )
    async with TelemetryWriter(config) as writer:
        start = time.perf_counter()
        for i in range(0, len(points), BATCH):
            await writer.write(points[i : i + BATCH])
        for _ in range(1_000_000):  # poll: the writer has no "drained" event, on purpose
            if not writer.snapshot()["spool_points"]:
                break
            await asyncio.sleep(0.002)
        elapsed = time.perf_counter() - start
        assert writer.snapshot()["points_written"] >= len(points)
    return len(points) / elapsed


def raw_influxdb_client(url: str, points: list[Point], encoded: bool) -> float:
    """``influxdb-client`` synchronous batches: pre-encoded lines (pure transport) or the client's own
    dict records (it encodes, as an application without our writer would)."""
    records: list[str] | list[dict[str, object]]
    if encoded:
        records = [line.decode() for line in encode_points(points)]
    else:
        records = [
            {"measurement": p.measurement, "tags": dict(p.tags), "fields": dict(p.fields), "time": p.time_ns}
            for p in points
        ]
    with InfluxDBClient(url=url, token="bench", org="ioc", enable_gzip=True) as client:
        write_api = client.write_api(write_options=SYNCHRONOUS)
        start = time.perf_counter()
        for i in range(0, len(records), BATCH):
            write_api.write(bucket="ioc", record=records[i : i + BATCH], write_precision=WritePrecision.NS)
        return len(records) / (time.perf_counter() - start)


def raw_httpx_v1(url: str, points: list[Point]) -> float:
    lines = encode_points(points)
    with httpx.Client(timeout=30) as client:
        start = time.perf_counter()
        for i in range(0, len(lines), BATCH):
            body = gzip.compress(b"\n".join(lines[i : i + BATCH]), 1)
            response = client.post(
                f"{url}/write",
                params={"db": INFLUX_DB, "precision": "n"},
                content=body,
                headers={"Content-Encoding": "gzip"},
            )
            response.raise_for_status()
        return len(lines) / (time.perf_counter() - start)


ROUNDS = 3


def bench_throughput(folder: Path, n: int) -> None:
    print(f"2. throughput, {n} points, batches of {BATCH}, gzip everywhere; {ROUNDS} interleaved rounds,")
    print("   median (best) points/s; the machine is shared, so only same-run ratios mean anything:")
    vm = start_victoria(folder / "vm")
    influx = start_influxdb(folder / "influx")
    vm_target = InfluxTarget(url=vm.url, api="v2", bucket="ioc", org="ioc")
    influx_target = InfluxTarget(url=influx.url, api="v1", database=INFLUX_DB)
    cases: dict[str, Callable[[int], float]] = {
        "VM  writer (Point in, spool, ack)": lambda r: asyncio.run(
            through_writer(folder / f"vm-{r}", vm_target, interface_points(n, f"spooled{r}"))
        ),
        "VM  influxdb-client, pre-encoded lines": lambda r: raw_influxdb_client(
            vm.url, interface_points(n, f"lines{r}"), encoded=True
        ),
        "VM  influxdb-client, dict records": lambda r: raw_influxdb_client(
            vm.url, interface_points(n, f"dicts{r}"), encoded=False
        ),
        "1.x writer (Point in, spool, ack)": lambda r: asyncio.run(
            through_writer(folder / f"influx-{r}", influx_target, interface_points(n, f"spooled{r}"))
        ),
        "1.x raw httpx, pre-encoded lines": lambda r: raw_httpx_v1(
            influx.url, interface_points(n, f"raw{r}")
        ),
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    try:
        for round_no in range(ROUNDS):
            for name, run in cases.items():
                results[name].append(run(round_no))
    finally:
        vm.process.stop()
        influx.process.stop()
    med = {name: statistics.median(values) for name, values in results.items()}
    for name, values in results.items():
        print(f"   {name:<40} {med[name]:>9,.0f} ({max(values):,.0f})")
    for server, writer, baselines in (
        ("VM ", "VM  writer (Point in, spool, ack)", ("pre-encoded lines", "dict records")),
        ("1.x", "1.x writer (Point in, spool, ack)", ("pre-encoded lines",)),
    ):
        for baseline in baselines:
            raw = next(name for name in med if name.startswith(server) and name.endswith(baseline))
            print(f"   {server} writer / {raw.split(', ')[0][4:]} ({baseline}): {med[writer] / med[raw]:.0%}")


# -- 3./4. write latency and disk use ----------------------------------------------------------------


async def bench_write_latency(folder: Path, n: int) -> None:
    config = WriterConfig(spool_dir=folder, target=None, self_metrics_interval=0)
    points = interface_points(n, "lat")
    print("3. write() latency (validate + encode + one durable SQLite transaction), server offline:")
    async with TelemetryWriter(config) as writer:
        for size in (100, 1000):
            latencies = []
            for i in range(0, min(n, 200 * size), size):
                start = time.perf_counter()
                await writer.write(points[i : i + size])
                latencies.append(time.perf_counter() - start)
            print(
                f"   {size:>5} points/call: p50 {statistics.median(latencies) * 1e3:.2f} ms, "
                f"p99 {pct(latencies, 0.99) * 1e3:.2f} ms ({len(latencies)} calls)"
            )
        status = await writer.status()
    encoded = status.pending_bytes / status.pending_points
    print("4. disk use, interface-counter point (3 tags, 4 fields):")
    print(
        f"   {status.file_bytes / status.pending_points:.0f} bytes/point on disk "
        f"(SQLite file + WAL) for {encoded:.0f} bytes of line protocol; {status.pending_points} points"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=200_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the offline writer's "no server" warning is expected here
    with tempfile.TemporaryDirectory(prefix="telemetry-bench-") as tmp:
        folder = Path(tmp)
        bench_spool_choice(folder / "choice", encode_points(interface_points(50_000, "choice")), 1000)
        bench_throughput(folder / "throughput", args.points)
        asyncio.run(bench_write_latency(folder / "latency", args.points))


if __name__ == "__main__":
    main()
