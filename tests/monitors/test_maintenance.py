"""Maintenance windows: subtree coverage, recurrence, and what they do to alerts."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from monitors.events import DeviceState
from monitors.maintenance import MaintenanceCalendar, MaintenanceError, MaintenanceWindow
from tests.monitors.world import T0, World

PROVINCE, DISTRICT, COMMUNE_A, COMMUNE_B, OTHER_PROVINCE = 1, 10, 100, 101, 2
SITE_PARENT = {
    DISTRICT: PROVINCE,
    COMMUNE_A: DISTRICT,
    COMMUNE_B: DISTRICT,
    PROVINCE: None,
    OTHER_PROVINCE: None,
}
SWITCH, CAM_A1, CAM_A2, CAM_B, FAR_AWAY = 1, 2, 3, 4, 5
SITE_OF = {SWITCH: DISTRICT, CAM_A1: COMMUNE_A, CAM_A2: COMMUNE_A, CAM_B: COMMUNE_B, FAR_AWAY: OTHER_PROVINCE}


def district_works(start: datetime = T0, hours: float = 2) -> MaintenanceWindow:
    return MaintenanceWindow(
        reason="fibre splicing",
        owner="team-north",
        site_id=DISTRICT,
        starts_at=start,
        ends_at=start + timedelta(hours=hours),
    )


async def test_maintenance_on_a_district_silences_its_whole_subtree_only() -> None:
    calendar = MaintenanceCalendar([district_works()], site_of=SITE_OF, site_parent=SITE_PARENT)
    world = World(maintenance=calendar)
    everyone = [SWITCH, CAM_A1, CAM_A2, CAM_B, FAR_AWAY]
    await world.check_rounds(1, *everyone)
    world.dead.update(everyone)
    await world.check_rounds(3, *everyone)

    downs = [e for e in world.events.events if e.current is DeviceState.DOWN]
    assert sorted(e.device_id for e in downs) == everyone, "checks run and states change in maintenance"
    assert {e.device_id for e in downs if e.in_maintenance} == {SWITCH, CAM_A1, CAM_A2, CAM_B}
    assert [e.device_id for e in world.events.alerts()] == [FAR_AWAY]
    assert len(world.recorder.open_outages()) == 5, "outages are still recorded"


async def test_device_moved_into_a_maintained_site_mid_outage_keeps_one_outage() -> None:
    calendar = MaintenanceCalendar([district_works()], site_of=SITE_OF, site_parent=SITE_PARENT)
    world = World(maintenance=calendar)
    await world.check_rounds(1, FAR_AWAY)
    world.dead.add(FAR_AWAY)
    await world.check_rounds(3, FAR_AWAY)
    (down,) = world.events.alerts()
    assert not down.in_maintenance

    calendar.move_device(FAR_AWAY, COMMUNE_B)
    await world.check_rounds(2, FAR_AWAY)
    world.dead.clear()
    await world.check_rounds(2, FAR_AWAY)

    (outage,) = world.recorder.outages.values()
    assert outage.end is not None and outage.device_id == FAR_AWAY
    up = world.events.events[-1]
    assert (up.current, up.outage_id, up.in_maintenance) == (DeviceState.UP, outage.id, True)
    assert world.events.alerts() == [down]


def test_recurring_window_occurrences_follow_local_cron() -> None:
    nightly = MaintenanceWindow(
        reason="camera firmware",
        owner="ops",
        device_id=CAM_A1,
        cron="0 2 * * *",  # 02:00 Asia/Ho_Chi_Minh = 19:00 UTC the day before
        duration_s=3600,
    )
    start = T0.replace(hour=0)
    got = list(nightly.occurrences(start, start + timedelta(days=2)))
    assert got == [
        (start + timedelta(hours=19), start + timedelta(hours=20)),
        (start + timedelta(days=1, hours=19), start + timedelta(days=1, hours=20)),
    ]
    # an occurrence already running at the period start is clipped, not lost
    mid = start + timedelta(hours=19, minutes=30)
    assert next(nightly.occurrences(mid, mid + timedelta(hours=1))) == (mid, mid + timedelta(minutes=30))
    assert nightly.active_at(mid) and not nightly.active_at(mid + timedelta(hours=1))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"device_id": 1, "site_id": 2, "starts_at": T0, "ends_at": T0 + timedelta(1)}, "device_id/site_id"),
        ({"device_id": 1, "starts_at": T0}, "starts_at/ends_at"),
        ({"device_id": 1, "starts_at": T0, "ends_at": T0}, "ends_at"),
        ({"device_id": 1, "cron": "0 2 * * *"}, "duration_s"),
        ({"device_id": 1, "cron": "61 2 * * *", "duration_s": 60}, "cron"),
        ({"device_id": 1, "starts_at": T0.replace(tzinfo=None), "ends_at": T0}, "starts_at"),
    ],
)
def test_bad_windows_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(MaintenanceError, match=f"^{field}"):
        MaintenanceWindow(reason="r", owner="o", **kwargs)


async def test_window_ending_while_the_switch_is_still_down_pages_once_then() -> None:
    calendar = MaintenanceCalendar([district_works(hours=1)], site_of=SITE_OF, site_parent=SITE_PARENT)
    world = World(topology={CAM_A1: (SWITCH,)}, maintenance=calendar)
    await world.check_rounds(1, SWITCH, CAM_A1)
    world.dead.update([SWITCH, CAM_A1])
    await world.check_rounds(3, SWITCH, CAM_A1)
    assert world.events.alerts() == [], "down inside the window: nobody paged"

    world.clock.now = T0 + timedelta(hours=1, minutes=1)  # the window is over, the switch still dead
    await world.check_rounds(3, SWITCH, CAM_A1, every=60)
    late = world.events.alerts()
    assert [(e.device_id, e.previous, e.current) for e in late] == [
        (SWITCH, DeviceState.DOWN, DeviceState.DOWN)
    ]
    assert late[0].outage_id == world.engine.outage_of(SWITCH) and "maintenance ended" in late[0].reason
    assert list(late[0].affected_device_ids) == [CAM_A1]
    assert len(world.recorder.outages) == 2, "still the one outage per device"

    world.dead.clear()
    await world.check_rounds(2, SWITCH)
    assert world.events.events[-1].current is DeviceState.UP
    assert len(world.events.alerts()) == 1
