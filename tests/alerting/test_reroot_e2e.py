"""Monitors and alerting together where the order of events matters.

A camera paged DOWN on its own, then its district switch dies: the monitors re-root the camera's
outage on the switch, its alert stays open but stops escalating, and its recovery still reaches the
commune team that was paged (real SMTP server for the commune, real webhook receiver for the district).
A switch that goes DOWN inside a maintenance window and is still down when it ends pages once, then."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from monitors.alerting.models import Alert
from tests.alerting.scenario import configure, drain
from tests.monitors.world import T0, World

SWITCH, CAMERA = 102, 101


async def test_camera_paged_before_its_switch_died_is_suppressed_not_escalated_and_told_recovery(
    context, world, service, smtp, webhook, clock
):
    await configure(
        context,
        world,
        commune_url=smtp.url(),
        district_url=webhook.url,
        province_url=webhook.url,
        escalate=True,
    )
    network = World(topology={CAMERA: (SWITCH,)})
    network.engine.register(CAMERA, "camera")
    network.engine.register(SWITCH, "switch")
    await network.check_rounds(1, SWITCH, CAMERA)

    handled = 0

    async def handle_new() -> list[str]:
        """Alerting handles what the monitors published since the last call, in order."""
        nonlocal handled
        fresh = network.events.events[handled:]
        handled += len(fresh)
        return [await service.handle(e) for e in fresh]

    network.dead.add(CAMERA)  # the camera dies; its switch still answers the on-demand check
    await network.check_rounds(3, CAMERA)
    assert await handle_new() == ["ignored", "fired"]  # SOFT_DOWN, then DOWN pages the commune
    network.dead.add(SWITCH)
    await network.check_rounds(3, SWITCH)
    assert await handle_new() == ["ignored", "suppressed", "fired"]  # switch SOFT, camera re-rooted, switch

    async with context.sessions() as session:
        alerts = {a.device_id: a for a in await session.scalars(select(Alert))}
    assert alerts[CAMERA].status == "firing" and alerts[SWITCH].status == "firing"
    assert "suppressed: cut off behind SW-VUTHU-CORE" in alerts[CAMERA].reason
    assert alerts[SWITCH].affected_count == 1
    clock.advance(minutes=50)  # both escalation steps of the commune route would be due
    assert await service.escalator.tick() == 0, "a suppressed alert does not escalate"

    network.dead.clear()
    await network.check_rounds(2, SWITCH)
    await network.check_rounds(1, CAMERA)  # the recheck the switch's recovery asks for
    assert await handle_new() == ["resolved", "resolved"]
    assert await drain(service.worker) == 4
    assert [mail["Subject"] for mail in smtp.messages] == [
        "[NGHIÊM TRỌNG] Mất kết nối: CAM-TANHOA-01 – Xã Tân Hòa",
        "[Đã khôi phục] CAM-TANHOA-01 – Xã Tân Hòa",
    ]
    titles = sorted(m["title"] for m in webhook.wait_for(2))
    assert titles == [
        "[NGHIÊM TRỌNG] Mất kết nối: SW-VUTHU-CORE – Huyện Vũ Thư",
        "[Đã khôi phục] SW-VUTHU-CORE – Huyện Vũ Thư",
    ]


class _WindowUntil:
    """A maintenance window over every device, ending at ``until``."""

    def __init__(self, until: datetime) -> None:
        self.until = until

    def covers(self, device_id: int, at: datetime) -> bool:
        return at < self.until


async def test_switch_still_down_when_its_maintenance_ends_pages_its_team_once(
    context, world, service, smtp, webhook
):
    await configure(
        context, world, commune_url=smtp.url(), district_url=webhook.url, province_url=webhook.url
    )
    network = World(maintenance=_WindowUntil(T0 + timedelta(hours=1)))
    network.engine.register(SWITCH, "switch")
    await network.check_rounds(1, SWITCH)
    network.dead.add(SWITCH)
    await network.check_rounds(3, SWITCH)
    outcomes = [await service.handle(e) for e in network.events.events]
    assert outcomes == ["ignored", "suppressed_maintenance"]

    network.clock.now = T0 + timedelta(hours=1, minutes=1)
    await network.check_rounds(3, SWITCH, every=60)
    late = network.events.events[len(outcomes) :]
    assert [await service.handle(e) for e in late] == ["fired"]
    assert await drain(service.worker) == 1
    assert [m["title"] for m in webhook.wait_for(1)] == [
        "[NGHIÊM TRỌNG] Mất kết nối: SW-VUTHU-CORE – Huyện Vũ Thư"
    ]
