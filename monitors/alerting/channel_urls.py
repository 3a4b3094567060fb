"""Apprise URLs at rest: sealed with the platform's secret box, opened only to deliver.

An apprise URL carries a bot token, a webhook secret or an SMTP password, so ``alert_channels.url``
holds a Fernet token made with a key the platform secret derives for this use alone
(:meth:`SecretBox.derive`): a database dump or backup without the key file reveals no channel.

Rows written before sealing existed hold the clear URL. An Alembic data migration cannot seal them,
because migrations run without the secret key (``IOC_SECRET_KEY`` or the key file may not even be
readable by whoever migrates), so :func:`seal_clear_urls` does it where the key is at hand: ``ioc
migrate`` and every start of ``ioc serve``. Until then such a row still delivers (:meth:`open` passes a
clear URL through): an upgrade must never lose a page.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from cryptography.fernet import InvalidToken
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.crypto import SecretBox
from monitors.alerting.errors import DeliveryError
from monitors.alerting.models import Channel

log = logging.getLogger(__name__)

PURPOSE = "ioc alerting channel url v1"
MASK = "***"


def is_clear(stored: str) -> bool:
    """A Fernet token is url-safe base64 and never holds ``://``; every apprise URL does."""
    return "://" in stored


def masked(url: str) -> str:
    """What a listing, an audit row or a CLI answer shows of a URL: its scheme, nothing else."""
    scheme = urlsplit(url.strip()).scheme if is_clear(url) else ""
    return f"{scheme or 'unknown'}://{MASK}"


class ChannelUrls:
    def __init__(self, box: SecretBox) -> None:
        self._fernet = box.derive(PURPOSE)

    def seal(self, url: str) -> str:
        return self._fernet.encrypt(url.encode()).decode()

    def open(self, stored: str) -> str:
        if is_clear(stored):
            return stored
        try:
            return self._fernet.decrypt(stored.encode()).decode()
        except InvalidToken:
            raise DeliveryError(
                "channel URL cannot be opened with this platform's secret key", retryable=False
            ) from None

    def scheme(self, stored: str) -> str:
        """The masked form of a stored (sealed or legacy clear) URL."""
        try:
            return masked(self.open(stored))
        except DeliveryError:
            return masked("")


async def seal_clear_urls(session: AsyncSession, urls: ChannelUrls) -> int:
    """Seal every channel still holding a clear URL; returns how many. Idempotent."""
    rows = [row for row in await session.scalars(select(Channel)) if is_clear(row.url)]
    for row in rows:
        row.url = urls.seal(row.url)
    if rows:
        await session.flush()
        log.warning("sealed %d alert channel URL(s) stored in clear by an earlier version", len(rows))
    return len(rows)
