"""E-mail through a real SMTP server: Vietnamese with diacritics; no loss or duplicate across an outage."""

from __future__ import annotations

from sqlalchemy import func, select

from monitors.alerting.models import Delivery, OutboxItem, OutboxStatus
from monitors.events import DeviceState
from tests.alerting.scenario import change, configure
from tests.alerting.world import START_DATE_VN


async def test_commune_team_receives_vietnamese_mail_with_site_path_and_local_time(
    context, world, service, smtp, webhook, clock
):
    await configure(
        context, world, commune_url=smtp.url(), district_url=webhook.url, province_url=webhook.url
    )

    outcome = await service.handle(
        change(101, DeviceState.DOWN, clock.now(), affected_device_ids=(201, 202, 203), outage_id=7)
    )
    assert outcome == "fired"
    assert await service.worker.run_once() == 1

    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == "doi-vu-thu@example.vn"
    assert mail["Subject"] == "[NGHIÊM TRỌNG] Mất kết nối: CAM-TANHOA-01 – Xã Tân Hòa"
    body = mail.get_body(("plain", "html")).get_content()
    assert "Tỉnh Thái Bình › Huyện Vũ Thư › Xã Tân Hòa" in body
    assert f"08:30 ngày {START_DATE_VN}" in body  # 01:30 UTC in Asia/Ho_Chi_Minh
    assert "không phản hồi ping sau 3 lần thử" in body
    assert "Số thiết bị phía sau bị ảnh hưởng: 3" in body
    assert "http://grafana.ioc.local/d/ioc-fleet" in body
    assert webhook.received == []  # the district and province were not paged for a commune camera


async def test_smtp_outage_delivers_exactly_once_after_it_returns(
    context, world, service, smtp, webhook, clock
):
    await configure(
        context, world, commune_url=smtp.url(), district_url=webhook.url, province_url=webhook.url
    )
    smtp.stop()
    await service.handle(change(101, DeviceState.DOWN, clock.now(), event_id="evt-down-1"))
    await service.handle(change(101, DeviceState.DOWN, clock.now(), event_id="evt-down-1"))  # redelivered

    assert await service.worker.run_once() == 1  # fails: server down
    assert await service.worker.run_once() == 0  # backing off
    clock.advance(seconds=10)
    assert await service.worker.run_once() == 1  # fails again, backoff doubles
    clock.advance(seconds=10)
    assert await service.worker.run_once() == 0
    smtp.start()
    clock.advance(seconds=10)
    assert await service.worker.run_once() == 1
    clock.advance(hours=1)
    assert await service.worker.run_once() == 0

    assert len(smtp.messages) == 1
    assert "CAM-TANHOA-01" in smtp.messages[0]["Subject"]
    async with context.sessions() as session:
        item = await session.scalar(select(OutboxItem))
        assert item is not None
        assert (item.status, item.attempts, item.last_error) == (OutboxStatus.SENT, 3, None)
        results = (await session.execute(select(Delivery.ok).order_by(Delivery.id))).scalars().all()
        assert results == [False, False, True]
        assert await session.scalar(select(func.count()).select_from(OutboxItem)) == 1
