"""One collector over the registry's devices of one protocol: what every polling service shares.

Targets are re-read every cycle, so onboarded or retired devices take effect at the next interval.
A device the poller cannot log in to is named once when that becomes so (or its reason changes) and
once when it no longer is, not every cycle.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.crypto import SecretBox
from device_registry.queries.targets import protocol_targets
from device_registry.targets import DeviceTarget
from telemetry.cycle import CycleRunner, CycleSummary

log = logging.getLogger(__name__)


class RegistryPoller:
    """``runner`` and its per-device state live as long as the service."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        protocol: str,
        runner: CycleRunner,
        *,
        logger: logging.Logger = log,
    ) -> None:
        self.sessions = sessions
        self.box = box
        self.protocol = protocol
        self.runner = runner
        self._log = logger
        self._unpolled: dict[int, str] = {}

    async def targets(self) -> Sequence[DeviceTarget]:
        async with self.sessions() as session:
            loaded = await protocol_targets(session, self.box, self.protocol)
        for device_id, why in loaded.unpolled.items():
            if self._unpolled.get(device_id) != why:
                self._log.warning("%s", why)
        for device_id in self._unpolled.keys() - loaded.unpolled.keys():
            self._log.info("device %s: no longer left out of %s polling", device_id, self.protocol)
        self._unpolled = loaded.unpolled
        return loaded.targets

    async def run_once(self) -> CycleSummary:
        return await self.runner.run_once(await self.targets())

    async def run_forever(self, interval_s: float) -> None:
        await self.runner.run_forever(self.targets, interval_s, on_cycle=self.log_cycle)

    def log_cycle(self, summary: CycleSummary) -> None:
        self._log.info(
            "%s cycle: %d devices, %d ok, %d failed, %.2fs",
            summary.collector,
            summary.devices,
            summary.ok,
            summary.failed,
            summary.duration_s,
        )
