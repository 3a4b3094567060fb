"""SNMP's typed errors and the one place that turns pysnmp's error indications and PDU error-statuses
into them. A v1/v2c agent silently drops a wrong community, so a timeout there reads "authentication
failed or no answer"."""

from __future__ import annotations

from typing import Any

from pysnmp.proto import errind

from provisioning.errors import AuthFailed, DeviceError, DeviceTimeout, MalformedResponse, NotSupported
from provisioning.snmp.models import SnmpEndpoint


class NoSuchObject(NotSupported):
    """The agent does not implement a requested OID (v1 ``noSuchName`` or v2 ``noSuchObject``)."""

    kind = "no_such_object"


AUTH_INDICATIONS = (
    errind.UnknownUserName,
    errind.WrongDigest,
    errind.DecryptionError,
    errind.UnsupportedSecurityLevel,
    errind.UnknownSecurityName,
    errind.AuthenticationFailure,
    errind.AuthenticationError,
    errind.UnknownCommunityName,
    errind.NoAuthentication,
)


def no_answer(endpoint: SnmpEndpoint) -> DeviceTimeout:
    tries = endpoint.retries + 1
    return DeviceTimeout(
        f"{endpoint.label}: authentication failed or no answer "
        f"(timeout {endpoint.timeout:g}s x {tries} tr{'y' if tries == 1 else 'ies'})"
    )


def translate(indication: Any, endpoint: SnmpEndpoint) -> DeviceError:
    """A pysnmp error indication (no answer, refused credentials, a broken agent) as a typed error."""
    if isinstance(indication, errind.RequestTimedOut):
        return no_answer(endpoint)
    if isinstance(indication, AUTH_INDICATIONS):
        return AuthFailed(f"{endpoint.label}: authentication failed or no answer ({indication})")
    if isinstance(indication, errind.OidNotIncreasing):
        return MalformedResponse(f"{endpoint.label}: agent returned OIDs out of order")
    return DeviceError(f"{endpoint.label}: {indication}", retryable=True)


class PduError(Exception):
    """An error-status in a response PDU; turned into a ``DeviceError`` once callers had their say."""

    def __init__(self, endpoint: SnmpEndpoint, status: str, index: int) -> None:
        super().__init__(status)
        self.endpoint = endpoint
        self.status = status
        self.index = index

    def as_device_error(self) -> DeviceError:
        where = f"{self.endpoint.label}: agent answered {self.status}"
        if self.status == "noSuchName":
            return NoSuchObject(where)
        if self.status in ("authorizationError", "noAccess"):
            return AuthFailed(f"{where} (authentication failed or no access)")
        return DeviceError(where, retryable=self.status in ("genErr", "resourceUnavailable"))
