"""The per-device state machine: check results in, state changes and outage records out.

States: UP -> SOFT_DOWN (first failure) -> DOWN after ``fail_threshold`` consecutive failures; DOWN -> UP
after ``recover_threshold`` successes. A failing device whose every uplink is down is UNREACHABLE
instead: recorded, attributed to the root-cause device, published with INFO severity, never a root alert.

Why the on-demand parent check: schedules are spread across the interval, so a commune device behind
a dead district switch is often checked (and fails) before the switch is. Before declaring such a
device DOWN, its uplinks are checked at once through the injected ``ParentChecker``; only if one of
them still answers is the failure the device's own. Concurrent children share one in-flight parent
check, and an uplink observed within ``parent_check_fresh_s`` is trusted as is.

Why re-rooting: a device can be confirmed DOWN while its uplink still answered (the uplink was seen up
within ``parent_check_fresh_s``, or died a moment later). When the uplink's outage is then confirmed,
every DOWN device whose uplinks are now all in an outage becomes UNREACHABLE and its outage record is
re-rooted on the uplink's root cause, before the uplink's own DOWN is published, so the root event counts
it among the affected devices and recovery follows the uplink (Zabbix and LibreNMS dependencies behave
alike). A device busy with its own check at that instant is re-rooted at its next failed check instead.

Flapping (hard changes into/out of DOWN counted within ``flap_window_s``) publishes one FLAPPING event,
then nothing for that device until it calms down, when one event carries it back to its real state.

Why ``restore``: the serving process restarts (upgrade, crash) while outages are open. Without the
states saved in ``monitor_device_status`` every device would start UNKNOWN, a DOWN device would open a
second outage and page again, and its open outage would never close. Restored devices keep their
state, since-when, open outage, root cause and recent hard changes (so flapping survives too).

Why ``_page_late``: a device confirmed DOWN inside a maintenance window is not paged; if the window
ends while it is still DOWN, its next failed check publishes DOWN once more, outside maintenance, so
somebody is told exactly once.

Outage timing: an outage starts at the first failed check of the streak and ends at the first
successful check of the recovering streak, since those are the best evidence of when the device
actually went and came back (what the SLA wants), whereas events are published when states are confirmed.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from monitors.config import StatePolicy
from monitors.events import DeviceState, EventSink, Severity, StateChange
from monitors.topology import Topology

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
"""Returns a timezone-aware UTC ``datetime``; tests inject a fake one."""

_FAILING = frozenset({DeviceState.SOFT_DOWN, DeviceState.DOWN, DeviceState.UNREACHABLE})
_OUTAGE = frozenset({DeviceState.DOWN, DeviceState.UNREACHABLE})


def is_hard_change(previous: DeviceState, new: DeviceState) -> bool:
    """Into or out of DOWN counts towards flapping; a first verdict or a re-root does not."""
    if previous is DeviceState.UNKNOWN or DeviceState.DOWN not in (previous, new):
        return False
    return {previous, new} != {DeviceState.DOWN, DeviceState.UNREACHABLE}


@dataclass(frozen=True, slots=True)
class Observation:
    """The verdict of one round of checks on one device."""

    ok: bool
    reason: str = ""


ParentChecker = Callable[[int], Awaitable[Observation]]
"""Runs a device's checks right now (the scheduler's ``probe``)."""

RecheckHint = Callable[[Iterable[int]], None]
"""Asks the scheduler to check these devices soon (devices behind an uplink that just recovered)."""


class MaintenanceOracle(Protocol):
    def covers(self, device_id: int, at: datetime) -> bool: ...


class OutageRecorder(Protocol):
    """Where outage records go (SQL in production, memory in tests). Ids come from the recorder."""

    async def open(
        self, device_id: int, root_cause_device_id: int, state: DeviceState, start: datetime, reason: str
    ) -> int: ...

    async def transition(
        self, outage_id: int, state: DeviceState, at: datetime, reason: str, root_cause_device_id: int
    ) -> None: ...

    async def set_affected(self, outage_id: int, count: int) -> None: ...

    async def close(self, outage_id: int, end: datetime, reason: str) -> None: ...


@dataclass(slots=True)
class _Device:
    device_id: int
    policy: StatePolicy
    state: DeviceState = DeviceState.UNKNOWN
    failures: int = 0
    successes: int = 0
    first_failure_at: datetime | None = None
    first_success_at: datetime | None = None
    last_observed_at: datetime | None = None
    outage_id: int | None = None
    root_cause: int | None = None
    flapping: bool = False
    changes: deque[datetime] = field(default_factory=deque)
    since: datetime | None = None
    """When ``state`` was entered (None while UNKNOWN)."""
    affected: set[int] = field(default_factory=set)
    """Every device attributed to this one during its current outage (the root outage's count)."""
    unpaged: bool = False
    """DOWN was published inside a maintenance window: page once when the window ends (``_page_late``)."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass(frozen=True, slots=True)
class SavedState:
    """What the engine knew of a device before the serving process restarted (see ``restore``)."""

    device_id: int
    state: DeviceState
    since: datetime
    root_cause: int | None = None
    flapping: bool = False
    in_maintenance: bool = False
    """The maintenance flag of the last saved round: a DOWN saved inside a window may be unpaged."""
    outage_id: int | None = None
    outage_start: datetime | None = None
    changes: tuple[datetime, ...] = ()
    """Hard changes into or out of DOWN within the flap window, oldest first."""


@dataclass(frozen=True, slots=True)
class DeviceSnapshot:
    """A device's condition at one moment, for the status store (what the status page shows)."""

    state: DeviceState
    since: datetime | None
    flapping: bool
    root_cause: int | None
    in_maintenance: bool


class StateEngine:
    """Owns every device's state; the scheduler feeds it, alerting listens through the ``EventSink``."""

    def __init__(
        self,
        events: EventSink,
        *,
        clock: Clock,
        topology: Topology | None = None,
        policies: Mapping[str, StatePolicy] | None = None,
        default_policy: StatePolicy | None = None,
        parent_checker: ParentChecker | None = None,
        maintenance: MaintenanceOracle | None = None,
        recorder: OutageRecorder | None = None,
        recheck_hint: RecheckHint | None = None,
        parent_check_fresh_s: float = 10.0,
    ) -> None:
        self._events = events
        self._clock = clock
        self._topology = topology or Topology()
        self._policies = dict(policies or {})
        self._default_policy = default_policy or StatePolicy()
        self.parent_checker = parent_checker
        self.maintenance = maintenance
        self._recorder = recorder
        self.recheck_hint = recheck_hint
        self._fresh = timedelta(seconds=parent_check_fresh_s)
        self._devices: dict[int, _Device] = {}
        self._attributed: dict[int, set[int]] = {}
        """root-cause device -> devices currently UNREACHABLE because of it."""
        self._probes: dict[int, asyncio.Task[None]] = {}

    # -- registry side -------------------------------------------------------------------------

    def register(self, device_id: int, kind: str) -> None:
        """Start tracking a device (state UNKNOWN until its first check); a known device keeps its state."""
        policy = self._policies.get(kind, self._default_policy)
        existing = self._devices.get(device_id)
        if existing is None:
            self._devices[device_id] = _Device(device_id, policy)
        else:
            existing.policy = policy

    async def forget(self, device_id: int) -> None:
        """A retired device: its open outage is closed now and it leaves every attribution."""
        rec = self._devices.pop(device_id, None)
        if rec is None:
            return
        if rec.outage_id is not None:
            await self._record_close(rec.outage_id, self._clock(), "device retired")
        self._detach(rec)
        self._attributed.pop(device_id, None)

    def restore(self, saved: Iterable[SavedState]) -> None:
        """Take back the states saved before a restart; call before the first observation.

        A device already observed in this process keeps what it has. UNKNOWN rows carry nothing.
        """
        restored: list[_Device] = []
        for s in saved:
            if s.state in (DeviceState.UNKNOWN, DeviceState.FLAPPING) or s.device_id in self._devices:
                continue
            rec = _Device(s.device_id, self._default_policy, state=s.state, since=s.since)
            rec.flapping = s.flapping
            rec.changes.extend(sorted(s.changes))
            if s.state is not DeviceState.UP:
                rec.failures = rec.policy.fail_threshold if s.state in _OUTAGE else 1
                rec.first_failure_at = s.outage_start or s.since
                rec.outage_id = s.outage_id
                rec.root_cause = s.root_cause if s.state in _OUTAGE else None
                rec.unpaged = s.state is DeviceState.DOWN and s.in_maintenance
            self._devices[s.device_id] = rec
            restored.append(rec)
        for rec in restored:
            root = rec.root_cause
            if rec.state is DeviceState.UNREACHABLE and root is not None and root != rec.device_id:
                self._attributed.setdefault(root, set()).add(rec.device_id)
                if (root_rec := self._devices.get(root)) is not None:
                    root_rec.affected.add(rec.device_id)
        if restored:
            log.info("restored the state of %d device(s) saved before the restart", len(restored))

    def known(self) -> set[int]:
        """Every device the engine tracks (registered, observed or restored)."""
        return set(self._devices)

    def set_topology(self, topology: Topology) -> None:
        """New uplinks apply from the next observation; open outages and attributions are kept."""
        self._topology = topology

    # -- queries ---------------------------------------------------------------------------------

    def state_of(self, device_id: int) -> DeviceState:
        """The underlying state (not FLAPPING): what the device is doing right now."""
        rec = self._devices.get(device_id)
        return rec.state if rec else DeviceState.UNKNOWN

    def in_maintenance(self, device_id: int) -> bool:
        """True while a maintenance window covers the device now."""
        return self._covered(device_id, self._clock())

    def _covered(self, device_id: int, at: datetime) -> bool:
        """Maintenance covers the device at ``at`` (never, without a calendar)."""
        return bool(self.maintenance and self.maintenance.covers(device_id, at))

    def is_flapping(self, device_id: int) -> bool:
        rec = self._devices.get(device_id)
        return bool(rec and rec.flapping)

    def root_cause_of(self, device_id: int) -> int | None:
        rec = self._devices.get(device_id)
        return rec.root_cause if rec else None

    def outage_of(self, device_id: int) -> int | None:
        rec = self._devices.get(device_id)
        return rec.outage_id if rec else None

    def now(self) -> datetime:
        return self._clock()

    def snapshot(self, device_id: int, at: datetime) -> DeviceSnapshot:
        rec = self._devices.get(device_id)
        in_maintenance = self._covered(device_id, at)
        if rec is None:
            return DeviceSnapshot(DeviceState.UNKNOWN, None, False, None, in_maintenance)
        return DeviceSnapshot(rec.state, rec.since, rec.flapping, rec.root_cause, in_maintenance)

    def retrying(self, device_id: int) -> bool:
        """True while a change awaits confirmation (a failure while SOFT_DOWN, a first success while
        DOWN): the scheduler then uses ``retry_interval_s`` so confirmation does not wait an interval."""
        rec = self._devices.get(device_id)
        if rec is None:
            return False
        return rec.state is DeviceState.SOFT_DOWN or (rec.state is DeviceState.DOWN and rec.successes > 0)

    def policy_of(self, device_id: int) -> StatePolicy:
        rec = self._devices.get(device_id)
        return rec.policy if rec else self._default_policy

    # -- the machine -----------------------------------------------------------------------------

    async def observe(self, device_id: int, observation: Observation, at: datetime | None = None) -> None:
        """Feed one check verdict. Unknown devices are registered with the default policy."""
        if device_id not in self._devices:
            self.register(device_id, "")
        rec = self._devices[device_id]
        async with rec.lock:
            now = at or self._clock()
            rec.last_observed_at = now
            if observation.ok:
                await self._on_success(rec, now, observation.reason)
            else:
                await self._on_failure(rec, now, observation.reason or "check failed")
            await self._update_flapping(rec, now)

    async def _on_success(self, rec: _Device, now: datetime, reason: str) -> None:
        rec.failures = 0
        rec.successes += 1
        if rec.successes == 1:
            rec.first_success_at = now
        state = rec.state
        if state is DeviceState.UP:
            return
        if state is DeviceState.DOWN and rec.successes < rec.policy.recover_threshold:
            return
        # UNREACHABLE and SOFT_DOWN recover on one success: the path is proven and nothing was confirmed.
        end = rec.first_success_at if state is DeviceState.DOWN else now
        await self._transition(rec, DeviceState.UP, now, reason or "check succeeded", outage_end=end)

    async def _on_failure(self, rec: _Device, now: datetime, reason: str) -> None:
        rec.successes = 0
        rec.failures += 1
        if rec.state in (DeviceState.UP, DeviceState.UNKNOWN) or rec.first_failure_at is None:
            rec.first_failure_at = now
        state = rec.state
        if state is DeviceState.DOWN:
            if rec.root_cause == rec.device_id and self._all_uplinks_out(rec.device_id):
                await self._transition(rec, DeviceState.UNREACHABLE, now, f"all uplinks down; {reason}")
            elif rec.unpaged and not self._covered(rec.device_id, now):
                await self._page_late(rec, now, reason)
            return
        if state is DeviceState.UNREACHABLE:
            if self._all_uplinks_down(rec.device_id):
                return
            # The uplink came back but this device still fails: count afresh from here, so a device
            # that boots slower than its parent does not raise a false alert (parent recovers first).
            rec.failures = 1
        elif self._all_uplinks_down(rec.device_id):
            await self._transition(rec, DeviceState.UNREACHABLE, now, f"all uplinks down; {reason}")
            return
        if rec.failures < rec.policy.fail_threshold:
            await self._transition(rec, DeviceState.SOFT_DOWN, now, reason)
            return
        await self._check_uplinks(rec.device_id, now)
        if self._all_uplinks_down(rec.device_id):
            await self._transition(rec, DeviceState.UNREACHABLE, now, f"all uplinks down; {reason}")
        else:
            await self._transition(
                rec, DeviceState.DOWN, now, f"{reason} ({rec.failures} consecutive failures)"
            )

    # -- uplinks ---------------------------------------------------------------------------------

    def _uplink_down(self, uplink_id: int) -> bool:
        up = self._devices.get(uplink_id)
        return up is not None and up.state in _FAILING

    def _all_uplinks_out(self, device_id: int) -> bool:
        """Every uplink is in a confirmed outage (DOWN or UNREACHABLE), not merely failing once."""
        uplinks = self._topology.uplinks_of(device_id)
        return bool(uplinks) and all(
            (up := self._devices.get(u)) is not None and up.state in _OUTAGE for u in uplinks
        )

    async def _reroot_dependents(self, device_id: int, now: datetime) -> None:
        """Devices behind ``device_id`` that were DOWN on their own are cut off now: UNREACHABLE.

        A dependent busy with its own observation is left to its next failed check (its lock is not
        awaited: it may be waiting for this very device's on-demand check)."""
        for child_id in self._topology.dependents_of(device_id):
            child = self._devices.get(child_id)
            if child is None or child.state is not DeviceState.DOWN or child.lock.locked():
                continue
            if child.root_cause != child_id or not self._all_uplinks_out(child_id):
                continue
            async with child.lock:
                reason = f"uplink {device_id} went down: outage re-rooted"
                await self._transition(child, DeviceState.UNREACHABLE, now, reason)

    def _all_uplinks_down(self, device_id: int) -> bool:
        """Only uplinks we monitor count; an unmonitored uplink is assumed to work."""
        uplinks = self._topology.uplinks_of(device_id)
        return bool(uplinks) and all(self._uplink_down(u) for u in uplinks)

    async def _check_uplinks(self, device_id: int, now: datetime) -> None:
        if self.parent_checker is None:
            return
        waits = []
        for uplink_id in self._topology.uplinks_of(device_id):
            up = self._devices.get(uplink_id)
            if up is None or up.state in _OUTAGE:
                continue
            if up.last_observed_at is not None and now - up.last_observed_at < self._fresh:
                continue
            task = self._probes.get(uplink_id)
            if task is None:
                task = asyncio.create_task(self._probe(uplink_id), name=f"uplink-check-{uplink_id}")
                self._probes[uplink_id] = task
                task.add_done_callback(self._probe_done)
            waits.append(asyncio.shield(task))
        if waits:
            await asyncio.gather(*waits)

    def _probe_done(self, task: asyncio.Task[None]) -> None:
        for uplink_id, running in list(self._probes.items()):
            if running is task:
                del self._probes[uplink_id]

    async def _probe(self, uplink_id: int) -> None:
        assert self.parent_checker is not None
        try:
            observation = await self.parent_checker(uplink_id)
        except Exception:
            log.exception("on-demand check of uplink %s raised; its state is left as is", uplink_id)
            return
        await self.observe(uplink_id, observation)

    def _root_cause(self, device_id: int) -> int:
        """The first failing uplink that is not itself merely unreachable (following attribution)."""
        for uplink_id in self._topology.uplinks_of(device_id):
            up = self._devices.get(uplink_id)
            if up is None or up.state not in _FAILING:
                continue
            if up.state is DeviceState.UNREACHABLE and up.root_cause is not None:
                return up.root_cause
            return uplink_id
        return device_id

    def _detach(self, rec: _Device) -> None:
        if rec.root_cause is not None and rec.root_cause != rec.device_id:
            self._attributed.get(rec.root_cause, set()).discard(rec.device_id)

    # -- transitions -----------------------------------------------------------------------------

    async def _transition(
        self,
        rec: _Device,
        new: DeviceState,
        now: datetime,
        reason: str,
        *,
        outage_end: datetime | None = None,
    ) -> None:
        previous = rec.state
        if previous is new:
            return
        rec.state = new
        rec.since = now
        if is_hard_change(previous, new):
            rec.changes.append(now)

        affected: tuple[int, ...] = ()
        if new is DeviceState.UNREACHABLE:
            self._detach(rec)
            root = self._root_cause(rec.device_id)
            rec.root_cause = root
            self._attributed.setdefault(root, set()).add(rec.device_id)
            await self._reattribute(rec.device_id, root, now)
            await self._note_affected(root, rec.device_id)
            rec.affected = set()  # a re-rooted device's followers now count for the new root
            await self._reroot_dependents(rec.device_id, now)
        elif new is DeviceState.DOWN:
            self._detach(rec)
            rec.root_cause = rec.device_id
            await self._reroot_dependents(rec.device_id, now)
            rec.affected |= self._attributed.get(rec.device_id, set())
            affected = tuple(sorted(self._attributed.get(rec.device_id, set())))
        elif new is DeviceState.UP:
            self._detach(rec)
            rec.root_cause = None
            behind = self._attributed.get(rec.device_id)
            if behind and self.recheck_hint is not None:
                self.recheck_hint(sorted(behind))

        ended = rec.outage_id if new is DeviceState.UP else None
        await self._record(rec, previous, new, now, reason, outage_end)
        if new is DeviceState.UP:
            rec.affected = set()
            rec.first_failure_at = None
        in_maintenance = self._covered(rec.device_id, now)
        rec.unpaged = new is DeviceState.DOWN and in_maintenance
        if previous is DeviceState.UNKNOWN and new is DeviceState.UP:
            return  # first contact is not a change of condition: 10,000 of them at start-up are noise
        if rec.flapping:
            log.debug("device %s %s -> %s while flapping: not published", rec.device_id, previous, new)
            return
        log.info("device %s %s: %s", rec.device_id, new.value.upper(), reason)
        await self._publish_state(
            rec, previous, new, now, reason, in_maintenance=in_maintenance, ended=ended, affected=affected
        )

    async def _publish_state(
        self,
        rec: _Device,
        previous: DeviceState,
        current: DeviceState,
        now: datetime,
        reason: str,
        *,
        in_maintenance: bool,
        ended: int | None = None,
        affected: tuple[int, ...] = (),
        severity: Severity | None = None,
    ) -> None:
        """Every event leaves through here. ``ended``: the outage a recovery closed (``rec`` no longer
        holds it); ``severity`` defaults to critical for DOWN, info otherwise."""
        await self._events.publish(
            StateChange(
                event_id=uuid.uuid4().hex,
                device_id=rec.device_id,
                previous=previous,
                current=current,
                at=now,
                reason=reason,
                outage_id=ended if ended is not None else rec.outage_id,
                root_cause_device_id=rec.root_cause,
                affected_device_ids=affected,
                in_maintenance=in_maintenance,
                severity=severity or (Severity.CRITICAL if current is DeviceState.DOWN else Severity.INFO),
            )
        )

    async def _page_late(self, rec: _Device, now: datetime, reason: str) -> None:
        """The window that hid this DOWN has ended and the device is still down: publish DOWN again."""
        rec.unpaged = False
        if rec.flapping:
            return
        reason = f"still down after maintenance ended: {reason}"
        log.info("device %s DOWN: %s", rec.device_id, reason)
        affected = tuple(sorted(self._attributed.get(rec.device_id, set())))
        await self._publish_state(
            rec, DeviceState.DOWN, rec.state, now, reason, in_maintenance=False, affected=affected
        )

    async def _reattribute(self, device_id: int, root: int, now: datetime) -> None:
        """A device that was itself a root is now cut off: what hid behind it hides behind ``root``."""
        moved = self._attributed.pop(device_id, set())
        if not moved:
            return
        self._attributed.setdefault(root, set()).update(moved)
        for child_id in moved:
            child = self._devices.get(child_id)
            if child is None:
                continue
            child.root_cause = root
            if child.outage_id is not None and self._recorder is not None:
                reason = f"root cause moved from {device_id} to {root}"
                await self._safe(self._recorder.transition(child.outage_id, child.state, now, reason, root))
            await self._note_affected(root, child_id)

    async def _note_affected(self, root: int, device_id: int) -> None:
        root_rec = self._devices.get(root)
        if root_rec is None or device_id in root_rec.affected:
            return
        root_rec.affected.add(device_id)
        if root_rec.outage_id is not None and self._recorder is not None:
            await self._safe(self._recorder.set_affected(root_rec.outage_id, len(root_rec.affected)))

    async def _record(
        self,
        rec: _Device,
        previous: DeviceState,
        new: DeviceState,
        now: datetime,
        reason: str,
        outage_end: datetime | None,
    ) -> None:
        if new in _OUTAGE and rec.outage_id is None:
            start = rec.first_failure_at or now
            root = rec.root_cause if rec.root_cause is not None else rec.device_id
            if self._recorder is not None:
                try:
                    rec.outage_id = await self._recorder.open(rec.device_id, root, new, start, reason)
                except Exception:
                    log.exception("device %s: could not record the outage start", rec.device_id)
                    return
                if new is DeviceState.DOWN and rec.affected:
                    await self._safe(self._recorder.set_affected(rec.outage_id, len(rec.affected)))
            return
        if rec.outage_id is None or self._recorder is None:
            return
        if new is DeviceState.UP:
            outage_id, rec.outage_id = rec.outage_id, None
            await self._safe(self._recorder.set_affected(outage_id, len(rec.affected)))
            await self._record_close(outage_id, outage_end or now, reason)
        else:
            root = rec.root_cause if rec.root_cause is not None else rec.device_id
            await self._safe(self._recorder.transition(rec.outage_id, new, now, reason, root))
            if new is DeviceState.DOWN and rec.affected:
                await self._safe(self._recorder.set_affected(rec.outage_id, len(rec.affected)))

    async def _record_close(self, outage_id: int, end: datetime, reason: str) -> None:
        if self._recorder is not None:
            await self._safe(self._recorder.close(outage_id, end, reason))

    async def _safe(self, call: Awaitable[None]) -> None:
        """A recorder failure (database away) must not stop state tracking; it is logged with context."""
        try:
            await call
        except Exception:
            log.exception("outage record update failed")

    # -- flapping --------------------------------------------------------------------------------

    async def _update_flapping(self, rec: _Device, now: datetime) -> None:
        window = timedelta(seconds=rec.policy.flap_window_s)
        while rec.changes and now - rec.changes[0] > window:
            rec.changes.popleft()
        count = len(rec.changes)
        if not rec.flapping and count >= rec.policy.flap_enter_changes:
            rec.flapping = True
            await self._publish_flap(rec, now, entering=True, count=count)
        elif rec.flapping and count <= rec.policy.flap_leave_changes:
            rec.flapping = False
            await self._publish_flap(rec, now, entering=False, count=count)

    async def _publish_flap(self, rec: _Device, now: datetime, *, entering: bool, count: int) -> None:
        window = rec.policy.flap_window_s
        if entering:
            reason = f"{count} state changes within {window:.0f}s"
            previous, current, severity = rec.state, DeviceState.FLAPPING, Severity.WARNING
        else:
            reason = f"calm: {count} state changes within {window:.0f}s; now {rec.state.value}"
            previous, current, severity = DeviceState.FLAPPING, rec.state, None
        log.info("device %s %s", rec.device_id, "FLAPPING" if entering else "stopped flapping")
        in_maintenance = self._covered(rec.device_id, now)
        await self._publish_state(
            rec, previous, current, now, reason, in_maintenance=in_maintenance, severity=severity
        )
