"""Status benchmark: ``/api/v1/status`` for the whole province and the status page, at 10,000 devices
over 1,000 sites, with an outage going on (a few district switches down, their communes behind them).

Printed next to a raw SQL baseline from the same run on the same database:
- ``/status`` (auth, scope, grouped count, sums per child, JSON) vs the raw grouped-count SELECT alone;
- the page ``/`` (session cookie re-authenticated, counts, commune map, open outages, Jinja) vs the raw
  SELECTs of the same data (grouped count, commune list, open root outages and their children);
- one tick's status write (the monitors' upsert of ~170 rows) and all 10,000 rows.

    .venv/bin/python -m bench.status_bench [--devices 10000] [--sites 1000] [--postgres URL]
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, select, text, update

from bench.fleet_options import fleet_parser
from bench.registry_bench import ADMIN, build_sites, percentile
from device_registry.crypto import generate_key
from device_registry.db import create_engine, session_factory
from device_registry.models import Device, DeviceUplink, Role, Site, SiteKind
from device_registry.schemas.users import TokenCreate, UserCreate
from device_registry.services.users import create_user, issue_token
from ioc.app import create_app
from ioc.migrate import upgrade
from ioc.settings import Settings
from monitors.checks.base import CheckResult
from monitors.events import DeviceState
from monitors.outage_store import SqlOutageRecorder
from monitors.state import DeviceSnapshot
from monitors.status_store import DeviceStatus, SqlStatusStore

RAW_COUNTS = (
    "SELECT s.path, COALESCE(st.state, 'unknown'), count(*) FROM devices d JOIN sites s ON s.id = d.site_id "
    "LEFT JOIN monitor_device_status st ON st.device_id = d.id "
    "WHERE d.lifecycle IN ('active', 'maintenance') AND s.path LIKE :prefix GROUP BY s.path, 2"
)
RAW_OUTAGES = (
    "SELECT o.*, d.name FROM monitor_outages o JOIN devices d ON d.id = o.device_id "
    "WHERE o.ended_at IS NULL AND o.root_cause_device_id = o.device_id ORDER BY o.started_at DESC LIMIT 200"
)
RAW_CHILDREN = (
    "SELECT o.*, d.name FROM monitor_outages o JOIN devices d ON d.id = o.device_id "
    "WHERE o.root_cause_device_id IN (SELECT device_id FROM monitor_outages WHERE ended_at IS NULL) "
    "AND o.device_id <> o.root_cause_device_id"
)
RAW_COMMUNES = "SELECT * FROM sites WHERE kind IN ('commune', 'ward', 'township') AND valid_to IS NULL"


def fmt(values: list[float], cpu_ms: float) -> str:
    return (
        f"p50 {statistics.median(values):6.1f} ms, p99 {percentile(values, 99):6.1f} ms,"
        f" CPU {cpu_ms / len(values):5.1f} ms per call"
    )


async def build_fleet(sessions, n_devices: int, n_sites: int) -> tuple[list[int], dict[int, list[int]]]:
    """Sites with coordinates, one switch per district and devices in communes behind it."""
    await build_sites(sessions, n_sites)
    rng = random.Random(11)
    async with sessions() as session, session.begin():
        sites = (await session.execute(select(Site.id, Site.kind, Site.parent_id))).all()
        for site_id, _kind, _ in sites:
            await session.execute(
                update(Site)
                .where(Site.id == site_id)
                .values(latitude=20.3 + rng.random() * 0.35, longitude=106.05 + rng.random() * 0.5)
            )
    districts = [s for s in sites if s.kind == SiteKind.DISTRICT]
    communes = [s for s in sites if s.kind == SiteKind.COMMUNE]
    engine = sessions.kw["bind"]
    async with engine.begin() as conn:
        switches = {}
        for district in districts:
            result = await conn.execute(
                insert(Device).returning(Device.id),
                [
                    {
                        "name": f"sw-{district.id}",
                        "name_folded": f"sw-{district.id}",
                        "kind": "switch",
                        "protocols": [],
                        "site_id": district.id,
                        "lifecycle": "active",
                        "attributes": {},
                    }
                ],
            )
            switches[district.id] = result.scalar_one()
        rows = [
            {
                "name": f"dev-{i:05d}",
                "name_folded": f"dev-{i:05d}",
                "kind": "camera",
                "protocols": [],
                "site_id": communes[i % len(communes)].id,
                "lifecycle": "maintenance" if i % 97 == 0 else "active",
                "attributes": {},
            }
            for i in range(n_devices - len(switches))
        ]
        await conn.execute(insert(Device), rows)
        placed = (await conn.execute(select(Device.id, Device.site_id).where(Device.kind == "camera"))).all()
        parent_of = {c.id: c.parent_id for c in communes}
        behind: dict[int, list[int]] = {}
        uplinks = []
        for device_id, site_id in placed:
            switch = switches[parent_of[site_id]]
            behind.setdefault(switch, []).append(device_id)
            uplinks.append({"device_id": device_id, "uplink_id": switch})
        await conn.execute(insert(DeviceUplink), uplinks)
    return list(switches.values()), behind


async def record_states(sessions, switches: list[int], behind: dict[int, list[int]]) -> float:
    """Two switches DOWN with everything behind them UNREACHABLE; a few devices down on their own."""
    now = datetime.now(UTC)
    dead = set(switches[:2])
    recorder = SqlOutageRecorder(sessions)
    for switch in dead:
        outage = await recorder.open(switch, switch, DeviceState.DOWN, now - timedelta(minutes=30), "timeout")
        for child in behind[switch][:60]:
            await recorder.open(child, switch, DeviceState.UNREACHABLE, now - timedelta(minutes=29), "uplink")
        await recorder.set_affected(outage, len(behind[switch]))
    async with sessions() as session:
        ids = list(await session.scalars(select(Device.id)))
    cut_off = {d for s in dead for d in behind[s]}
    statuses = []
    for device_id in ids:
        if device_id in dead:
            state = DeviceState.DOWN
        elif device_id in cut_off:
            state = DeviceState.UNREACHABLE
        elif device_id % 211 == 0:
            state = DeviceState.DOWN
        else:
            state = DeviceState.UP
        ok = state is DeviceState.UP
        result = CheckResult(
            "icmp", ok, 1.2 if ok else None, "" if ok else "icmp: timeout", None if ok else "timeout"
        )
        statuses.append(
            DeviceStatus(
                device_id, DeviceSnapshot(state, now, device_id % 503 == 0, None, False), now, [result]
            )
        )
    store = SqlStatusStore(sessions)
    start = time.perf_counter()
    await store.write(statuses)
    return time.perf_counter() - start


async def main(n_devices: int, n_sites: int, pg_url: str | None, rounds: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="ioc-status-bench-"))
    url = pg_url or f"sqlite+aiosqlite:///{folder / 'registry.db'}"
    await asyncio.to_thread(upgrade, url)
    settings = Settings(home=folder, database_url=url, secret_key=generate_key())
    engine = create_engine(url)
    sessions = session_factory(engine)
    switches, behind = await build_fleet(sessions, n_devices, n_sites)
    full_write = await record_states(sessions, switches, behind)
    async with sessions() as session:
        tick = [
            DeviceStatus(
                d,
                DeviceSnapshot(DeviceState.UP, datetime.now(UTC), False, None, False),
                datetime.now(UTC),
                [],
            )
            for d in list(await session.scalars(select(Device.id).limit(170)))
        ]
        province_path = (await session.scalar(select(Site.path).where(Site.code == "P"))) or "/"
    start = time.perf_counter()
    await SqlStatusStore(sessions).write(tick)
    tick_write = time.perf_counter() - start
    async with sessions() as session, session.begin():
        user = await create_user(session, ADMIN, UserCreate(username="bench-operator", role=Role.OPERATOR))
        token = (await issue_token(session, ADMIN, user, TokenCreate())).token
    print(f"database: {engine.dialect.name}; {n_sites} sites, {n_devices} devices; load {os.getloadavg()}")
    print(
        f"status write: one tick (170 rows) {tick_write * 1000:.1f} ms;"
        f" all {n_devices} rows {full_write:.2f} s"
    )

    app = create_app(settings)
    api_ms: list[float] = []
    page_ms: list[float] = []
    raw_counts_ms: list[float] = []
    raw_page_ms: list[float] = []
    prefix = {"prefix": province_path + "%"}

    async def raw_counts(conn) -> None:
        (await conn.execute(text(RAW_COUNTS), prefix)).all()

    async def raw_page(conn) -> None:
        (await conn.execute(text(RAW_COUNTS), prefix)).all()
        (await conn.execute(text(RAW_COMMUNES))).all()
        (await conn.execute(text(RAW_OUTAGES))).all()
        (await conn.execute(text(RAW_CHILDREN))).all()

    cpu: dict[int, float] = {}

    async def timed(into: list[float], call) -> object:
        """Wall time per call, and the process's CPU time (all threads: aiosqlite's too), which the
        other work on a shared machine inflates far less."""
        start, start_cpu = time.perf_counter(), time.process_time()
        result = await call()
        into.append((time.perf_counter() - start) * 1000)
        cpu[id(into)] = cpu.get(id(into), 0.0) + (time.process_time() - start_cpu) * 1000
        return result

    # Each request is followed by its raw baseline, so both see the same machine load.
    async with app.router.lifespan_context(app), engine.connect() as conn:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            headers = {"Authorization": f"Bearer {token}"}
            for _ in range(5):
                await client.get("/api/v1/status", params={"site": "P"}, headers=headers)
                await raw_counts(conn)
            for _ in range(rounds):
                response = await timed(
                    api_ms, lambda: client.get("/api/v1/status", params={"site": "P"}, headers=headers)
                )
                assert isinstance(response, httpx.Response) and response.json()["counts"]["total"] > 0
                await timed(raw_counts_ms, lambda: raw_counts(conn))
            form = await client.get("/login")
            found = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert found is not None
            login = await client.post("/login", data={"token": token, "csrf": found.group(1)})
            assert login.status_code == 303
            for _ in range(3):
                await client.get("/")
                await raw_page(conn)
            for _ in range(max(rounds // 4, 20)):
                page = await timed(page_ms, lambda: client.get("/"))
                assert isinstance(page, httpx.Response) and page.status_code == 200 and "sw-" in page.text
                await timed(raw_page_ms, lambda: raw_page(conn))
    print(f"GET /api/v1/status?site=P ({rounds}x): {fmt(api_ms, cpu[id(api_ms)])} (target p99 < 50 ms)")
    print(f"  baseline raw grouped-count SELECT:   {fmt(raw_counts_ms, cpu[id(raw_counts_ms)])}")
    print(f"status page / (province, {len(page_ms)}x): {fmt(page_ms, cpu[id(page_ms)])} (target < 300 ms)")
    print(f"  baseline raw SELECTs of its data:     {fmt(raw_page_ms, cpu[id(raw_page_ms)])}")
    print(f"load after the run: {os.getloadavg()}")
    await engine.dispose()


if __name__ == "__main__":
    parser = fleet_parser(__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(main(args.devices, args.sites, args.postgres, args.rounds))
