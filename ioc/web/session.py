"""Page sessions: an API token exchanged for an encrypted, HttpOnly, SameSite=Strict cookie.

The cookie carries the API token itself (sealed with a key derived from the platform secret, so it is
unreadable and any change to it is refused), and every request authenticates that token again exactly as
the API does: an expired or revoked token, or a deactivated user, ends the page session at once; the
roles and scope are the token's user's, as they are now. The cookie also carries the session's CSRF
token, which every form posts back.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken
from starlette.requests import Request
from starlette.responses import Response

from device_registry.crypto import SecretBox

COOKIE = "ioc_session"
LOGIN_CSRF_COOKIE = "ioc_login_csrf"
LANG_COOKIE = "ioc_lang"
MAX_AGE_S = 12 * 3600
"""A page session lasts a working shift at most, whatever the token's own expiry."""


@dataclass(frozen=True, slots=True)
class PageSession:
    token: str
    csrf: str


class SessionCodec:
    def __init__(self, box: SecretBox) -> None:
        self._fernet: Fernet = box.derive("ioc status page session v1")

    def seal(self, session: PageSession) -> str:
        return self._fernet.encrypt(json.dumps({"t": session.token, "c": session.csrf}).encode()).decode()

    def open(self, value: str | None) -> PageSession | None:
        """None for a missing, tampered, foreign or too old cookie."""
        if not value or len(value) > 4096:
            return None
        try:
            data = json.loads(self._fernet.decrypt(value.encode(), ttl=MAX_AGE_S))
        except (InvalidToken, ValueError):
            return None
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("t"), str)
            or not isinstance(data.get("c"), str)
        ):
            return None
        return PageSession(data["t"], data["c"])


def new_csrf() -> str:
    return secrets.token_urlsafe(32)


def same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int = MAX_AGE_S) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
