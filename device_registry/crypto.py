"""Credentials at rest: Fernet (AES-128-CBC + HMAC-SHA256, from ``cryptography``) with one platform key.

The key comes from settings (``IOC_SECRET_KEY``) or the key file in IOC_HOME written by ``ioc init``.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.fernet import Fernet, InvalidToken
from pydantic import SecretStr

if TYPE_CHECKING:
    # Imported where used: every ``ioc`` command opens the box, few seal or open a credential.
    from device_registry.credentials import Credential


class SecretBoxError(Exception):
    pass


class SecretBox:
    def __init__(self, key: SecretStr) -> None:
        try:
            self._fernet = Fernet(key.get_secret_value().encode())
            self._key = base64.urlsafe_b64decode(key.get_secret_value().encode())
        except (ValueError, TypeError) as error:
            raise SecretBoxError(
                "the secret key is not a valid Fernet key (32 url-safe base64 bytes)"
            ) from error

    def derive(self, purpose: str) -> Fernet:
        """A Fernet of its own for another use of the platform secret (page sessions), via HKDF-SHA256:
        a value sealed for one purpose never opens as another."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(self._key)
        return Fernet(base64.urlsafe_b64encode(key))

    def seal(self, credential: Credential) -> bytes:
        from device_registry.credentials import credential_to_json

        return self._fernet.encrypt(credential_to_json(credential))

    def open(self, token: bytes) -> Credential:
        from device_registry.credentials import credential_from_json

        try:
            return credential_from_json(self._fernet.decrypt(token))
        except InvalidToken as error:
            raise SecretBoxError("credential cannot be decrypted with this key") from error


def generate_key() -> SecretStr:
    return SecretStr(Fernet.generate_key().decode())


def load_or_create_key_file(path: Path, *, create: bool) -> SecretStr:
    """Read the key file; with ``create`` write a new one (mode 0600) when it does not exist."""
    if path.is_file():
        return SecretStr(path.read_text().strip())
    if not create:
        raise SecretBoxError(f"no secret key: set IOC_SECRET_KEY or run `ioc init` to create {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.get_secret_value() + "\n")
    return key
