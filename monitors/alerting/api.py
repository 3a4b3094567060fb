"""REST routes for alerts, mounted under /api/v1 by the app factory.

Everyone authenticated may read the alerts of devices in their scope; acknowledging and resolving is for
operators and maintenance staff (and admins), again only within their site scope. An alert outside the
scope answers 404, exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from device_registry.api.deps import CurrentPrincipal, Runtime, Session
from device_registry.authz import Principal
from device_registry.errors import Conflict, Forbidden, NotFound
from device_registry.models import Role
from monitors.alerting.channel_urls import ChannelUrls
from monitors.alerting.config import AlertingSettings
from monitors.alerting.context import AlertingContext
from monitors.alerting.directory import RegistryDirectory
from monitors.alerting.errors import AlertNotFound, AlertStateError
from monitors.alerting.lifecycle import AlertLifecycle
from monitors.alerting.models import AlertStatus
from monitors.alerting.queries import (
    AlertView,
    ChannelView,
    DeliveryView,
    get_alert,
    list_alerts,
    list_channels,
    list_deliveries,
)

HIDDEN_ERROR = "delivery failed (an admin sees why)"

router = APIRouter(prefix="/alerts", tags=["alerts"])
channels_router = APIRouter(prefix="/alert-channels", tags=["alerts"])

RESPONDERS = (Role.OPERATOR, Role.MAINTENANCE)


class AckBody(BaseModel):
    comment: str = Field(default="", max_length=2000)


def lifecycle(request: Request) -> AlertLifecycle:
    """One per application: built on first use from the platform the app's lifespan opened."""
    state = request.app.state
    found: AlertLifecycle | None = getattr(state, "alert_lifecycle", None)
    if found is None:
        platform = state.platform
        settings: AlertingSettings = platform.settings.alerting
        directory = RegistryDirectory(platform.sessions)
        found = AlertLifecycle(
            AlertingContext(
                sessions=platform.sessions,
                sites=directory,
                devices=directory,
                box=platform.box,
                settings=settings,
            )
        )
        state.alert_lifecycle = found
    return found


Lifecycle = Annotated[AlertLifecycle, Depends(lifecycle)]


@router.get("", response_model=list[AlertView])
async def list_(
    session: Session,
    principal: CurrentPrincipal,
    status: Annotated[list[AlertStatus] | None, Query()] = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AlertView]:
    statuses = status or [AlertStatus.FIRING, AlertStatus.ACKNOWLEDGED]
    return await list_alerts(
        session, principal, statuses=statuses, limit=min(max(limit, 1), 1000), offset=offset
    )


@router.get("/{alert_id}", response_model=AlertView)
async def show(alert_id: int, session: Session, principal: CurrentPrincipal) -> AlertView:
    return await _visible(session, alert_id, principal)


@router.get("/{alert_id}/deliveries", response_model=list[DeliveryView])
async def deliveries(alert_id: int, session: Session, principal: CurrentPrincipal) -> list[DeliveryView]:
    """Who was told what and when: every notification of the alert and every attempt at it. A failed
    attempt's error text (it may quote a channel's URL, host or bot token) is for admins only."""
    await _visible(session, alert_id, principal)
    views = await list_deliveries(session, alert_id)
    if principal.role == Role.ADMIN:
        return views
    return [v.model_copy(update={"error": HIDDEN_ERROR}) if v.error else v for v in views]


async def _visible(session: Session, alert_id: int, principal: Principal) -> AlertView:
    view = await get_alert(session, alert_id, principal)
    if view is None:
        raise NotFound(f"alert {alert_id} does not exist", field="alert_id")
    return view


async def _release(session: Session) -> None:
    """End the request session's transaction before the lifecycle writes on its own connection.

    Authentication may have flushed a token's ``last_used_at`` without committing (an autoflush leaves
    the session clean but the transaction open), which on SQLite would hold the write lock we need.
    """
    await session.commit()


def _responder(principal: Principal, action: str) -> int:
    principal.require(*RESPONDERS, action=action)
    if principal.user_id is None:
        raise Forbidden(f"{action} needs a user account", field="user")
    return principal.user_id


async def _act(
    session: Session, principal: Principal, alert_id: int, action: Callable[[], Awaitable[object]]
) -> AlertView:
    """Run a person's ``action`` on an alert they can see, and answer with the alert as it is now."""
    await _release(session)
    await _visible(session, alert_id, principal)
    try:
        await action()
    except AlertStateError as error:
        raise Conflict(str(error), field="status") from None
    except AlertNotFound as error:
        raise NotFound(str(error), field="alert_id") from None
    session.expire_all()
    return await _visible(session, alert_id, principal)


@router.post("/{alert_id}/ack", response_model=AlertView)
async def ack(
    alert_id: int, body: AckBody, session: Session, principal: CurrentPrincipal, alerts: Lifecycle
) -> AlertView:
    user_id = _responder(principal, "acknowledge alerts")
    return await _act(
        session, principal, alert_id, lambda: alerts.acknowledge(alert_id, user_id, body.comment)
    )


@router.post("/{alert_id}/resolve", response_model=AlertView)
async def resolve(
    alert_id: int, session: Session, principal: CurrentPrincipal, alerts: Lifecycle
) -> AlertView:
    user_id = _responder(principal, "resolve alerts")
    return await _act(
        session, principal, alert_id, lambda: alerts.resolve(alert_id, user_id, user_name=principal.name)
    )


@channels_router.get("", response_model=list[ChannelView])
async def channels(session: Session, principal: CurrentPrincipal, rt: Runtime) -> list[ChannelView]:
    """Where alerts are sent: every channel for unscoped users, your teams' channels for a scoped
    user. A URL shows only its scheme, to admins too: it holds a bot token or password, and is
    configured (and replaced) with `ioc alerts channel-add`."""
    return await list_channels(session, ChannelUrls(rt.box), principal)
