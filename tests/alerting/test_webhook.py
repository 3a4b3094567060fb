"""A JSON webhook that fails for a while gets every message exactly once when it recovers, in order."""

from __future__ import annotations

from sqlalchemy import select

from monitors.alerting.models import Alert, Delivery
from monitors.events import DeviceState
from tests.alerting.scenario import change, configure, drain


async def test_webhook_outage_loses_nothing_and_sends_nothing_twice(context, world, service, webhook, clock):
    await configure(
        context, world, commune_url=webhook.url, district_url=webhook.url, province_url=webhook.url
    )
    webhook.status = 503
    down = change(103, DeviceState.DOWN, clock.now())
    await service.handle(down)
    clock.advance(minutes=20)
    await service.handle(change(103, DeviceState.UP, clock.now()))
    assert await service.handle(down) == "deduplicated"  # a late copy: the device already recovered
    for _ in range(3):
        assert await drain(service.worker) == 1  # only the head of the lane is tried; it fails
        clock.advance(minutes=10)
    webhook.status = 200
    clock.advance(minutes=30)
    assert await drain(service.worker) == 2
    clock.advance(hours=2)
    assert await drain(service.worker) == 0

    assert [m["title"] for m in webhook.received] == [
        "[NGHIÊM TRỌNG] Mất kết nối: CAM-SONGLANG-02 – Xã Song Lãng",
        "[Đã khôi phục] CAM-SONGLANG-02 – Xã Song Lãng",
    ]
    async with context.sessions() as session:
        assert list(await session.scalars(select(Alert.status))) == ["resolved"]
        errors = list(await session.scalars(select(Delivery.error).where(Delivery.ok.is_(False))))
    assert len(errors) == 3 and all(e and e.startswith("JSON:") for e in errors)


async def test_deliveries_of_an_alert_list_every_attempt(context, world, service, webhook, clock):
    from monitors.alerting.queries import list_deliveries

    await configure(
        context, world, commune_url=webhook.url, district_url=webhook.url, province_url=webhook.url
    )
    webhook.status = 503
    await service.handle(change(103, DeviceState.DOWN, clock.now()))
    await drain(service.worker)
    webhook.status = 200
    clock.advance(minutes=5)
    await drain(service.worker)
    async with context.sessions() as session:
        alert_id = await session.scalar(select(Alert.id))
        assert alert_id is not None
        rows = await list_deliveries(session, alert_id)
    assert [(r.channel, r.message_kind, r.status, r.attempt, r.ok) for r in rows] == [
        ("main", "firing", "sent", 1, False),
        ("main", "firing", "sent", 2, True),
    ]
