"""Recording changes. Snapshots never contain secrets: credentials appear only as a name/flag."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.authz import Principal
from device_registry.models import AuditEntry
from device_registry.models.types import utcnow

REDACTED = "***"
_SECRET_KEYS = {"secret", "password", "community", "auth_key", "priv_key", "token", "credential"}


def redact(data: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return {k: (REDACTED if k in _SECRET_KEYS and v is not None else v) for k, v in data.items()}


def entry(
    principal: Principal,
    action: str,
    object_type: str,
    object_id: int | None,
    object_repr: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "at": utcnow(),
        "actor_user_id": principal.user_id,
        "actor": principal.name,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "object_repr": object_repr[:255],
        "before": redact(before),
        "after": redact(after),
    }


async def record(
    session: AsyncSession,
    principal: Principal,
    action: str,
    object_type: str,
    object_id: int | None,
    object_repr: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    session.add(AuditEntry(**entry(principal, action, object_type, object_id, object_repr, before, after)))


async def record_many(session: AsyncSession, entries: Iterable[dict[str, Any]]) -> None:
    rows = list(entries)
    if rows:
        await session.execute(insert(AuditEntry), rows)
