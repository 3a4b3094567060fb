"""Walk or GET per device, by the poller CPU each costs: the meter, the decision, and a real agent."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from provisioning.snmp.client import SnmpClient
from telemetry.collectors.snmp import HYSTERESIS, TRIAL_BACKOFF, SnmpCollector, WalkOrGet
from telemetry.cycle import CycleRunner
from telemetry.task_cpu import CpuMeter
from tests.snmp.test_collector_cycle import MemorySink, target
from tests.support.snmpd import Agent, community


def _burn(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


async def test_the_meter_counts_a_coroutines_own_steps_not_the_tasks_beside_it() -> None:
    async def measured() -> str:
        for _ in range(3):
            _burn(0.02)
            await asyncio.sleep(0.01)  # while it waits, the neighbour burns
        return "done"

    async def neighbour() -> None:
        for _ in range(6):
            _burn(0.02)
            await asyncio.sleep(0)

    meter = CpuMeter()
    result, _ = await asyncio.gather(meter.run(measured()), neighbour())
    assert result == "done"
    assert 0.055 <= meter.seconds < 0.09  # its own 3 x 20 ms, not the neighbour's 120 ms


async def test_a_metered_coroutine_is_cancelled_like_any_other() -> None:
    cleaned = asyncio.Event()

    async def waits_forever() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cleaned.set()

    task = asyncio.ensure_future(CpuMeter().run(waits_forever()))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cleaned.is_set()


class Device:
    """A device whose walk and GET cost what the test says; polls drive its :class:`WalkOrGet`."""

    def __init__(self) -> None:
        self.choice = WalkOrGet(rewalk_every=10)
        self.polls = 0

    def poll(self, times: int, *, walk_us: float, get_us: float) -> list[str]:
        modes = []
        for _ in range(times):
            mode, metered = self.choice.pick(self.polls)
            self.polls += 1
            if metered:
                self.choice.record(mode, walk_us if mode == "walk" else get_us, self.polls)
            modes.append(mode)
        return modes


def test_the_cheaper_mode_is_kept_and_trials_of_the_other_back_off() -> None:
    device = Device()
    modes = device.poll(400, walk_us=900, get_us=500)
    assert modes[:2] == ["walk", "get"] and device.choice.mode == "get" and device.choice.switches == 0
    trials = [n for n, mode in enumerate(modes) if mode == "walk"][1:]
    gaps = [b - a for a, b in itertools.pairwise(trials)]
    assert trials[0] == 11 and gaps == [20, 40, 80, 80, 80, 80]
    assert 10 * TRIAL_BACKOFF == 80


def test_a_small_difference_never_flips_the_choice_but_a_clear_one_does() -> None:
    device = Device()
    device.poll(20, walk_us=900, get_us=500)
    assert device.choice.mode == "get"
    near = 500 * (1 - HYSTERESIS) + 20  # walk now a little cheaper than GET, within the margin
    modes = device.poll(200, walk_us=near, get_us=500)
    assert device.choice.mode == "get" and device.choice.switches == 0 and modes.count("walk") <= 4
    modes = device.poll(200, walk_us=300, get_us=500)  # a clear win: walk takes over for good
    assert device.choice.mode == "walk" and device.choice.switches == 1
    assert modes.count("walk") > 150 and device.choice.trial_every > 10


async def test_a_device_whose_gets_cost_more_cpu_than_its_walk_is_walked(snmpsim: Agent) -> None:
    """One varbind per GET: ~30 requests where the walk needs one, so GET must lose on CPU."""
    async with SnmpClient() as client:
        collector = SnmpCollector(client, timeout=1, retries=0, max_get_varbinds=1, rewalk_every=2)
        runner = CycleRunner(collector, MemorySink(), device_timeout=10)
        device = target(11, snmpsim.port, community("linux-full-walk"))
        for _ in range(10):
            summary = await runner.run_once([device])
            assert summary.ok == 1
    choice = collector.choices[11]
    assert choice.cpu_us["get"] > choice.cpu_us["walk"] > 0
    assert choice.mode == "walk" and choice.switches == 0
    assert choice.trial_every == 8  # trials at polls 5 and 10 both lost: 2 -> 4 -> 8
