"""Typed device errors shared by every protocol client.

Callers decide on retries and on what to tell a person from the error's type and ``retryable`` flag,
never from a message string or a boolean. Messages never carry secrets.
"""

from __future__ import annotations


class DeviceError(Exception):
    """A device did not give us what we asked for."""

    retryable: bool = False
    kind: str = "device_error"

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable

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


class NotSupported(DeviceError):
    retryable = False
    kind = "not_supported"


class MalformedResponse(DeviceError):
    retryable = False
    kind = "malformed_response"
