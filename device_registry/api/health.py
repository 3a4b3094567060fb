from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

from device_registry.api.deps import Session

router = APIRouter(tags=["health"])


@router.get("/health")
async def health(session: Session) -> dict[str, str]:
    """Unauthenticated liveness: the API answers and the database answers."""
    await session.execute(text("SELECT 1"))
    return {"status": "ok", "database": "ok"}
