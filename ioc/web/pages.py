"""The status page: routes that render server-side HTML (kept out of the OpenAPI schema).

Every page re-authenticates the session's API token (``ioc.web.session``); reads go through the same
scoped queries as the API (``monitors.status_queries``, the registry's device queries), so a page never
shows what the API would not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from device_registry.api.deps import Session
from device_registry.authz import Principal
from device_registry.errors import NotFound, RegistryError
from device_registry.models import Role
from device_registry.queries.devices import DeviceFilter, device_views, list_devices
from device_registry.services.devices import get_device
from device_registry.services.users import authenticate
from ioc.web import i18n
from ioc.web.map import draw, svg
from ioc.web.session import (
    COOKIE,
    LANG_COOKIE,
    LOGIN_CSRF_COOKIE,
    PageSession,
    SessionCodec,
    new_csrf,
    same,
    set_cookie,
)
from monitors.alerting.api import lifecycle
from monitors.alerting.errors import AlertNotFound, AlertStateError
from monitors.alerting.lifecycle import AlertLifecycle
from monitors.alerting.queries import get_alert
from monitors.status_queries import (
    LEAF_KINDS,
    SqlDeviceStates,
    home_site,
    readable_site,
    root_outages,
    site_chain,
    state_history,
    status_tree,
    visible_device_name,
    worst,
)

HERE = Path(__file__).parent
REFRESH_S = 30
RESPONDERS = (Role.ADMIN, Role.OPERATOR, Role.MAINTENANCE)
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals.update(
    local_time=i18n.local_time,
    duration=i18n.duration,
    ORDER=i18n.STATES,
)
router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


def codec(request: Request) -> SessionCodec:
    found: SessionCodec | None = getattr(request.app.state, "page_sessions", None)
    if found is None:
        found = request.app.state.page_sessions = SessionCodec(request.app.state.registry.box)
    return found


def language(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, "vi")
    return lang if lang in i18n.LANGUAGES else "vi"


def safe_next(value: str | None) -> str:
    """Only a path on this server: never an open redirect."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


class Page:
    """What every signed-in page needs: who, in which language, the CSRF token for its forms."""

    def __init__(self, request: Request, principal: Principal, session: PageSession) -> None:
        self.request = request
        self.principal = principal
        self.csrf = session.csrf
        self.lang = language(request)

    def t(self, key: str, **values: object) -> str:
        return i18n.translate(self.lang, key, **values)

    def render(self, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(
            self.request,
            name,
            {
                "t": self.t,
                "lang": self.lang,
                "principal": self.principal,
                "csrf": self.csrf,
                "can_ack": self.principal.role in RESPONDERS,
                "refresh_s": REFRESH_S,
                "here": self.request.url.path
                + (f"?{self.request.url.query}" if self.request.url.query else ""),
                "now": datetime.now(UTC),
                **context,
            },
            status_code=status_code,
        )


async def signed_in(request: Request, session: Session) -> Page:
    cookie = request.cookies.get(COOKIE)
    sealed = codec(request).open(cookie)
    if sealed is None:
        raise LoginRequired("session_ended" if cookie else "")
    principal = await authenticate(session, sealed.token)
    await session.commit()  # end the token's last-used update now (SQLite write lock)
    if principal is None:
        raise LoginRequired("session_ended")
    return Page(request, principal, sealed)


SignedIn = Annotated[Page, Depends(signed_in)]


def install_pages(app: FastAPI) -> None:
    app.mount("/static/status", StaticFiles(directory=str(HERE / "static")), name="status-static")
    app.include_router(router)

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, error: LoginRequired) -> Response:
        target = "/login" + (f"?m={error.message}" if error.message else "")
        response = RedirectResponse(target, status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response


# -- login -------------------------------------------------------------------------------------------


def _login_form(request: Request, message: str = "", status_code: int = 200) -> HTMLResponse:
    lang = language(request)
    csrf = request.cookies.get(LOGIN_CSRF_COOKIE) or new_csrf()
    response = templates.TemplateResponse(
        request,
        "login.html",
        {
            "t": lambda key, **v: i18n.translate(lang, key, **v),
            "lang": lang,
            "csrf": csrf,
            "message": message,
            "here": "/login",
        },
        status_code=status_code,
    )
    set_cookie(request, response, LOGIN_CSRF_COOKIE, csrf, max_age=3600)
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, m: str = "") -> HTMLResponse:
    return _login_form(request, m if m in ("session_ended",) else "")


@router.post("/login")
async def login(
    request: Request,
    session: Session,
    token: Annotated[str, Form(max_length=256)],
    csrf: Annotated[str, Form(max_length=128)],
) -> Response:
    if not same(csrf, request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _login_form(request, "bad_form", status_code=403)
    principal = await authenticate(session, token.strip())
    await session.commit()
    if principal is None:
        return _login_form(request, "bad_token", status_code=401)
    response = RedirectResponse("/", status_code=303)
    set_cookie(request, response, COOKIE, codec(request).seal(PageSession(token.strip(), new_csrf())))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(page: SignedIn, csrf: Annotated[str, Form(max_length=128)]) -> Response:
    if not same(csrf, page.csrf):
        return page.render("error.html", 403, message=page.t("bad_form"))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/lang/{code}")
async def switch_language(request: Request, code: str, next: str = "/") -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in i18n.LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax", path="/")
    return response


# -- pages ---------------------------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def overview(page: SignedIn, session: Session, site: str | None = None, msg: str = "") -> HTMLResponse:
    principal = page.principal
    try:
        root = await readable_site(session, principal, site) if site else await home_site(session, principal)
    except RegistryError as error:
        return page.render("error.html", error.status_code, message=str(error))
    tree = await status_tree(session, principal, root, with_leaves=True)
    chain = await site_chain(session, root) if root is not None else []
    devices = None
    if root is not None and (str(root.kind) in (*LEAF_KINDS, "site") or not tree.children):
        devices = await list_devices(
            session, principal, DeviceFilter(site=f"id:{root.id}"), limit=500, states=SqlDeviceStates()
        )
    outages = await root_outages(
        session, principal, open_only=True, root=root, start=None, end=None, limit=200, now=datetime.now(UTC)
    )
    leaves = [
        (
            leaf.site.code,
            leaf.site.name,
            leaf.site.latitude,
            leaf.site.longitude,
            worst(leaf.counts),
            leaf.total,
        )
        for leaf in tree.leaves
        if leaf.site is not None and leaf.site.latitude is not None and leaf.site.longitude is not None
    ]
    return page.render(
        "overview.html",
        root=root,
        tree=tree,
        chain=chain,
        devices=devices.items if devices else None,
        outages=outages,
        worst=worst,
        province_map=_map(page, leaves),
        message=msg,
    )


def _map(page: Page, communes: list[tuple[str, str, float, float, str | None, int]]) -> Markup | None:
    drawn = draw(communes)
    if drawn is None:
        return None
    states = {s: page.t(s) for s in (*i18n.STATES, "none")}
    return svg(drawn, states, page.t("map"))


@router.get("/devices/{device_id}", response_class=HTMLResponse)
async def device_page(page: SignedIn, session: Session, device_id: int) -> HTMLResponse:
    try:
        device = await get_device(session, page.principal, device_id)
    except NotFound:
        return page.render(
            "error.html", 404, message=f"{page.t('not_found')}: {page.t('device')} {device_id}"
        )
    [view] = await device_views(session, [device], SqlDeviceStates())
    site = await readable_site(session, page.principal, f"id:{device.site_id}")
    history = await state_history(session, device_id)
    cause = view.state.root_cause_device_id if view.state else None
    cause_name = await visible_device_name(session, page.principal, cause) if cause else None
    chain = await site_chain(session, site)
    return page.render("device.html", device=view, chain=chain, history=history, cause_name=cause_name)


@router.post("/alerts/{alert_id}/ack")
async def acknowledge(
    page: SignedIn,
    session: Session,
    alert_id: int,
    alerts: Annotated[AlertLifecycle, Depends(lifecycle)],
    csrf: Annotated[str, Form(max_length=128)],
    comment: Annotated[str, Form(max_length=2000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    if not same(csrf, page.csrf):
        return page.render("error.html", 403, message=page.t("bad_form"))
    principal = page.principal
    if principal.role not in RESPONDERS or principal.user_id is None:
        return page.render("error.html", 403, message=page.t("ack_forbidden"))
    if await get_alert(session, alert_id, principal) is None:
        return page.render("error.html", 404, message=f"{page.t('not_found')}: {page.t('alert')} #{alert_id}")
    await session.commit()
    try:
        await alerts.acknowledge(alert_id, principal.user_id, comment)
    except (AlertStateError, AlertNotFound) as error:
        return page.render("error.html", 409, message=str(error))
    target = safe_next(next)
    joiner = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{joiner}msg={quote(f'ack:{alert_id}')}", status_code=303)
