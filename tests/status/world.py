"""A district switch goes dark: the world the status API, CLI and page are tested in.

Tỉnh Thử Nghiệm (P) > Huyện Vũ Thư (D1) > Xã Hồng Lý (A), Xã Song An (A2); Huyện Đông Hưng (D2) > Xã Đông
Các (B). Every device answers on its own loopback TCP listener and is checked by the monitors' real
scheduler, state machine, outage recorder and status store (TCP connect checks, fast policy). Then the
Vũ Thư switch's listener and its communes' cameras' listeners are closed: the switch goes DOWN, the
cameras behind it UNREACHABLE, and alerting opens one alert for the switch from the published events.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.crypto import SecretBox, generate_key
from device_registry.models import DeviceKind, Lifecycle, Role, Site
from device_registry.schemas.devices import DeviceCreate
from device_registry.schemas.users import TokenCreate, UserCreate
from device_registry.services.devices import create_device
from device_registry.services.users import create_user, issue_token
from monitors.alerting.context import AlertingContext
from monitors.alerting.directory import RegistryDirectory
from monitors.alerting.lifecycle import AlertLifecycle
from monitors.checks.tcp import TcpConnectCheck
from monitors.config import MonitorSettings, StatePolicy
from monitors.events import DeviceState, EventBus
from monitors.outage_store import SqlOutageRecorder
from monitors.registry_source import load_snapshot
from monitors.scheduler import MonitoredDevice
from monitors.service import MonitoringService
from monitors.status_store import SqlStatusStore
from tests.monitors.conftest import Listener
from tests.registry.seed import ADMIN, build_world
from tests.support.process import free_port

# Rough real positions (Thái Bình), so the map has a shape.
COORDINATES = {
    "P": (20.45, 106.34),
    "D1": (20.43, 106.27),
    "D2": (20.53, 106.33),
    "A": (20.40, 106.24),
    "A2": (20.46, 106.29),
    "B": (20.56, 106.36),
}

# name -> (kind, site, uplink, lifecycle)
DEVICES = {
    "SW-VUTHU-CORE": (DeviceKind.SWITCH, "D1", None, Lifecycle.ACTIVE),
    "CAM-HONGLY-01": (DeviceKind.CAMERA, "A", "SW-VUTHU-CORE", Lifecycle.ACTIVE),
    "CAM-HONGLY-02": (DeviceKind.CAMERA, "A", "SW-VUTHU-CORE", Lifecycle.ACTIVE),
    "CAM-SONGAN-01": (DeviceKind.CAMERA, "A2", "SW-VUTHU-CORE", Lifecycle.ACTIVE),
    "SW-DONGHUNG-CORE": (DeviceKind.SWITCH, "D2", None, Lifecycle.ACTIVE),
    "CAM-DONGCAC-01": (DeviceKind.CAMERA, "B", "SW-DONGHUNG-CORE", Lifecycle.ACTIVE),
    "CAM-DONGCAC-02": (DeviceKind.CAMERA, "B", "SW-DONGHUNG-CORE", Lifecycle.MAINTENANCE),
}
DEAD = ("SW-VUTHU-CORE", "CAM-HONGLY-01", "CAM-HONGLY-02", "CAM-SONGAN-01")
EXTRA_USERS = {"maintenance_b": (Role.MAINTENANCE, "B"), "maintenance_d1": (Role.MAINTENANCE, "D1")}


@dataclass
class StatusWorld:
    tokens: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    devices: dict[str, int] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    alert_id: int = 0
    outage_id: int = 0


async def build_status_world(sessions: async_sessionmaker[AsyncSession], box: SecretBox) -> StatusWorld:
    seeded = await build_world(sessions)
    world = StatusWorld(tokens=dict(seeded.tokens), user_ids=dict(seeded.user_ids))
    listeners: dict[str, Listener] = {}
    async with sessions() as session, session.begin():
        for code, (lat, lon) in COORDINATES.items():
            await session.execute(update(Site).where(Site.code == code).values(latitude=lat, longitude=lon))
        for username, (role, scope) in EXTRA_USERS.items():
            user = await create_user(
                session, ADMIN, UserCreate(username=username, role=role, scope_site_code=scope)
            )
            world.user_ids[username] = user.id
            world.tokens[username] = (await issue_token(session, ADMIN, user, TokenCreate())).token
        for name, (kind, site, uplink, lifecycle) in DEVICES.items():
            listener = listeners[name] = Listener(free_port())
            device = await create_device(
                session,
                ADMIN,
                box,
                DeviceCreate(
                    name=name,
                    kind=kind,
                    site_code=site,
                    address="127.0.0.1",
                    port=listener.port,
                    uplink_ids=[world.devices[uplink]] if uplink else [],
                    lifecycle=lifecycle,
                ),
            )
            world.devices[name] = device.id
            world.ports[name] = listener.port
    for listener in listeners.values():
        await listener.restore()
    try:
        await _run_monitors_through_the_outage(sessions, world, listeners)
    finally:
        for listener in listeners.values():
            await listener.cut()
    return world


async def _run_monitors_through_the_outage(
    sessions: async_sessionmaker[AsyncSession], world: StatusWorld, listeners: dict[str, Listener]
) -> None:
    policy = StatePolicy(fail_threshold=2, recover_threshold=1, interval_s=0.3, retry_interval_s=0.1)
    bus = EventBus()
    inbox = bus.subscribe()
    service = MonitoringService(
        # parent_check_fresh_s=0: an uplink seen up a moment before the cut is still asked on demand,
        # as the cameras and the switch die in the same instant here.
        MonitorSettings(default=policy, tick_s=0.05, check_timeout_s=1, parent_check_fresh_s=0),
        events=bus,
        sink=None,
        recorder=SqlOutageRecorder(sessions),
        status=SqlStatusStore(sessions),
    )
    async with sessions() as session:
        snapshot = await load_snapshot(session)
    service.set_topology(snapshot.topology)
    service.update(MonitoredDevice(t, (TcpConnectCheck(timeout_s=1),)) for t in snapshot.targets)
    engine = service.engine
    ids = world.devices
    service.start()
    try:
        await _until(
            lambda: all(engine.state_of(i) is DeviceState.UP for i in ids.values()),
            lambda: {n: engine.state_of(i).value for n, i in ids.items()},
        )
        for name in DEAD:
            await listeners[name].cut()
        cut_off = [ids[n] for n in DEAD[1:]]
        await _until(
            lambda: (
                engine.state_of(ids[DEAD[0]]) is DeviceState.DOWN
                and all(engine.state_of(i) is DeviceState.UNREACHABLE for i in cut_off)
            ),
            lambda: {n: engine.state_of(i).value for n, i in ids.items()},
        )
    finally:
        await service.stop()
    assert engine.outage_of(ids[DEAD[0]]) is not None
    world.outage_id = engine.outage_of(ids[DEAD[0]]) or 0
    directory = RegistryDirectory(sessions)
    alerts = AlertLifecycle(
        AlertingContext(sessions=sessions, sites=directory, devices=directory, box=SecretBox(generate_key()))
    )
    events = []
    while not inbox.empty():
        events.append(inbox.get_nowait())
    outcomes = await alerts.handle_many(events)
    assert outcomes.count("fired") == 1, outcomes
    from sqlalchemy import select

    from monitors.alerting.models import Alert

    async with sessions() as session:
        world.alert_id = (
            await session.scalars(select(Alert.id).where(Alert.device_id == ids[DEAD[0]]))
        ).one()


async def _until(predicate, states, within_s: float = 20.0) -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"the monitors did not reach the expected states in time: {states()}")
        await asyncio.sleep(0.05)
