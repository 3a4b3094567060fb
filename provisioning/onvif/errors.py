"""ONVIF-specific errors and the one place that turns library exceptions into typed device errors."""

from __future__ import annotations

import asyncio

import aiohttp
import zeep.exceptions
from lxml import etree
from onvif.exceptions import ONVIFError, ONVIFTimeoutError

from provisioning.errors import (
    AuthFailed,
    DeviceError,
    DeviceTimeout,
    DeviceUnreachable,
    MalformedResponse,
    NotSupported,
)


class ClockSkew(AuthFailed):
    """The camera refused our credentials and its clock is far from ours: fix NTP or allow adjustment."""

    kind = "clock_skew"
    field = "password"


class DeviceRefused(DeviceError):
    """The camera answered a well-formed SOAP fault we have no better name for."""

    kind = "device_fault"


_XML_ERRORS = (
    zeep.exceptions.XMLSyntaxError,
    zeep.exceptions.XMLParseError,
    zeep.exceptions.DTDForbidden,
    zeep.exceptions.EntitiesForbidden,
    zeep.exceptions.ExternalReferenceForbidden,
    zeep.exceptions.ValidationError,
    etree.XMLSyntaxError,
)


_NOT_SUPPORTED = ("actionnotsupported", "notsupported", "not supported", "nosuchservice", "not implemented")
"""Lower-cased markers of a refusal in a fault's codes or reason: some firmwares send the ONVIF
subcode (``ter:ActionNotSupported``), others only a reason text (``Action not supported``)."""


def _fault_codes(fault: zeep.exceptions.Fault) -> str:
    parts = [str(fault.code or "")]
    for subcode in fault.subcodes or []:
        parts.append(getattr(subcode, "localname", None) or str(subcode))
    return " ".join(parts) + " " + str(fault.message or "")


def translate(error: BaseException, where: str) -> DeviceError:
    """Map whatever onvif-zeep-async, zeep, lxml or aiohttp raised to a typed, secret-free error.

    ``where`` names the device and operation (never credentials) so the message stands on its own.
    """
    if isinstance(error, DeviceError):
        return error
    if isinstance(error, ONVIFError) and not isinstance(error, ONVIFTimeoutError) and error.__cause__:
        return translate(error.__cause__, where)
    if isinstance(error, (TimeoutError, asyncio.TimeoutError, ONVIFTimeoutError, aiohttp.ServerTimeoutError)):
        return DeviceTimeout(f"{where}: no answer in time")
    if isinstance(error, zeep.exceptions.Fault):
        codes = _fault_codes(error).lower()
        if "notauthorized" in codes or "not authorized" in codes or "failedauthentication" in codes:
            return AuthFailed(f"{where}: authentication failed", field="password")
        if any(marker in codes for marker in _NOT_SUPPORTED):
            return NotSupported(f"{where}: not supported by the device")
        return DeviceRefused(f"{where}: device answered a fault ({error.message})")
    if isinstance(error, zeep.exceptions.TransportError):
        if error.status_code in (401, 403):
            return AuthFailed(f"{where}: authentication failed", field="password")
        if error.status_code in (404, 405, 501):
            return NotSupported(f"{where}: not supported by the device (HTTP {error.status_code})")
        if error.status_code >= 500 and not error.content:
            return DeviceUnreachable(f"{where}: device error HTTP {error.status_code}")
        return MalformedResponse(f"{where}: unreadable answer (HTTP {error.status_code})")
    if isinstance(error, zeep.exceptions.EntitiesForbidden):
        return MalformedResponse(f"{where}: answer declares XML entities (refused, not expanded)")
    if isinstance(error, (zeep.exceptions.DTDForbidden, zeep.exceptions.ExternalReferenceForbidden)):
        return MalformedResponse(
            f"{where}: answer carries a DTD or external reference (refused, nothing expanded)"
        )
    if isinstance(error, _XML_ERRORS):
        return MalformedResponse(f"{where}: malformed XML answer")
    if isinstance(error, (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError, ConnectionError)):
        return DeviceUnreachable(f"{where}: cannot connect")
    if type(error) is aiohttp.ClientError and "digest auth" in str(error).lower():
        # aiohttp's DigestAuthMiddleware on a challenge it cannot answer (algorithm, qop, no nonce)
        return AuthFailed(f"{where}: HTTP Digest challenge not usable ({str(error)[:120]})", field="password")
    if isinstance(error, (aiohttp.ClientError, OSError)):
        return DeviceUnreachable(f"{where}: {type(error).__name__}")
    if isinstance(error, (AttributeError, KeyError, TypeError, ValueError, IndexError)):
        return MalformedResponse(f"{where}: answer lacks expected fields")
    return DeviceError(f"{where}: {type(error).__name__}")
