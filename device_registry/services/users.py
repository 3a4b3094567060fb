"""Users, scopes and API tokens.

Tokens are 256-bit random strings; only their SHA-256 is stored (a slow password hash adds nothing
for values with this much entropy, and every request must verify one).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.authz import Principal
from device_registry.errors import Conflict, Forbidden, InvalidInput, NotFound
from device_registry.models import ApiToken, Role, Site, User, UserScopeDevice
from device_registry.models.types import utcnow
from device_registry.schemas.users import (
    TokenCreate,
    TokenIssued,
    TokenPublic,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from device_registry.services import audit
from device_registry.services.sites import resolve_site

TOKEN_PREFIX = "ioc_"
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class TokenLifetime:
    """Every token expires: ``default`` when none is asked for, never later than ``maximum``.
    Settings ``IOC_TOKENS__DEFAULT_LIFETIME_DAYS`` / ``IOC_TOKENS__MAX_LIFETIME_DAYS``."""

    default: timedelta = timedelta(days=90)
    maximum: timedelta = timedelta(days=365)

    def expiry(self, principal: Principal, asked: datetime | None, now: datetime) -> datetime:
        """When a token asked for by ``principal`` expires; 422 naming ``expires_at`` if it cannot."""
        if asked is not None:
            if asked.tzinfo is None:
                raise InvalidInput("expires_at: include a UTC offset", field="expires_at")
            if asked <= now:
                raise InvalidInput("expires_at: must be in the future", field="expires_at")
            if asked > now + self.maximum:
                raise InvalidInput(
                    f"expires_at: at most {self.maximum.days} days from now", field="expires_at"
                )
            if principal.token_expires_at is not None and asked > principal.token_expires_at:
                raise InvalidInput(
                    "expires_at: a token cannot outlive the token that requests it "
                    f"(which expires at {principal.token_expires_at.isoformat()})",
                    field="expires_at",
                )
            return asked
        expiry = now + self.default
        if principal.token_expires_at is not None:
            expiry = min(expiry, principal.token_expires_at)
        return expiry


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_snapshot(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "role": str(user.role),
        "scope_site_id": user.scope_site_id,
        "scope_frozen": user.scope_frozen,
        "active": user.active,
    }


async def user_view(session: AsyncSession, user: User) -> UserPublic:
    scope = await session.get(Site, user.scope_site_id) if user.scope_site_id else None
    return UserPublic(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        role=user.role,
        scope_site_code=scope.code if scope else None,
        scope_site_name=scope.name if scope else None,
        scope_frozen=user.scope_frozen,
        active=user.active,
        created_at=user.created_at,
    )


async def create_user(session: AsyncSession, principal: Principal, data: UserCreate) -> User:
    principal.require_admin("create users")
    if await session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict(f"username: {data.username!r} exists", field="username")
    scope = (
        await resolve_site(session, data.scope_site_code, field="scope_site_code")
        if data.scope_site_code
        else None
    )
    user = User(
        username=data.username,
        full_name=data.full_name,
        email=data.email,
        role=data.role,
        scope_site_id=scope.id if scope else None,
        scope_frozen=False,
        active=True,
    )
    session.add(user)
    await session.flush()
    await audit.record(
        session, principal, "create", "user", user.id, user.username, None, user_snapshot(user)
    )
    return user


async def get_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user with id {user_id}", field="user_id")
    return user


async def update_user(session: AsyncSession, principal: Principal, user: User, data: UserUpdate) -> User:
    principal.require_admin("edit users")
    before = user_snapshot(user)
    for key in ("full_name", "email", "role", "active"):
        value = getattr(data, key)
        if value is not None:
            setattr(user, key, value)
    if data.clear_scope or data.scope_site_code is not None:
        scope = (
            await resolve_site(session, data.scope_site_code, field="scope_site_code")
            if data.scope_site_code
            else None
        )
        user.scope_site_id = scope.id if scope else None
        user.scope_frozen = False
        await session.execute(delete(UserScopeDevice).where(UserScopeDevice.user_id == user.id))
    await audit.record(
        session, principal, "update", "user", user.id, user.username, before, user_snapshot(user)
    )
    return user


def token_view(token: ApiToken) -> TokenPublic:
    return TokenPublic(
        id=token.id,
        user_id=token.user_id,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
        revoked=token.revoked_at is not None,
    )


async def issue_token(
    session: AsyncSession,
    principal: Principal,
    user: User,
    data: TokenCreate,
    lifetime: TokenLifetime = TokenLifetime(),
) -> TokenIssued:
    if principal.role != Role.ADMIN and principal.user_id != user.id:
        raise Forbidden("only admins may issue tokens for other users")
    expires_at = lifetime.expiry(principal, data.expires_at, utcnow())
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=data.name,
        token_hash=hash_token(raw),
        prefix=raw[:12],
        expires_at=expires_at,
    )
    session.add(token)
    await session.flush()
    await audit.record(
        session,
        principal,
        "create",
        "token",
        token.id,
        f"{user.username}:{token.prefix}",
        None,
        {"user_id": user.id, "name": data.name, "expires_at": expires_at.isoformat(), "token": "issued"},
    )
    return TokenIssued(**token_view(token).model_dump(), token=raw)


def _check_tokens_of(principal: Principal, user_id: int) -> None:
    if principal.role != Role.ADMIN and principal.user_id != user_id:
        raise Forbidden("only admins may see or revoke other users' tokens")


async def list_tokens(session: AsyncSession, principal: Principal, user_id: int) -> list[TokenPublic]:
    _check_tokens_of(principal, user_id)
    rows = await session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
    return [token_view(t) for t in rows]


async def revoke_token(session: AsyncSession, principal: Principal, token_id: int) -> None:
    """Another user's token is "not found" to a non-admin: token ids do not leak."""
    token = await session.get(ApiToken, token_id)
    if token is None or (principal.role != Role.ADMIN and token.user_id != principal.user_id):
        raise NotFound(f"no token with id {token_id}", field="token_id")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        await audit.record(session, principal, "revoke", "token", token.id, token.prefix, None, None)


async def revoke_all_tokens(session: AsyncSession, principal: Principal, user: User) -> int:
    """Every live token of ``user``, the caller's own included; how many were revoked."""
    _check_tokens_of(principal, user.id)
    now = utcnow()
    live = (
        await session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        )
    ).all()
    for token in live:
        token.revoked_at = now
    await audit.record(
        session, principal, "revoke", "token", None, f"{user.username}:*", None, {"revoked": len(live)}
    )
    return len(live)


async def authenticate(session: AsyncSession, raw: str, now: datetime | None = None) -> Principal | None:
    """The principal for a bearer token, or None when it is unknown, revoked, expired or its user inactive."""
    now = now or utcnow()
    row = (
        await session.execute(
            select(ApiToken, User)
            .join(User, User.id == ApiToken.user_id)
            .where(ApiToken.token_hash == hash_token(raw))
        )
    ).first()
    if row is None:
        return None
    token, user = row
    if (
        token.revoked_at is not None
        or not user.active
        or (token.expires_at is not None and token.expires_at <= now)
    ):
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
    found = await principal_for(session, user)
    return replace(found, token_id=token.id, token_expires_at=token.expires_at)


async def principal_for(session: AsyncSession, user: User) -> Principal:
    scope = await session.get(Site, user.scope_site_id) if user.scope_site_id else None
    return Principal(
        name=user.username,
        role=Role(user.role),
        user_id=user.id,
        scope_site_id=user.scope_site_id,
        scope_path=scope.path if scope else None,
        scope_frozen=user.scope_frozen,
    )
