"""Province-wide power event: 1,000 simultaneous root outages through the real alerting path.

Measures the time from the first event published on the monitors' EventBus until every routed
notification has been handed to its channel (a loopback JSON webhook receiver, through apprise and the
durable outbox), and counts deduplication (each DOWN delivered twice, a repeated DOWN per device, and
UNREACHABLE events for the devices behind each outage).

Baselines measured in the same run:
  * channel only: the same number of messages sent straight through apprise with the same number of
    threads, no database and no outbox: the floor set by apprise and the receiver;
  * lifecycle only, no delivery: one event per transaction, and in batches as the service does.

Run: .venv/bin/python bench/alerting_bench.py [--outages 1000] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select

from device_registry.authz import Principal
from device_registry.crypto import SecretBox, generate_key
from device_registry.db import create_engine, session_factory, transaction
from device_registry.models import Device, DeviceKind, SiteKind
from device_registry.schemas.sites import SiteCreate
from device_registry.services.sites import create_site
from device_registry.text import fold
from ioc.migrate import upgrade
from monitors.alerting import admin, channels
from monitors.alerting.channel_urls import ChannelUrls
from monitors.alerting.config import AlertingSettings, OutboxSettings
from monitors.alerting.directory import RegistryDirectory
from monitors.alerting.lifecycle import AlertLifecycle
from monitors.alerting.models import Alert, OutboxItem
from monitors.alerting.service import BATCH_MAX, AlertingService
from monitors.events import DeviceState, EventBus, StateChange
from tests.support.receivers import WebhookReceiver

DISTRICTS, COMMUNES = 8, 10
ADMIN = Principal.system("bench")
ACTOR = ADMIN
BOX = SecretBox(generate_key())
URLS = ChannelUrls(BOX)


async def build(url: str, outages: int, hook: str) -> list[int]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    directory = RegistryDirectory(sessions)
    device_ids: list[int] = []
    async with transaction(sessions) as session:
        province = await create_site(
            session, ADMIN, SiteCreate(code="34", name="Tỉnh Thái Bình", kind=SiteKind.PROVINCE)
        )
        districts, communes = [], []
        for d in range(DISTRICTS):
            districts.append(
                await create_site(
                    session,
                    ADMIN,
                    SiteCreate(code=f"34{d}", name=f"Huyện {d}", kind=SiteKind.DISTRICT, parent_code="34"),
                )
            )
            for c in range(COMMUNES):
                site = SiteCreate(
                    code=f"34{d}{c:02d}", name=f"Xã {d}-{c}", kind=SiteKind.COMMUNE, parent_code=f"34{d}"
                )
                communes.append(await create_site(session, ADMIN, site))
        for i in range(outages * 3):  # each root outage hides two devices behind it
            name = f"CAM-{i:05d}"
            site_id = communes[i % len(communes)].id
            session.add(
                Device(id=i + 1, name=name, name_folded=fold(name), kind=DeviceKind.CAMERA, site_id=site_id)
            )
            device_ids.append(i + 1)
    async with transaction(sessions) as session:
        for d, district in enumerate(districts):
            team = await admin.create_team(session, ACTOR, f"Đội huyện {d}")
            await admin.add_channel(session, ACTOR, URLS, team.id, "hook", f"{hook}?district={d}")
            await admin.add_route(session, ACTOR, directory, f"district-{d}", team.id, site_id=district.id)
        province_team = await admin.create_team(session, ACTOR, "Trung tâm tỉnh")
        await admin.add_channel(session, ACTOR, URLS, province_team.id, "hook", f"{hook}?province")
        await admin.add_route(session, ACTOR, directory, "province", province_team.id, site_id=province.id)
    await engine.dispose()
    return device_ids[:outages]


def events(roots: list[int], at: datetime) -> list[StateChange]:
    out: list[StateChange] = []
    for n, device in enumerate(roots):
        behind = (len(roots) + 2 * n + 1, len(roots) + 2 * n + 2)
        down = StateChange(
            event_id=f"down-{device}",
            device_id=device,
            previous=DeviceState.UP,
            current=DeviceState.DOWN,
            at=at,
            reason="mất điện lưới",
            outage_id=device,
            root_cause_device_id=device,
            affected_device_ids=behind,
        )
        out.append(down)
        out.append(down)  # redelivered
        out.append(
            StateChange(
                event_id=f"down-again-{device}",
                device_id=device,
                previous=DeviceState.DOWN,
                current=DeviceState.DOWN,
                at=at,
                outage_id=device,
                root_cause_device_id=device,
            )
        )
        out += [
            StateChange(
                event_id=f"unreach-{b}",
                device_id=b,
                previous=DeviceState.UP,
                current=DeviceState.UNREACHABLE,
                at=at,
                root_cause_device_id=device,
            )
            for b in behind
        ]
    return out


def channel_baseline(hook: str, count: int, concurrency: int, receiver: WebhookReceiver) -> float:
    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda i: channels.send(hook, f"baseline {i}", "body"), range(count)))
    receiver.wait_for(count, timeout=120)
    return time.perf_counter() - start


async def lifecycle_baseline(url: str, evts: list[StateChange], batch: int = 1) -> float:
    engine = create_engine(url)
    sessions = session_factory(engine)
    directory = RegistryDirectory(sessions)
    from monitors.alerting.context import AlertingContext

    lifecycle = AlertLifecycle(
        AlertingContext(sessions=sessions, sites=directory, devices=directory, box=BOX)
    )
    start = time.perf_counter()
    if batch > 1:
        for i in range(0, len(evts), batch):
            await lifecycle.handle_many(evts[i : i + batch])
    else:
        for event in evts:
            await lifecycle.handle(event)
    elapsed = time.perf_counter() - start
    await engine.dispose()
    return elapsed


async def full_path(
    url: str, evts: list[StateChange], outages: int, concurrency: int, receiver: WebhookReceiver
) -> tuple[float, float, float, dict[str, int], dict[str, int]]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    directory = RegistryDirectory(sessions)
    settings = AlertingSettings(
        outbox=OutboxSettings(concurrency=concurrency, poll_interval_s=0.1, batch_size=200)
    )
    service = AlertingService.from_settings(settings, sessions, BOX, sites=directory, devices=directory)
    bus = EventBus()
    await service.start(bus)
    start = time.perf_counter()
    queue = bus.subscribe()  # a probe subscriber: tells when every event was published
    for event in evts:
        await bus.publish(event)
        queue.get_nowait()
    await service.drained()
    handled = time.perf_counter() - start
    await asyncio.to_thread(receiver.wait_for, outages, 600)
    handed = time.perf_counter() - start
    await asyncio.sleep(0.5)
    await service.stop()
    async with sessions() as session:
        alerts = await session.scalar(select(func.count()).select_from(Alert))
        rows = await session.scalar(select(func.count()).select_from(OutboxItem))
        first = await session.scalar(select(func.min(OutboxItem.sent_at)))
        last = await session.scalar(select(func.max(OutboxItem.sent_at)))
    await engine.dispose()
    spread = (last - first).total_seconds() if first and last else 0.0
    counts = {"alerts": alerts or 0, "outbox_rows": rows or 0}
    return handed, handled, spread, dict(service.lifecycle.outcomes), counts


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outages", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    receiver = WebhookReceiver().start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            template = Path(folder) / "template.db"
            await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{template}")
            url = f"sqlite+aiosqlite:///{template}"
            roots = await build(url, args.outages, receiver.url)
            copy = Path(folder) / "lifecycle.db"
            copy.write_bytes(template.read_bytes())
            copy_batched = Path(folder) / "lifecycle-batched.db"
            copy_batched.write_bytes(template.read_bytes())
            evts = events(roots, datetime.now(UTC))

            base_channel = await asyncio.to_thread(
                channel_baseline, receiver.url, args.outages, args.concurrency, receiver
            )
            receiver.received.clear()
            base_lifecycle = await lifecycle_baseline(f"sqlite+aiosqlite:///{copy}", evts)
            base_batched = await lifecycle_baseline(f"sqlite+aiosqlite:///{copy_batched}", evts, BATCH_MAX)
            handed, handled, spread, outcomes, counts = await full_path(
                url, evts, args.outages, args.concurrency, receiver
            )
    finally:
        receiver.stop()

    n = args.outages
    print(
        f"alerting bench: {n} simultaneous root outages, {len(evts)} events "
        f"({n} redelivered, {n} repeated DOWN, {2 * n} UNREACHABLE), SQLite, "
        f"{args.concurrency} delivery threads"
    )
    print(
        f"  full path (bus -> alert -> outbox -> apprise -> webhook): {handed:6.2f} s  "
        f"({n / handed:6.0f} notifications/s)"
    )
    print(
        f"  baseline, channel only (apprise -> webhook, no DB):      {base_channel:6.2f} s  "
        f"({n / base_channel:6.0f} notifications/s)"
    )
    print(
        f"  baseline, lifecycle one event per transaction, no send:  {base_lifecycle:6.2f} s  "
        f"({len(evts) / base_lifecycle:6.0f} events/s)"
    )
    print(
        f"{f'  baseline, lifecycle in batches of {BATCH_MAX}, no send:':<58}{base_batched:6.2f} s  "
        f"({len(evts) / base_batched:6.0f} events/s)"
    )
    print(
        f"  of which: all events handled (alerts + outbox rows committed) after {handled:.2f} s; "
        f"first->last delivery recorded: {spread:.2f} s"
    )
    print(f"  outcomes: {outcomes}")
    print(
        f"  rows: {counts}; notifications received: {len(receiver.received)} (expected {n}, none twice: "
        f"{len({m['title'] for m in receiver.received}) == len(receiver.received)})"
    )


if __name__ == "__main__":
    asyncio.run(main())
