"""The one place that turns aiomqtt's and the socket's exceptions into typed device errors."""

from __future__ import annotations

import asyncio

from aiomqtt import MqttCodeError, MqttError

from provisioning.errors import AuthFailed, DeviceError, DeviceTimeout, DeviceUnreachable

_REFUSED_LOGIN = (4, 5, 134, 135)
"""CONNACK codes of a refused login: MQTT 3.1.1 "bad user name or password" (4) and "not authorised"
(5); their MQTT 5 reason codes 0x86 and 0x87."""


def _code(error: MqttCodeError) -> int | None:
    rc = error.rc
    if isinstance(rc, int):
        return rc
    value = getattr(rc, "value", None)
    return value if isinstance(value, int) else None


def translate(error: BaseException, where: str) -> DeviceError:
    """Map whatever aiomqtt, paho or the socket raised to a typed, secret-free error.

    aiomqtt turns a failed TCP connect into a bare ``MqttError`` carrying only text, so everything
    that is neither a refusal code nor a timeout is "unreachable" (retryable)."""
    if isinstance(error, DeviceError):
        return error
    if isinstance(error, (TimeoutError, asyncio.TimeoutError)):
        return DeviceTimeout(f"{where}: no answer in time")
    if isinstance(error, MqttCodeError):
        if _code(error) in _REFUSED_LOGIN:
            return AuthFailed(f"{where}: authentication failed", field="password")
        return DeviceUnreachable(f"{where}: broker refused the connection ({error})")
    if isinstance(error, (MqttError, OSError)):
        return DeviceUnreachable(f"{where}: cannot connect")
    return DeviceError(f"{where}: {type(error).__name__}")
