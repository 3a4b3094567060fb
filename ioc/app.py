"""The FastAPI application: registry routes, /metrics, and the lifespan that owns async resources."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.api import registry_router
from device_registry.api.deps import RegistryRuntime, Session
from device_registry.api.devices import IMPORT_PATH
from device_registry.api.errors import ERROR_RESPONSES, install_error_handlers
from device_registry.services.users import authenticate
from ioc.body_limit import BodyLimitMiddleware
from ioc.mqtt_broker import push_credentials
from ioc.runtime import Platform
from ioc.settings import Settings
from ioc.web.docs import install_docs
from ioc.web.pages import install_pages
from monitors.alerting.api import channels_router as alert_channels_router
from monitors.alerting.api import router as alerts_router
from monitors.api import monitors_router
from monitors.status_queries import SqlDeviceStates
from provisioning.errors import DeviceError
from provisioning.mqtt.api import router as mqtt_router
from provisioning.onvif.api import router as onvif_router
from provisioning.responses import device_error_body, device_error_status
from provisioning.snmp.api import router as snmp_router
from provisioning.targets import TargetPolicy
from telemetry import metrics as telemetry_metrics
from telemetry.ingest.api import router as deadletters_router

PROTOCOL_ROUTERS = {"snmp": snmp_router, "onvif": onvif_router, "mqtt": mqtt_router}
"""Each protocol package's ``api.router``, mounted one way: ``/api/v1/{protocol}/probe|discover|onboard``."""

_bearer = HTTPBearer(auto_error=False, description="an API token, or IOC_METRICS_TOKEN for /metrics")


async def _metrics_reader(
    settings: Settings, session: AsyncSession, credentials: HTTPAuthorizationCredentials | None
) -> None:
    if credentials is None:
        raise HTTPException(401, "missing bearer token", {"WWW-Authenticate": "Bearer"})
    scrape = settings.metrics_token
    if scrape is not None and hmac.compare_digest(
        credentials.credentials.encode(), scrape.get_secret_value().encode()
    ):
        return
    caller = await authenticate(session, credentials.credentials)
    await session.commit()
    if caller is None:
        raise HTTPException(401, "invalid, expired or revoked token", {"WWW-Authenticate": "Bearer"})
    caller.require_admin("read /metrics (use an admin token or IOC_METRICS_TOKEN)")


def install_device_error_handler(app: FastAPI) -> None:
    """The one place a device's failure becomes HTTP, for every protocol's routes: the status from the
    error's type, the body ``{detail, field, kind, retryable}``. Routes let ``DeviceError`` propagate;
    the request's session closes without a commit, so nothing of a failed onboarding is written."""

    @app.exception_handler(DeviceError)
    async def _device_error(_: Request, error: DeviceError) -> JSONResponse:
        return JSONResponse(status_code=device_error_status(error), content=device_error_body(error))


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
        app.state.service_report = current.service_report
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
    install_device_error_handler(app)
    app.state.snmp_targets = TargetPolicy.of(settings.snmp.allowed_networks)
    app.state.onvif_targets = TargetPolicy.of(settings.onvif.allowed_networks)
    app.state.mqtt_targets = TargetPolicy.of(settings.mqtt.allowed_networks)
    app.add_middleware(
        BodyLimitMiddleware,
        default=settings.api.max_body_bytes,
        larger={("POST", IMPORT_PATH): settings.api.max_import_bytes},
    )
    install_docs(app)
    install_pages(app)
    app.include_router(registry_router(), responses=ERROR_RESPONSES)
    app.include_router(monitors_router(), responses=ERROR_RESPONSES)
    for router in (alerts_router, alert_channels_router, deadletters_router):
        app.include_router(router, prefix="/api/v1", responses=ERROR_RESPONSES)
    for protocol, router in PROTOCOL_ROUTERS.items():
        app.include_router(router, prefix=f"/api/v1/{protocol}", tags=[protocol], responses=ERROR_RESPONSES)

    @app.get("/metrics", tags=["metrics"], response_class=Response, responses=ERROR_RESPONSES)
    async def metrics(
        session: Session,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Response:
        """Prometheus text format (process + telemetry writer). The whole fleet's up/down is in it, so
        only admins, or a scraper holding ``IOC_METRICS_TOKEN``, may read it."""
        await _metrics_reader(settings, session, credentials)
        body = generate_latest(REGISTRY) + telemetry_metrics.render()[0]
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return app
