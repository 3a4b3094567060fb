"""The registry's REST API: one router per resource, mounted under /api/v1 by the app factory."""

from fastapi import APIRouter

from device_registry.api import audit, credentials, devices, health, sites, users


def registry_router() -> APIRouter:
    router = APIRouter(prefix="/api/v1")
    for module in (health, sites, devices, credentials, users, audit):
        router.include_router(module.router)
    return router
