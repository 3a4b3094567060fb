"""WS-Security UsernameToken (PasswordDigest) as an ONVIF camera checks it.

Digest = Base64(SHA-1(nonce + created + password)); a camera refuses a Created too far from its own
clock, which is exactly what breaks clients talking to cameras whose clock drifted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import OrderedDict
from datetime import datetime

from lxml import etree

from simulators.onvif_camera.soap import WSSE, WSU, SoapFault

_DIGEST_TYPE = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
)


def _not_authorized(reason: str) -> SoapFault:
    return SoapFault("Sender", "ter:NotAuthorized", f"Sender not Authorized: {reason}")


class UsernameTokenChecker:
    """Checks one camera's tokens; remembers recent nonces to refuse replays."""

    def __init__(self, username: str, password: str, max_skew_s: float) -> None:
        self.username = username
        self.password = password
        self.max_skew_s = max_skew_s
        self._seen_nonces: OrderedDict[bytes, None] = OrderedDict()

    def check(self, envelope: etree._Element, device_now: datetime) -> None:
        token = envelope.find(f".//{{{WSSE}}}Security/{{{WSSE}}}UsernameToken")
        if token is None:
            raise _not_authorized("no UsernameToken")
        username = token.findtext(f"{{{WSSE}}}Username") or ""
        password_element = token.find(f"{{{WSSE}}}Password")
        nonce_text = token.findtext(f"{{{WSSE}}}Nonce")
        created_text = token.findtext(f"{{{WSU}}}Created")
        if password_element is None or password_element.get("Type") != _DIGEST_TYPE:
            raise _not_authorized("PasswordDigest required")
        if not nonce_text or not created_text:
            raise _not_authorized("Nonce and Created required")
        try:
            nonce = base64.b64decode(nonce_text, validate=True)
            created = datetime.fromisoformat(created_text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise _not_authorized("bad Nonce or Created") from None
        if created.tzinfo is None:
            raise _not_authorized("Created without time zone")
        if abs((created - device_now).total_seconds()) > self.max_skew_s:
            raise _not_authorized("Created is outside the device's time window")
        expected = base64.b64encode(
            hashlib.sha1(nonce + created_text.encode() + self.password.encode()).digest()
        ).decode()
        if not (
            hmac.compare_digest(username, self.username)
            and hmac.compare_digest((password_element.text or "").strip(), expected)
        ):
            raise _not_authorized("wrong user name or password")
        if nonce in self._seen_nonces:
            raise _not_authorized("nonce replayed")
        self._seen_nonces[nonce] = None
        if len(self._seen_nonces) > 1024:
            self._seen_nonces.popitem(last=False)
