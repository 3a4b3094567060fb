"""The whole story: the monitors' real state machine sees a district switch fail, alerting pages the
district team by e-mail in Vietnamese once (its communes' cameras behind it page nobody), escalates
while nobody reacts, and tells everyone when the switch is back."""

from __future__ import annotations

from sqlalchemy import select

from monitors.alerting.models import Alert, Team
from monitors.events import DeviceState
from tests.alerting.scenario import configure, drain
from tests.monitors.world import World

SWITCH, CAMERA_TAN_HOA, CAMERA_SONG_LANG = 102, 101, 103


async def test_district_switch_outage_from_the_monitors_reaches_the_district_team(
    context, world, service, smtp, webhook, clock
):
    await configure(
        context, world, commune_url=webhook.url, district_url=smtp.url(), province_url=webhook.url
    )
    network = World(topology={CAMERA_TAN_HOA: (SWITCH,), CAMERA_SONG_LANG: (SWITCH,)})
    for device in (SWITCH, CAMERA_TAN_HOA, CAMERA_SONG_LANG):
        network.engine.register(device, "camera" if device != SWITCH else "switch")
    everything = (CAMERA_TAN_HOA, CAMERA_SONG_LANG, SWITCH)
    await network.check_rounds(1, *everything)

    network.dead |= set(everything)  # fibre cut at the district: nothing behind it answers either
    await network.check_rounds(4, *everything)
    network.dead.clear()
    await network.check_rounds(3, *everything)

    published = [(e.device_id, e.current) for e in network.events.events]
    assert (SWITCH, DeviceState.DOWN) in published and (SWITCH, DeviceState.UP) in published
    outcomes = [await service.handle(event) for event in network.events.events]
    assert outcomes.count("fired") == 1 and outcomes.count("resolved") == 1

    async with context.sessions() as session:
        [alert] = list(await session.scalars(select(Alert)))
        team = await session.get(Team, alert.team_id)
    assert (alert.device_id, alert.status, alert.affected_count) == (SWITCH, "resolved", 2)
    assert team is not None and team.name == "Đội kỹ thuật huyện Vũ Thư"
    assert await drain(service.worker) == 2
    assert [mail["Subject"] for mail in smtp.messages] == [
        "[NGHIÊM TRỌNG] Mất kết nối: SW-VUTHU-CORE – Huyện Vũ Thư",
        "[Đã khôi phục] SW-VUTHU-CORE – Huyện Vũ Thư",
    ]
    body = smtp.messages[0].get_body(("plain",)).get_content()
    assert "Tỉnh Thái Bình › Huyện Vũ Thư" in body
    assert "Số thiết bị phía sau bị ảnh hưởng: 2" in body
    assert webhook.received == []  # the commune team was not paged for its cameras behind the switch
