"""One collector over the registry's devices of one protocol: what every polling service shares.

Targets are re-read every cycle, so onboarded or retired devices take effect at the next interval.
A device the poller cannot log in to is named once when that becomes so (or its reason changes) and
once when it no longer is, not every cycle.

With an allowlist of management networks (``IOC_SNMP__ALLOWED_NETWORKS``, ``IOC_ONVIF__…``) the
registered devices are held to it too, not only discovery: a device whose address lies outside is left
out the same way (no packet, no credential sent to it). Without an allowlist every registered address
is polled, loopback included (the simulators and the demo live there).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.crypto import SecretBox
from device_registry.errors import InvalidInput
from device_registry.queries.targets import protocol_targets
from device_registry.targets import DeviceTarget
from provisioning.targets import TargetPolicy
from telemetry.cycle import CycleRunner, CycleSummary

log = logging.getLogger(__name__)
SPREAD = 0.5
"""Each cycle's polls start over the first half of the interval, not all at once (telemetry.cycle)."""


class RegistryPoller:
    """``runner`` and its per-device state live as long as the service."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        box: SecretBox,
        protocol: str,
        runner: CycleRunner,
        *,
        allowed_networks: Sequence[Any] = (),
        logger: logging.Logger = log,
    ) -> None:
        self.policy = TargetPolicy.of(allowed_networks) if allowed_networks else None
        self.sessions = sessions
        self.box = box
        self.protocol = protocol
        self.runner = runner
        self._log = logger
        self._unpolled: dict[int, str] = {}

    async def targets(self) -> Sequence[DeviceTarget]:
        async with self.sessions() as session:
            loaded = await protocol_targets(session, self.box, self.protocol)
        targets, unpolled = loaded.targets, dict(loaded.unpolled)
        if self.policy is not None:
            targets = []
            for target in loaded.targets:
                try:
                    await self.policy.check_host(target.address, "address")
                except InvalidInput as refused:
                    unpolled[target.device_id] = (
                        f"device {target.device_id} ({target.name}) not polled: {refused}"
                    )
                    continue
                targets.append(target)
        for device_id, why in unpolled.items():
            if self._unpolled.get(device_id) != why:
                self._log.warning("%s", why)
        for device_id in self._unpolled.keys() - unpolled.keys():
            self._log.info("device %s: no longer left out of %s polling", device_id, self.protocol)
        self._unpolled = unpolled
        return targets

    async def run_once(self) -> CycleSummary:
        return await self.runner.run_once(await self.targets())

    async def run_forever(self, interval_s: float) -> None:
        await self.runner.run_forever(self.targets, interval_s, on_cycle=self.log_cycle, spread=SPREAD)

    def log_cycle(self, summary: CycleSummary) -> None:
        self._log.info(
            "%s cycle: %d devices, %d ok, %d failed, %.2fs",
            summary.collector,
            summary.devices,
            summary.ok,
            summary.failed,
            summary.duration_s,
        )
