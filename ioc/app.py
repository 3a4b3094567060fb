"""The FastAPI application: registry routes, /metrics, and the lifespan that owns async resources."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from device_registry.api import registry_router
from device_registry.api.deps import CurrentPrincipal, RegistryRuntime
from device_registry.api.devices import IMPORT_PATH
from device_registry.api.errors import install_error_handlers
from ioc.body_limit import BodyLimitMiddleware
from ioc.mqtt_broker import push_credentials
from ioc.runtime import Platform
from ioc.settings import Settings
from ioc.web.docs import install_docs
from ioc.web.pages import install_pages
from monitors.alerting.api import router as alerts_router
from monitors.api import monitors_router
from monitors.status_queries import SqlDeviceStates
from provisioning.mqtt.api import router as mqtt_router
from provisioning.onvif.api import router as onvif_router
from provisioning.snmp import api as snmp_api
from provisioning.targets import TargetPolicy
from telemetry import metrics as telemetry_metrics
from telemetry.ingest.api import router as deadletters_router


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> FastAPI:
    """With ``platform`` (``ioc serve``) the app borrows the process's resources; without one (tests,
    ``uvicorn ioc.app:create_app --factory``) its lifespan opens and closes its own."""
    settings = settings or (platform.settings if platform else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = platform is None
        current = platform or Platform.open(settings)
        app.state.platform = current
        app.state.registry = RegistryRuntime(
            sessions=current.sessions,
            box=current.box,
            states=SqlDeviceStates(),
            tokens=settings.tokens.lifetime,
        )
        app.state.mqtt_push = lambda: push_credentials(settings, current.sessions)
        try:
            yield
        finally:
            if owned:
                await current.close()

    app = FastAPI(
        title="IOC platform",
        version="0.1.0",
        description="Device registry and telemetry for provincial smart-city operations centres.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    app.state.snmp_targets = TargetPolicy.of(settings.snmp.allowed_networks)
    app.state.onvif_targets = TargetPolicy.of(settings.onvif.allowed_networks)
    app.add_middleware(
        BodyLimitMiddleware,
        default=settings.api.max_body_bytes,
        larger={("POST", IMPORT_PATH): settings.api.max_import_bytes},
    )
    install_docs(app)
    install_pages(app)
    app.include_router(registry_router())
    app.include_router(alerts_router, prefix="/api/v1")
    app.include_router(monitors_router())
    app.include_router(mqtt_router, prefix="/api/v1")
    app.include_router(deadletters_router, prefix="/api/v1")
    app.include_router(snmp_api.router, prefix="/api/v1")
    app.include_router(onvif_router, prefix="/api/v1")

    @app.get("/metrics", tags=["metrics"], response_class=Response)
    async def metrics(_: CurrentPrincipal) -> Response:
        """Prometheus text format (process + telemetry writer); authenticated like every route but health."""
        body = generate_latest(REGISTRY) + telemetry_metrics.render()[0]
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return app
