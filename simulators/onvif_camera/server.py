"""HTTP front of the simulator: one aiohttp application serving a whole fleet, one port per camera.

Every camera listens on its own socket and a request is dispatched by the local port it arrived on,
so hundreds of cameras cost one event loop and one set of parsed WSDLs.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass
from email.utils import format_datetime

from aiohttp import web

from simulators.onvif_camera.config import CameraConfig
from simulators.onvif_camera.device import AccessEntry, SimulatedCamera
from simulators.onvif_camera.http_digest import DigestChecker
from simulators.onvif_camera.security import UsernameTokenChecker
from simulators.onvif_camera.soap import NS_DEVICE, SoapFault, catalog, fault_envelope

log = logging.getLogger(__name__)

SOAP_CONTENT_TYPE = "application/soap+xml; charset=utf-8"
_OPERATION = web.RequestKey("operation", str)

# A 1x1 JPEG: enough for clients that fetch the snapshot URI to get an image/jpeg body.
_TINY_JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f"
    "141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101"
    "011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403"
    "050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a1617"
    "18191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a83"
    "8485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7"
    "d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd3ffd9"
)

_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b']><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>'
    b'<tds:GetDeviceInformationResponse xmlns:tds="http://www.onvif.org/ver10/device/wsdl">'
    b"<tds:Manufacturer>&lol9;</tds:Manufacturer></tds:GetDeviceInformationResponse></env:Body></env:Envelope>"
)
_EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>'
    b'<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>'
    b'<tds:GetDeviceInformationResponse xmlns:tds="http://www.onvif.org/ver10/device/wsdl">'
    b"<tds:Manufacturer>&xxe;</tds:Manufacturer></tds:GetDeviceInformationResponse></env:Body></env:Envelope>"
)


@dataclass
class _Instance:
    camera: SimulatedCamera
    checker: UsernameTokenChecker
    digest: DigestChecker | None


class CameraFleet:
    """Serves many simulated cameras from one process.

    ``await fleet.start()`` loads the WSDLs off the loop, binds each camera's port and returns; the
    chosen ports are on ``fleet.cameras[i].port``.
    """

    def __init__(self, configs: list[CameraConfig]) -> None:
        self.configs = configs
        self.cameras: list[SimulatedCamera] = []
        self._by_socket: dict[tuple[str, int], _Instance] = {}
        """Keyed by local address and port: demo cameras share a port on different loopback addresses."""
        self._runner: web.AppRunner | None = None

    async def start(self) -> CameraFleet:
        await asyncio.to_thread(catalog)
        app = web.Application(client_max_size=256 * 1024)
        app.router.add_post("/onvif/{service}", self._soap)
        app.router.add_get("/onvif/snapshot/{token}", self._snapshot)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        for config in self.configs:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((config.host, config.port))
            camera = SimulatedCamera(config)
            camera.port = sock.getsockname()[1]
            self.cameras.append(camera)
            checker = UsernameTokenChecker(config.username, config.password, config.max_created_skew_s)
            digest = (
                DigestChecker(config.username, config.password, config.http_digest)
                if config.http_digest
                else None
            )
            self._by_socket[sock.getsockname()[:2]] = _Instance(camera, checker, digest)
            await web.SockSite(self._runner, sock, backlog=512).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> CameraFleet:
        return await self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    def _instance(self, request: web.Request) -> _Instance:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        instance = self._by_socket.get(tuple(sockname[:2])) if sockname else None
        if instance is None:
            raise web.HTTPNotFound()
        return instance

    async def _snapshot(self, request: web.Request) -> web.Response:
        instance = self._instance(request)
        status = 404 if instance.camera.config.no_snapshot else 200
        _log(instance.camera, request, "snapshot", status)
        if status == 404:
            raise web.HTTPNotFound()
        return web.Response(body=_TINY_JPEG, content_type="image/jpeg")

    async def _soap(self, request: web.Request) -> web.Response:
        instance = self._instance(request)
        answer = await self._answer(instance, request)
        # Its web server stamps every answer with the device's own clock, as cameras' servers do.
        answer.headers["Date"] = format_datetime(instance.camera.now(), usegmt=True)
        _log(instance.camera, request, request.get(_OPERATION, "?"), answer.status)
        return answer

    async def _answer(self, instance: _Instance, request: web.Request) -> web.Response:
        camera = instance.camera
        camera.requests += 1
        body = await request.read()
        if camera.config.slow_s:
            await asyncio.sleep(camera.config.slow_s)
        if instance.digest is not None and not instance.digest.accepts(
            request.method, request.path_qs, request.headers.get("Authorization")
        ):
            return web.Response(status=401, headers={"WWW-Authenticate": instance.digest.challenge()})
        try:
            parsed = catalog().parse(body)
            request[_OPERATION] = parsed.operation
            handler = camera.handler(parsed.namespace, parsed.operation)
            if camera.requires_login(parsed.namespace, parsed.operation):
                instance.checker.check(parsed.envelope, camera.now())
            if camera.config.broken and (parsed.namespace, parsed.operation) == (
                NS_DEVICE,
                "GetDeviceInformation",
            ):
                return self._broken(camera.config.broken)
            answer = catalog().answer(parsed.namespace, parsed.operation, handler(parsed.params))
        except SoapFault as fault:
            if fault.subcode == "ter:NotAuthorized" and camera.config.wrong_password == "http401":
                return web.Response(
                    status=401,
                    headers={
                        "WWW-Authenticate": 'Digest realm="onvif", qop="auth", nonce="0123456789abcdef"'
                    },
                )
            return web.Response(
                status=fault.status, body=fault_envelope(fault), content_type="application/soap+xml"
            )
        return web.Response(body=answer, headers={"Content-Type": SOAP_CONTENT_TYPE})

    def _broken(self, kind: str) -> web.Response:
        if kind == "truncated":
            body = b'<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Bo'
        elif kind == "not_xml":
            body = b"500 Internal Server Error: watchdog restarted the SOAP daemon\n"
        elif kind == "bomb":
            body = _BOMB
        else:
            body = _EXTERNAL_ENTITY
        return web.Response(body=body, headers={"Content-Type": SOAP_CONTENT_TYPE})


def _log(camera: SimulatedCamera, request: web.Request, operation: str, status: int) -> None:
    sockname = request.transport.get_extra_info("sockname") if request.transport else None
    host, port = (sockname[0], sockname[1]) if sockname else ("", 0)
    camera.access_log.append(
        AccessEntry(host, port, request.headers.get("Host", ""), request.path_qs, operation, status)
    )
