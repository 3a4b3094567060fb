"""A writer under a steady stream while the real InfluxDB 1.x is SIGKILLed: few attempts, quick return."""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import httpx

from telemetry.writer import TelemetryWriter
from tests.support.tsdb import InfluxServer
from tests.support.waits import wait_until
from tests.telemetry.helpers import numbered_points, v1_target, wait_drained, writer_config

RETRY_INITIAL = 0.2
RETRY_MAX_DOWN = 1.0
SLOTS = 2
OUTAGE_S = 4.0


def attempts_allowed(seconds: float) -> int:
    """The most failed attempts the backoff allows in ``seconds``: per in-flight slot, one at the start
    and one after each backoff period, a period lasting at least half its (capped) delay (the jitter)."""
    per_slot, elapsed, attempt = 1, 0.0, 0
    while True:
        elapsed += min(RETRY_MAX_DOWN, RETRY_INITIAL * 2**attempt) / 2
        if elapsed > seconds:
            return SLOTS * per_slot
        per_slot, attempt = per_slot + 1, attempt + 1


async def test_influxdb_killed_under_a_steady_stream_bounded_attempts_and_back_within_2s(
    tmp_path: Path, influxdb: InfluxServer
) -> None:
    config = writer_config(
        tmp_path / "spool",
        v1_target(influxdb.url, timeout=2.0),
        batch_size=200,
        max_in_flight=SLOTS,
        retry_initial=RETRY_INITIAL,
        retry_max=30.0,
        retry_max_down=RETRY_MAX_DOWN,
        probe_interval=0.1,
    )
    sent = 0
    stop = asyncio.Event()

    async def stream(writer: TelemetryWriter) -> None:
        """Stops between writes, never inside one: a write cancelled after the spool took it would leave
        ``sent`` short of what was stored."""
        nonlocal sent
        while not stop.is_set():  # 200 points every 20 ms: a full batch at every write, the old wake-up storm
            await writer.write(numbered_points(sent, sent + 200))
            sent += 200
            await asyncio.sleep(0.02)

    async with TelemetryWriter(config) as writer:
        feeder = asyncio.create_task(stream(writer))
        await wait_until(lambda: writer.snapshot()["batches_written"] >= 5, 20, "delivering")
        killed_at = time.monotonic()
        influxdb.process.kill()  # SIGKILL
        failed_before = writer.failed_attempts
        written_before = writer.snapshot()["batches_written"]
        await asyncio.sleep(OUTAGE_S)
        assert (
            writer.snapshot()["batches_written"] - written_before <= SLOTS
        )  # only requests already answered
        restart = asyncio.create_task(asyncio.to_thread(influxdb.process.start))
        async with (
            httpx.AsyncClient() as client
        ):  # the moment the server answers, as the writer's probe sees it
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{influxdb.url}/ping", timeout=0.5)).status_code == 204:
                        break
                await asyncio.sleep(0.01)
        answering_at = time.monotonic()
        failed = writer.failed_attempts - failed_before  # during the outage: kill to /ping answering
        written_at_answer = writer.snapshot()["batches_written"]
        while writer.snapshot()["batches_written"] == written_at_answer:
            assert time.monotonic() - answering_at < 10, "no batch delivered after the restart"
            await asyncio.sleep(0.005)
        delivered_at = time.monotonic()
        await restart
        stop.set()
        await feeder
        await wait_drained(writer, within=60)

    assert delivered_at - answering_at < 2.0, f"first batch {delivered_at - answering_at:.2f}s after /ping"
    allowed = attempts_allowed(answering_at - killed_at)
    assert 1 <= failed <= allowed, (
        f"{failed} failed attempts in {answering_at - killed_at:.1f}s, allowed {allowed}"
    )
    assert influxdb.count("zl") == sent  # and nothing was lost on the way
