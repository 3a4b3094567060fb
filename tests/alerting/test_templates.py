"""User templates override the built-in ones; a broken one falls back, is reported and blocks nothing."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from monitors.alerting.context import AlertingContext
from monitors.alerting.models import OutboxItem
from monitors.alerting.service import AlertingService
from monitors.events import DeviceState
from tests.alerting.scenario import change, configure, drain


@pytest.fixture
def user_templates(tmp_path):
    folder = tmp_path / "templates" / "vi"
    folder.mkdir(parents=True)
    (folder / "firing_subject.j2").write_text("Sự cố {{ device_name }} tại {{ site_path | join(' / ') }}\n")
    (folder / "firing_body.j2").write_text("Mã vùng: {{ site_codes | join(',') }}\n")
    (folder / "resolved_subject.j2").write_text("{{ device_name } hỏng cú pháp\n")
    (folder / "resolved_body.j2").write_text("ok\n")
    (folder / "flapping_subject.j2").write_text("{{ no_such_variable }}\n")
    (folder / "flapping_body.j2").write_text("x\n")
    return tmp_path / "templates"


async def test_user_templates_override_and_broken_ones_fall_back(
    sessions, directory, settings, clock, world, webhook, user_templates, caplog
):
    settings.templates_dir = user_templates
    context = AlertingContext(
        sessions=sessions, sites=directory, devices=directory, settings=settings, clock=clock
    )
    service = AlertingService(context)
    try:
        await configure(
            context, world, commune_url=webhook.url, district_url=webhook.url, province_url=webhook.url
        )
        with caplog.at_level(logging.WARNING, logger="monitors.alerting.messages"):
            await service.handle(change(101, DeviceState.DOWN, clock.now()))
            await service.handle(change(101, DeviceState.FLAPPING, clock.now()))
            await service.handle(change(101, DeviceState.UP, clock.now()))
        assert await drain(service.worker) == 3
    finally:
        await service.stop()

    firing, flapping, resolved = webhook.wait_for(3)
    assert firing["title"] == "Sự cố CAM-TANHOA-01 tại Tỉnh Thái Bình / Huyện Vũ Thư / Xã Tân Hòa"
    assert firing["message"].strip() == "Mã vùng: 34,344,13279"
    assert flapping["title"] == "[Chập chờn] CAM-TANHOA-01 – Xã Tân Hòa"  # built-in used
    assert resolved["title"] == "[Đã khôi phục] CAM-TANHOA-01 – Xã Tân Hòa"  # built-in used
    async with sessions() as session:
        notes = list(await session.scalars(select(OutboxItem.note).order_by(OutboxItem.id)))
    assert notes[0] is None
    assert "template vi/flapping failed (UndefinedError" in notes[1]
    assert "template vi/resolved failed (TemplateSyntaxError" in notes[2]
    assert sum("built-in used" in r.getMessage() for r in caplog.records) == 2
