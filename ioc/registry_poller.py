"""What every polling service of ``ioc serve`` shares: one collector over the registry's devices of one
protocol, re-read every cycle so onboarded or retired devices take effect at the next interval.

Lives in the composition root because it joins the registry (targets, credentials), a collector and
the telemetry writer; none of those may import the others' upper layers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from device_registry.queries.targets import protocol_targets
from device_registry.targets import DeviceTarget
from ioc.runtime import Platform
from telemetry.cycle import CycleRunner, CycleSummary

log = logging.getLogger(__name__)
SPREAD = 0.5
"""Each cycle's polls start over the first half of the interval, not all at once (telemetry.cycle)."""


class RegistryPoller:
    """``runner`` and its per-device state live as long as the service."""

    def __init__(self, platform: Platform, protocol: str, runner: CycleRunner) -> None:
        self.platform = platform
        self.protocol = protocol
        self.runner = runner

    async def targets(self) -> Sequence[DeviceTarget]:
        async with self.platform.sessions() as session:
            return await protocol_targets(session, self.platform.box, self.protocol)

    async def run_once(self) -> CycleSummary:
        return await self.runner.run_once(await self.targets())

    async def run_forever(self, interval_s: float) -> None:
        await self.runner.run_forever(self.targets, interval_s, on_cycle=log_cycle, spread=SPREAD)


def log_cycle(summary: CycleSummary) -> None:
    log.info(
        "%s cycle: %d devices, %d ok, %d failed, %.2fs",
        summary.collector,
        summary.devices,
        summary.ok,
        summary.failed,
        summary.duration_s,
    )
