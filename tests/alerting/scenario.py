"""The teams, channels and routes of a small province, and events as the monitors would publish them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from device_registry.authz import Principal
from device_registry.crypto import SecretBox, generate_key
from device_registry.db import transaction
from monitors.alerting import admin
from monitors.alerting.context import AlertingContext
from monitors.events import DeviceState, Severity, StateChange
from tests.alerting.world import TAN_HOA, VU_THU, World

_ids = itertools.count(1)
ACTOR = Principal.system("test-alerting")
SECRET_KEY = generate_key()
BOX = SecretBox(SECRET_KEY)
"""The secret box of every test's alerting context: channel URLs are sealed with it."""


@dataclass
class Province:
    commune_team: int
    district_team: int
    province_team: int
    commune_channel: int
    district_channel: int
    province_channel: int
    commune_route: int
    district_route: int
    province_route: int


async def configure(
    ctx: AlertingContext,
    world: World,
    *,
    commune_url: str,
    district_url: str,
    province_url: str,
    escalate: bool = False,
) -> Province:
    """Tân Hòa commune team (Vietnamese), Vũ Thư district team (Vietnamese), province centre (English)."""
    async with transaction(ctx.sessions) as session:
        commune = await admin.create_team(session, ACTOR, "Đội kỹ thuật xã Tân Hòa")
        district = await admin.create_team(session, ACTOR, "Đội kỹ thuật huyện Vũ Thư")
        province = await admin.create_team(session, ACTOR, "Provincial data centre", language="en")
        channels = [
            await admin.add_channel(session, ACTOR, ctx.channel_urls, team.id, "main", url)
            for team, url in ((commune, commune_url), (district, district_url), (province, province_url))
        ]
        routes = [
            await admin.add_route(
                session, ACTOR, ctx.sites, "tan-hoa", commune.id, site_id=world.sites[TAN_HOA]
            ),
            await admin.add_route(
                session, ACTOR, ctx.sites, "vu-thu", district.id, site_id=world.sites[VU_THU]
            ),
            await admin.add_route(session, ACTOR, ctx.sites, "province", province.id),
        ]
        if escalate:
            await admin.add_escalation_step(session, ACTOR, routes[0].id, 15, team_id=district.id)
            await admin.add_escalation_step(session, ACTOR, routes[0].id, 45, channel_id=channels[2].id)
        return Province(
            commune.id, district.id, province.id, *(c.id for c in channels), *(r.id for r in routes)
        )


def change(
    device_id: int,
    current: DeviceState,
    at: datetime,
    *,
    previous: DeviceState | None = None,
    event_id: str | None = None,
    **extra: Any,
) -> StateChange:
    if previous is None:
        previous = DeviceState.UP if current != DeviceState.UP else DeviceState.DOWN
    extra.setdefault("severity", Severity.CRITICAL)
    if current == DeviceState.DOWN:
        extra.setdefault("root_cause_device_id", device_id)
        extra.setdefault("reason", "không phản hồi ping sau 3 lần thử")
    return StateChange(
        event_id=event_id or f"evt-{next(_ids)}",
        device_id=device_id,
        previous=previous,
        current=current,
        at=at,
        **extra,
    )


async def drain(worker: Any) -> int:
    """Run the outbox until nothing is due now (rows of one lane go out one pass at a time)."""
    total = 0
    while attempted := await worker.run_once():
        total += attempted
    return total
