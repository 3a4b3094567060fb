"""Escalation with a clock the test moves: ignored alerts climb, acknowledged ones stop; quiet hours."""

from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from monitors.alerting import admin
from monitors.alerting.models import Alert, OutboxItem
from monitors.events import DeviceState, Severity
from tests.alerting.scenario import ACTOR, change, configure, drain
from tests.alerting.world import START


async def _titles(context) -> list[tuple[str, int | None]]:
    async with context.sessions() as session:
        rows = await session.execute(
            select(OutboxItem.subject, OutboxItem.channel_id).order_by(OutboxItem.id)
        )
        return [(subject, channel) for subject, channel in rows.all()]


async def test_unacknowledged_alert_escalates_to_district_then_province(
    context, world, service, webhook, smtp, clock
):
    province = await configure(
        context,
        world,
        commune_url=smtp.url(),
        district_url=webhook.url,
        province_url=webhook.url,
        escalate=True,
    )
    await service.handle(change(101, DeviceState.DOWN, clock.now()))
    clock.advance(minutes=14)
    assert await service.escalator.tick() == 0
    clock.advance(minutes=1)
    assert await service.escalator.tick() == 1  # 15 min: the district team
    assert await service.escalator.tick() == 0  # a repeated tick pages nobody again
    clock.advance(minutes=30)
    assert await service.escalator.tick() == 1  # 45 min: the province centre's channel
    clock.advance(hours=5)
    assert await service.escalator.tick() == 0  # no more steps

    sent = await _titles(context)
    assert sent == [
        ("[NGHIÊM TRỌNG] Mất kết nối: CAM-TANHOA-01 – Xã Tân Hòa", province.commune_channel),
        ("[Leo thang cấp 1] Chưa ai xác nhận: CAM-TANHOA-01 – Xã Tân Hòa", province.district_channel),
        ("[Escalation level 2] Unacknowledged: CAM-TANHOA-01 – Xã Tân Hòa", province.province_channel),
    ]
    assert await drain(service.worker) == 3
    received = {m["title"]: m["message"] for m in webhook.wait_for(2)}  # two lanes: any order
    assert "chưa được xác nhận sau 15 phút" in received[sent[1][0]]
    assert "not acknowledged within 45 minutes" in received[sent[2][0]]

    # Recovery goes to everyone who was paged, each in their team's language.
    clock.advance(minutes=1)
    await service.handle(change(101, DeviceState.UP, clock.now()))
    assert await drain(service.worker) == 3
    assert smtp.messages[-1]["Subject"] == "[Đã khôi phục] CAM-TANHOA-01 – Xã Tân Hòa"
    assert sorted(m["title"] for m in webhook.wait_for(4)[2:]) == [
        "[Recovered] CAM-TANHOA-01 – Xã Tân Hòa",
        "[Đã khôi phục] CAM-TANHOA-01 – Xã Tân Hòa",
    ]


async def test_acknowledgement_stops_escalation(context, world, service, webhook, clock):
    await configure(
        context,
        world,
        commune_url=webhook.url,
        district_url=webhook.url,
        province_url=webhook.url,
        escalate=True,
    )
    await service.handle(change(101, DeviceState.DOWN, clock.now()))
    async with context.sessions() as session:
        alert = await session.scalar(select(Alert))
    assert alert is not None
    clock.advance(minutes=10)
    await service.lifecycle.acknowledge(alert.id, world.users["lan"], "Đã nhận, đang xử lý")
    clock.advance(hours=2)
    assert await service.escalator.tick() == 0
    assert [subject for subject, _ in await _titles(context)] == [
        "[NGHIÊM TRỌNG] Mất kết nối: CAM-TANHOA-01 – Xã Tân Hòa"
    ]


async def _team_quiet_at_night(context, channel: str, url: str) -> None:
    """One team for every site, with one channel quiet from 22:00 to 06:00 (Hà Nội time)."""
    async with context.writing() as session:
        team = await admin.create_team(session, ACTOR, "Đội Tân Hòa")
        await admin.add_channel(
            session,
            ACTOR,
            context.channel_urls,
            team.id,
            channel,
            url,
            quiet_start=time(22),
            quiet_end=time(6),
        )
        await admin.add_route(session, ACTOR, context.sites, "all", team.id)


async def test_quiet_hours_hold_warnings_until_morning_but_not_criticals(
    context, world, service, webhook, clock
):
    await _team_quiet_at_night(context, "zalo-bot", webhook.url)
    clock.current = START.replace(hour=16, minute=0)  # 23:00 in Hà Nội
    await service.handle(change(105, DeviceState.DOWN, clock.now(), severity=Severity.WARNING))
    await service.handle(change(101, DeviceState.DOWN, clock.now(), severity=Severity.CRITICAL))
    assert await drain(service.worker) == 1
    assert [m["title"] for m in webhook.wait_for(1)] == [
        "[NGHIÊM TRỌNG] Mất kết nối: CAM-TANHOA-01 – Xã Tân Hòa"
    ]
    async with context.sessions() as session:
        held = await session.scalar(select(OutboxItem).where(OutboxItem.sent_at.is_(None)))
    assert held is not None and held.note == "quiet hours: held until 06:00"
    clock.current = START.replace(hour=22, minute=59)  # 05:59
    assert await drain(service.worker) == 0
    clock.current = START.replace(hour=23, minute=0)  # 06:00
    assert await drain(service.worker) == 1
    assert webhook.wait_for(2)[1]["title"] == "[CẢNH BÁO] Mất kết nối: UPS-TANHOA-01 – Xã Tân Hòa"


async def test_outage_over_before_quiet_hours_end_is_never_told_on_that_channel(
    context, world, service, webhook, clock
):
    await _team_quiet_at_night(context, "night", webhook.url)
    clock.current = START.replace(hour=16, minute=0)  # 23:00 in Hà Nội
    await service.handle(change(105, DeviceState.DOWN, clock.now(), severity=Severity.WARNING))
    clock.advance(hours=2)
    await service.handle(change(105, DeviceState.UP, clock.now()))
    clock.current = START.replace(hour=1, minute=0) + timedelta(days=1)  # 08:00 next morning
    assert await drain(service.worker) == 0
    assert webhook.received == []
    async with context.sessions() as session:
        statuses = list(await session.scalars(select(OutboxItem.status)))
    assert statuses == ["cancelled"]
