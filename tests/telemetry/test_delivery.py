"""Delivery behaviour an operator relies on: bad points quarantined alone, config errors never lose data."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from pathlib import Path

from telemetry import metrics
from telemetry.points import Point
from telemetry.spool import SPOOL_FILE, Settlement, Spool, list_quarantine
from telemetry.writer import TelemetryWriter
from tests.support.tsdb import INFLUX_DB, InfluxServer
from tests.support.waits import wait_until
from tests.telemetry.helpers import (
    BASE_NS,
    numbered_points,
    v1_target,
    wait_drained,
    writer_config,
)


async def test_field_type_conflict_quarantines_only_the_bad_points_with_server_reason(
    tmp_path: Path, influxdb: InfluxServer
) -> None:
    good = [Point("port", {"octets": i}, BASE_NS + i, {"ifName": "ge-0/0/1"}) for i in range(1000)]
    batch = list(good)
    batch[137] = Point("port", {"octets": 1.5}, BASE_NS + 137, {"ifName": "ge-0/0/1"})  # float vs integer
    batch[901] = Point("port", {"octets": "n/a"}, BASE_NS + 901, {"ifName": "ge-0/0/1"})  # string
    async with TelemetryWriter(writer_config(tmp_path, v1_target(influxdb.url), batch_size=1000)) as writer:
        await writer.write(good[:1])  # the series' first point fixes the field's type: integer
        await wait_drained(writer)
        await writer.write(batch[1:])
        await wait_drained(writer)
        snap = writer.snapshot()

    assert snap["points_quarantined"] == 2 and snap["quarantine_points"] == 2
    assert influxdb.count("port", "octets") == 998
    conn = sqlite3.connect(tmp_path / SPOOL_FILE)
    quarantined = sorted(list_quarantine(conn), key=lambda q: q.id)
    assert [q.status for q in quarantined] == [400, 400]
    assert all("field type conflict" in q.reason for q in quarantined)
    assert [q.line for q in quarantined] == [
        f"port,ifName=ge-0/0/1 octets=1.5 {BASE_NS + 137}",
        f'port,ifName=ge-0/0/1 octets="n/a" {BASE_NS + 901}',
    ]


async def test_missing_database_is_retried_not_quarantined_and_delivers_once_created(
    tmp_path: Path, influxdb: InfluxServer
) -> None:
    influxdb.query(f'DROP DATABASE "{INFLUX_DB}"', db="")
    async with TelemetryWriter(writer_config(tmp_path, v1_target(influxdb.url))) as writer:
        await writer.write(numbered_points(0, 300))
        await wait_until(lambda: writer.snapshot()["batches_failed"] >= 3, 10, "three failed attempts")
        assert writer.snapshot()["points_quarantined"] == 0
        assert writer.snapshot()["spool_points"] == 300
        status = await writer.status()
        assert "database not found" in str(status.state["last_error"])
        influxdb.create_database()
        await wait_drained(writer, within=10)
    assert influxdb.count("zl") == 300


async def test_server_down_whole_time_backs_off_instead_of_spinning(tmp_path: Path) -> None:
    target = v1_target("http://127.0.0.1:9", timeout=1.0)  # discard port: connection refused
    config = writer_config(tmp_path, target, retry_initial=0.2, retry_max=0.4)
    async with TelemetryWriter(config) as writer:
        await writer.write(numbered_points(0, 10))
        await asyncio.sleep(1.5)  # the window is what is measured: attempts in 1.5 s
        failed = writer.snapshot()["batches_failed"]
    # Without backoff this would be hundreds of attempts; with 0.1..0.4s waits it is a handful.
    assert 2 <= failed <= 10
    with sqlite3.connect(tmp_path / SPOOL_FILE) as conn:
        assert conn.execute("SELECT COALESCE(SUM(count), 0) FROM pending").fetchone()[0] == 10


def test_full_spool_drops_oldest_and_counts_it(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1000)
    lines = [f"m v={i:04d}i 1".encode() for i in range(200)]  # 12 bytes each
    dropped = sum(spool.append(lines[i : i + 20]) for i in range(0, 200, 20))
    assert spool.pending_bytes <= 1000
    assert dropped == spool.counters["points_dropped"] == 200 - spool.pending_points
    kept = [line for chunk in spool.peek(1000) for line in chunk.lines()]
    assert kept == lines[-len(kept) :]  # the newest survive, in order
    spool.close()
    reopened = Spool(tmp_path, max_bytes=1000)
    assert reopened.counters["points_dropped"] == dropped
    assert [line for chunk in reopened.peek(1000) for line in chunk.lines()] == kept
    reopened.close()


async def test_points_spooled_without_server_are_replayed_at_next_start(
    tmp_path: Path, influxdb: InfluxServer
) -> None:
    async with TelemetryWriter(writer_config(tmp_path, None)) as offline:
        await offline.write(numbered_points(0, 1234))
    assert influxdb.count("zl") == 0
    async with TelemetryWriter(writer_config(tmp_path, v1_target(influxdb.url))) as writer:
        await wait_drained(writer)
    assert influxdb.count("zl") == 1234


async def test_a_point_written_to_an_idle_writer_goes_out_after_flush_interval_not_the_metrics_tick(
    tmp_path: Path, influxdb: InfluxServer
) -> None:
    """An idle flusher sleeps until the next self-metrics tick (``ioc serve``: 10 s); a partial batch
    must wake it, or a lone status change would sit in the spool for that long."""
    config = writer_config(tmp_path, v1_target(influxdb.url), self_metrics_interval=60)
    async with TelemetryWriter(config) as writer:
        await writer.write(numbered_points(0, 1))
        await wait_drained(writer)  # the flusher has nothing unsent now: it goes to its long sleep
        await writer.write(numbered_points(1, 2))
        await wait_until(
            lambda: influxdb.count("zl") == 2,
            10,  # far below the 60 s tick, far above the 0.2 s flush_interval
            "the second point in InfluxDB before the next self-metrics tick",
            every=0.05,
        )


async def test_self_metrics_land_in_the_store_and_on_prometheus(
    tmp_path: Path, influxdb: InfluxServer
) -> None:
    config = writer_config(tmp_path, v1_target(influxdb.url), self_metrics_interval=0.2)
    async with TelemetryWriter(config) as writer:
        await writer.write(numbered_points(0, 500))
        await wait_drained(writer)

        async def self_metrics_stored() -> bool:
            series = await asyncio.to_thread(influxdb.query, "SELECT last(points_written) FROM ioc_telemetry")
            return bool(series) and series[0]["values"][0][1] >= 500

        await wait_until(
            self_metrics_stored, 10, "a self-metrics point counting the 500 points, in InfluxDB", every=0.1
        )
        body, content_type = metrics.render()
    text = body.decode()
    spool_label = f'spool="{tmp_path / SPOOL_FILE}"'
    assert content_type.startswith("text/plain")
    assert f"ioc_telemetry_points_written_total{{{spool_label}}}" in text
    assert "ioc_telemetry_batch_seconds_count" in text
    written = [line for line in text.splitlines() if line.startswith("ioc_telemetry_points_written_total{")]
    assert any(spool_label in line and float(line.rsplit(" ", 1)[1]) >= 500 for line in written)
    (series,) = influxdb.query("SELECT last(points_written), last(spool_points) FROM ioc_telemetry")
    assert series["values"][0][1] >= 500


def test_partly_settled_chunk_keeps_only_the_points_still_owed(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20, chunk_points=8)
    lines = [f'm s="line {i}\nwith a newline" {i}'.encode() for i in range(10)]
    spool.append(lines)
    first, second = spool.peek(100)
    assert (first.count, second.count) == (8, 2) and first.lines() == lines[:8]
    outcome = Settlement()
    for index in range(4):
        outcome.write(first.id, index)
    outcome.refuse(first.id, 5, 400, "unable to parse")
    spool.settle([first, second], outcome)

    assert spool.counters["points_written"] == 4 and spool.counters["points_quarantined"] == 1
    assert spool.pending_points == 5
    assert [line for chunk in spool.peek(100) for line in chunk.lines()] == [lines[4], *lines[6:]]
    (refused,) = spool.list_quarantine()
    assert (refused.line, refused.status, refused.reason) == (lines[5].decode(), 400, "unable to parse")
    spool.close()
    reopened = Spool(tmp_path, max_bytes=1 << 20)
    assert (reopened.pending_points, reopened.quarantined_points) == (5, 1)
    reopened.close()


def test_late_settle_of_a_gone_chunk_never_hits_a_newer_one(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20)
    spool.append([b"m v=1i 1"])
    (old,) = spool.peek(10)
    done = Settlement()
    done.write_all([old])
    spool.settle([old], done)
    spool.append([b"m v=2i 2"])  # the table is empty again: a reused id would equal old.id
    spool.settle([old], done)  # a duplicate, late settle of the first delivery
    assert [line for chunk in spool.peek(10) for line in chunk.lines()] == [b"m v=2i 2"]
    assert spool.pending_points == 1 and spool.counters["points_written"] == 1
    spool.close()


async def test_hung_server_times_out_and_delivers_after_it_resumes(
    tmp_path: Path, influxdb: InfluxServer
) -> None:
    process = influxdb.process.process
    assert process is not None
    target = v1_target(influxdb.url, timeout=0.3)
    async with TelemetryWriter(writer_config(tmp_path, target, retry_initial=0.05, retry_max=0.2)) as writer:
        os.kill(process.pid, signal.SIGSTOP)  # accepts connections (kernel backlog), never answers
        try:
            await writer.write(numbered_points(0, 700))
            await wait_until(lambda: writer.snapshot()["batches_failed"] >= 2, 10, "two timed-out attempts")
            status = await writer.status()
            assert "timeout" in str(status.state["last_error"])
            assert writer.snapshot()["spool_points"] == 700
        finally:
            os.kill(process.pid, signal.SIGCONT)
        await wait_drained(writer, within=20)
    assert influxdb.count("zl") == 700
