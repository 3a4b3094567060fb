"""The status page over HTTP (no browser): login and its cookie, CSRF, sessions that end, scopes.

The browser test (test_browser.py) walks the same page as a person would; this one attacks it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from device_registry.models import ApiToken
from device_registry.services.users import hash_token
from monitors.alerting.models import Alert
from tests.status.world import DEAD

# The page reads through the same queries as the API, which test_api.py runs on PostgreSQL too.
pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


async def login(api, who: str):
    api.client.cookies.clear()
    form = await api.client.get("/login")
    csrf = csrf_of(form.text)
    response = await api.client.post("/login", data={"token": api.tokens[who], "csrf": csrf})
    assert response.status_code == 303, response.text
    return response


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None, "the form carries a CSRF token"
    return found.group(1)


async def test_login_sets_an_httponly_samesite_cookie_and_shows_the_fleet_in_vietnamese(api, world):
    response = await login(api, "operator")
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith("ioc_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert api.tokens["operator"] not in cookie, "the token travels sealed, never readable"
    page = await api.client.get("/")
    assert page.status_code == 200
    assert "Mất kết nối" in page.text and "Không truy cập được" in page.text
    assert "SW-VUTHU-CORE" in page.text and 'id="total">7<' in page.text
    assert "Huyện Vũ Thư" in page.text and "Xã Hồng Lý" in page.text  # the map's communes
    english = await api.client.get("/lang/en", params={"next": "/?site=D1"})
    assert english.status_code == 303 and english.headers["location"] == "/?site=D1"
    page = await api.client.get("/?site=D1")
    assert "Unreachable" in page.text and "Devices behind it" in page.text
    outside = await api.client.get("/lang/en", params={"next": "//evil.example/"})
    assert outside.headers["location"] == "/", "no open redirect"


async def test_a_tampered_or_missing_cookie_is_refused(api, world):
    await login(api, "admin")
    sealed = api.client.cookies["ioc_session"]
    for forged in (sealed[:-6] + ("AAAAAA" if not sealed.endswith("AAAAAA") else "BBBBBB"), "x" * 100, ""):
        api.client.cookies.clear()
        if forged:
            api.client.cookies.set("ioc_session", forged, domain="ioc.test")
        response = await api.client.get("/")
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
        assert "SW-VUTHU-CORE" not in response.text


async def test_a_revoked_or_expired_token_ends_the_page_session(api, sessions, world):
    for who, change in (
        ("operator", {"revoked_at": datetime.now(UTC)}),
        ("maintenance_d1", {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}),
    ):
        await login(api, who)
        assert (await api.client.get("/")).status_code == 200
        async with sessions() as session, session.begin():
            await session.execute(
                update(ApiToken).where(ApiToken.token_hash == hash_token(api.tokens[who])).values(**change)
            )
        response = await api.client.get("/")
        assert response.status_code == 303, who
        assert response.headers["location"] == "/login?m=session_ended"
        assert (
            'ioc_session=""' in response.headers["set-cookie"]
            or "Max-Age=0" in response.headers["set-cookie"]
        )
        again = await api.client.get(f"/devices/{world.devices['SW-VUTHU-CORE']}")
        assert again.status_code == 303


async def test_forms_without_the_session_csrf_token_change_nothing(api, sessions, world):
    api.client.cookies.clear()
    no_cookie = await api.client.post("/login", data={"token": api.tokens["admin"], "csrf": "guess"})
    assert no_cookie.status_code == 403 and "ioc_session" not in api.client.cookies
    await login(api, "operator")
    for csrf in ("", "wrong"):
        response = await api.client.post(f"/alerts/{world.alert_id}/ack", data={"csrf": csrf})
        assert response.status_code in (403, 422)
    async with sessions() as session:
        assert (await session.get(Alert, world.alert_id)).status == "firing"
    bad_token = await login_fails(api, "ioc_not-a-token")
    assert bad_token.status_code == 401 and "Mã truy cập không hợp lệ" in bad_token.text


async def login_fails(api, token: str):
    api.client.cookies.clear()
    csrf = csrf_of((await api.client.get("/login")).text)
    return await api.client.post("/login", data={"token": token, "csrf": csrf})


async def test_acknowledge_from_the_page_is_for_responders_only(api, sessions, world):
    await login(api, "engineer_d1")
    page = await api.client.get("/?site=D1")
    assert "SW-VUTHU-CORE" in page.text and "ack-button" not in page.text
    denied = await api.client.post(f"/alerts/{world.alert_id}/ack", data={"csrf": csrf_of(page.text)})
    assert denied.status_code == 403
    await login(api, "maintenance_b")
    page = await api.client.get("/")
    hidden = await api.client.post(f"/alerts/{world.alert_id}/ack", data={"csrf": csrf_of(page.text)})
    assert hidden.status_code == 404, "an alert outside the scope does not exist for this user"
    await login(api, "maintenance_d1")
    page = await api.client.get("/")
    done = await api.client.post(
        f"/alerts/{world.alert_id}/ack",
        data={"csrf": csrf_of(page.text), "comment": "đang xử lý", "next": "/?site=D1"},
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/?site=D1&msg=ack")
    async with sessions() as session:
        assert (
            await session.scalar(select(Alert.status).where(Alert.id == world.alert_id))
        ) == "acknowledged"


async def test_a_scoped_user_sees_only_their_scope_on_the_page(api, world):
    await login(api, "maintenance_b")
    home = await api.client.get("/")
    assert "Xã Đông Các" in home.text and "CAM-DONGCAC-01" in home.text
    province = await api.client.get("/?site=P")
    assert province.status_code == 200
    for foreign in (*DEAD, "Huyện Vũ Thư", "Xã Hồng Lý", "Xã Song An"):
        assert foreign not in home.text and foreign not in province.text, foreign
    assert 'id="total">2<' in province.text
    assert (await api.client.get("/?site=D1")).status_code == 404
    assert (await api.client.get("/?site=KHONG-CO")).status_code == 404
    assert "KHONG-CO" in (await api.client.get("/?site=KHONG-CO")).text
    assert (await api.client.get(f"/devices/{world.devices['SW-VUTHU-CORE']}")).status_code == 404
    mine = await api.client.get(f"/devices/{world.devices['CAM-DONGCAC-01']}")
    assert mine.status_code == 200 and "tcp" in mine.text and "Lần kiểm tra gần nhất" in mine.text


async def test_api_docs_are_served_from_the_package_and_pages_stay_out_of_the_schema(api, world):
    docs = (await api.client.get("/docs")).text
    redoc = (await api.client.get("/redoc")).text
    for html in (docs, redoc):
        assert not re.search(r'(src|href)="https?://', html), "nothing from the internet"
    assert "/static/api-docs/swagger-ui-bundle.js" in docs
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js"):
        response = await api.client.get(f"/static/api-docs/{asset}")
        assert response.status_code == 200 and len(response.content) > 100_000, asset
    paths = (await api.client.get("/openapi.json")).json()["paths"]
    assert "/api/v1/status" in paths and "/api/v1/outages" in paths
    assert not {"/", "/login", "/logout", "/devices/{device_id}", "/docs"} & set(paths)
