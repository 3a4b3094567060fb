"""A real ``ioc serve --only monitors`` is SIGKILLed in the middle of an outage and started again on the
same home: the team is paged once, the one outage keeps its start and closes when the device is back.
Real parts: the ``ioc`` subprocess, its SQLite registry, a TCP listener on loopback as the device, and a
webhook receiver (apprise ``json://``) as the team's channel."""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from device_registry.authz import Principal
from device_registry.crypto import SecretBox, generate_key
from device_registry.db import transaction
from monitors.alerting import admin
from monitors.alerting.channel_urls import ChannelUrls
from monitors.alerting.directory import RegistryDirectory
from monitors.alerting.models import OutboxItem
from monitors.models import DeviceStatusRow, Outage
from tests.monitors.conftest import Listeners
from tests.monitors.registry_world import DeviceKind, Registry, registry
from tests.support.process import ManagedProcess
from tests.support.receivers import WebhookReceiver
from tests.support.waits import wait_until

FAST = {
    "IOC_MONITORS__DEFAULT__FAIL_THRESHOLD": "2",
    "IOC_MONITORS__DEFAULT__RECOVER_THRESHOLD": "1",
    "IOC_MONITORS__DEFAULT__INTERVAL_S": "0.5",
    "IOC_MONITORS__DEFAULT__RETRY_INTERVAL_S": "0.2",
    "IOC_MONITORS__TICK_S": "0.1",
    "IOC_MONITORS__CHECK_TIMEOUT_S": "1",
    "IOC_ALERTING__OUTBOX__POLL_INTERVAL_S": "0.2",
}


WITHIN_S = 30.0
"""Bound on each awaited event: generous for a loaded machine, returned from as soon as it holds."""


async def status_of(reg: Registry, device_id: int) -> DeviceStatusRow | None:
    async with reg.sessions() as session:
        return await session.get(DeviceStatusRow, device_id)


async def outages_of(reg: Registry, device_id: int) -> list[Outage]:
    async with reg.sessions() as session:
        return list(await session.scalars(select(Outage).where(Outage.device_id == device_id)))


async def test_ioc_serve_sigkilled_mid_outage_pages_once_and_closes_the_same_outage(
    tmp_path: Path, listeners: Listeners, sqlite_url: str, webhook: WebhookReceiver
) -> None:
    (port,) = await listeners.open(1)
    home = tmp_path / "home"
    home.mkdir()
    db_url = sqlite_url  # what `ioc init` migrates, without its start-up
    env = {**os.environ, "IOC_HOME": str(home), "IOC_DATABASE_URL": db_url, **FAST}
    key = generate_key()
    env["IOC_SECRET_KEY"] = key.get_secret_value()
    env.pop("IOC_MQTT_URL", None)
    serve = ManagedProcess(
        [sys.executable, "-m", "ioc", "serve", "--only", "monitors"], tmp_path / "serve.log", env=env
    )
    try:
        async with registry(db_url) as reg:
            switch = await reg.add_device("sw-vu-thu", DeviceKind.OTHER, "D1", port=port.port)
            async with transaction(reg.sessions) as session:
                actor, urls = Principal.system("test"), ChannelUrls(SecretBox(key))  # the server's key
                team = await admin.create_team(session, actor, "Đội kỹ thuật huyện Vũ Thư")
                await admin.add_channel(session, actor, urls, team.id, "hook", webhook.url)
                await admin.add_route(session, actor, RegistryDirectory(reg.sessions), "all", team.id)

            async def state_is(state: str, after: datetime | None = None) -> Callable[[], Awaitable[bool]]:
                async def check() -> bool:
                    row = await status_of(reg, switch)
                    return (
                        row is not None and row.state == state and (after is None or row.checked_at > after)
                    )

                return check

            serve.start()
            await wait_until(await state_is("up"), WITHIN_S, "switch up")
            await port.cut()
            await wait_until(lambda: len(webhook.received) >= 1, WITHIN_S, "paged")
            await wait_until(await state_is("down"), WITHIN_S, "switch down")

            async def page_recorded_as_sent() -> bool:
                async with reg.sessions() as session:
                    return bool(
                        await session.scalar(select(OutboxItem.id).where(OutboxItem.sent_at.is_not(None)))
                    )

            # Delivery is at least once: a SIGKILL between the receiver's 200 and the outbox row's update
            # would rightly send the page again, which is not what this test is about.
            await wait_until(page_recorded_as_sent, WITHIN_S, "page recorded as sent")
            (before,) = await outages_of(reg, switch)
            down_since = (await status_of(reg, switch)).since  # type: ignore[union-attr]

            serve.kill()  # SIGKILL to the process group: no shutdown code runs
            serve.start()
            restarted = datetime.now().astimezone()
            await wait_until(await state_is("down", restarted), WITHIN_S, "checked after the restart")
            # A page the restart got wrong would be queued at a transition, by the second failed check
            # (the fail threshold), and sent within an outbox poll: wait for two more checks.
            for more in ("second", "third"):
                last = (await status_of(reg, switch)).checked_at  # type: ignore[union-attr]
                await wait_until(
                    await state_is("down", last), WITHIN_S, f"a {more} failed check after the restart"
                )
            async with reg.sessions() as session:
                queued = list(await session.scalars(select(OutboxItem.id)))
            assert len(queued) == 1, f"the restart queued another page: {queued}"
            assert len(webhook.received) == 1, "the restart paged nobody again"
            assert [o.id for o in await outages_of(reg, switch)] == [before.id]
            assert (await status_of(reg, switch)).since == down_since  # type: ignore[union-attr]

            await port.restore()
            await wait_until(lambda: len(webhook.received) >= 2, WITHIN_S, "recovery told")
            (after,) = await outages_of(reg, switch)
    finally:
        serve.stop()

    assert (after.id, after.started_at) == (before.id, before.started_at)
    assert after.ended_at is not None
    titles = [m["title"] for m in webhook.received]
    assert titles[0].startswith("[NGHIÊM TRỌNG] Mất kết nối: sw-vu-thu") and len(titles) == 2
    assert titles[1].startswith("[Đã khôi phục] sw-vu-thu")
