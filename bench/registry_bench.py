"""Registry benchmark: bulk import at two sizes (10,000 devices over 1,000 sites, then 100,000 over 10,000,
each into a fresh database) and the filtered listing at the larger size.

Import time must grow linearly: the larger import is printed with its ratio to the smaller one.

Each figure is printed next to a baseline measured in the same run on the same database:
- import: the full importer (validation, cross-references, history, tags, uplinks, audit) against a raw
  SQLAlchemy Core executemany of the same device rows with no checks at all;
- listing: the API route (auth, filters, batched view building, JSON) and the query function alone,
  against a raw indexed SELECT of the same page.

    .venv/bin/python -m bench.registry_bench [--devices 10000] [--sites 1000] [--scale 10] [--postgres URL]
"""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import psutil
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bench.fleet_options import fleet_parser
from device_registry.authz import Principal
from device_registry.crypto import generate_key
from device_registry.db import create_engine, session_factory
from device_registry.models import Device, DeviceKind, Role, Site, SiteKind
from device_registry.queries.devices import DeviceFilter, list_devices
from device_registry.schemas.sites import SiteCreate
from device_registry.schemas.users import TokenCreate, UserCreate
from device_registry.services.importer import import_devices
from device_registry.services.sites import create_site
from device_registry.services.users import create_user, issue_token
from device_registry.text import fold
from ioc.app import create_app
from ioc.migrate import upgrade
from ioc.settings import Settings

ADMIN = Principal.system("bench")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def build_sites(sessions, n_sites: int) -> list[str]:
    codes = []
    async with sessions() as session, session.begin():
        await create_site(session, ADMIN, SiteCreate(code="P", name="Tỉnh Thái Bình", kind=SiteKind.PROVINCE))
        districts = max(1, n_sites // 100)
        for d in range(districts):
            await create_site(
                session,
                ADMIN,
                SiteCreate(code=f"D{d}", name=f"Huyện Số {d}", kind=SiteKind.DISTRICT, parent_code="P"),
            )
        for c in range(n_sites - districts - 1):
            code = f"C{c:04d}"
            await create_site(
                session,
                ADMIN,
                SiteCreate(
                    code=code, name=f"Xã Thử {c}", kind=SiteKind.COMMUNE, parent_code=f"D{c % districts}"
                ),
            )
            codes.append(code)
    return codes


def fleet_csv(n: int, communes: list[str]) -> str:
    kinds = ["camera", "camera", "camera", "sensor", "switch"]
    vendors = ["Hikvision", "Dahua", "Cisco", "Huawei", "KBVision"]
    lines = ["name,kind,site,address,protocols,tags,vendor"]
    for i in range(n):
        kind = kinds[i % len(kinds)]
        proto = {"camera": "onvif", "sensor": "mqtt", "switch": "snmp"}[kind]
        tag = "traffic" if i % 7 == 0 else "security"
        lines.append(
            f"dev-{i:05d},{kind},{communes[i % len(communes)]},10.{i // 65536}.{(i // 256) % 256}.{i % 256},"
            f"{proto},{tag},{vendors[i % 5]}"
        )
    return "\n".join(lines) + "\n"


async def raw_insert_baseline(url: str, n: int, site_ids: list[int]) -> float:
    engine = create_engine(url)
    rows = [
        {
            "name": f"raw-{i}",
            "name_folded": f"raw-{i}",
            "kind": "camera",
            "protocols": [],
            "site_id": site_ids[i % len(site_ids)],
            "lifecycle": "active",
            "attributes": {},
        }
        for i in range(n)
    ]
    start = time.perf_counter()
    async with engine.begin() as conn:
        await conn.execute(insert(Device), rows)
    elapsed = time.perf_counter() - start
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM devices WHERE name LIKE 'raw-%'"))
    await engine.dispose()
    return elapsed


async def import_run(
    url: str, n_devices: int, n_sites: int
) -> tuple[AsyncEngine, async_sessionmaker[AsyncSession], list[str], float]:
    """A fresh database with ``n_sites`` sites; the raw baseline, then the importer. Returns the engine,
    the session factory, the commune codes and both times."""
    await asyncio.to_thread(upgrade, url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    communes = await build_sites(sessions, n_sites)
    async with sessions() as session:
        commune_ids = list(
            (await session.scalars(select(Site.id).where(Site.kind == SiteKind.COMMUNE))).all()
        )
    baseline = await raw_insert_baseline(url, n_devices, commune_ids)
    text_csv = fleet_csv(n_devices, communes)
    start = time.perf_counter()
    async with sessions() as session, session.begin():
        result = await import_devices(session, ADMIN, text_csv, "csv")
    elapsed = time.perf_counter() - start
    assert len(result.created) == n_devices
    print(
        f"database: {engine.dialect.name}; import {n_devices} devices over {n_sites} sites: {elapsed:.2f} s; "
        f"baseline raw executemany of the same rows: {baseline:.2f} s"
    )
    return engine, sessions, communes, elapsed


async def main(n_devices: int, n_sites: int, scale: int, pg_url: str | None) -> None:
    folder = Path(tempfile.mkdtemp(prefix="ioc-bench-"))
    print(f"load before the run: {os.getloadavg()}")
    small_url = pg_url or f"sqlite+aiosqlite:///{folder / 'small.db'}"
    engine, _, _, small = await import_run(small_url, n_devices, n_sites)
    await engine.dispose()
    if pg_url:
        async with create_engine(pg_url).begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    n_devices, n_sites = n_devices * scale, n_sites * scale
    url = pg_url or f"sqlite+aiosqlite:///{folder / 'registry.db'}"
    engine, sessions, communes, large = await import_run(url, n_devices, n_sites)
    print(
        f"  {scale}x the devices took {large / small:.1f}x the time "
        f"(target: within {int(1.2 * scale)}x, and {n_devices} in under 30 s on SQLite)"
    )
    settings = Settings(home=folder, database_url=url, secret_key=generate_key())

    async with sessions() as session, session.begin():
        user = await create_user(session, ADMIN, UserCreate(username="bench-admin", role=Role.ADMIN))
        token = (await issue_token(session, ADMIN, user, TokenCreate())).token

    rng = random.Random(7)
    filters = []
    for _ in range(200):
        choice = rng.randrange(4)
        if choice == 0:
            filters.append({"site": f"D{rng.randrange(max(1, n_sites // 100))}"})
        elif choice == 1:
            filters.append({"site": rng.choice(communes), "kind": "camera"})
        elif choice == 2:
            filters.append({"tag": "traffic", "vendor": "Dahua"})
        else:
            filters.append({"search": f"dev-0{rng.randrange(1000):03d}"})

    app = create_app(settings)
    api_ms, query_ms, raw_ms = [], [], []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            headers = {"Authorization": f"Bearer {token}"}
            for params in filters[:20]:
                await client.get("/api/v1/devices", params=params, headers=headers)
            for params in filters:
                start = time.perf_counter()
                response = await client.get(
                    "/api/v1/devices", params={**params, "limit": 50}, headers=headers
                )
                api_ms.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200
    for params in filters:
        async with sessions() as session:
            start = time.perf_counter()
            flt = DeviceFilter(
                site=params.get("site"),
                tag=params.get("tag"),
                vendor=params.get("vendor"),
                search=params.get("search"),
                kind=DeviceKind(params["kind"]) if "kind" in params else None,
            )
            await list_devices(session, ADMIN, flt, 50, 0)
            query_ms.append((time.perf_counter() - start) * 1000)
    async with engine.connect() as conn:
        for params in filters:
            start = time.perf_counter()
            if "site" in params:
                await conn.execute(
                    text(
                        "SELECT d.* FROM devices d JOIN sites s ON s.id = d.site_id "
                        "WHERE s.path LIKE (SELECT path FROM sites WHERE code = :code) || '%' "
                        "ORDER BY d.id LIMIT 50"
                    ),
                    {"code": params["site"]},
                )
            else:
                await conn.execute(
                    text("SELECT * FROM devices WHERE name_folded LIKE :p ORDER BY id LIMIT 50"),
                    {"p": f"%{fold(params.get('search', 'dev'))}%"},
                )
            raw_ms.append((time.perf_counter() - start) * 1000)

    def fmt(values: list[float]) -> str:
        return f"p50 {statistics.median(values):.1f} ms, p99 {percentile(values, 99):.1f} ms"

    print(f"load after the run: {os.getloadavg()}")
    print(f"filtered listing via API at {n_devices} devices / {n_sites} sites (200 queries, page 50):")
    print(f"  {fmt(api_ms)} (target p99 < 50 ms)")
    print(f"  same filters, query function only: {fmt(query_ms)}")
    print(f"  baseline raw indexed SELECT of a page: {fmt(raw_ms)}")
    rss = psutil.Process().memory_info().rss / 2**20
    print(f"RSS after the run: {rss:.0f} MiB")
    await engine.dispose()


if __name__ == "__main__":
    parser = fleet_parser(__doc__)
    parser.add_argument("--scale", type=int, default=10, help="the second run's size, as a multiple")
    args = parser.parse_args()
    asyncio.run(main(args.devices, args.sites, args.scale, args.postgres))
