"""Typed device errors shared by every protocol client.

Callers decide on retries and on what to tell a person from the error's type and ``retryable`` flag,
never from a message string or a boolean. ``field`` names the request field the failure points at (the
credential for a refused login), so the API and the CLI report it without parsing the message. The edges
map these errors once: ``ioc/app.py`` (HTTP status and body) and ``ioc/cli/output.py`` (exit code).
Messages never carry secrets.
"""

from __future__ import annotations


class DeviceError(Exception):
    """A device did not give us what we asked for.

    A subclass names its ``kind`` and ``retryable`` (and, when it always points at one, ``field``) in
    its class line: ``class DeviceTimeout(DeviceError, kind="timeout", retryable=True)``."""

    retryable: bool = False
    kind: str = "device_error"
    field: str | None = None

    def __init_subclass__(
        cls, *, kind: str | None = None, retryable: bool | None = None, field: str | None = None
    ) -> None:
        super().__init_subclass__()
        if kind is not None:
            cls.kind = kind
        if retryable is not None:
            cls.retryable = retryable
        if field is not None:
            cls.field = field

    def __init__(self, message: str, *, retryable: bool | None = None, field: str | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable
        if field is not None:
            self.field = field

    @property
    def message(self) -> str:
        return str(self)


class DeviceUnreachable(DeviceError, kind="unreachable", retryable=True):
    """No route, refused or reset connection: the device may come back."""


class DeviceTimeout(DeviceError, kind="timeout", retryable=True):
    """The device did not answer in time."""


class AuthFailed(DeviceError, kind="auth_failed", retryable=False, field="credential"):
    """The device refused our credential; trying again with it will not help."""


class NotSupported(DeviceError, kind="not_supported", retryable=False):
    """The device does not implement what we asked for."""


class MalformedResponse(DeviceError, kind="malformed_response", retryable=False):
    """The device answered something we cannot read."""
