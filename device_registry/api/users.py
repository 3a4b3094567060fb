from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy import select

from device_registry.api.deps import CurrentPrincipal, Runtime, Session
from device_registry.authz import Principal
from device_registry.errors import NotFound
from device_registry.models import User
from device_registry.schemas.bounds import RowId
from device_registry.schemas.users import (
    TokenCreate,
    TokenIssued,
    TokenPublic,
    TokensRevoked,
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


def _me(principal: Principal) -> int:
    if principal.user_id is None:
        raise NotFound("no user behind this principal")
    return principal.user_id


@router.get("/me/tokens", response_model=list[TokenPublic])
async def my_tokens(session: Session, principal: CurrentPrincipal) -> list[TokenPublic]:
    return await service.list_tokens(session, principal, _me(principal))


@router.post(
    "/me/tokens",
    response_model=TokenIssued,
    status_code=status.HTTP_201_CREATED,
    responses={422: {"description": "expires_at in the past, beyond the maximum or the caller's token"}},
)
async def issue_my_token(
    data: TokenCreate, session: Session, principal: CurrentPrincipal, rt: Runtime
) -> TokenIssued:
    """A token for yourself; it never outlives the token this request is made with."""
    user = await service.get_user(session, _me(principal))
    issued = await service.issue_token(session, principal, user, data, rt.tokens)
    await session.commit()
    return issued


@router.delete("/me/tokens", response_model=TokensRevoked)
async def revoke_my_tokens(session: Session, principal: CurrentPrincipal) -> TokensRevoked:
    """Revoke every token of yours, the one this request is made with included."""
    user = await service.get_user(session, _me(principal))
    revoked = await service.revoke_all_tokens(session, principal, user)
    await session.commit()
    return TokensRevoked(revoked=revoked)


@router.delete(
    "/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={404: {"description": "no such token, or another user's token and you are not an admin"}},
)
async def revoke(token_id: RowId, session: Session, principal: CurrentPrincipal) -> Response:
    await service.revoke_token(session, principal, token_id)
    await session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/users/{user_id}/tokens",
    response_model=list[TokenPublic],
    responses={403: {"description": "another user's tokens and you are not an admin"}},
)
async def user_tokens(user_id: RowId, session: Session, principal: CurrentPrincipal) -> list[TokenPublic]:
    return await service.list_tokens(session, principal, (await service.get_user(session, user_id)).id)


@router.delete(
    "/users/{user_id}/tokens",
    response_model=TokensRevoked,
    responses={403: {"description": "another user's tokens and you are not an admin"}},
)
async def revoke_user_tokens(user_id: RowId, session: Session, principal: CurrentPrincipal) -> TokensRevoked:
    """Revoke every token of a user (a stolen laptop, someone leaving)."""
    revoked = await service.revoke_all_tokens(session, principal, await service.get_user(session, user_id))
    await session.commit()
    return TokensRevoked(revoked=revoked)


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
    user_id: RowId, data: UserUpdate, session: Session, principal: CurrentPrincipal
) -> UserPublic:
    principal.require_admin("edit users")
    user = await service.update_user(session, principal, await service.get_user(session, user_id), data)
    await session.commit()
    return await service.user_view(session, user)


@router.post("/users/{user_id}/tokens", response_model=TokenIssued, status_code=status.HTTP_201_CREATED)
async def issue_token(
    user_id: RowId, data: TokenCreate, session: Session, principal: CurrentPrincipal, rt: Runtime
) -> TokenIssued:
    user = await service.get_user(session, user_id)
    issued = await service.issue_token(session, principal, user, data, rt.tokens)
    await session.commit()
    return issued
