"""Zero loss: 100,000 points arrive exactly once (as distinct points) whatever crashes on the way.

VictoriaMetrics answers 204 before its in-memory buffer reaches disk (up to a few seconds), so a SIGKILL
of *VictoriaMetrics* loses data it already acknowledged: no client can prevent that. Its restarts here
are graceful (SIGTERM); InfluxDB writes its WAL before answering and is SIGKILLed.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from telemetry.influx_output import InfluxTarget
from telemetry.spool import SPOOL_FILE
from telemetry.writer import TelemetryWriter
from tests.support.process import ManagedProcess
from tests.support.tsdb import InfluxServer, VictoriaServer, start_influxdb, start_victoria
from tests.support.waits import wait_until
from tests.telemetry.helpers import (
    numbered_points,
    v1_target,
    v2_target,
    wait_drained,
    writer_config,
)

TOTAL = 100_000
CHUNK = 1000
EXPECTED_SUM = TOTAL * (TOTAL - 1) // 2
ROOT = Path(__file__).resolve().parents[2]


class Store:
    """One server under test, with what differs between InfluxDB and VictoriaMetrics put side by side."""

    def __init__(self, server: InfluxServer | VictoriaServer) -> None:
        self.server = server
        self.process: ManagedProcess = server.process

    @property
    def api(self) -> str:
        return "v1" if isinstance(self.server, InfluxServer) else "v2"

    def target(self) -> InfluxTarget:
        return v1_target(self.server.url) if self.api == "v1" else v2_target(self.server.url)

    def crash(self) -> None:
        if isinstance(self.server, InfluxServer):
            self.process.kill()
        else:
            self.process.stop()

    def distinct_points_and_sum(self) -> tuple[int, float]:
        if isinstance(self.server, InfluxServer):
            (series,) = self.server.query('SELECT count("value"), sum("value") FROM "zl"')
            return int(series["values"][0][1]), float(series["values"][0][2])
        samples: dict[tuple[str, int], float] = {}
        for series in self.server.export('{__name__="zl_value"}'):
            for ts, value in zip(series["timestamps"], series["values"], strict=True):
                samples[(str(sorted(series["metric"].items())), ts)] = value
        return len(samples), sum(samples.values())


@pytest.fixture(params=["influxdb", "victoria"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    start = start_influxdb if request.param == "influxdb" else start_victoria
    server = start(tmp_path / request.param)
    try:
        yield Store(server)
    finally:
        server.process.stop()


async def test_server_crashing_three_times_mid_ingest_loses_nothing(tmp_path: Path, store: Store) -> None:
    config = writer_config(tmp_path / "spool", store.target(), flush_interval=0.1, retry_max=0.3)
    async with TelemetryWriter(config) as writer:

        async def crash_and_restart() -> None:
            """Down until the writer has failed a delivery against it, then up again."""
            failed = writer.snapshot()["batches_failed"]
            await asyncio.to_thread(store.crash)
            await wait_until(
                lambda: writer.snapshot()["batches_failed"] > failed, 30, "a delivery failed by the crash"
            )
            await asyncio.to_thread(store.process.start)

        crash: asyncio.Task[None] | None = None
        for begin in range(0, TOTAL, CHUNK):
            if begin in (TOTAL // 4, TOTAL // 2, 3 * TOTAL // 4):  # crashes driven by progress, not clocks
                if crash is not None:
                    await crash
                crash = asyncio.create_task(crash_and_restart())
            await writer.write(numbered_points(begin, begin + CHUNK))
            await asyncio.sleep(0.02)  # a pace, not a wait: the ingest lasts long enough to crash under it
        assert crash is not None
        await crash
        await wait_drained(writer, within=60)
        snap = writer.snapshot()
    assert snap["batches_failed"] >= 3, "the crashes should have hit deliveries"
    assert snap["points_dropped"] == snap["points_quarantined"] == 0
    assert store.distinct_points_and_sum() == (TOTAL, EXPECTED_SUM)


async def test_server_down_for_the_whole_ingest_then_up_gets_everything(tmp_path: Path, store: Store) -> None:
    store.process.stop()
    config = writer_config(tmp_path / "spool", store.target(), retry_initial=0.05, retry_max=0.2)
    async with TelemetryWriter(config) as writer:
        for begin in range(0, TOTAL, 10 * CHUNK):
            await writer.write(numbered_points(begin, begin + 10 * CHUNK))
        await wait_until(lambda: writer.snapshot()["batches_failed"] >= 1, 30, "a failed delivery")
        assert writer.snapshot()["spool_points"] == TOTAL
        await asyncio.to_thread(store.process.start)
        await wait_drained(writer, within=60)
    assert store.distinct_points_and_sum() == (TOTAL, EXPECTED_SUM)


def _child(spool: Path, store: Store, start: int) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "tests.telemetry.writer_child", str(spool), store.server.url, store.api]
    return subprocess.Popen(
        [*argv, str(start), str(TOTAL), str(CHUNK)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )


def _pending(spool: Path) -> int:
    with sqlite3.connect(spool / SPOOL_FILE) as conn:
        return int(conn.execute("SELECT COALESCE(SUM(count), 0) FROM pending").fetchone()[0])


def test_writer_process_killed_mid_batch_twice_then_restarted_loses_nothing(
    tmp_path: Path, store: Store
) -> None:
    spool = tmp_path / "spool"
    resume_at = 0
    pending_at_kill = []
    for kill_after in (30_000, 65_000):
        child = _child(spool, store, resume_at)
        assert child.stdout is not None
        for line in child.stdout:
            resume_at = int(line.split()[1])
            if resume_at >= kill_after:
                child.kill()  # SIGKILL: no shutdown hook, no drain
                break
        child.wait(10)
        assert child.returncode == -9
        pending_at_kill.append(_pending(spool))
    assert any(pending_at_kill), "the kills should have left undelivered points in the spool"

    child = _child(spool, store, resume_at)
    output, _ = child.communicate(timeout=120)
    assert child.returncode == 0 and output.rstrip().endswith("drained")
    assert _pending(spool) == 0
    assert store.distinct_points_and_sum() == (TOTAL, EXPECTED_SUM)
