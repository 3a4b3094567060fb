"""The monitors restart (``ioc serve`` upgraded or its service restarted by the supervisor) in the middle
of outages: real registry database (SQLite and PostgreSQL), real TCP listeners on loopback, the real
``RegistryMonitors`` stopped (its task cancelled, as on SIGTERM) and a new one started on the same data."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from monitors.config import MonitorSettings, StatePolicy
from monitors.events import DeviceState, EventBus, StateChange
from monitors.outage_store import SqlOutageRecorder, load_outages
from monitors.runner import RegistryMonitors
from monitors.status_store import DeviceStatus, SqlStatusStore
from tests.monitors.conftest import Listeners
from tests.monitors.registry_world import DeviceKind, Lifecycle, Registry, registry, update
from tests.monitors.world import T0, World
from tests.support.waits import wait_until

D, U, X = DeviceState.DOWN, DeviceState.UP, DeviceState.UNREACHABLE
SETTINGS = MonitorSettings(
    default=StatePolicy(fail_threshold=2, recover_threshold=1, interval_s=0.3, retry_interval_s=0.1),
    tick_s=0.05,
    registry_refresh_s=0.2,
    check_timeout_s=1,
)


def drained(inbox: asyncio.Queue[StateChange]) -> list[StateChange]:
    events = []
    while not inbox.empty():
        events.append(inbox.get_nowait())
    return events


async def start(reg: Registry) -> tuple[RegistryMonitors, asyncio.Task[None], asyncio.Queue[StateChange]]:
    bus = EventBus()
    inbox = bus.subscribe()
    monitors = RegistryMonitors(SETTINGS, reg.sessions, events=bus, sink=None)
    return monitors, asyncio.create_task(monitors.run()), inbox


async def stop(runner: asyncio.Task[None]) -> None:
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)


async def test_restart_during_outages_neither_repages_nor_loses_their_start(
    sqlite_url: str, listeners: Listeners
) -> None:
    """SQLite only, for time: the reads it relies on run on PostgreSQL in the two tests below."""
    gw_port, cam_port, old_port = await listeners.open(3)
    async with registry(sqlite_url) as reg:
        gw = await reg.add_device("gw", DeviceKind.OTHER, "D1", port=gw_port.port)
        cam = await reg.add_device("cam", DeviceKind.OTHER, "A", port=cam_port.port, uplinks=("gw",))
        old = await reg.add_device("old", DeviceKind.OTHER, "B", port=old_port.port)
        monitors, runner, inbox = await start(reg)
        engine = monitors.service.engine
        try:

            async def all_up() -> bool:
                return all(engine.state_of(d) is U for d in (gw, cam, old))

            await wait_until(all_up, 20, "gw, cam and old UP")
            await gw_port.cut()

            async def gw_down() -> bool:
                return engine.state_of(gw) is D

            await wait_until(gw_down, 20, "gw DOWN")
            await cam_port.cut()
            await old_port.cut()

            async def all_out() -> bool:
                return [engine.state_of(d) for d in (gw, cam, old)] == [D, X, D]

            await wait_until(all_out, 20, "gw DOWN, cam UNREACHABLE, old DOWN")
            since = engine.snapshot(gw, datetime.now(UTC)).since
        finally:
            await stop(runner)
        first_pages = [e.device_id for e in drained(inbox) if e.current is D]
        assert sorted(first_pages) == sorted([gw, old])
        await update(reg, "old", lifecycle=Lifecycle.RETIRED)  # retired while nothing ran

        monitors, runner, inbox = await start(reg)
        engine = monitors.service.engine
        try:

            async def checked_again() -> bool:
                return monitors.service.scheduler.stats.checks >= 6

            await wait_until(checked_again, 20, "6 checks by the restored monitors")
            assert [engine.state_of(d) for d in (gw, cam)] == [D, X]
            assert engine.root_cause_of(cam) == gw
            assert engine.snapshot(gw, datetime.now(UTC)).since == since
            assert drained(inbox) == [], "the restart published nothing: nobody is paged again"

            await gw_port.restore()
            await cam_port.restore()

            async def back() -> bool:
                return engine.state_of(gw) is U and engine.state_of(cam) is U

            await wait_until(back, 20, "gw and cam UP again")
        finally:
            await stop(runner)
        after = drained(inbox)

        async with reg.sessions() as session:
            outages = await load_outages(
                session, datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC) + timedelta(hours=1)
            )

    assert sorted((e.device_id, e.previous, e.current) for e in after) == [(gw, D, U), (cam, X, U)]
    by_device: dict[int, list] = {}
    for outage in outages:
        by_device.setdefault(outage.device_id, []).append(outage)
    assert {d: len(o) for d, o in by_device.items()} == {gw: 1, cam: 1, old: 1}, "no second outage"
    (gw_outage,) = by_device[gw]
    assert gw_outage.end is not None and gw_outage.start < since, "the outage kept its first failure"
    assert next(e for e in after if e.device_id == gw).outage_id == gw_outage.id
    assert by_device[cam][0].root_cause_device_id == gw and by_device[cam][0].end is not None
    assert by_device[old][0].end is not None, "retired while stopped: closed at the next start"


async def test_a_flapping_device_stays_flapping_and_silent_across_a_restart(db_url: str) -> None:
    flappy = StatePolicy(
        fail_threshold=2, recover_threshold=1, flap_enter_changes=4, flap_leave_changes=1, flap_window_s=600
    )
    async with registry(db_url) as reg:
        device = await reg.add_device("flappy", DeviceKind.OTHER, "A")
        status = SqlStatusStore(reg.sessions)
        before = World(policy=flappy, store=SqlOutageRecorder(reg.sessions))
        await before.check_rounds(1, device)
        for _ in range(2):  # down, up, down, up: four hard changes
            before.dead.add(device)
            await before.check_rounds(2, device)
            before.dead.clear()
            await before.check_rounds(1, device)
        assert before.engine.is_flapping(device)
        now = before.clock.now
        await status.write([DeviceStatus(device, before.engine.snapshot(device, now), now, [])])

        after = World(policy=flappy, store=SqlOutageRecorder(reg.sessions))
        after.clock.now = now
        after.engine.restore(await status.load(now - timedelta(seconds=600)))
        await after.check_rounds(1, device)
        after.dead.add(device)
        await after.check_rounds(2, device)

    assert after.engine.is_flapping(device), "its recent changes came back from the outage history"
    assert after.events.events == [], "still flapping: the new DOWN pages nobody"


async def test_sigkill_before_the_status_row_caught_up_restores_from_the_open_outage(db_url: str) -> None:
    """The status table is written a tick after a change, the outage at once: a kill in between leaves
    a row saying UP next to an open outage. The outage wins."""
    async with registry(db_url) as reg:
        device = await reg.add_device("sw", DeviceKind.OTHER, "A")
        status = SqlStatusStore(reg.sessions)
        before = World(store=SqlOutageRecorder(reg.sessions))
        await before.check_rounds(1, device)
        now = before.clock.now
        await status.write([DeviceStatus(device, before.engine.snapshot(device, now), now, [])])
        before.dead.add(device)
        await before.check_rounds(3, device)  # DOWN and its outage recorded; the process dies here
        outage_id = before.engine.outage_of(device)

        after = World(store=SqlOutageRecorder(reg.sessions))
        after.clock.now = before.clock.now
        after.engine.restore(await status.load(after.clock.now - timedelta(hours=1)))
        assert after.engine.state_of(device) is D and after.engine.outage_of(device) == outage_id
        await after.check_rounds(2, device)
        after.dead.clear()
        await after.check_rounds(2, device)
        async with reg.sessions() as session:
            outages = await load_outages(session, T0 - timedelta(hours=1), T0 + timedelta(hours=1))

    assert [(e.previous, e.current, e.outage_id) for e in after.events.events] == [(D, U, outage_id)]
    assert [(o.id, o.end is not None) for o in outages] == [(outage_id, True)]


async def test_a_row_still_down_after_its_outage_closed_restores_up(db_url: str) -> None:
    """The other side of the same race: the device came back (outage closed) and the process died
    before the row said so. It is UP after the restart, and its next outage is a new one that pages."""
    async with registry(db_url) as reg:
        device = await reg.add_device("sw", DeviceKind.OTHER, "A")
        status = SqlStatusStore(reg.sessions)
        before = World(store=SqlOutageRecorder(reg.sessions))
        await before.check_rounds(1, device)
        before.dead.add(device)
        await before.check_rounds(3, device)
        now = before.clock.now
        await status.write([DeviceStatus(device, before.engine.snapshot(device, now), now, [])])
        before.dead.clear()
        await before.check_rounds(2, device)  # back UP, outage closed; the row still says DOWN

        after = World(store=SqlOutageRecorder(reg.sessions))
        after.clock.now = before.clock.now
        after.engine.restore(await status.load(after.clock.now - timedelta(hours=1)))
        assert after.engine.state_of(device) is U
        after.dead.add(device)
        await after.check_rounds(3, device)
        async with reg.sessions() as session:
            outages = await load_outages(session, T0 - timedelta(hours=1), T0 + timedelta(hours=1))

    assert [e.current for e in after.events.alerts()] == [D]
    assert len(outages) == 2 and outages[0].end is not None and outages[1].end is None
