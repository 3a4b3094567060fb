"""Which device ids the ingest accepts: those holding an active MQTT credential.

Looked up in memory on the hot path; the set is re-read periodically and, rate-limited, on a miss,
so a sensor onboarded a second ago is not dead-lettered while a flood from an unknown id costs at
most one query per ``miss_refresh_s``.
"""

from __future__ import annotations

import time
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from provisioning.mqtt.credentials import active_credentials


class DeviceDirectory(Protocol):
    def cached(self, device_id: int) -> bool | None:
        """The answer from memory when it is fresh, ``None`` when :meth:`is_known` must look it up;
        lets the ingest skip a coroutine per message on its hot path."""
        ...

    async def is_known(self, device_id: int) -> bool: ...


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
        self._loaded_at = float("-inf")

    async def refresh(self) -> None:
        self._known = frozenset(await active_credentials(self._sessions))
        self._loaded_at = time.monotonic()

    def cached(self, device_id: int) -> bool | None:
        if time.monotonic() - self._loaded_at > self._refresh_s:
            return None
        return True if device_id in self._known else None

    async def is_known(self, device_id: int) -> bool:
        age = time.monotonic() - self._loaded_at
        if age > self._refresh_s or (device_id not in self._known and age > self._miss_refresh_s):
            await self.refresh()
        return device_id in self._known
