from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from device_registry.api.deps import CurrentPrincipal, Runtime, Session
from device_registry.models import Credential
from device_registry.schemas.devices import CredentialCreate, CredentialPublic
from device_registry.services.credentials import create_credential

router = APIRouter(prefix="/credentials", tags=["credentials"])


def _public(row: Credential) -> CredentialPublic:
    return CredentialPublic(id=row.id, name=row.name, protocol=row.protocol, created_at=row.created_at)


@router.get("", response_model=list[CredentialPublic])
async def list_(session: Session, _: CurrentPrincipal) -> list[CredentialPublic]:
    """Names and protocols only: a credential's secret is write-only."""
    rows = (
        await session.scalars(
            select(Credential).where(Credential.name.not_like("device/%")).order_by(Credential.name)
        )
    ).all()
    return [_public(r) for r in rows]


@router.post("", response_model=CredentialPublic, status_code=status.HTTP_201_CREATED)
async def create(
    data: CredentialCreate, session: Session, principal: CurrentPrincipal, rt: Runtime
) -> CredentialPublic:
    row = await create_credential(session, principal, rt.box, data.name, data.credential)
    await session.commit()
    return _public(row)
