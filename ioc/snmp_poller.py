"""The ``snmp`` service of ``ioc serve``: poll every SNMP device in the registry, write through the writer.

Lives in the composition root because it joins the registry (targets, credentials), the SNMP
collector and the telemetry writer; none of those may import the others' upper layers.
Targets are re-read from the registry every cycle, so onboarded or retired devices take effect at the
next interval without a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.models import Credential, Device, Lifecycle, Site
from device_registry.targets import DeviceTarget
from ioc.runtime import Platform
from provisioning.snmp.client import SnmpClient
from telemetry.collectors.snmp import SnmpCollector
from telemetry.cycle import CycleRunner, CycleSummary
from telemetry.sink import Sink

log = logging.getLogger(__name__)
POLLED = (Lifecycle.ACTIVE, Lifecycle.MAINTENANCE)


async def snmp_targets(session: AsyncSession, platform: Platform) -> list[DeviceTarget]:
    """Active and in-maintenance devices with ``snmp`` among their protocols, credentials opened."""
    devices = (
        await session.scalars(select(Device).where(Device.lifecycle.in_(POLLED), Device.address.is_not(None)))
    ).all()
    devices = [d for d in devices if "snmp" in (d.protocols or [])]
    if not devices:
        return []
    codes = dict((await session.execute(select(Site.id, Site.code))).all())
    paths = dict((await session.execute(select(Site.id, Site.path))).all())
    credential_ids = {d.credential_id for d in devices if d.credential_id is not None}
    sealed = dict(
        (
            await session.execute(
                select(Credential.id, Credential.secret).where(Credential.id.in_(credential_ids))
            )
        ).all()
    )
    targets = []
    for device in devices:
        secret = sealed.get(device.credential_id) if device.credential_id is not None else None
        if secret is None:
            log.warning("device %s (%s) has snmp but no credential: not polled", device.id, device.name)
            continue
        chain = tuple(codes[int(i)] for i in (paths.get(device.site_id) or "").strip("/").split("/") if i)
        targets.append(
            DeviceTarget(
                device_id=device.id,
                name=device.name,
                kind=str(device.kind),
                address=device.address or "",
                port=device.port,
                site_codes=chain or (codes[device.site_id],),
                protocols=tuple(device.protocols or ()),
                credential=platform.box.open(secret),
            )
        )
    return targets


class SnmpPoller:
    """One collector, one runner and their state, for the life of the service."""

    def __init__(self, platform: Platform, client: SnmpClient, sink: Sink) -> None:
        cfg = platform.settings.snmp
        self.platform = platform
        self.collector = SnmpCollector(
            client, timeout=cfg.timeout, retries=cfg.retries, max_interfaces=cfg.max_interfaces
        )
        self.runner = CycleRunner(
            self.collector,
            sink,
            concurrency=cfg.concurrency,
            suspect_concurrency=cfg.suspect_concurrency,
            # a walk of a big table takes several round trips, each up to timeout x tries
            device_timeout=cfg.timeout * (cfg.retries + 1) * 6,
        )

    async def targets(self) -> Sequence[DeviceTarget]:
        async with self.platform.sessions() as session:
            return await snmp_targets(session, self.platform)

    async def run_once(self) -> CycleSummary:
        return await self.runner.run_once(await self.targets())


def _log_cycle(summary: CycleSummary) -> None:
    log.info(
        "snmp cycle: %d devices, %d ok, %d failed, %.2fs",
        summary.devices,
        summary.ok,
        summary.failed,
        summary.duration_s,
    )


async def snmp_service(platform: Platform) -> None:
    """Runs until cancelled, writing through the process's telemetry writer."""
    writer = platform.writer or await platform.start_writer()
    async with SnmpClient() as client:
        poller = SnmpPoller(platform, client, writer)
        await poller.runner.run_forever(
            poller.targets, platform.settings.snmp.interval_s, on_cycle=_log_cycle
        )
