"""Request dependencies: the database session, the authenticated principal, the secret box."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from device_registry.authz import Principal
from device_registry.crypto import SecretBox
from device_registry.queries.devices import DeviceStateSource
from device_registry.services.users import TokenLifetime, authenticate


@dataclass(frozen=True)
class RegistryRuntime:
    """What the registry routes need from the serving process; set on ``app.state.registry``."""

    sessions: async_sessionmaker[AsyncSession]
    box: SecretBox
    states: DeviceStateSource | None = None
    """Device states for the device views (the monitors' store); None: devices carry no state."""
    tokens: TokenLifetime = field(default_factory=TokenLifetime)


def runtime(request: Request) -> RegistryRuntime:
    value: RegistryRuntime = request.app.state.registry
    return value


async def db_session(rt: Annotated[RegistryRuntime, Depends(runtime)]) -> AsyncIterator[AsyncSession]:
    async with rt.sessions() as session:
        yield session


_bearer = HTTPBearer(auto_error=False, description="API token issued by `ioc init` or `ioc users token`")


async def principal(
    session: Annotated[AsyncSession, Depends(db_session)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "missing bearer token", {"WWW-Authenticate": "Bearer"}
        )
    found = await authenticate(session, credentials.credentials)
    if found is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "invalid, expired or revoked token", {"WWW-Authenticate": "Bearer"}
        )
    # End the authentication transaction now: its last_used_at update (flushed by the next query)
    # would otherwise hold SQLite's write lock for the rest of the request.
    await session.commit()
    return found


Session = Annotated[AsyncSession, Depends(db_session)]
CurrentPrincipal = Annotated[Principal, Depends(principal)]
Runtime = Annotated[RegistryRuntime, Depends(runtime)]
