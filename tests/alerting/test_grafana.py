"""Grafana region annotations through the outbox, against a fake Grafana that enforces the published spec."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from grafana.annotations import GrafanaAnnotations
from monitors.alerting.lifecycle import epoch_ms
from monitors.alerting.models import Alert, Delivery, OutboxItem
from monitors.alerting.service import AlertingService
from monitors.alerting.worker import OutboxWorker
from monitors.events import DeviceState, Severity
from tests.alerting.scenario import change, configure, drain


@pytest.fixture
async def annotating(context, grafana_settings, grafana):
    annotations = GrafanaAnnotations(grafana.url, grafana.token, timeout=2)
    service = AlertingService(context, worker=OutboxWorker(context, annotations=annotations))
    yield service
    await service.stop()


async def test_outage_is_a_region_annotation_on_the_fleet_dashboard(
    context, world, annotating, grafana, webhook, clock
):
    await configure(
        context, world, commune_url=webhook.url, district_url=webhook.url, province_url=webhook.url
    )
    started = clock.now()
    await annotating.handle(change(101, DeviceState.DOWN, started, severity=Severity.CRITICAL))
    assert await drain(annotating.worker) == 2  # the message and the annotation
    [annotation] = grafana.annotations.values()
    assert annotation["time"] == epoch_ms(started)
    assert "timeEnd" not in annotation
    assert annotation["dashboardUID"] == "ioc-fleet"
    assert set(annotation["tags"]) >= {"camera", "critical", "34", "344", "13279"}
    assert annotation["text"] == "[NGHIÊM TRỌNG] Mất kết nối: CAM-TANHOA-01 – Xã Tân Hòa"

    clock.advance(minutes=42)
    await annotating.handle(change(101, DeviceState.UP, clock.now()))
    await drain(annotating.worker)
    assert annotation["timeEnd"] == epoch_ms(clock.now())
    assert [(m, p) for m, p, _ in grafana.requests] == [
        ("POST", "/api/annotations"),
        ("PATCH", f"/api/annotations/{annotation['id']}"),
    ]
    async with context.sessions() as session:
        alert = await session.scalar(select(Alert))
    assert alert is not None and alert.annotation_id == annotation["id"]


@pytest.mark.parametrize("how", ["503", "closed"])
async def test_grafana_down_then_up_annotates_exactly_once(context, world, annotating, grafana, clock, how):
    grafana.go_down(how)
    await annotating.handle(change(101, DeviceState.DOWN, clock.now()))
    clock.advance(minutes=3)
    await annotating.handle(change(101, DeviceState.UP, clock.now()))
    for _ in range(4):
        await drain(annotating.worker)
        clock.advance(minutes=1)
    assert grafana.annotations == {}
    grafana.come_back()
    clock.advance(minutes=15)
    assert await drain(annotating.worker) == 2  # open, then close: in order
    clock.advance(hours=1)
    assert await drain(annotating.worker) == 0
    [annotation] = grafana.annotations.values()
    assert annotation["timeEnd"] - annotation["time"] == 3 * 60 * 1000
    posts = [r for r in grafana.requests if r[0] == "POST"]
    assert len(posts) == 1
    async with context.sessions() as session:
        failures = list(await session.scalars(select(Delivery.error).where(Delivery.ok.is_(False))))
        items = list(await session.scalars(select(OutboxItem)))
    assert len(failures) >= 3 and all("Grafana unavailable" in error for error in failures if error)
    assert {(i.kind, i.status) for i in items} == {("annotation_open", "sent"), ("annotation_close", "sent")}


async def test_a_create_whose_answer_was_lost_is_not_duplicated(context, world, annotating, grafana, clock):
    grafana.mode = "lose-answer"
    await annotating.handle(change(101, DeviceState.DOWN, clock.now()))
    assert await drain(annotating.worker) == 1  # stored by Grafana, but we saw a 503
    grafana.mode = "up"
    clock.advance(minutes=5)
    assert await drain(annotating.worker) == 1  # the retry finds it by its tag instead of posting again
    assert len(grafana.annotations) == 1
    assert [m for m, _, _ in grafana.requests] == ["POST", "GET"]


async def test_fake_grafana_rejects_what_the_spec_rejects(grafana):
    """The fake is only worth something if it refuses bad requests: the client's own helper sends nulls."""
    from grafana_client import GrafanaApi
    from grafana_client.client import GrafanaBadInputError

    api = GrafanaApi.from_url(grafana.url, credential=grafana.token)
    with pytest.raises(GrafanaBadInputError):
        api.annotations.add_annotation(time_from=1, text="x", tags=["a"])  # sends panelId/timeEnd null
    with pytest.raises(GrafanaBadInputError):
        api.client.GET("/nonexistent-endpoint")
    assert len(grafana.violations) == 2
    assert "None for not nullable" in grafana.violations[0]
    assert "PathNotFound" in grafana.violations[1]
    grafana.violations.clear()  # expected here; the fixture fails any other test that has some
