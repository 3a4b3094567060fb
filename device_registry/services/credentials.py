"""Named credentials, sealed before they reach the database; never returned by any read.

Who may use which: a private credential (``device/N``) only by device N; a shared one only by devices
in its owning site's subtree, and only by users whose scope covers that site (``Principal.covers``).
A credential the caller may not see is "not found", whatever its name, so names do not leak across
scopes.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry import site_paths
from device_registry.authz import Principal
from device_registry.credentials import Credential as CredentialValue
from device_registry.crypto import SecretBox
from device_registry.errors import Conflict, Forbidden, InvalidInput, NotFound
from device_registry.models import Credential, Device, Role, Site
from device_registry.models.devices import PRIVATE_PREFIX
from device_registry.services import audit
from device_registry.services.sites import resolve_site, site_not_found


def visible_clause(principal: Principal) -> ColumnElement[bool]:
    """Shared credentials whose owning site the principal's scope covers (private ones never listed)."""
    shared = Credential.name.not_like(f"{PRIVATE_PREFIX}%")
    if principal.unscoped:
        return shared & true()
    if principal.scope_frozen:
        return Credential.id.is_(None)
    return shared & Credential.site_id.in_(
        select(Site.id).where(site_paths.subtree(Site.path, principal.scope_path or ""))
    )


async def create_credential(
    session: AsyncSession,
    principal: Principal,
    box: SecretBox,
    name: str,
    value: CredentialValue,
    site_ref: str | int | None = None,
) -> Credential:
    """``site_ref`` owns it; a scoped engineer's default is their scope site, an unscoped user's none."""
    principal.require(Role.ENGINEER, action="create credentials")
    if name.startswith(PRIVATE_PREFIX):
        raise InvalidInput(
            f"name: {PRIVATE_PREFIX}… names are reserved for devices' own credentials", field="name"
        )
    site = None
    if site_ref is not None:
        site = await resolve_site(session, site_ref, field="site")
    elif not principal.unscoped:
        site = await session.get(Site, principal.scope_site_id) if principal.scope_site_id else None
    if site_ref is not None and not principal.covers(site):
        raise site_not_found(site_ref)  # a site outside the scope is answered as one that does not exist
    if not principal.covers(site):
        raise Forbidden("site: the whole registry is outside your scope: name an owning site in it")
    if await session.scalar(select(Credential.id).where(Credential.name == name)) is not None:
        raise Conflict(f"name: a credential named {name!r} exists", field="name")
    row = Credential(
        name=name, protocol=value.protocol, secret=box.seal(value), site_id=site.id if site else None
    )
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
        {"protocol": value.protocol, "site_id": row.site_id, "secret": "set"},
    )
    return row


async def credential_for_device(
    session: AsyncSession,
    principal: Principal,
    name: str,
    site: Site,
    device_id: int | None = None,
    *,
    field: str = "credential_ref",
) -> Credential:
    """The credential ``name`` for a device at ``site`` (``device_id`` None: not created yet)."""
    row = await session.scalar(select(Credential).where(Credential.name == name))
    if row is None or not await _owner_device_visible(session, principal, row):
        raise NotFound(f"{field}: no credential named {name!r}", field=field)
    check_use(
        principal, row, await session.get(Site, row.site_id) if row.site_id else None, site, device_id, field
    )
    return row


async def _owner_device_visible(session: AsyncSession, principal: Principal, row: Credential) -> bool:
    """A private credential exists, for a caller, only if they may see the device it belongs to:
    otherwise ``device/N`` would tell a scoped user which ids are another commune's devices."""
    if row.private_owner is None or principal.unscoped:
        return True
    query = select(Device.id).where(Device.id == row.private_owner, principal.device_clause())
    return await session.scalar(query) is not None


def check_use(
    principal: Principal,
    row: Credential,
    owner: Site | None,
    site: Site,
    device_id: int | None,
    field: str,
) -> None:
    """Raise unless a device (``device_id`` at ``site``) may reference ``row``, set by ``principal``."""
    if row.name.startswith(PRIVATE_PREFIX):
        if row.private_owner is None or row.private_owner != device_id:
            raise Forbidden(
                f"{field}: a device's own credential cannot be used by another device", field=field
            )
        return
    if not principal.covers(owner):
        raise NotFound(f"{field}: no credential named {row.name!r}", field=field)
    check_owner_covers(row, owner, site, field)


def check_owner_covers(row: Credential, owner: Site | None, site: Site, field: str) -> None:
    """A shared credential serves only devices in its owning site's subtree."""
    if owner is not None and not site_paths.contains(owner.path, site.path):
        raise InvalidInput(
            f"{field}: credential {row.name!r} belongs to site {owner.code}; site {site.code} is outside it",
            field=field,
        )


async def private_credential(
    session: AsyncSession, box: SecretBox, device_id: int, value: CredentialValue
) -> Credential:
    """A device's own credential, named after the device id so renames never orphan it."""
    name = f"{PRIVATE_PREFIX}{device_id}"
    row = await session.scalar(select(Credential).where(Credential.name == name))
    if row is None:
        row = Credential(name=name, protocol=value.protocol, secret=box.seal(value))
        session.add(row)
        await session.flush()
    else:
        row.protocol = value.protocol
        row.secret = box.seal(value)
    return row
