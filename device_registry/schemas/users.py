from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from device_registry.models import Role
from device_registry.schemas.common import PlainText


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")
    full_name: PlainText = Field(default="", max_length=255)
    email: str | None = Field(default=None, max_length=255)
    role: Role
    scope_site_code: str | None = None


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    full_name: PlainText | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=255)
    role: Role | None = None
    scope_site_code: str | None = None
    clear_scope: bool = False
    active: bool | None = None


class UserPublic(BaseModel):
    id: int
    username: str
    full_name: str
    email: str | None
    role: Role
    scope_site_code: str | None
    scope_site_name: str | None
    scope_frozen: bool
    active: bool
    created_at: datetime


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PlainText = Field(default="", max_length=128)
    expires_at: datetime | None = Field(
        default=None,
        description="With a UTC offset. Default: the configured default lifetime; never beyond the "
        "maximum lifetime, nor beyond the expiry of the token making the request.",
    )


class TokenPublic(BaseModel):
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked: bool


class TokensRevoked(BaseModel):
    revoked: int = Field(description="Tokens revoked by this request (already revoked ones not counted).")


class TokenIssued(TokenPublic):
    token: str = Field(description="Shown once; only its hash is stored.")


class AuditPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    actor_user_id: int | None
    action: str
    object_type: str
    object_id: int | None
    object_repr: str
    before: dict[str, object] | None
    after: dict[str, object] | None
