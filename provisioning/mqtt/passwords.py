"""Mosquitto's own password hash (``$7$``: PBKDF2-HMAC-SHA512), produced and checked in Python.

Writing the hash ourselves avoids a ``mosquitto_passwd`` subprocess per device and lets the registry
store exactly the line the broker reads. The format (``$7$<iterations>$<b64 salt>$<b64 hash>``, 12-byte
salt, 64-byte digest) is what ``mosquitto_passwd`` 2.0 writes; tests check the real broker accepts it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

ITERATIONS = 1000
"""Above mosquitto_passwd's default of 101; the broker pays it once per CONNECT (about a millisecond)."""
SALT_BYTES = 12


def generate_password() -> str:
    """A random 32-character URL-safe password: easy to paste into firmware, 192 bits of entropy."""
    return secrets.token_urlsafe(24)


def hash_password(password: str, *, iterations: int = ITERATIONS, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        _, version, iterations, salt, digest = encoded.split("$")
        if version != "7":
            return False
        expected = base64.b64decode(digest)
        actual = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(iterations))
    except ValueError:
        return False
    return hmac.compare_digest(expected, actual)
