"""A channel's apprise URL holds a bot token: sealed in the database, shown as its scheme in audit rows,
and still opened to deliver. Every kind of configuration write is audited with its actor."""

from __future__ import annotations

import json
from collections import Counter

from sqlalchemy import select, text

from device_registry.db import transaction
from device_registry.models import AuditEntry
from monitors.alerting import admin
from monitors.events import DeviceState
from tests.alerting.scenario import ACTOR, change, configure, drain

TOKEN = "7301234567-AAH-zalo-bot-token"


async def test_channel_urls_are_sealed_audited_by_scheme_only_and_still_deliver(
    context, world, service, webhook, smtp, clock
):
    secret_hook = webhook.url.replace("json://", f"json://bot:{TOKEN}@") + f"/{TOKEN}"
    province = await configure(
        context,
        world,
        commune_url=secret_hook,
        district_url=smtp.url(),
        province_url=webhook.url,
        escalate=True,
    )
    async with transaction(context.sessions) as session:
        await admin.add_member(session, ACTOR, province.commune_team, world.users["lan"])
        await admin.delete_channel(session, ACTOR, context.channel_urls, province.district_channel)

    async with context.sessions() as session:
        stored = list(await session.scalars(text("SELECT url FROM alert_channels")))
        audit = list(await session.scalars(select(AuditEntry).where(AuditEntry.object_type.like("alert_%"))))
    assert len(stored) == 2 and all(TOKEN not in url and "://" not in url for url in stored)

    assert Counter((e.action, e.object_type) for e in audit) == {
        ("create", "alert_team"): 3,
        ("create", "alert_channel"): 3,
        ("create", "alert_route"): 3,
        ("create", "alert_escalation_step"): 2,
        ("create", "alert_team_member"): 1,
        ("delete", "alert_channel"): 1,
    }
    assert {e.actor for e in audit} == {ACTOR.name}
    assert all(TOKEN not in json.dumps([e.before, e.after]) for e in audit)
    commune = next(
        e for e in audit if e.object_type == "alert_channel" and e.object_id == province.commune_channel
    )
    assert commune.after is not None and commune.after["url"] == "json://***"
    deleted = next(e for e in audit if e.action == "delete")
    assert deleted.before is not None and deleted.before["url"] == "mailto://***" and deleted.after is None

    # The sealed URL is opened to deliver: the commune's outage reaches the webhook behind it.
    await service.handle(change(101, DeviceState.DOWN, clock.now()))
    assert await drain(service.worker) == 1
    assert [m["title"] for m in webhook.wait_for(1)] == [
        "[NGHIÊM TRỌNG] Mất kết nối: CAM-TANHOA-01 – Xã Tân Hòa"
    ]
