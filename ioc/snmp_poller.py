"""The ``snmp`` service of ``ioc serve``: poll every SNMP device in the registry, write through the writer."""

from __future__ import annotations

from ioc.runtime import Platform
from provisioning.snmp.client import SnmpClient
from provisioning.snmp.pacing import Pacer
from telemetry.collectors.snmp import SnmpCollector
from telemetry.cycle import CycleRunner
from telemetry.registry_poller import RegistryPoller
from telemetry.sink import Sink


def snmp_poller(platform: Platform, client: SnmpClient, sink: Sink) -> RegistryPoller:
    cfg = platform.settings.snmp
    collector = SnmpCollector(
        client, timeout=cfg.timeout, retries=cfg.retries, max_interfaces=cfg.max_interfaces
    )
    runner = CycleRunner(
        collector,
        sink,
        concurrency=cfg.concurrency,
        suspect_concurrency=cfg.suspect_concurrency,
        # a walk of a big table takes several round trips, each up to timeout x tries
        device_timeout=cfg.timeout * (cfg.retries + 1) * 6,
    )
    return RegistryPoller(
        platform.sessions, platform.box, "snmp", runner, allowed_networks=cfg.allowed_networks
    )


async def snmp_service(platform: Platform) -> None:
    """Runs until cancelled, writing through the process's telemetry writer."""
    writer = platform.writer or await platform.start_writer()
    async with SnmpClient(pacer=Pacer(total_max=platform.settings.snmp.max_in_flight)) as client:
        await snmp_poller(platform, client, writer).run_forever(platform.settings.snmp.interval_s)
