"""SNMP interface and health polling: rates from counters, typed points.

v1/v2c devices are read over the fast path (``provisioning.snmp.table_reader``: request templates and
a purpose-built BER decoder, ~10x cheaper than pysnmp per value); v3 devices through pysnmp. Two ways
to read a device, chosen per device by the poller CPU each costs it (:class:`WalkOrGet`; docs/snmp.md,
"Walk or GET"):
* GETs of exactly the cells the last walk found (plus sysUpTime and ifNumber), in PDUs of at most
  ``max_get_varbinds`` (halved for an agent that answers tooBig);
* a walk - one multi-column GETBULK of ifTable + ifXTable with sysUpTime and ifNumber as
  non-repeaters, usually one round trip since the repetitions follow the row count seen last time.
The first poll walks; a GET device is walked again at each trial of the other mode (every
``rewalk_every`` polls at first, then backing off to 8 x that) and as soon as ifNumber changes or a
known cell vanishes (interfaces added or removed).
64-bit HC octet counters are used where the agent has them, 32-bit ones otherwise. Counter state
(last samples per device and interface) belongs to this collector instance; rates need two polls, so
the first poll of a device writes status fields only.

Points (tags: the device's :attr:`DeviceTarget.tags` - see docs/telemetry.md - and ``if_name``):
* ``snmp_interface``: ``in_bps``/``out_bps`` (bits/s), ``in_errors``/``out_errors``/``in_discards``/
  ``out_discards`` (per second), ``oper_up`` (1/0). A rate that cannot be known this poll (first poll,
  agent restart, counter reset) is left out, never written as a spike or zero.
* ``device_health``: ``up`` (1/0), ``rtt_ms``, ``uptime_s``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from device_registry.credentials import SnmpCommunityCredential, SnmpV3Credential
from device_registry.targets import DeviceTarget
from provisioning.errors import MalformedResponse, NotSupported
from provisioning.snmp import mib
from provisioning.snmp.client import SnmpClient
from provisioning.snmp.fast import FastSnmp
from provisioning.snmp.mib import IF_NUMBER, SYS_UPTIME
from provisioning.snmp.models import Oid, SnmpEndpoint, VarBind
from provisioning.snmp.table_reader import Cells, FastTableReader, TablePlan
from telemetry.collector import Collector
from telemetry.collectors.counter_rates import CounterSample, PollClock, elapsed_between, rate
from telemetry.points import Point
from telemetry.task_cpu import CpuMeter

COLUMNS: dict[str, Oid] = mib.columns(
    "descr",
    "speed",
    "oper",
    "in_octets",
    "in_discards",
    "in_errors",
    "out_octets",
    "out_discards",
    "out_errors",
    "name",
    "hc_in_octets",
    "hc_out_octets",
    "high_speed",
)
_RATES = {  # field -> (counter column, HC column, scale)
    "in_bps": ("in_octets", "hc_in_octets", 8.0),
    "out_bps": ("out_octets", "hc_out_octets", 8.0),
    "in_errors": ("in_errors", None, 1.0),
    "out_errors": ("out_errors", None, 1.0),
    "in_discards": ("in_discards", None, 1.0),
    "out_discards": ("out_discards", None, 1.0),
}


@dataclass(frozen=True, slots=True)
class _Layout:
    """What the last pysnmp walk found (v3 devices): the (column, ifIndex) cells, and ifNumber then."""

    cells: tuple[tuple[str, int], ...]
    if_number: int | None
    polls: int = 0


@dataclass(slots=True)
class _DeviceState:
    clock: PollClock
    counters: dict[tuple[int, str], CounterSample] = field(default_factory=dict)


_Read = tuple[float, int | None, Cells]
_MODES = ("get", "walk")
HYSTERESIS = 0.2
"""The other mode must cost 20% less CPU than the chosen one to replace it (metering is noisy)."""
TRIAL_BACKOFF = 8
"""Trials back off from every ``rewalk_every`` polls to every 8 x ``rewalk_every`` (80: ~80 min at 60 s)."""


def _other(mode: str) -> str:
    return "walk" if mode == "get" else "get"


@dataclass(slots=True)
class WalkOrGet:
    """Walk or GET for one device, by the poller CPU each costs it (``telemetry.task_cpu``).

    Poll 1 walks (the layout is learnt), poll 2 GETs; both are metered and the cheaper one is chosen.
    Then a trial of the other one every ``trial_every`` polls, metered, as is the chosen mode's poll
    just before it: if the other is more than ``HYSTERESIS`` cheaper it takes over and trials go back
    to every ``rewalk_every`` polls; otherwise the interval doubles, up to ``TRIAL_BACKOFF`` x
    ``rewalk_every``. So once settled 1 poll in 80 is a trial and 2 in 80 are metered (~2 µs per
    step); the rest cost nothing to choose. A GET device is re-walked at its trials, and at once when
    ifNumber changes or a cell vanishes.
    """

    rewalk_every: int
    trial_every: int = 0
    mode: str = "get"
    cpu_us: dict[str, float] = field(default_factory=dict)
    """Poller CPU µs of the last metered poll, per mode."""
    next_trial: int = 0
    """The poll count at which the next trial runs (0: the first pair is not measured yet)."""
    switches: int = 0

    def __post_init__(self) -> None:
        self.trial_every = self.trial_every or self.rewalk_every

    def pick(self, polls: int) -> tuple[str, bool]:
        """The mode for the poll after ``polls`` polls, and whether to meter it."""
        if "walk" not in self.cpu_us:
            return "walk", True
        if "get" not in self.cpu_us:
            return "get", True
        if polls == self.next_trial - 1:
            return self.mode, True  # a fresh figure for the chosen mode, just before the trial
        if polls >= self.next_trial:
            return _other(self.mode), True  # the trial
        return self.mode, False

    def record(self, mode: str, cpu_us: float, polls: int) -> None:
        """A metered poll of ``mode`` cost ``cpu_us``; ``polls`` counts it. Decides after a trial."""
        self.cpu_us[mode] = cpu_us
        if len(self.cpu_us) < 2:
            return
        if self.next_trial == 0:  # the first pair
            self.mode = min(_MODES, key=lambda m: self.cpu_us[m])
        elif mode == self.mode:
            return  # the figure before a trial
        elif self.cpu_us[mode] < self.cpu_us[self.mode] * (1 - HYSTERESIS):
            self.mode, self.trial_every, self.switches = mode, self.rewalk_every, self.switches + 1
        else:
            self.trial_every = min(self.trial_every * 2, self.rewalk_every * TRIAL_BACKOFF)
        self.next_trial = polls - 1 + self.trial_every  # ``trial_every`` polls after this one


def _if_number(value: object) -> int | None:
    return value if isinstance(value, int) else None


def endpoint_for(target: DeviceTarget, *, timeout: float, retries: int) -> SnmpEndpoint:
    credential = target.credential
    if not isinstance(credential, SnmpCommunityCredential | SnmpV3Credential):
        raise NotSupported(f"device {target.device_id}: no SNMP credential")
    return SnmpEndpoint(
        target.address,
        credential,
        port=target.port or SnmpEndpoint.DEFAULT_PORT,
        timeout=timeout,
        retries=retries,
    )


def _text(value: object) -> str | None:
    if not isinstance(value, bytes):
        return None
    return value.rstrip(b"\x00").decode("utf-8", errors="replace").strip() or None


def _cells(columns: dict[str, dict[Oid, VarBind]]) -> Cells:
    """pysnmp's VarBinds in the fast path's shape: ``{column: {ifIndex: value}}``."""
    return {
        name: {index[0]: vb.value for index, vb in rows.items() if len(index) == 1 and not vb.missing}
        for name, rows in columns.items()
    }


class SnmpCollector(Collector[DeviceTarget]):
    """The ``telemetry.collector.Collector`` of SNMP devices.

    v1/v2c devices are read over the fast path (``provisioning.snmp.fast``) unless ``fast_path`` is
    False; v3 devices through pysnmp (``client``). On the fast path each device is read by whichever
    of walk and GET costs this poller less CPU for it (:class:`WalkOrGet`; docs/snmp.md, "Walk or GET").
    """

    name: str = "snmp"

    def __init__(
        self,
        client: SnmpClient,
        *,
        timeout: float = 2.0,
        retries: int = 1,
        max_interfaces: int = 1024,
        max_repetitions: int = 64,
        max_get_varbinds: int = 120,
        rewalk_every: int = 10,
        fast_path: bool = True,
        fast: FastSnmp | None = None,
        mode: str | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if mode not in (None, *_MODES):
            raise ValueError(f"mode: {mode!r} is not one of {_MODES}")
        self.client = client
        self.timeout = timeout
        self.retries = retries
        self.max_interfaces = max_interfaces
        self.max_repetitions = max_repetitions
        self.max_get_varbinds = max_get_varbinds
        self.rewalk_every = rewalk_every
        self.fast_path = fast_path
        self.mode = mode
        """Force ``"get"`` or ``"walk"`` for every v1/v2c device (the bench); None chooses per device."""
        self._fast = fast
        self._reader: FastTableReader | None = None
        self._layouts: dict[int, _Layout] = {}
        self.plans: dict[int, TablePlan] = {}
        self._state: dict[int, _DeviceState] = {}
        self._monotonic = monotonic
        self._rows: dict[int, int] = {}
        self.choices: dict[int, WalkOrGet] = {}

    def forget(self, device_id: int) -> None:
        self._state.pop(device_id, None)
        self._rows.pop(device_id, None)
        self._layouts.pop(device_id, None)
        self.plans.pop(device_id, None)
        self.choices.pop(device_id, None)

    @property
    def fast(self) -> FastSnmp:
        return self._fast or self.client.fast

    async def collect(self, target: DeviceTarget) -> list[Point]:
        endpoint = endpoint_for(target, timeout=self.timeout, retries=self.retries)
        # A device that does not answer raises here; the cycle runner records it as down.
        if self.fast_path and isinstance(endpoint.credential, SnmpCommunityCredential):
            rtt_ms, uptime, columns = await self._read_fast(endpoint, target.device_id)
        else:
            read = await self._read_known(endpoint, target.device_id)
            if read is None:
                read = await self._walk(endpoint, target.device_id)
            rtt_ms, uptime, columns = read
        now_ns = time.time_ns()
        clock = PollClock(self._monotonic(), uptime)
        base_tags = target.tags
        points = [
            Point(
                "device_health",
                {
                    "up": 1,
                    "rtt_ms": round(rtt_ms, 3),
                    **({"uptime_s": uptime / 100} if uptime is not None else {}),
                },
                now_ns,
                base_tags,
            )
        ]
        previous = self._state.get(target.device_id)
        state = _DeviceState(clock)
        counters = state.counters
        before = previous.counters if previous is not None else {}
        elapsed = elapsed_between(previous.clock, clock) if previous is not None else None
        indexes = sorted({i for rows in columns.values() for i in rows})
        names, descrs = columns["name"], columns["descr"]
        highs, lows, opers = columns["high_speed"], columns["speed"], columns["oper"]
        rates = [(f, columns[c], columns[h] if h else None, scale) for f, (c, h, scale) in _RATES.items()]
        for ifi in indexes:
            if_name = _text(names.get(ifi)) or _text(descrs.get(ifi)) or f"if{ifi}"
            high, low = highs.get(ifi), lows.get(ifi)
            speed_bps: float | None = None
            if isinstance(high, int) and high > 0:
                speed_bps = high * 1e6
            elif isinstance(low, int) and 0 < low < 2**32 - 1:
                speed_bps = float(low)
            fields: dict[str, float | int] = {}
            oper = opers.get(ifi)
            if isinstance(oper, int):
                fields["oper_up"] = int(oper == 1)
            for field_name, low_column, hc_column, scale in rates:
                value = hc_column.get(ifi) if hc_column is not None else None
                bits = 64
                if not isinstance(value, int):
                    value, bits = low_column.get(ifi), 32
                    if not isinstance(value, int):
                        continue
                key = (ifi, field_name)
                sample = counters[key] = CounterSample(value, bits)
                if elapsed is None:
                    continue
                per_s = rate(
                    before.get(key),
                    sample,
                    elapsed,
                    scale=scale,
                    max_rate=speed_bps if scale == 8.0 else None,
                )
                if per_s is not None:
                    fields[field_name] = round(per_s, 3)
            if fields:
                points.append(Point("snmp_interface", fields, now_ns, {**base_tags, "if_name": if_name}))
        self._state[target.device_id] = state
        self._rows[target.device_id] = len(indexes)
        return points

    # ---- v1/v2c: the fast path --------------------------------------------------------------

    async def _read_fast(self, endpoint: SnmpEndpoint, device_id: int) -> _Read:
        if self._reader is None:
            self._reader = FastTableReader(
                self.fast,
                COLUMNS,
                (SYS_UPTIME, IF_NUMBER),
                max_rows=self.max_interfaces,
                max_get_varbinds=self.max_get_varbinds,
            )
        reader = self._reader
        plan = self.plans.get(device_id)
        if plan is not None and not reader.fits(plan, endpoint):
            plan = None  # new address or community: the templates carry the old one
        choice = self.choices.get(device_id) if plan is not None else None
        mode, metered = self._choose(plan, choice)
        meter = CpuMeter() if metered else None
        if plan is not None and mode == "get":
            reading = reader.get(endpoint, plan)
            try:
                got = await (meter.run(reading) if meter is not None else reading)
            except MalformedResponse:
                self.plans.pop(device_id, None)  # answers no longer fit the plan: walk next time
                raise
            if got is not None and _if_number(got.scalars[1]) == _if_number(plan.scalars[1]):
                plan.polls += 1
                if meter is not None and choice is not None:
                    choice.record("get", meter.seconds * 1e6, plan.polls)
                return got.rtt_ms, _if_number(got.scalars[0]), got.values
            self.plans.pop(device_id, None)  # interfaces came or went: walk again, now
            plan, meter = None, None
        walking = reader.walk(endpoint, self._repetitions(device_id))
        walk = await (meter.run(walking) if meter is not None else walking)
        if walk.complete:
            fresh = plan is None or choice is None
            plan = self.plans[device_id] = reader.plan(endpoint, walk, plan)
            plan.polls += 1
            if fresh or plan.polls == 1:
                choice = self.choices[device_id] = WalkOrGet(self.rewalk_every)
            if meter is not None and choice is not None:
                choice.record("walk", meter.seconds * 1e6, plan.polls)
        else:
            self.plans.pop(device_id, None)
            self.choices.pop(device_id, None)
        return walk.rtt_ms, _if_number(walk.scalars[0]), walk.values

    def _choose(self, plan: TablePlan | None, choice: WalkOrGet | None) -> tuple[str, bool]:
        """This poll's mode, and whether to meter its CPU (see :class:`WalkOrGet`)."""
        if plan is None or choice is None:
            return "walk", self.mode is None  # the layout is unknown: walk (and meter it)
        if self.mode is not None:  # forced (the bench): walk every ``rewalk_every``-th poll
            return ("walk" if plan.polls % self.rewalk_every == 0 else self.mode), False
        return choice.pick(plan.polls)

    # ---- v3: pysnmp -------------------------------------------------------------------------

    async def _walk(self, endpoint: SnmpEndpoint, device_id: int) -> _Read:
        started = time.perf_counter()
        walk = await self.client.walk_table(
            endpoint,
            list(COLUMNS.values()),
            max_rows=self.max_interfaces,
            max_time=endpoint.worst_case_s * 4,
            max_repetitions=self._repetitions(device_id),
            scalars=[SYS_UPTIME[:-1], IF_NUMBER[:-1]],
        )
        rtt_ms = (time.perf_counter() - started) * 1000
        columns = {name: walk.columns[oid] for name, oid in COLUMNS.items()}
        uptime_vb = walk.scalars[0] if walk.scalars else None
        if_number = walk.scalars[1] if len(walk.scalars) > 1 else None
        if walk.complete:
            cells = tuple(
                (name, index[0]) for name, rows in columns.items() for index in rows if len(index) == 1
            )
            number = if_number.value if if_number is not None and if_number.oid == IF_NUMBER else None
            self._layouts[device_id] = _Layout(cells, _if_number(number))
        else:
            self._layouts.pop(device_id, None)
        uptime = uptime_vb.value if uptime_vb is not None and uptime_vb.oid == SYS_UPTIME else None
        return rtt_ms, _if_number(uptime), _cells(columns)

    async def _read_known(self, endpoint: SnmpEndpoint, device_id: int) -> _Read | None:
        """GET the cells the last walk found; None when the layout is unknown, stale or changed."""
        layout = self._layouts.get(device_id)
        if layout is None or layout.polls >= self.rewalk_every:
            return None
        wanted = [SYS_UPTIME, IF_NUMBER] + [(*COLUMNS[name], index) for name, index in layout.cells]
        answers: list[VarBind] = []
        started = time.perf_counter()
        rtt_ms = 0.0
        for offset in range(0, len(wanted), self.max_get_varbinds):
            answers += await self.client.get(endpoint, wanted[offset : offset + self.max_get_varbinds])
            rtt_ms = rtt_ms or (time.perf_counter() - started) * 1000
        if _if_number(answers[1].value) != layout.if_number or any(vb.missing for vb in answers[2:]):
            self._layouts.pop(device_id, None)  # interfaces came or went: walk again, now
            return None
        columns: Cells = {name: {} for name in COLUMNS}
        for (name, index), vb in zip(layout.cells, answers[2:], strict=True):
            columns[name][index] = vb.value
        self._layouts[device_id] = _Layout(layout.cells, layout.if_number, layout.polls + 1)
        return rtt_ms, _if_number(None if answers[0].missing else answers[0].value), columns

    def _repetitions(self, device_id: int) -> int:
        """Rows seen last poll + 1, so one GETBULK usually covers the table without overshooting it.

        Overshoot costs the agent a lookup per column per extra row; on a 2-interface box polled
        with the default 10 repetitions that is 80% wasted work.
        """
        rows = self._rows.get(device_id)
        return self.max_repetitions if rows is None else max(1, min(self.max_repetitions, rows + 1))

    def points_on_failure(self, target: DeviceTarget, error: BaseException) -> list[Point]:
        """What the cycle runner writes when this device did not answer: ``up=0``."""
        return [
            Point(
                "device_health",
                {"up": 0},
                time.time_ns(),
                target.tags,
            )
        ]
