"""What every polling service of ``ioc serve`` shares: one collector over the registry's devices of one
protocol, re-read every cycle so onboarded or retired devices take effect at the next interval.

Lives in the composition root because it joins the registry (targets, credentials), a collector and
the telemetry writer; none of those may import the others' upper layers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from device_registry.errors import InvalidInput
from device_registry.queries.targets import protocol_targets
from device_registry.targets import DeviceTarget
from ioc.runtime import Platform
from provisioning.targets import TargetPolicy
from telemetry.cycle import CycleRunner, CycleSummary

log = logging.getLogger(__name__)


class RegistryPoller:
    """``runner`` and its per-device state live as long as the service.

    With an allowlist of management networks (``IOC_SNMP__ALLOWED_NETWORKS``, ``IOC_ONVIF__…``) the
    registered devices are held to it too, not only discovery: a device whose address lies outside is
    not polled (no packet, no credential sent), logged once when it leaves the allowed networks and once
    when it comes back. Without an allowlist every registered address is polled, loopback included (the
    simulators and the demo live there).
    """

    def __init__(
        self, platform: Platform, protocol: str, runner: CycleRunner, allowed: Sequence[Any] = ()
    ) -> None:
        self.platform = platform
        self.protocol = protocol
        self.runner = runner
        self.policy = TargetPolicy.of(allowed) if allowed else None
        self._outside: set[int] = set()

    async def targets(self) -> Sequence[DeviceTarget]:
        async with self.platform.sessions() as session:
            targets = await protocol_targets(session, self.platform.box, self.protocol)
        return targets if self.policy is None else await self._allowed(self.policy, targets)

    async def _allowed(self, policy: TargetPolicy, targets: Sequence[DeviceTarget]) -> list[DeviceTarget]:
        kept, outside = [], set()
        for target in targets:
            try:
                await policy.check_host(target.address, "address")
            except InvalidInput as refused:
                outside.add(target.device_id)
                if target.device_id not in self._outside:
                    log.warning("device %s (%s) not polled: %s", target.device_id, target.name, refused)
                continue
            kept.append(target)
        for device_id in sorted(self._outside - outside):
            log.warning("device %s is inside the allowed networks again: polled", device_id)
        self._outside = outside
        return kept

    async def run_once(self) -> CycleSummary:
        return await self.runner.run_once(await self.targets())

    async def run_forever(self, interval_s: float) -> None:
        await self.runner.run_forever(self.targets, interval_s, on_cycle=log_cycle)


def log_cycle(summary: CycleSummary) -> None:
    log.info(
        "%s cycle: %d devices, %d ok, %d failed, %.2fs",
        summary.collector,
        summary.devices,
        summary.ok,
        summary.failed,
        summary.duration_s,
    )
