"""The simulator checks WS-Security the way cameras do, so the client's clock handling is really tested."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
from lxml import etree
from zeep.wsse.username import UsernameToken

from simulators.onvif_camera.soap import NS_DEVICE, catalog

SOAP = {"Content-Type": "application/soap+xml; charset=utf-8"}


def _request(operation: str, token: UsernameToken | None = None) -> bytes:
    message = catalog().bindings[NS_DEVICE].get(operation).input.serialize()
    envelope = message.content
    if token is not None:
        envelope, _ = token.apply(envelope, {})
    return bytes(etree.tostring(envelope))


def _token(password: str = "admin123", created: datetime | None = None, digest: bool = True) -> UsernameToken:
    return UsernameToken("admin", password, use_digest=digest, created=created, zulu_timestamp=True)


async def _post(port: int, body: bytes) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"http://127.0.0.1:{port}/onvif/device_service", data=body, headers=SOAP) as answer,
    ):
        return answer.status, await answer.text()


async def test_digest_accepted_once_then_replay_refused(fleet):
    cam = await fleet()
    body = _request("GetDeviceInformation", _token())
    status, text = await _post(cam.port, body)
    assert status == 200 and "SimCam" in text
    status, text = await _post(cam.port, body)
    assert status == 400 and "NotAuthorized" in text and "replayed" in text


async def test_created_is_judged_by_the_device_clock(fleet):
    cam = await fleet(clock_offset_s=3600)
    now = datetime.now(UTC).replace(tzinfo=None)
    status, text = await _post(cam.port, _request("GetDeviceInformation", _token(created=now)))
    assert status == 400 and "time window" in text
    status, _ = await _post(
        cam.port, _request("GetDeviceInformation", _token(created=now + timedelta(hours=1)))
    )
    assert status == 200


async def test_plain_text_password_and_missing_token_are_refused(fleet):
    cam = await fleet()
    status, text = await _post(cam.port, _request("GetDeviceInformation", _token(digest=False)))
    assert status == 400 and "PasswordDigest required" in text
    status, text = await _post(cam.port, _request("GetDeviceInformation"))
    assert status == 400 and "no UsernameToken" in text


async def test_system_date_and_time_needs_no_credentials(fleet):
    cam = await fleet(clock_offset_s=-600)
    status, text = await _post(cam.port, _request("GetSystemDateAndTime"))
    assert status == 200 and "UTCDateTime" in text


async def test_requests_with_entities_are_not_expanded(fleet):
    cam = await fleet()
    body = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaaaaaaaaaaaa">]>'
        b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>'
        b'<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/></e:Body></e:Envelope>'
    )
    status, text = await _post(cam.port, body)
    assert status == 400 and "DTDs are not accepted" in text
