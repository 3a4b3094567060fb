"""The SNMP collector in the cycle runner, against agents whose counters the test controls."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Sequence
from itertools import count, pairwise

import pytest
from pysnmp.hlapi.v1arch import asyncio as v1
from pysnmp.proto.rfc1902 import Counter32, TimeTicks

from device_registry.targets import DeviceTarget
from provisioning.snmp.client import SnmpClient
from telemetry import metrics
from telemetry.collectors.snmp import SnmpCollector
from telemetry.cycle import SELF_CYCLE, SELF_POLL, CycleRunner
from telemetry.points import Point
from tests.support.process import free_port
from tests.support.snmpd import Agent, community, v3_credential

IN_OCTETS = "1.3.6.1.2.1.2.2.1.10.1"
OUT_OCTETS = "1.3.6.1.2.1.2.2.1.16.1"
IN_ERRORS = "1.3.6.1.2.1.2.2.1.14.1"
UPTIME = "1.3.6.1.2.1.1.3.0"


class MemorySink:
    """Collects written batches; the durable writer is another issue's, the contract is the same."""

    def __init__(self) -> None:
        self.batches: list[list[Point]] = []

    async def write(self, points: Sequence[Point]) -> None:
        self.batches.append(list(points))

    def last(self, measurement: str) -> list[Point]:
        return [p for p in self.batches[-1] if p.measurement == measurement]


async def set_values(port: int, **values: int) -> None:
    """SET counters/uptime on the snmpsim ``wrap`` recording (its writecache variation keeps them)."""
    kinds = {IN_OCTETS: Counter32, OUT_OCTETS: Counter32, IN_ERRORS: Counter32, UPTIME: TimeTicks}
    names = {"in_octets": IN_OCTETS, "out_octets": OUT_OCTETS, "in_errors": IN_ERRORS, "uptime": UPTIME}
    dispatcher = v1.SnmpDispatcher()
    try:
        target = await v1.UdpTransportTarget.create(("127.0.0.1", port), timeout=1, retries=1)
        pairs = [(names[k], kinds[names[k]](v)) for k, v in values.items()]
        error, status, _, _ = await v1.set_cmd(dispatcher, v1.CommunityData("wrap"), target, *pairs)
        assert not error and not status, f"SET failed: {error or status}"
    finally:
        dispatcher.close()


def target(device_id: int, port: int, credential, sites=("VN-HN", "HN-BD")) -> DeviceTarget:
    return DeviceTarget(
        device_id,
        f"dev{device_id}",
        "switch",
        "127.0.0.1",
        port,
        sites,
        ("snmp",),
        credential,
        site_kinds=("province", "district")[: len(sites)],
    )


async def test_rates_survive_wrap_and_restart_without_spikes(snmpsim: Agent) -> None:
    clock = count(100.0, 10.0)  # every poll is 10 s after the previous one
    sink = MemorySink()
    async with SnmpClient() as client:
        collector = SnmpCollector(client, timeout=1, retries=0, monotonic=lambda: next(clock))
        runner = CycleRunner(collector, sink, device_timeout=5)
        wrap = target(7, snmpsim.port, community("wrap"))

        await set_values(snmpsim.port, in_octets=2**32 - 1000, out_octets=100, in_errors=10, uptime=1000)
        await runner.run_once([wrap])
        (first,) = sink.last("snmp_interface")
        assert first.fields == {"oper_up": 1}  # no rate from a single sample
        assert first.tags == {
            "device_id": "7",
            "device": "dev7",
            "kind": "switch",
            "province": "VN-HN",
            "district": "HN-BD",
            "site": "HN-BD",
            "if_name": "eth0",
        }

        # 32-bit wrap: 1000 octets to the top, 500 after it -> 1500 octets in 10 s
        await set_values(snmpsim.port, in_octets=500, out_octets=1350, in_errors=30, uptime=2000)
        await runner.run_once([wrap])
        (wrapped,) = sink.last("snmp_interface")
        assert wrapped.fields["in_bps"] == pytest.approx(1500 * 8 / 10)
        assert wrapped.fields["out_bps"] == pytest.approx(1250 * 8 / 10)
        assert wrapped.fields["in_errors"] == pytest.approx(2.0)

        # agent restart: uptime went back, counters restarted low -> no rate, and no spike
        await set_values(snmpsim.port, in_octets=40, out_octets=20, in_errors=0, uptime=300)
        await runner.run_once([wrap])
        (restarted,) = sink.last("snmp_interface")
        assert "in_bps" not in restarted.fields and "in_errors" not in restarted.fields
        (health,) = sink.last("device_health")
        assert health.fields["up"] == 1 and health.fields["uptime_s"] == pytest.approx(3.0)

        # and rates resume on the next poll
        await set_values(snmpsim.port, in_octets=1040, out_octets=20, in_errors=0, uptime=1300)
        await runner.run_once([wrap])
        (resumed,) = sink.last("snmp_interface")
        assert resumed.fields["in_bps"] == pytest.approx(800.0)


async def test_cycle_with_dead_devices_lasts_one_timeout_and_logs_each_failure_once(
    snmpsim: Agent, snmpd: Agent, caplog: pytest.LogCaptureFixture
) -> None:
    timeout, retries = 1.0, 1  # generous: the live devices share one busy simulator
    worst = timeout * (retries + 1)
    live = [target(i, snmpsim.port, community("linux-full-walk")) for i in range(1, 17)]
    live += [target(17, snmpd.port, v3_credential()), target(18, snmpsim.port, community("winxp-full-walk"))]
    dead = [target(100 + i, free_port(socket.SOCK_DGRAM), community("public")) for i in range(2)]
    sink = MemorySink()
    async with SnmpClient() as client:
        runner = CycleRunner(SnmpCollector(client, timeout=timeout, retries=retries), sink, device_timeout=10)
        caplog.set_level(logging.WARNING, logger="telemetry.cycle")
        started = time.perf_counter()
        summary = await runner.run_once(live + dead)
        elapsed = time.perf_counter() - started
        assert (summary.ok, summary.failed) == (18, 2)
        assert set(summary.failures) == {100, 101}
        assert "authentication failed or no answer" in summary.failures[100]
        # each dead device costs its own timeout x tries, not the others' (the bench measures the figures)
        dead_durations = [o.duration_s for o in summary.outcomes if not o.ok]
        assert all(worst * 0.9 < d < worst * 2 for d in dead_durations), dead_durations
        # a device that timed out is retried once this cycle, after its first attempt (2 x worst);
        # one after the other the two dead devices would take 4 x worst
        assert runner.retried == 2
        assert elapsed < 3 * worst, "the dead devices were waited for one after the other"
        down_logs = [r for r in caplog.records if "DOWN" in r.getMessage()]
        assert len(down_logs) == 2

        assert runner.states.failing(100) and not runner.states.failing(1)  # next cycle: suspect lane
        second = await runner.run_once(live + dead)
        assert (second.ok, second.failed) == (18, 2)
        assert runner.retried == 0 and second.duration_s < 2 * worst  # suspects: no retry
        assert len([r for r in caplog.records if "DOWN" in r.getMessage()]) == 2  # not logged again

    polls = {p.tags["device_id"]: p for p in sink.last(SELF_POLL)}
    assert polls["100"].fields["up"] == 0 and polls["100"].fields["error_kind"] == "timeout"
    assert polls["1"].fields["up"] == 1 and float(polls["1"].fields["duration_ms"]) > 0
    (cycle,) = sink.last(SELF_CYCLE)
    assert cycle.fields["devices"] == 20 and cycle.fields["failed"] == 2
    health = {p.tags["device_id"]: p.fields for p in sink.last("device_health")}
    assert health["100"] == {"up": 0} and health["17"]["up"] == 1 and float(health["17"]["rtt_ms"]) > 0
    names = {p.tags["if_name"] for p in sink.last("snmp_interface") if p.tags["device_id"] == "18"}
    assert len(names) == 3  # Windows agent without ifXTable: names from ifDescr

    # The same self-metrics on /metrics: device up per device, poll durations, cycle time.
    exported = metrics.render()[0].decode()
    assert 'ioc_device_up{collector="snmp",device_id="100"} 0.0' in exported
    assert 'ioc_device_up{collector="snmp",device_id="17"} 1.0' in exported
    assert 'ioc_collector_poll_seconds_count{collector="snmp"}' in exported
    assert 'ioc_collector_cycle_seconds{collector="snmp"}' in exported


async def test_a_failing_device_is_logged_down_once_writes_up_0_every_cycle_and_up_again_once(
    snmpsim: Agent, caplog: pytest.LogCaptureFixture
) -> None:
    sink = MemorySink()
    async with SnmpClient() as client:
        runner = CycleRunner(SnmpCollector(client, timeout=0.2, retries=0), sink, device_timeout=3)
        caplog.set_level(logging.WARNING, logger="telemetry.cycle")
        wrong = target(5, snmpsim.port, community("no-such-recording"))  # snmpsim does not answer it
        right = target(5, snmpsim.port, community("linux-full-walk"))
        for _ in range(3):
            summary = await runner.run_once([wrong])
            assert summary.failed == 1 and runner.states.failing(5)
            (health,) = sink.last("device_health")
            assert health.fields == {"up": 0}  # the collector's points_on_failure
            (poll,) = sink.last(SELF_POLL)
            assert poll.fields["error_kind"] == "timeout"
        for _ in range(2):
            assert (await runner.run_once([right])).ok == 1
            (health,) = sink.last("device_health")
            assert health.fields["up"] == 1
    messages = [r.getMessage() for r in caplog.records]
    assert [m for m in messages if "DOWN" in m] == ["device 5 (dev5) DOWN: timeout: " + summary.failures[5]]
    assert messages.count("device 5 (dev5) UP again") == 1


def test_runner_rejects_bad_settings_naming_the_field() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        CycleRunner(SnmpCollector.__new__(SnmpCollector), MemorySink(), concurrency=0)


async def test_steady_polls_notice_when_the_interface_table_changes(snmpsim: Agent) -> None:
    """Same device id, other agent data (as after a line-card swap): the collector walks again."""
    sink = MemorySink()
    async with SnmpClient() as client:
        collector = SnmpCollector(client, timeout=1, retries=0)
        runner = CycleRunner(collector, sink, device_timeout=5)
        for _ in range(2):  # a walk, then steady-state GETs of the known cells
            await runner.run_once([target(9, snmpsim.port, community("linux-full-walk"))])
            assert sorted(p.tags["if_name"] for p in sink.last("snmp_interface")) == ["eth0", "lo"]
        plan = collector.plans[9]  # the second poll was served by GETs of the cells the walk found
        assert plan.polls == 2 and set(collector.choices[9].cpu_us) == {"walk", "get"}
        await runner.run_once([target(9, snmpsim.port, community("winxp-full-walk"))])
        names = [p.tags["if_name"] for p in sink.last("snmp_interface")]
        await runner.run_once([])  # the device left the registry: its state goes with it
        assert 9 not in collector.plans and runner.states.state(9) is None
    assert len(names) == 3 and "MS TCP Loopback interface" in names


async def test_spread_cycle_starts_each_device_at_its_share_of_the_window(snmpsim: Agent) -> None:
    """With ``spread_s``, device i of n is polled i/n of the window into the cycle, in list order
    (the same place every cycle), instead of every device at once."""
    sink = MemorySink()
    devices = [target(20 + i, snmpsim.port, community("linux-full-walk")) for i in range(4)]
    async with SnmpClient() as client:
        runner = CycleRunner(SnmpCollector(client, timeout=1, retries=0), sink, device_timeout=5)
        summary = await runner.run_once(devices, spread_s=2.0)
    assert summary.ok == 4
    polled = {p.tags["device_id"]: p.time_ns for p in sink.last("device_health")}
    starts = [polled[str(d.device_id)] for d in devices]
    assert starts == sorted(starts)
    gaps = [(b - a) / 1e9 for a, b in pairwise(starts)]
    assert all(gap >= 0.25 for gap in gaps), gaps  # 0.5 s apart, give or take one poll's time
    assert summary.duration_s >= 1.5
