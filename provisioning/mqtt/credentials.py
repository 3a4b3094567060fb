"""Per-device MQTT credentials: the broker user name is the device id, the password is shown once.

Only the Mosquitto hash is stored (``mqtt_credentials``, :class:`MqttCredential`: the broker's verifier
store, kept apart from the sealed registry credentials and from the device's facts), so the registry can
rebuild the broker's password file at any time but can never reveal a password. Issuing again rotates
the password; revoking keeps the row (with ``revoked_at``) as a record of when the device lost access.
The times are mirrored in the device's :class:`MqttFacts` by ``onboard.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from provisioning.mqtt.models import MqttCredential, MqttFacts
from provisioning.mqtt.passwords import generate_password, hash_password
from provisioning.mqtt.topics import device_prefix


@dataclass(frozen=True)
class IssuedCredential:
    """Returned once at onboarding; the password is not stored anywhere in clear."""

    device_id: int
    username: str
    password: SecretStr
    facts: MqttFacts


def username_for(device_id: int) -> str:
    return str(device_id)


async def issue_credential(session: AsyncSession, device_id: int) -> IssuedCredential:
    """Inside the caller's transaction, so onboarding creates the device and its credential together."""
    password = generate_password()
    encoded = hash_password(password)
    now = datetime.now(UTC)
    row = await session.get(MqttCredential, device_id)
    if row is None:
        row = MqttCredential(device_id=device_id, password_hash=encoded, created_at=now)
        session.add(row)
    else:
        row.password_hash, row.created_at, row.revoked_at = encoded, now, None
    await session.flush()
    return IssuedCredential(device_id, username_for(device_id), SecretStr(password), credential_facts(row))


def credential_facts(row: MqttCredential) -> MqttFacts:
    """The device's facts as its credential row says (the migration back-fills the same)."""
    return MqttFacts(
        username=username_for(row.device_id),
        topic_prefix=device_prefix(row.device_id),
        credential_issued_at=row.created_at,
        credential_revoked_at=row.revoked_at,
    )


async def revoke_credential(session: AsyncSession, device_id: int) -> MqttFacts | None:
    """The device's facts after revoking its active credential; None when there was none (idempotent)."""
    row = await session.get(MqttCredential, device_id)
    if row is None or row.revoked_at is not None:
        return None
    row.revoked_at = datetime.now(UTC)
    await session.flush()
    return credential_facts(row)


async def active_credentials(sessions: async_sessionmaker[AsyncSession]) -> dict[int, str]:
    """Device id -> Mosquitto password hash, for every credential not revoked."""
    async with sessions() as session:
        rows = await session.execute(
            select(MqttCredential.device_id, MqttCredential.password_hash).where(
                MqttCredential.revoked_at.is_(None)
            )
        )
        return {device_id: encoded for device_id, encoded in rows.all()}
