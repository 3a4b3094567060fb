"""HTTP Digest (RFC 7616, qop=auth, MD5 or SHA-256) as a camera checks it in front of SOAP.

Server side only: aiohttp's server has no Digest support, and a simulator needs the checking half
that client libraries do not ship. Nonces are the camera's own, remembered so a made-up one fails.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections import OrderedDict

_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
_HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
REALM = "onvif"


class DigestChecker:
    def __init__(self, username: str, password: str, algorithm: str) -> None:
        if algorithm not in _HASHES:
            raise ValueError(f"algorithm: one of {sorted(_HASHES)}")
        self.username = username
        self.password = password
        self.algorithm = algorithm
        self._nonces: OrderedDict[str, None] = OrderedDict()

    def _hash(self, text: str) -> str:
        return _HASHES[self.algorithm](text.encode()).hexdigest()

    def challenge(self) -> str:
        nonce = os.urandom(16).hex()
        self._nonces[nonce] = None
        if len(self._nonces) > 1024:
            self._nonces.popitem(last=False)
        return f'Digest realm="{REALM}", qop="auth", algorithm={self.algorithm}, nonce="{nonce}"'

    def accepts(self, method: str, path: str, authorization: str | None) -> bool:
        """True when ``authorization`` answers one of our challenges for ``path`` with the right password."""
        scheme, _, rest = (authorization or "").partition(" ")
        if scheme.lower() != "digest":
            return False
        params = {m.group(1).lower(): m.group(2) or m.group(3) or "" for m in _PARAM.finditer(rest)}
        if params.get("nonce") not in self._nonces or params.get("uri") != path:
            return False
        if params.get("qop") != "auth":
            return False
        if params.get("algorithm", "MD5").upper() != self.algorithm:
            return False
        ha1 = self._hash(f"{self.username}:{REALM}:{self.password}")
        ha2 = self._hash(f"{method}:{params.get('uri', '')}")
        expected = self._hash(
            f"{ha1}:{params['nonce']}:{params.get('nc', '')}:{params.get('cnonce', '')}:auth:{ha2}"
        )
        return hmac.compare_digest(params.get("username", ""), self.username) and hmac.compare_digest(
            params.get("response", ""), expected
        )
