"""The outage state machine and topology suppression, table-driven over a fake network and clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from monitors.config import StatePolicy
from monitors.events import DeviceState, Severity
from tests.monitors.world import World

S, D, U, X, F = (
    DeviceState.SOFT_DOWN,
    DeviceState.DOWN,
    DeviceState.UP,
    DeviceState.UNREACHABLE,
    DeviceState.FLAPPING,
)


@dataclass
class Case:
    name: str
    topology: dict[int, tuple[int, ...]]
    steps: list[tuple[Any, ...]]
    events: list[tuple[int, DeviceState]]
    roots: set[int]
    suppressed: dict[int, int] = field(default_factory=dict)
    """device -> root cause, for UNREACHABLE outages."""
    open_outages: int = 0
    policy: StatePolicy = field(default_factory=lambda: StatePolicy(fail_threshold=3, recover_threshold=2))


CASES = [
    Case(
        "single device: soft, confirmed down, recovered",
        {},
        [("rounds", 1, 1), ("kill", 1), ("rounds", 3, 1), ("revive", 1), ("rounds", 2, 1)],
        [(1, S), (1, D), (1, U)],
        roots={1},
    ),
    Case(
        "a transient failure never becomes DOWN",
        {},
        [("rounds", 1, 1), ("kill", 1), ("rounds", 2, 1), ("revive", 1), ("rounds", 1, 1)],
        [(1, S), (1, U)],
        roots=set(),
    ),
    Case(
        "redundant uplinks: one uplink down, the child's failure is its own",
        {3: (1, 2)},
        [("rounds", 1, 1, 2, 3), ("kill", 1, 3), ("rounds", 3, 1), ("rounds", 3, 3)],
        [(1, S), (1, D), (3, S), (3, D)],
        roots={1, 3},
        open_outages=2,
    ),
    Case(
        "redundant uplinks: both down, the child is unreachable",
        {3: (1, 2)},
        [("rounds", 1, 1, 2, 3), ("kill", 1, 2, 3), ("rounds", 3, 1, 2), ("rounds", 1, 3)],
        [(1, S), (2, S), (1, D), (2, D), (3, X)],
        roots={1, 2},
        suppressed={3: 1},
        open_outages=3,
    ),
    Case(
        "child checked before parent: on-demand parent check, no false root alert",
        {2: (1,)},
        [("rounds", 1, 1, 2), ("kill", 1, 2), ("rounds", 3, 2), ("rounds", 3, 1)],
        [(2, S), (1, S), (2, X), (1, D)],
        roots={1},
        suppressed={2: 1},
        open_outages=2,
    ),
    Case(
        "parent recovers before child: the slow child gets fresh retries, not an alert",
        {2: (1,)},
        [
            ("rounds", 1, 1, 2),
            ("kill", 1, 2),
            ("rounds", 3, 1),
            ("rounds", 1, 2),
            ("revive", 1),
            ("rounds", 2, 1),
            ("rounds", 2, 2),
            ("revive", 2),
            ("rounds", 1, 2),
        ],
        [(1, S), (1, D), (2, X), (1, U), (2, S), (2, U)],
        roots={1},
        suppressed={2: 1},
    ),
    Case(
        "grandparent down: everything below is attributed to it",
        {2: (1,), 3: (2,)},
        [("rounds", 1, 1, 2, 3), ("kill", 1, 2, 3), ("rounds", 3, 3), ("rounds", 3, 2), ("rounds", 3, 1)],
        [(3, S), (2, S), (3, X), (1, S), (2, X), (1, D)],
        roots={1},
        suppressed={2: 1, 3: 1},
        open_outages=3,
    ),
    Case(
        "child confirmed DOWN while its uplink answered, then the uplink dies: re-rooted, recovers with it",
        {2: (1,)},
        [
            ("rounds", 1, 1, 2),
            ("kill", 2),
            ("rounds", 3, 2),
            ("kill", 1),
            ("rounds", 3, 1),
            ("rounds", 2, 2),
            ("revive", 1, 2),
            ("rounds", 2, 1),
            ("rounds", 1, 2),
        ],
        [(2, S), (2, D), (1, S), (2, X), (1, D), (1, U), (2, U)],
        roots={1},
        suppressed={2: 1},
    ),
    Case(
        "a chain goes down from the edge inwards: every outage ends up rooted on the last uplink",
        {2: (1,), 3: (2,)},
        [
            ("rounds", 1, 1, 2, 3),
            ("kill", 3),
            ("rounds", 3, 3),
            ("kill", 2),
            ("rounds", 3, 2),
            ("kill", 1),
            ("rounds", 3, 1),
        ],
        [(3, S), (3, D), (2, S), (3, X), (2, D), (1, S), (2, X), (1, D)],
        roots={1},
        suppressed={2: 1, 3: 1},
        open_outages=3,
    ),
    Case(
        "one of two uplinks down does not re-root a DOWN child; both do",
        {3: (1, 2)},
        [
            ("rounds", 1, 1, 2, 3),
            ("kill", 3),
            ("rounds", 3, 3),
            ("kill", 1),
            ("rounds", 3, 1),
            ("kill", 2),
            ("rounds", 3, 2),
        ],
        [(3, S), (3, D), (1, S), (1, D), (2, S), (3, X), (2, D)],
        roots={1, 2},
        suppressed={3: 1},
        open_outages=3,
    ),
    Case(
        "flapping: one FLAPPING event, silence, one event when calm",
        {},
        [("rounds", 1, 1)]
        + [("kill", 1), ("rounds", 3, 1), ("revive", 1), ("rounds", 2, 1)] * 4
        + [("rounds", 70, 1)],
        [(1, S), (1, D), (1, U), (1, S), (1, D), (1, U), (1, F), (1, U)],
        roots={1},
        policy=StatePolicy(
            fail_threshold=3,
            recover_threshold=2,
            flap_enter_changes=4,
            flap_leave_changes=1,
            flap_window_s=600,
        ),
    ),
]


async def _run(case: Case) -> World:
    world = World(topology=case.topology, policy=case.policy)
    for step in case.steps:
        action, *args = step
        if action == "kill":
            world.dead.update(args)
        elif action == "revive":
            world.dead.difference_update(args)
        elif action == "rounds":
            await world.check_rounds(args[0], *args[1:])
        else:
            raise AssertionError(step)
    return world


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_state_machine(case: Case) -> None:
    world = await _run(case)
    got = world.events.pairs()
    if F in (current for _, current in case.events):
        assert world.events.events[-1].previous is F, "the calm event leaves FLAPPING"
    assert got == case.events
    outages = world.recorder.outages.values()
    assert {o.device_id for o in outages if o.is_root} == case.roots
    assert {o.device_id: o.root_cause_device_id for o in outages if not o.is_root} == case.suppressed
    assert len(world.recorder.open_outages()) == case.open_outages


async def test_outage_spans_first_failure_to_first_success() -> None:
    world = World()
    await world.check_rounds(1, 1)
    world.dead.add(1)
    failed_at = world.clock.now
    await world.check_rounds(3, 1)
    world.dead.clear()
    back_at = world.clock.now
    await world.check_rounds(2, 1)
    (outage,) = world.recorder.outages.values()
    assert (outage.start, outage.end) == (failed_at, back_at)
    assert [h.state for h in outage.history] == [D, U]
    down = next(e for e in world.events.events if e.current is D)
    assert down.severity is Severity.CRITICAL and down.outage_id == outage.id


async def test_district_uplink_loss_alerts_once_and_suppresses_communes() -> None:
    switch, communes = 1, list(range(100, 500))
    world = World(topology={c: (switch,) for c in communes})
    await world.check_rounds(1, switch, *communes)
    world.dead.update([switch, *communes])
    # Communes happen to be scheduled before the switch: the race Icinga gets wrong.
    await world.check_rounds(3, *communes)
    await world.check_rounds(3, switch)

    assert [e.device_id for e in world.events.alerts()] == [switch]
    down = world.events.alerts()[0]
    assert sorted(down.affected_device_ids) == communes
    assert world.parent_checks.count(switch) == 1, "concurrent children share one parent check"
    (root,) = world.recorder.roots()
    assert root.device_id == switch and root.affected_count == len(communes)
    suppressed = [o for o in world.recorder.outages.values() if not o.is_root]
    assert len(suppressed) == len(communes)
    assert all(o.root_cause_device_id == switch for o in suppressed)

    world.dead.clear()
    await world.check_rounds(2, switch)
    assert sorted(world.rechecks) == communes, "recovery asks for the communes to be checked at once"
    await world.check_rounds(1, *communes)
    assert world.recorder.open_outages() == []
    assert all(world.engine.state_of(d) is U for d in [switch, *communes])
    assert [e.device_id for e in world.events.alerts()] == [switch]


async def test_rerooted_child_is_counted_by_the_uplink_outage_and_pages_no_more() -> None:
    uplink, camera = 1, 2
    world = World(topology={camera: (uplink,)})
    await world.check_rounds(1, uplink, camera)
    world.dead.add(camera)
    await world.check_rounds(3, camera)  # the uplink answers the on-demand check: the camera's own DOWN
    world.dead.add(uplink)
    await world.check_rounds(3, uplink)

    assert [e.device_id for e in world.events.alerts()] == [camera, uplink]
    rerooted = next(e for e in world.events.events if e.current is X)
    assert (rerooted.previous, rerooted.root_cause_device_id) == (D, uplink)
    assert rerooted.severity is Severity.INFO
    uplink_down = world.events.alerts()[-1]
    assert list(uplink_down.affected_device_ids) == [camera]
    cam_outage = world.recorder.outages[world.engine.outage_of(camera) or 0]
    assert cam_outage.root_cause_device_id == uplink
    assert [h.state for h in cam_outage.history] == [D, X]
    (root,) = world.recorder.roots()
    assert (root.device_id, root.affected_count) == (uplink, 1)

    await world.check_rounds(5, camera, uplink)  # still cut off: nothing more is published
    assert len(world.events.events) == 5
    world.dead.clear()
    await world.check_rounds(2, uplink)
    assert world.rechecks == [camera], "the camera's recovery follows its uplink's"


async def test_down_device_given_a_dead_uplink_is_reclassified_at_its_next_check() -> None:
    """An uplink edited in while both are down: no transition of the uplink re-roots the child, so its
    own next failed check does (the same path as a child busy with a check while its uplink died)."""
    from monitors.topology import Topology

    world = World()
    await world.check_rounds(1, 1, 2)
    world.dead.update([1, 2])
    await world.check_rounds(3, 1, 2)
    assert [e.device_id for e in world.events.alerts()] == [1, 2]
    world.engine.set_topology(Topology({2: (1,)}))
    await world.check_rounds(1, 2)
    assert world.engine.state_of(2) is X and world.engine.root_cause_of(2) == 1
    assert world.events.pairs()[-1] == (2, X)
    assert {o.device_id for o in world.recorder.roots()} == {1}


async def test_topology_rejects_loops_and_self_uplinks() -> None:
    from monitors.topology import Topology, TopologyError

    with pytest.raises(TopologyError, match=r"uplinks\[1\]"):
        Topology({1: (1,)})
    with pytest.raises(TopologyError, match="loop"):
        Topology({1: (2,), 2: (3,), 3: (1,)})
    topo = Topology({2: (1,), 3: (2,), 4: (1, 3)})
    assert topo.descendants_of(1) == {2, 3, 4}
    assert topo.dependents_of(1) == (2, 4)
