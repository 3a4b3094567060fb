"""Which device ids the ingest accepts (those holding an active MQTT credential), and their tags.

Looked up in memory on the hot path; the set and the devices' tags are re-read together periodically
and, rate-limited, on a miss, so a sensor onboarded a second ago is not dead-lettered while a flood
from an unknown id costs at most one query per ``miss_refresh_s``. A device moved to another site
(e.g. by the 2025 reform) carries its new site's codes from the next refresh, at most ``refresh_s``
later; a message never costs a database query of its own.

Refreshes are single-flight: callers that find the directory stale at the same time share one
refresh instead of each taking a pooled connection (a burst from many ids just past ``refresh_s``
would otherwise ask for as many connections as callers and exhaust the pool).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.queries.targets import device_tags_by_id
from provisioning.mqtt.credentials import active_credentials


class DeviceDirectory(Protocol):
    def cached(self, device_id: int) -> bool | None:
        """The answer from memory when it is fresh, ``None`` when :meth:`is_known` must look it up;
        lets the ingest skip a coroutine per message on its hot path."""
        ...

    async def is_known(self, device_id: int) -> bool: ...

    def tags(self, device_id: int) -> Mapping[str, str]:
        """The device's point tags (docs/telemetry.md) as last read; callers must not change them."""
        ...


class CredentialDirectory:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        refresh_s: float = 30.0,
        miss_refresh_s: float = 2.0,
    ) -> None:
        self._sessions = sessions
        self._refresh_s = refresh_s
        self._miss_refresh_s = miss_refresh_s
        self._known: frozenset[int] = frozenset()
        self._tags: dict[int, dict[str, str]] = {}
        self._loaded_at = float("-inf")
        self._refreshing = asyncio.Lock()

    async def refresh(self) -> None:
        known = frozenset(await active_credentials(self._sessions))
        async with self._sessions() as session:
            tags = await device_tags_by_id(session, known)
        self._known, self._tags = known, tags
        self._loaded_at = time.monotonic()

    def cached(self, device_id: int) -> bool | None:
        if time.monotonic() - self._loaded_at > self._refresh_s:
            return None
        return True if device_id in self._known else None

    async def is_known(self, device_id: int) -> bool:
        if self._stale_for(device_id):
            async with self._refreshing:
                if self._stale_for(device_id):  # not refreshed by the caller we waited for
                    await self.refresh()
        return device_id in self._known

    def _stale_for(self, device_id: int) -> bool:
        age = time.monotonic() - self._loaded_at
        return age > self._refresh_s or (device_id not in self._known and age > self._miss_refresh_s)

    def tags(self, device_id: int) -> Mapping[str, str]:
        return self._tags.get(device_id) or {"device_id": str(device_id)}
