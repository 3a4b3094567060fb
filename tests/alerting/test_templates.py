"""User templates override the built-in ones; a broken one falls back, is reported and blocks nothing."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from monitors.alerting.context import AlertingContext
from monitors.alerting.models import OutboxItem
from monitors.alerting.service import AlertingService
from monitors.events import DeviceState
from tests.alerting.scenario import BOX, change, configure, drain


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


async def _configured_service(sessions, directory, settings, clock, world, webhook) -> AlertingService:
    context = AlertingContext(
        sessions=sessions, sites=directory, devices=directory, box=BOX, settings=settings, clock=clock
    )
    await configure(
        context, world, commune_url=webhook.url, district_url=webhook.url, province_url=webhook.url
    )
    return AlertingService(context)


async def test_user_templates_override_and_broken_ones_fall_back(
    sessions, directory, settings, clock, world, webhook, user_templates, caplog
):
    settings.templates_dir = user_templates
    service = await _configured_service(sessions, directory, settings, clock, world, webhook)
    try:
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


async def test_a_template_cannot_reach_python_internals_or_the_os(
    sessions, directory, settings, clock, world, webhook, tmp_path
):
    """The attack: a template that climbs ``__class__.__mro__`` to ``os`` and runs a command. The
    sandbox refuses it, the built-in template is sent instead, and the command never ran."""
    marker = tmp_path / "pwned"
    folder = tmp_path / "evil" / "vi"
    folder.mkdir(parents=True)
    (folder / "firing_subject.j2").write_text(
        "{% for c in ''.__class__.__mro__[1].__subclasses__() %}"
        "{% if c.__name__ == 'catch_warnings' %}"
        "{{ c()._module.__builtins__['__import__']('os').system('touch " + str(marker) + "') }}"
        "{% endif %}{% endfor %}\n"
    )
    (folder / "firing_body.j2").write_text(
        "{{ cycler.__init__.__globals__.os.system('touch " + str(marker) + "') }}\n"
    )
    settings.templates_dir = tmp_path / "evil"
    service = await _configured_service(sessions, directory, settings, clock, world, webhook)
    try:
        await service.handle(change(101, DeviceState.DOWN, clock.now()))
        assert await drain(service.worker) == 1
    finally:
        await service.stop()
    (firing,) = webhook.wait_for(1)
    assert firing["title"].startswith("[") and "CAM-TANHOA-01" in firing["title"]  # the built-in one
    assert not marker.exists(), "a template ran a shell command"
    async with sessions() as session:
        (note,) = list(await session.scalars(select(OutboxItem.note)))
    assert "template vi/firing failed (SecurityError" in note
