"""The demo's scripted faults: what each does to the real servers and simulators, and when.

Each fault returns at once with a sentence for the operator and a coroutine that plays it out (and
undoes it). The supervisor runs them on the timeline (``TIMELINE``, repeated every ``CYCLE_S``) and
on demand (``ioc demo fault NAME``).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any

from simulators.demo.control import CUT, DRIFT, FLAP, MALFORMED, ControlFolder
from simulators.snmp_agents import WRAP_COLUMN, set_counter32

if TYPE_CHECKING:
    from ioc.demo.supervisor import Supervisor

from ioc.demo.fleet import FAULT_DISTRICT, SNMP_PORT

Body = Coroutine[Any, Any, None]
Fault = Callable[["Supervisor", str | None, float | None], tuple[str, Body]]

FLAP_S = {"small": (50, 10), "province": (120, 60)}
"""sensor-flap: the sensor's silence, then its chatter (seconds). A silence outlasts the freshness
limit (3 x 10 s) plus a check period and a retry, so each one is a DOWN, and one message is enough
for an UP; the four changes that make FLAPPING take about two periods: two minutes for the small
fleet."""
CYCLE_S = 600.0
CAUGHT_UP_S = 2.0
TIMELINE: tuple[tuple[float, str, float], ...] = (
    (30, "district-uplink", 60),
    (150, "influx-kill", 20),
    (200, "sensor-flap", 390),
    (240, "clock-drift", 120),
    (300, "stream-down", 60),
    (380, "counter-wrap", 30),
    (420, "malformed", 0),
)


def due(elapsed: float, scale: float) -> Iterator[tuple[int, float, str, float]]:
    """The timeline entries whose time has come in the current cycle."""
    cycle_s = CYCLE_S * scale
    cycle = int(elapsed // cycle_s)
    into = elapsed - cycle * cycle_s
    for offset, name, duration in TIMELINE:
        if offset * scale <= into:
            yield cycle, offset, name, duration


def _control(sup: Supervisor) -> ControlFolder:
    return ControlFolder(sup.paths.control)


def district_uplink(sup: Supervisor, target: str | None, duration: float | None) -> tuple[str, Body]:
    assert sup.plan is not None
    district = sup.plan.district(target or FAULT_DISTRICT)
    seconds = duration or 60.0
    agents = sup.children[f"snmpsim-{district.key}"]

    async def body() -> None:
        agents.signal(signal.SIGSTOP)  # its switches stop answering, as behind a cut fibre
        _control(sup).set(CUT, district.key)
        try:
            await asyncio.sleep(seconds)
        finally:
            agents.signal(signal.SIGCONT)
            _control(sup).clear(CUT, district.key)
            sup.say(f"fault over: {district.name}'s uplink is back")

    return (
        f"fault: the uplink of {district.name} is lost for {seconds:.0f} s: expect one alert mail to "
        f"its team for sw-{district.key}, its communes UNREACHABLE (no mail for them), then recovery",
        body(),
    )


def influx_kill(sup: Supervisor, target: str | None, duration: float | None) -> tuple[str, Body]:
    seconds = duration or 20.0
    influx = sup.children["influxdb"]

    async def body() -> None:
        await sup.hold_down("influxdb", influx.kill, seconds)
        sup.say("InfluxDB restarted; the writer drains its spool (ioc telemetry status):")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                status = await asyncio.to_thread(sup.serve_ioc_cli, "telemetry", "status")
            except RuntimeError as error:
                sup.say(f"  telemetry status failed: {error}")
                return
            pending, oldest = status["pending_points"], status["oldest_unsent_age_s"]
            sup.say(f"  pending points {pending}, oldest {oldest} s")
            if oldest <= CAUGHT_UP_S:  # only the writer's current batch waits: the backlog is gone
                sup.say("  spool drained: nothing lost (points carry their own time)")
                return
            await asyncio.sleep(2)

    return f"fault: InfluxDB SIGKILLed, restarted in {seconds:.0f} s; points wait in the spool", body()


def stream_down(sup: Supervisor, target: str | None, duration: float | None) -> tuple[str, Body]:
    assert sup.plan is not None
    seconds = duration or 60.0
    server = sup.children["rtsp-fault"]
    camera = next(c.name for c in sup.plan.cameras if c.stream == "fault")

    async def body() -> None:
        await sup.hold_down("rtsp-fault", server.stop, seconds)
        sup.say(f"fault over: {camera}'s stream is back")

    return (
        f"fault: {camera}'s RTSP stream is down for {seconds:.0f} s while its ONVIF service answers",
        body(),
    )


def clock_drift(sup: Supervisor, target: str | None, duration: float | None) -> tuple[str, Body]:
    assert sup.plan is not None
    camera = target or sup.plan.cameras[0].name
    if camera not in {c.name for c in sup.plan.cameras}:
        raise KeyError(f"no camera {camera!r} in the demo")
    return _flag(sup, DRIFT, camera, duration or 120.0, f"{camera}'s clock jumps 15 minutes ahead")


def _sensor_id(sup: Supervisor, target: str | None) -> tuple[str, str]:
    assert sup.plan is not None
    known = sup.state.get("sensors", {})
    name = target or next(s.name for s in sup.plan.sensors if s.name in known)
    if name not in known:
        raise KeyError(f"no sensor {name!r} in the demo")
    return name, str(known[name]["device_id"])


def sensor_flap(sup: Supervisor, target: str | None, duration: float | None) -> tuple[str, Body]:
    name, device_id = _sensor_id(sup, target)
    off, on = FLAP_S[sup.size]
    what = f"sensor {name} flaps ({off:.0f} s silent, {on:.0f} s publishing): expect FLAPPING"
    return _flag(sup, FLAP, device_id, duration or 1200.0, what)


def malformed(sup: Supervisor, target: str | None, duration: float | None) -> tuple[str, Body]:
    name, device_id = _sensor_id(sup, target)
    _control(sup).set(MALFORMED, device_id)

    async def body() -> None:
        return None

    return f"fault: {name} sends a payload that is not JSON: see `ioc deadletters list`", body()


def _flag(sup: Supervisor, prefix: str, target: str, seconds: float, what: str) -> tuple[str, Body]:
    async def body() -> None:
        _control(sup).set(prefix, target)
        try:
            await asyncio.sleep(seconds)
        finally:
            _control(sup).clear(prefix, target)

    return f"fault: {what} for {seconds:.0f} s", body()


def counter_wrap(sup: Supervisor, target: str | None, duration: float | None) -> tuple[str, Body]:
    seconds = duration or 30.0
    sup.wrap.burst(seconds)

    async def body() -> None:
        return None

    return (
        f"fault: a traffic burst takes {sup.wrap.name(sup)}'s 32-bit ifInOctets across 2^32 within "
        f"{seconds:.0f} s; rates stay continuous",
        body(),
    )


class WrapDriver:
    """Drives the wrap agent's writable ifInOctets by SNMP SET every few seconds: a steady 1 MB/s,
    or during a burst whatever rate reaches 2^32 before the burst ends."""

    STEP_S = 5.0
    RATE = 1_000_000

    def __init__(self) -> None:
        self.value = 0
        self.burst_until = 0.0
        self.oid = f"{WRAP_COLUMN}.1"

    def burst(self, seconds: float) -> None:
        self.burst_until = time.monotonic() + seconds

    @staticmethod
    def name(sup: Supervisor) -> str:
        assert sup.plan is not None
        return next(s.name for s in sup.plan.switches if s.wrap)

    async def run(self, sup: Supervisor) -> None:
        assert sup.plan is not None
        switch = next(s for s in sup.plan.switches if s.wrap)
        self.value = 4_000_000_000  # an old switch's counter, well on its way round
        while True:
            remaining = self.burst_until - time.monotonic()
            if remaining > 0:
                to_wrap = 2**32 - self.value % 2**32 + self.RATE
                step = max(self.RATE * self.STEP_S, to_wrap / max(1.0, remaining / self.STEP_S))
            else:
                step = self.RATE * self.STEP_S
            self.value += int(step)
            try:
                await set_counter32(switch.address, SNMP_PORT, switch.name, self.oid, self.value)
            except Exception as error:  # a frozen district or a restarting agent: try again next step
                del error
            await asyncio.sleep(self.STEP_S)


FAULTS: dict[str, Fault] = {
    "district-uplink": district_uplink,
    "influx-kill": influx_kill,
    "sensor-flap": sensor_flap,
    "clock-drift": clock_drift,
    "stream-down": stream_down,
    "counter-wrap": counter_wrap,
    "malformed": malformed,
}
