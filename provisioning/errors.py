"""Typed device errors shared by every protocol client.

Callers decide on retries and on what to tell a person from the error's type and ``retryable`` flag,
never from a message string or a boolean. ``field`` names the request field the failure points at (the
credential for a refused login), so the API and the CLI report it without parsing the message. The edges
map these errors once: ``ioc/app.py`` (HTTP status and body) and ``ioc/cli/output.py`` (exit code).
Messages never carry secrets.
"""

from __future__ import annotations


class DeviceError(Exception):
    """A device did not give us what we asked for."""

    retryable: bool = False
    kind: str = "device_error"
    field: str | None = None

    def __init__(self, message: str, *, retryable: bool | None = None, field: str | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable
        if field is not None:
            self.field = field

    @property
    def message(self) -> str:
        return str(self)


class DeviceUnreachable(DeviceError):
    retryable = True
    kind = "unreachable"


class DeviceTimeout(DeviceError):
    retryable = True
    kind = "timeout"


class AuthFailed(DeviceError):
    retryable = False
    kind = "auth_failed"
    field = "credential"


class NotSupported(DeviceError):
    retryable = False
    kind = "not_supported"


class MalformedResponse(DeviceError):
    retryable = False
    kind = "malformed_response"
