"""HTTP-style authentication for RTSP (RFC 2617 Digest, MD5, qop=auth or none; Basic only when allowed).

Basic sends the password in clear to whoever asks: it is used only when the caller allows it for this
device (``allow_basic``), never as a silent fallback.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from collections.abc import Callable

_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def parse_challenges(values: list[str]) -> dict[str, dict[str, str]]:
    """``WWW-Authenticate`` headers to ``{"digest": {...}, "basic": {...}}`` (scheme lower-cased)."""
    challenges: dict[str, dict[str, str]] = {}
    for value in values:
        scheme, _, rest = value.strip().partition(" ")
        params = {
            m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
            for m in _PARAM.finditer(rest)
        }
        challenges.setdefault(scheme.lower(), params)
    return challenges


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


class Authorizer:
    """Builds the Authorization header for each request once a challenge has been seen."""

    def __init__(
        self,
        username: str,
        password: str,
        challenges: dict[str, dict[str, str]],
        cnonce: Callable[[], str] = lambda: os.urandom(8).hex(),
        *,
        allow_basic: bool = False,
    ) -> None:
        self.username = username
        self._cnonce = cnonce
        self._password = password
        self.scheme: str | None = None
        if "digest" in challenges:
            self.scheme = "digest"
        elif allow_basic and "basic" in challenges:
            self.scheme = "basic"
        self.params = challenges.get(self.scheme or "", {})
        self._count = 0

    def header(self, method: str, uri: str) -> str | None:
        if self.scheme == "basic":
            token = base64.b64encode(f"{self.username}:{self._password}".encode()).decode()
            return f"Basic {token}"
        if self.scheme != "digest":
            return None
        realm, nonce = self.params.get("realm", ""), self.params.get("nonce", "")
        ha1 = _md5(f"{self.username}:{realm}:{self._password}")
        ha2 = _md5(f"{method}:{uri}")
        parts = [f'username="{self.username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"']
        qops = [q.strip() for q in self.params.get("qop", "").split(",") if q.strip()]
        if "auth" in qops:
            self._count += 1
            nc, cnonce = f"{self._count:08x}", self._cnonce()
            response = _md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
            parts += ["qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
        else:
            response = _md5(f"{ha1}:{nonce}:{ha2}")
        parts.append(f'response="{response}"')
        if "opaque" in self.params:
            parts.append(f'opaque="{self.params["opaque"]}"')
        parts.append("algorithm=MD5")
        return "Digest " + ", ".join(parts)
