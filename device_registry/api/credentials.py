from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from device_registry.api.deps import CurrentPrincipal, Runtime, Session
from device_registry.models import Credential, Site
from device_registry.schemas.devices import CredentialCreate, CredentialPublic
from device_registry.services.credentials import create_credential, visible_clause

router = APIRouter(prefix="/credentials", tags=["credentials"])


def _public(row: Credential, site: Site | None) -> CredentialPublic:
    return CredentialPublic(
        id=row.id,
        name=row.name,
        protocol=row.protocol,
        site_code=site.code if site else None,
        created_at=row.created_at,
    )


@router.get("", response_model=list[CredentialPublic])
async def list_(session: Session, principal: CurrentPrincipal) -> list[CredentialPublic]:
    """Names, protocols and owning sites of the shared credentials your scope covers; secrets are
    write-only and devices' own credentials are never listed."""
    rows = (
        await session.execute(
            select(Credential, Site)
            .outerjoin(Site, Site.id == Credential.site_id)
            .where(visible_clause(principal))
            .order_by(Credential.name)
        )
    ).all()
    return [_public(row, site) for row, site in rows]


@router.post(
    "",
    response_model=CredentialPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        403: {"description": "not an engineer, or the owning site is outside your scope"},
        409: {"description": "the name exists"},
        422: {"description": "invalid input, or a reserved device/… name"},
    },
)
async def create(
    data: CredentialCreate, session: Session, principal: CurrentPrincipal, rt: Runtime
) -> CredentialPublic:
    row = await create_credential(session, principal, rt.box, data.name, data.credential, data.site_code)
    await session.commit()
    return _public(row, await session.get(Site, row.site_id) if row.site_id else None)
