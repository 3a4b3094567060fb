"""Small, readable worlds for registry tests."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.authz import Principal
from device_registry.models import Role, SiteKind
from device_registry.schemas.sites import SiteCreate
from device_registry.schemas.users import TokenCreate, UserCreate
from device_registry.services.sites import create_site
from device_registry.services.users import create_user, issue_token

ADMIN = Principal.system("test-admin")

# code -> (name, kind, parent code)
TREE = {
    "P": ("Tỉnh Thử Nghiệm", SiteKind.PROVINCE, None),
    "D1": ("Huyện Vũ Thư", SiteKind.DISTRICT, "P"),
    "D2": ("Huyện Đông Hưng", SiteKind.DISTRICT, "P"),
    "A": ("Xã Hồng Lý", SiteKind.COMMUNE, "D1"),
    "A2": ("Xã Song An", SiteKind.COMMUNE, "D1"),
    "B": ("Xã Đông Các", SiteKind.COMMUNE, "D2"),
}

USERS = {
    "admin": (Role.ADMIN, None),
    "engineer_a": (Role.ENGINEER, "A"),
    "engineer_d1": (Role.ENGINEER, "D1"),
    "operator": (Role.OPERATOR, None),
    "maintenance_a": (Role.MAINTENANCE, "A"),
}


@dataclass
class World:
    site_ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)


async def create_sites(
    session: AsyncSession, principal: Principal, tree: dict[str, tuple[str, SiteKind, str | None]]
) -> dict[str, int]:
    """Sites from a ``code -> (name, kind, parent code)`` table, parents first; their ids by code. Through
    the registry's own service, so paths, history and audit are as in production."""
    ids = {}
    for code, (name, kind, parent) in tree.items():
        site = await create_site(
            session, principal, SiteCreate(code=code, name=name, kind=kind, parent_code=parent)
        )
        ids[code] = site.id
    return ids


async def create_users(
    session: AsyncSession, principal: Principal, users: dict[str, tuple[Role, str | None]]
) -> tuple[dict[str, int], dict[str, str]]:
    """Users from a ``username -> (role, scope site code)`` table, each with one API token: their ids and
    tokens by username."""
    ids, tokens = {}, {}
    for username, (role, scope) in users.items():
        user = await create_user(
            session, principal, UserCreate(username=username, role=role, scope_site_code=scope)
        )
        ids[username] = user.id
        tokens[username] = (await issue_token(session, principal, user, TokenCreate())).token
    return ids, tokens


async def build_world(sessions: async_sessionmaker[AsyncSession]) -> World:
    world = World()
    async with sessions() as session, session.begin():
        world.site_ids = await create_sites(session, ADMIN, TREE)
        world.user_ids, world.tokens = await create_users(session, ADMIN, USERS)
    return world
