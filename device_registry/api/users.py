from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy import select

from device_registry.api.deps import CurrentPrincipal, Session
from device_registry.errors import NotFound
from device_registry.models import ApiToken, User
from device_registry.schemas.users import (
    TokenCreate,
    TokenIssued,
    TokenPublic,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from device_registry.services import users as service

router = APIRouter(tags=["users"])


@router.get("/me", response_model=UserPublic)
async def me(session: Session, principal: CurrentPrincipal) -> UserPublic:
    if principal.user_id is None:
        raise NotFound("no user behind this principal")
    return await service.user_view(session, await service.get_user(session, principal.user_id))


@router.get("/me/tokens", response_model=list[TokenPublic])
async def my_tokens(session: Session, principal: CurrentPrincipal) -> list[TokenPublic]:
    rows = (
        await session.scalars(
            select(ApiToken).where(ApiToken.user_id == principal.user_id).order_by(ApiToken.id)
        )
    ).all()
    return [service.token_view(t) for t in rows]


@router.post("/me/tokens", response_model=TokenIssued, status_code=status.HTTP_201_CREATED)
async def issue_my_token(data: TokenCreate, session: Session, principal: CurrentPrincipal) -> TokenIssued:
    user = await service.get_user(session, principal.user_id or 0)
    issued = await service.issue_token(session, principal, user, data)
    await session.commit()
    return issued


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke(token_id: int, session: Session, principal: CurrentPrincipal) -> Response:
    await service.revoke_token(session, principal, token_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/users", response_model=list[UserPublic])
async def list_users(session: Session, principal: CurrentPrincipal) -> list[UserPublic]:
    principal.require_admin("list users")
    return [
        await service.user_view(session, u)
        for u in (await session.scalars(select(User).order_by(User.id))).all()
    ]


@router.post("/users", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
async def create_user(data: UserCreate, session: Session, principal: CurrentPrincipal) -> UserPublic:
    user = await service.create_user(session, principal, data)
    await session.commit()
    return await service.user_view(session, user)


@router.patch("/users/{user_id}", response_model=UserPublic)
async def update_user(
    user_id: int, data: UserUpdate, session: Session, principal: CurrentPrincipal
) -> UserPublic:
    principal.require_admin("edit users")
    user = await service.update_user(session, principal, await service.get_user(session, user_id), data)
    await session.commit()
    return await service.user_view(session, user)


@router.post("/users/{user_id}/tokens", response_model=TokenIssued, status_code=status.HTTP_201_CREATED)
async def issue_token(
    user_id: int, data: TokenCreate, session: Session, principal: CurrentPrincipal
) -> TokenIssued:
    issued = await service.issue_token(session, principal, await service.get_user(session, user_id), data)
    await session.commit()
    return issued
