"""End to end: a real snmpd as the district switch, commune devices behind it, the real scheduler.

The switch is checked through the agent's TCP transport (snmpd listens on udp and tcp), the communes
are TCP services on loopback. Cutting the district stops the agent and the communes at once, as a
fibre cut would; scheduling spreads the checks, so communes are usually checked before the switch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from device_registry.targets import DeviceTarget
from monitors.checks.tcp import TcpConnectCheck
from monitors.config import MonitorSettings, StatePolicy
from monitors.events import DeviceState, EventBus, StateChange
from monitors.outages import MemoryOutageRecorder
from monitors.scheduler import MonitoredDevice
from monitors.service import MonitoringService
from monitors.topology import Topology
from tests.monitors.conftest import Listeners
from tests.support.process import ManagedProcess, free_port, require_binary, wait_for_tcp
from tests.support.snmpd import snmpd_argv

SWITCH = 1
COMMUNES = list(range(100, 120))


@pytest.fixture
def district_switch(tmp_path: Path) -> Iterator[tuple[ManagedProcess, int]]:
    snmpd = require_binary("snmpd", "snmpd", search=["/usr/sbin"])
    udp, tcp = free_port(), free_port()
    conf = tmp_path / "snmpd.conf"
    conf.write_text("rocommunity public 127.0.0.1\nsysName district-switch-bd\n")
    agent = ManagedProcess(
        snmpd_argv(snmpd, conf, f"udp:127.0.0.1:{udp},tcp:127.0.0.1:{tcp}"),
        log_path=tmp_path / "snmpd.log",
        ready=lambda: wait_for_tcp(tcp),
        env={"SNMP_PERSISTENT_DIR": str(tmp_path), "MIBS": ""},
    )
    agent.start()
    yield agent, tcp
    agent.stop()


async def wait_until(predicate, within_s: float = 20.0) -> None:
    deadline = time.monotonic() + within_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def test_district_switch_loss_gives_one_root_outage_and_recovery_ends_all(
    district_switch: tuple[ManagedProcess, int], listeners: Listeners
) -> None:
    agent, agent_port = district_switch
    communes = await listeners.open(len(COMMUNES))
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
        topology=Topology({c: (SWITCH,) for c in COMMUNES}),
    )
    switch = DeviceTarget(SWITCH, "sw-bd", "switch", "127.0.0.1", agent_port, ("HN", "HN-BD"))
    devices = [MonitoredDevice(switch, (TcpConnectCheck(timeout_s=1),))] + [
        MonitoredDevice(
            DeviceTarget(c, f"cam-{c}", "camera", "127.0.0.1", listener.port, ("HN", "HN-BD", f"HN-BD-{c}")),
            (TcpConnectCheck(timeout_s=1),),
        )
        for c, listener in zip(COMMUNES, communes, strict=True)
    ]
    everyone = [SWITCH, *COMMUNES]
    service.update(devices)
    service.start()
    try:
        await wait_until(lambda: all(service.engine.state_of(d) is DeviceState.UP for d in everyone))

        agent.stop()  # the district is cut: agent and every commune behind it at once
        for listener in communes:
            await listener.cut()
        await wait_until(
            lambda: (
                service.engine.state_of(SWITCH) is DeviceState.DOWN
                and all(service.engine.state_of(c) is DeviceState.UNREACHABLE for c in COMMUNES)
            )
        )

        agent.start()
        for listener in communes:
            await listener.restore()
        await wait_until(lambda: all(service.engine.state_of(d) is DeviceState.UP for d in everyone))
    finally:
        await service.stop()

    events: list[StateChange] = []
    while not inbox.empty():
        events.append(inbox.get_nowait())
    downs = [e for e in events if e.current is DeviceState.DOWN]
    assert [e.device_id for e in downs] == [SWITCH], "exactly one root alert"
    unreachable = {e.device_id for e in events if e.current is DeviceState.UNREACHABLE}
    assert unreachable == set(COMMUNES)
    roots = recorder.roots()
    assert len(roots) == 1 and roots[0].affected_count == len(COMMUNES)
    suppressed = [o for o in recorder.outages.values() if not o.is_root]
    assert sorted(o.device_id for o in suppressed) == COMMUNES
    assert all(o.root_cause_device_id == SWITCH for o in suppressed)
    assert recorder.open_outages() == [], "recovery ends every outage"
    ups = {e.device_id for e in events if e.current is DeviceState.UP}
    assert ups == set(everyone)
