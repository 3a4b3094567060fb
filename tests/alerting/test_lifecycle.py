"""One alert per root outage: deduplication, flapping, what never pages, recovery, ack and manual resolve."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from monitors.alerting.errors import AlertNotFound, AlertStateError
from monitors.alerting.models import Acknowledgement, Alert, AlertKind, AlertStatus, OutboxItem
from monitors.events import DeviceState, Severity
from tests.alerting.scenario import change, configure, drain
from tests.alerting.world import START_DATE_VN


async def _alerts(context) -> list[Alert]:
    async with context.sessions() as session:
        return list(await session.scalars(select(Alert).order_by(Alert.id)))


async def _outbox(context) -> list[OutboxItem]:
    async with context.sessions() as session:
        return list(await session.scalars(select(OutboxItem).order_by(OutboxItem.id)))


async def test_repeated_and_redelivered_down_events_make_one_alert_and_one_message(
    context, world, service, webhook, clock
):
    await configure(
        context, world, commune_url=webhook.url, district_url=webhook.url, province_url=webhook.url
    )
    first = change(101, DeviceState.DOWN, clock.now(), outage_id=3)
    assert await service.handle(first) == "fired"
    assert await service.handle(first) == "deduplicated"
    assert await service.handle(change(101, DeviceState.DOWN, clock.now(), outage_id=3)) == "deduplicated"
    await service.worker.run_once()

    grown = change(101, DeviceState.DOWN, clock.now(), outage_id=3, affected_device_ids=(7, 8, 9))
    assert await service.handle(grown) == "deduplicated"  # more devices found behind it: no new page
    alerts = await _alerts(context)
    assert len(alerts) == 1
    assert (alerts[0].dedup_key, alerts[0].duplicate_events) == ("outage:3", 3)
    assert alerts[0].affected_count == alerts[0].context["affected_count"] == 3
    assert len(webhook.wait_for(1)) == 1


async def test_flapping_gives_one_flapping_alert_instead_of_a_storm(context, world, service, webhook, clock):
    await configure(
        context, world, commune_url=webhook.url, district_url=webhook.url, province_url=webhook.url
    )
    assert await service.handle(change(101, DeviceState.DOWN, clock.now())) == "fired"
    assert await service.handle(change(101, DeviceState.FLAPPING, clock.now())) == "flapping"
    for _ in range(5):
        assert await service.handle(change(101, DeviceState.FLAPPING, clock.now())) == "deduplicated"
        assert await service.handle(change(101, DeviceState.DOWN, clock.now())) == "deduplicated"
    assert await service.handle(change(103, DeviceState.FLAPPING, clock.now())) == "flapping"
    assert await drain(service.worker) == 3

    alerts = await _alerts(context)
    assert [(a.device_id, a.kind) for a in alerts] == [(101, AlertKind.FLAPPING), (103, AlertKind.FLAPPING)]
    titles = sorted(message["title"] for message in webhook.wait_for(3))
    assert titles == [
        "[Chập chờn] CAM-SONGLANG-02 – Xã Song Lãng",
        "[Chập chờn] CAM-TANHOA-01 – Xã Tân Hòa",
        "[NGHIÊM TRỌNG] Mất kết nối: CAM-TANHOA-01 – Xã Tân Hòa",
    ]


async def test_unreachable_secondary_and_maintenance_events_never_page(
    context, world, service, webhook, clock
):
    await configure(
        context, world, commune_url=webhook.url, district_url=webhook.url, province_url=webhook.url
    )
    assert await service.handle(change(101, DeviceState.UNREACHABLE, clock.now())) == "ignored"
    assert (
        await service.handle(change(103, DeviceState.DOWN, clock.now(), root_cause_device_id=102))
        == "secondary"
    )
    assert (
        await service.handle(change(104, DeviceState.DOWN, clock.now(), in_maintenance=True))
        == "suppressed_maintenance"
    )
    assert (
        await service.handle(change(105, DeviceState.FLAPPING, clock.now(), in_maintenance=True))
        == "suppressed_maintenance"
    )
    assert await service.handle(change(104, DeviceState.UP, clock.now())) == "ignored"
    assert await service.worker.run_once() == 0
    assert await _alerts(context) == []
    assert webhook.received == []


async def test_recovery_resolves_and_tells_the_same_channels(context, world, service, webhook, smtp, clock):
    await configure(
        context, world, commune_url=smtp.url(), district_url=webhook.url, province_url=webhook.url
    )
    await service.handle(change(101, DeviceState.DOWN, clock.now()))
    clock.advance(minutes=75)
    assert await service.handle(change(101, DeviceState.UP, clock.now())) == "resolved"
    assert await service.worker.run_once() == 1  # the recovery waits behind the outage message
    assert await service.worker.run_once() == 1

    subjects = [mail["Subject"] for mail in smtp.messages]
    assert subjects == [
        "[NGHIÊM TRỌNG] Mất kết nối: CAM-TANHOA-01 – Xã Tân Hòa",
        "[Đã khôi phục] CAM-TANHOA-01 – Xã Tân Hòa",
    ]
    body = smtp.messages[1].get_body(("plain",)).get_content()
    assert f"Mất kết nối từ: 08:30 ngày {START_DATE_VN} đến 09:45 ngày {START_DATE_VN}" in body
    assert "Thời gian gián đoạn: 1 giờ 15 phút" in body
    [alert] = await _alerts(context)
    assert (alert.status, alert.resolved_at) == (AlertStatus.RESOLVED, clock.now())
    assert webhook.received == []


async def test_acknowledge_records_who_when_and_why(context, world, service, webhook, clock):
    await configure(
        context, world, commune_url=webhook.url, district_url=webhook.url, province_url=webhook.url
    )
    await service.handle(change(101, DeviceState.DOWN, clock.now()))
    [alert] = await _alerts(context)
    clock.advance(minutes=4)
    acked = await service.lifecycle.acknowledge(
        alert.id, world.users["lan"], "Đang cử người ra kiểm tra cột điện"
    )
    assert acked.status == AlertStatus.ACKNOWLEDGED
    async with context.sessions() as session:
        ack = await session.scalar(select(Acknowledgement))
    assert ack is not None
    assert (ack.user_id, ack.comment, ack.at) == (
        world.users["lan"],
        "Đang cử người ra kiểm tra cột điện",
        clock.now(),
    )

    resolved = await service.lifecycle.resolve(alert.id, world.users["minh"], user_name="minh")
    assert (resolved.status, resolved.resolved_by) == (AlertStatus.RESOLVED, world.users["minh"])
    with pytest.raises(AlertStateError, match="already resolved"):
        await service.lifecycle.acknowledge(alert.id, world.users["lan"], "late")
    with pytest.raises(AlertNotFound):
        await service.lifecycle.acknowledge(999, world.users["lan"], "")
    kinds = [item.message_kind for item in await _outbox(context)]
    assert kinds == ["firing", "resolved"]
    assert await drain(service.worker) == 2
    assert "đóng thủ công bởi minh" in webhook.wait_for(2)[1]["message"]


async def test_device_down_again_after_recovery_is_a_new_alert(context, world, service, webhook, clock):
    await configure(
        context, world, commune_url=webhook.url, district_url=webhook.url, province_url=webhook.url
    )
    await service.handle(change(101, DeviceState.DOWN, clock.now()))
    await service.handle(change(101, DeviceState.UP, clock.now()))
    assert await service.handle(change(101, DeviceState.DOWN, clock.now())) == "fired"
    assert [a.status for a in await _alerts(context)] == [AlertStatus.RESOLVED, AlertStatus.FIRING]


async def test_a_bad_event_in_a_batch_costs_only_itself(context, world, service, webhook, clock):
    await configure(
        context, world, commune_url=webhook.url, district_url=webhook.url, province_url=webhook.url
    )
    naive = change(103, DeviceState.DOWN, clock.now().replace(tzinfo=None))  # breaks the contract
    outcomes = await service.lifecycle.handle_many(
        [change(101, DeviceState.DOWN, clock.now()), naive, change(104, DeviceState.DOWN, clock.now())]
    )
    assert outcomes == ["fired", "failed", "fired"]
    assert sorted(a.device_id for a in await _alerts(context)) == [101, 104]


async def test_flapping_that_settles_into_down_says_so_once(context, world, service, webhook, clock):
    await configure(
        context, world, commune_url=webhook.url, district_url=webhook.url, province_url=webhook.url
    )
    flapping = change(101, DeviceState.FLAPPING, clock.now(), severity=Severity.WARNING)
    assert await service.handle(flapping) == "flapping"
    clock.advance(minutes=40)
    calm = change(
        101,
        DeviceState.DOWN,
        clock.now(),
        previous=DeviceState.FLAPPING,
        reason="calm: 1 state changes; now down",
    )
    assert await service.handle(calm) == "fired"
    assert await service.handle(change(101, DeviceState.DOWN, clock.now())) == "deduplicated"
    assert await drain(service.worker) == 2
    assert [m["title"] for m in webhook.wait_for(2)] == [
        "[Chập chờn] CAM-TANHOA-01 – Xã Tân Hòa",
        "[NGHIÊM TRỌNG] Mất kết nối: CAM-TANHOA-01 – Xã Tân Hòa",
    ]
    [alert] = await _alerts(context)
    assert (alert.kind, alert.severity) == (AlertKind.DOWN, "critical")
