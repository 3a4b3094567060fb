"""Named credentials, sealed before they reach the database; never returned by any read."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.authz import Principal
from device_registry.credentials import Credential as CredentialValue
from device_registry.crypto import SecretBox
from device_registry.errors import Conflict, NotFound
from device_registry.models import Credential, Role
from device_registry.services import audit


async def create_credential(
    session: AsyncSession, principal: Principal, box: SecretBox, name: str, value: CredentialValue
) -> Credential:
    principal.require(Role.ENGINEER, action="create credentials")
    if await session.scalar(select(Credential.id).where(Credential.name == name)) is not None:
        raise Conflict(f"name: a credential named {name!r} exists", field="name")
    row = Credential(name=name, protocol=value.protocol, secret=box.seal(value))
    session.add(row)
    await session.flush()
    await audit.record(
        session,
        principal,
        "create",
        "credential",
        row.id,
        name,
        None,
        {"protocol": value.protocol, "secret": "set"},
    )
    return row


async def credential_by_name(
    session: AsyncSession, name: str, *, field: str = "credential_ref"
) -> Credential:
    row = await session.scalar(select(Credential).where(Credential.name == name))
    if row is None:
        raise NotFound(f"{field}: no credential named {name!r}", field=field)
    return row


async def private_credential(
    session: AsyncSession, box: SecretBox, device_id: int, value: CredentialValue
) -> Credential:
    """A device's own credential, named after the device id so renames never orphan it."""
    name = f"device/{device_id}"
    row = await session.scalar(select(Credential).where(Credential.name == name))
    if row is None:
        row = Credential(name=name, protocol=value.protocol, secret=box.seal(value))
        session.add(row)
        await session.flush()
    else:
        row.protocol = value.protocol
        row.secret = box.seal(value)
    return row
