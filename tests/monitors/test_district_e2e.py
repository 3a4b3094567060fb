"""End to end: a real snmpd as the district switch, commune devices behind it, the real scheduler.

First with TCP connect checks (the switch through the agent's TCP transport, the communes as TCP
services on loopback), then with the protocol checks (SNMP sysUpTime on the switch over UDP, ONVIF
GetSystemDateAndTime on simulated cameras). Cutting the district stops the agent and the communes at once, as a
fibre cut would; scheduling spreads the checks, so communes are usually checked before the switch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from device_registry.targets import DeviceTarget
from monitors.checks.defaults import DefaultChecks
from monitors.checks.tcp import TcpConnectCheck
from monitors.config import MonitorSettings, StatePolicy
from monitors.events import DeviceState, EventBus, StateChange
from monitors.outages import MemoryOutageRecorder
from monitors.scheduler import MonitoredDevice
from monitors.service import MonitoringService
from monitors.topology import Topology
from simulators.onvif_camera import CameraConfig, CameraFleet
from tests.monitors.conftest import Listeners
from tests.support.snmpd import Agent, community, start_snmpd
from tests.support.waits import wait_until

SWITCH = 1
COMMUNES = list(range(100, 120))


@pytest.fixture
def district_switch(tmp_path: Path) -> Iterator[Agent]:
    agent = start_snmpd(tmp_path, tcp=True, sys_name="district-switch-bd")
    try:
        yield agent
    finally:
        agent.process.stop()


async def cut_and_restore(
    devices: list[MonitoredDevice],
    communes: list[int],
    cut: Callable[[], Awaitable[None]],
    restore: Callable[[], Awaitable[None]],
) -> None:
    """Run the district until all are UP, cut it, wait for the verdict, restore it, wait for UP; then
    assert the story: one root outage on the switch, every commune suppressed behind it, all ended."""
    policy = StatePolicy(fail_threshold=2, recover_threshold=1, interval_s=1.0, retry_interval_s=0.3)
    settings = MonitorSettings(default=policy, tick_s=0.05, check_timeout_s=1, parent_check_fresh_s=0.2)
    bus = EventBus()
    inbox = bus.subscribe()
    recorder = MemoryOutageRecorder()
    service = MonitoringService(
        settings,
        events=bus,
        sink=None,
        recorder=recorder,
        topology=Topology({c: (SWITCH,) for c in communes}),
    )
    everyone = [SWITCH, *communes]
    service.update(devices)
    service.start()
    try:
        await wait_until(
            lambda: all(service.engine.state_of(d) is DeviceState.UP for d in everyone), 20, "all UP"
        )
        await cut()
        await wait_until(
            lambda: (
                service.engine.state_of(SWITCH) is DeviceState.DOWN
                and all(service.engine.state_of(c) is DeviceState.UNREACHABLE for c in communes)
            ),
            20,
            "the district switch DOWN and its communes UNREACHABLE",
        )
        await restore()
        await wait_until(
            lambda: all(service.engine.state_of(d) is DeviceState.UP for d in everyone), 20, "all UP again"
        )
    finally:
        await service.stop()

    events: list[StateChange] = []
    while not inbox.empty():
        events.append(inbox.get_nowait())
    downs = [e for e in events if e.current is DeviceState.DOWN]
    assert [e.device_id for e in downs] == [SWITCH], "exactly one root alert"
    unreachable = {e.device_id for e in events if e.current is DeviceState.UNREACHABLE}
    assert unreachable == set(communes)
    roots = recorder.roots()
    assert len(roots) == 1 and roots[0].affected_count == len(communes)
    suppressed = [o for o in recorder.outages.values() if not o.is_root]
    assert sorted(o.device_id for o in suppressed) == communes
    assert all(o.root_cause_device_id == SWITCH for o in suppressed)
    assert recorder.open_outages() == [], "recovery ends every outage"
    ups = {e.device_id for e in events if e.current is DeviceState.UP}
    assert ups == set(everyone)


async def test_district_switch_loss_gives_one_root_outage_and_recovery_ends_all(
    district_switch: Agent, listeners: Listeners
) -> None:
    agent, agent_port = district_switch.process, district_switch.tcp_port
    communes = await listeners.open(len(COMMUNES))
    switch = DeviceTarget(SWITCH, "sw-bd", "switch", "127.0.0.1", agent_port, ("HN", "HN-BD"))
    devices = [MonitoredDevice(switch, (TcpConnectCheck(timeout_s=1),))] + [
        MonitoredDevice(
            DeviceTarget(c, f"cam-{c}", "camera", "127.0.0.1", listener.port, ("HN", "HN-BD", f"HN-BD-{c}")),
            (TcpConnectCheck(timeout_s=1),),
        )
        for c, listener in zip(COMMUNES, communes, strict=True)
    ]

    async def cut() -> None:  # the district is cut: agent and every commune behind it at once
        agent.stop()
        for listener in communes:
            await listener.cut()

    async def restore() -> None:
        agent.start()
        for listener in communes:
            await listener.restore()

    await cut_and_restore(devices, COMMUNES, cut, restore)


async def test_onvif_cameras_behind_an_snmp_switch_alert_once_on_the_switch(
    district_switch: Agent,
) -> None:
    """The protocol checks end to end: SNMP sysUpTime on the switch, ONVIF on the cameras."""
    agent = district_switch.process
    cameras = COMMUNES[:8]
    fleet = await CameraFleet([CameraConfig(name=f"cam-{c}") for c in cameras]).start()
    ports = [cam.port for cam in fleet.cameras]
    defaults = DefaultChecks(timeout_s=1)
    switch = DeviceTarget(
        SWITCH,
        "sw-bd",
        "switch",
        "127.0.0.1",
        district_switch.port,
        ("HN", "HN-BD"),
        ("snmp",),
        community("public"),
    )
    devices = [MonitoredDevice(switch, (defaults.snmp,))] + [
        MonitoredDevice(
            DeviceTarget(
                c, f"cam-{c}", "camera", "127.0.0.1", port, ("HN", "HN-BD", f"HN-BD-{c}"), ("onvif",)
            ),
            (defaults.onvif,),
        )
        for c, port in zip(cameras, ports, strict=True)
    ]
    running = [fleet]

    async def cut() -> None:
        agent.stop()
        await running.pop().stop()

    async def restore() -> None:
        agent.start()
        configs = [CameraConfig(name=f"cam-{c}", port=port) for c, port in zip(cameras, ports, strict=True)]
        running.append(await CameraFleet(configs).start())

    try:
        await cut_and_restore(devices, cameras, cut, restore)
    finally:
        for still in running:
            await still.stop()
        await defaults.close()
