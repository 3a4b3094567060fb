"""ONVIF client: wraps onvif-zeep-async, returns our dataclasses and raises typed device errors.

Shaped like Home Assistant's ONVIF device wrapper: the library object stays inside, each call is
bounded by our timeout, and every failure leaves as one of ``provisioning.errors``. Two things the
library does not do for us are done here: Media2 (H.265 profiles live there; the library ships no
Media2 WSDL, so we ship a subset) and hardened parsing of device answers (no DTDs, no entities, no
huge trees, whatever the library's defaults are).
"""

from __future__ import annotations

import asyncio
import atexit
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import onvif.client
from aiohttp import DigestAuthMiddleware
from onvif import ONVIFService
from onvif.client import AsyncTransportProtocolErrorHandler, UsernameDigestTokenDtDiff, ZeepAsyncClient
from onvif.transport import ASYNC_TRANSPORT
from onvif.wsa import WsAddressingIfMissingPlugin
from pydantic import SecretStr
from zeep import Settings

from provisioning.errors import AuthFailed, DeviceError, MalformedResponse, NotSupported
from provisioning.onvif.clock import device_utc
from provisioning.onvif.errors import ClockSkew, translate
from provisioning.onvif.http_clock import ServerClock
from provisioning.onvif.models import DeviceInfo, MediaProfile, NetworkInterface, VideoSource
from provisioning.pinning import Pin, default_device_service_url, url_port

log = logging.getLogger(__name__)

NS_DEVICE = "http://www.onvif.org/ver10/device/wsdl"
NS_MEDIA = "http://www.onvif.org/ver10/media/wsdl"
NS_MEDIA2 = "http://www.onvif.org/ver20/media/wsdl"
SERVICE_NAMES = {
    NS_DEVICE: "device",
    NS_MEDIA: "media",
    NS_MEDIA2: "media2",
    "http://www.onvif.org/ver10/events/wsdl": "events",
    "http://www.onvif.org/ver20/ptz/wsdl": "ptz",
    "http://www.onvif.org/ver20/imaging/wsdl": "imaging",
    "http://www.onvif.org/ver10/deviceIO/wsdl": "deviceio",
    "http://www.onvif.org/ver20/analytics/wsdl": "analytics",
    "http://www.onvif.org/ver10/recording/wsdl": "recording",
    "http://www.onvif.org/ver10/search/wsdl": "search",
    "http://www.onvif.org/ver10/replay/wsdl": "replay",
}

WSDL_DIR = Path(__file__).parent / "wsdl"
MEDIA2_WSDL = WSDL_DIR / "media2.wsdl"
MEDIA2_BINDING = f"{{{NS_MEDIA2}}}Media2Binding"
DEVICE_BINDING = f"{{{NS_DEVICE}}}DeviceBinding"
MEDIA_BINDING = f"{{{NS_MEDIA}}}MediaBinding"

CLOCK_ADJUST_THRESHOLD_S = 5.0
"""Below this the offset is reported but WS-Security timestamps are left alone (sub-second jitter)."""

RESPONSE_SETTINGS = Settings(
    strict=False,  # cameras omit required elements; tolerate, as the library does
    xml_huge_tree=False,  # keep libxml2's size and depth limits on device answers
    forbid_dtd=True,
    forbid_entities=True,
    forbid_external=True,
)
"""How every device answer is parsed: no DOCTYPE, no entity, no external fetch (XML bombs, XXE)."""


# The library's module-level WSDL transport holds a requests session whose __del__ runs during
# interpreter teardown and prints an ImportError on every CLI exit; close it while Python still can.
def close_wsdl_transport() -> None:
    ASYNC_TRANSPORT.session.close()
    ASYNC_TRANSPORT._close_session = False  # __del__ would close it again, mid-teardown


atexit.register(close_wsdl_transport)

_warm_lock: asyncio.Lock | None = None
_warm = False


def _list_our_wsdl_dir() -> None:
    """The library checks WSDL paths against a cached folder listing; add ours, off the loop."""
    onvif.client._WSDL_DIR_FILES[str(WSDL_DIR)] = onvif.client._list_wsdl_dir(str(WSDL_DIR))


async def warm_up() -> None:
    """Parse the WSDLs off the event loop, once per process; later calls return at once.

    No zeep SqliteCache: every document is a local file, so the cache would only add a database
    file in the user's home directory.
    """
    global _warm, _warm_lock
    if _warm:
        return
    if _warm_lock is None:
        _warm_lock = asyncio.Lock()
    async with _warm_lock:
        if _warm:
            return
        await asyncio.to_thread(_list_our_wsdl_dir)
        wsdl = Path(onvif.client._WSDL_PATH)
        # The library parses each WSDL in an executor and caches the Document process-wide.
        for name in ("devicemgmt.wsdl", "media.wsdl"):
            await onvif.client._cached_document(str(wsdl / name))
        await onvif.client._cached_document(str(MEDIA2_WSDL))
        _warm = True


def clock_offset(answer: Any, sent: float, received: float) -> float | None:
    """Device clock minus ours from a GetSystemDateAndTime ``answer`` asked at ``sent``, read at ``received``.

    The device reports whole seconds (truncated, so on average 0.5 s early) read somewhere within the
    round trip: compare the middle of its second with the middle of the round trip.
    """
    device = device_utc(answer)
    if device is None:
        return None
    return round(device.timestamp() + 0.5 - (sent + received) / 2, 1)


def _harden(service: ONVIFService) -> ONVIFService:
    for client in (service.zeep_client, service.zeep_client_authless):
        if client is not None:
            client.settings = RESPONSE_SETTINGS
    return service


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


class OnvifClient:
    """One camera or NVR. Use as ``async with OnvifClient(...) as client:``.

    ``connect`` reads the device clock (unauthenticated, as ONVIF allows; with a login when the
    device demands one), shifts WS-Security timestamps to that clock when it is far off, and learns
    the service addresses, pinned to the registered host and port (:mod:`provisioning.pinning`).

    Every service shares one HTTP session that answers an HTTP Digest challenge (RFC 7616, MD5 or
    SHA-256: aiohttp's ``DigestAuthMiddleware``, scoped to the device's origin) on top of the
    WS-Security token in the SOAP header, so a device wanting either or both is served. Optional
    operations a device refuses as not supported leave a note in ``notes`` naming the operation.
    """

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        password: SecretStr,
        *,
        timeout: float = 10.0,
        adjust_time: bool = True,
        device_url: str | None = None,
        keep_reported_addresses: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self.timeout = timeout
        self.adjust_time = adjust_time
        self.pin = Pin(host, port, keep_reported=keep_reported_addresses)
        self.device_url = self.pin.service(device_url or default_device_service_url(host, port))
        self.clock_offset_s: float | None = None
        self.xaddrs: dict[str, str] = {}
        self.notes: list[str] = []
        self._dt_diff: dt.timedelta | None = None
        self._session: aiohttp.ClientSession | None = None
        self._server_clock = ServerClock()
        self._services: dict[str, ONVIFService] = {}
        self._media2_refused = False

    @property
    def where(self) -> str:
        return f"ONVIF {self.host}:{self.port}"

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # -- lifecycle ------------------------------------------------------------------------------------
    async def __aenter__(self) -> OnvifClient:
        try:
            await self.connect()
        except BaseException:
            await self.close()
            raise
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._services.clear()
        if self._session is not None:
            session, self._session = self._session, None
            try:
                await session.close()
            except Exception as error:  # closing must not mask the real outcome
                log.debug("%s: close failed: %s", self.where, error)

    async def connect(self) -> None:
        await warm_up()
        devicemgmt = await self._device_service()
        self.clock_offset_s = await self._read_clock_offset(devicemgmt)
        if (
            self.adjust_time
            and self.clock_offset_s is not None
            and abs(self.clock_offset_s) > CLOCK_ADJUST_THRESHOLD_S
        ):
            # Services capture the offset when created: rebuild the device service with it.
            self._dt_diff = dt.timedelta(seconds=self.clock_offset_s)
            self._services.clear()
            devicemgmt = await self._device_service()
        self.xaddrs = await self._read_xaddrs(devicemgmt)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            password = self._password.get_secret_value()
            middlewares: tuple[Any, ...] = (self._server_clock,)
            if self.username:
                middlewares = (DigestAuthMiddleware(self.username, password), self._server_clock)
            self._session = aiohttp.ClientSession(
                # Cameras serve HTTPS with self-signed certificates: unverified, as the library does;
                # pinning keeps the peer the registered address.
                connector=aiohttp.TCPConnector(ssl=onvif.client._NO_VERIFY_SSL_CONTEXT),
                middlewares=middlewares,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            )
        return self._session

    async def _make_service(self, key: str, xaddr: str, wsdl: str, binding: str) -> ONVIFService:
        """An ONVIF service at ``xaddr`` (already pinned) speaking through our one HTTP session."""
        found = self._services.get(key)
        if found is not None:
            return found
        service = ONVIFService(
            xaddr,
            self.username,
            self._password.get_secret_value(),
            wsdl,
            no_cache=True,
            dt_diff=self._dt_diff,
            binding_name=binding,
            binding_key=(key, None),
        )
        await service._session.close()  # the library makes one per service; ours carries Digest
        session = self._http()
        service._session = session
        service.transport.session = session
        try:
            await service.setup()
        except Exception as error:
            raise translate(error, f"{self.where} {key}") from error
        self._services[key] = _harden(service)
        return self._services[key]

    async def _device_service(self) -> ONVIFService:
        wsdl = str(Path(onvif.client._WSDL_PATH) / "devicemgmt.wsdl")
        return await self._make_service("devicemgmt", self.device_url, wsdl, DEVICE_BINDING)

    async def _call(self, what: str, call: Callable[[], Awaitable[Any]]) -> Any:
        try:
            async with asyncio.timeout(self.timeout):
                return await call()
        except Exception as error:
            typed = translate(error, f"{self.where} {what}")
            if (
                isinstance(typed, AuthFailed)
                and not self.adjust_time
                and self.clock_offset_s is not None
                and abs(self.clock_offset_s) > CLOCK_ADJUST_THRESHOLD_S
            ):
                typed = ClockSkew(
                    f"{self.where} {what}: authentication failed; device clock is off by "
                    f"{self.clock_offset_s:+.0f} s"
                )
            raise typed from error

    async def _optional(self, what: str, call: Callable[[], Awaitable[Any]], consequence: str) -> Any:
        """``call``, or None with a note when the device answers that it does not support ``what``."""
        try:
            return await self._call(what, call)
        except NotSupported:
            self.note(f"{what} not supported: {consequence}")
            return None

    async def _read_clock_offset(self, devicemgmt: ONVIFService) -> float | None:
        """Device clock minus ours; None when the device does not tell (then nothing is adjusted)."""
        sent = time.time()
        try:
            answer = await self._call("GetSystemDateAndTime", devicemgmt.authless_GetSystemDateAndTime)
        except DeviceError as error:
            if error.kind not in ("auth_failed", "device_fault", "not_supported", "malformed_response"):
                raise
            try:  # some firmwares (Axis) authenticate even this call
                sent = time.time()
                answer = await self._call("GetSystemDateAndTime", devicemgmt.GetSystemDateAndTime)
            except AuthFailed as refused:
                sent, answer = time.time(), await self._login_on_the_http_clock(refused)
            except DeviceError as again:
                if again.kind not in ("device_fault", "not_supported", "malformed_response"):
                    raise
                answer = None
        offset = clock_offset(answer, sent, time.time())
        if offset is None:
            log.debug("%s: no usable device clock in GetSystemDateAndTime", self.where)
        return offset

    async def _login_on_the_http_clock(self, refused: AuthFailed) -> Any:
        """A login refused by a device that also hides its clock: retry once on its HTTP ``Date``.

        Re-raises the refusal when the ``Date`` header is missing or close to ours (then the
        credentials are wrong); a clock far off without ``adjust_time`` is a ``ClockSkew``.
        """
        skew = self._server_clock.offset_s
        if skew is None or abs(skew) <= CLOCK_ADJUST_THRESHOLD_S:
            raise refused
        if not self.adjust_time:
            raise ClockSkew(
                f"{self.where} GetSystemDateAndTime: authentication failed; device clock is off by "
                f"{skew:+.0f} s (its HTTP Date)"
            ) from refused
        self._dt_diff = dt.timedelta(seconds=skew)
        self._services.clear()
        devicemgmt = await self._device_service()
        answer = await self._call("GetSystemDateAndTime", devicemgmt.GetSystemDateAndTime)
        self.note(
            "device demands a login even for its clock, which is far off: "
            "WS-Security timestamps were first set from its HTTP Date header"
        )
        return answer

    async def _read_xaddrs(self, devicemgmt: ONVIFService) -> dict[str, str]:
        """Service addresses as the device reports them, each pinned; the device service is ours."""
        reported: dict[str, str] = {}
        try:
            services = await self._optional(
                "GetServices",
                lambda: devicemgmt.GetServices({"IncludeCapability": False}),
                "service addresses read from GetCapabilities",
            )
        except DeviceError as error:
            if error.kind != "device_fault":
                raise
            services = None
        for service in services or []:
            namespace, xaddr = getattr(service, "Namespace", None), getattr(service, "XAddr", None)
            if namespace and xaddr:
                reported[str(namespace)] = str(xaddr)
        if not reported:
            # Older firmware: GetCapabilities knows the main services only.
            capabilities = await self._optional(
                "GetCapabilities",
                lambda: devicemgmt.GetCapabilities({"Category": "All"}),
                "media service assumed at the device service address",
            )
            for attribute, namespace in (("Device", NS_DEVICE), ("Media", NS_MEDIA)):
                section = getattr(capabilities, attribute, None)
                if section is not None and getattr(section, "XAddr", None):
                    reported[namespace] = str(section.XAddr)
        if NS_DEVICE in reported:
            self.pin = replace(self.pin, service_port=url_port(reported[NS_DEVICE]))
        xaddrs = {namespace: self.pin.service(xaddr) for namespace, xaddr in reported.items()}
        xaddrs[NS_DEVICE] = self.device_url
        # Profile S requires a media service; a device that would not say where serves it here.
        xaddrs.setdefault(NS_MEDIA, self.device_url)
        return xaddrs

    # -- what callers ask -----------------------------------------------------------------------------
    @property
    def services(self) -> list[str]:
        return sorted(SERVICE_NAMES.get(ns, ns) for ns in self.xaddrs)

    @property
    def has_media2(self) -> bool:
        return NS_MEDIA2 in self.xaddrs and not self._media2_refused

    async def device_info(self) -> DeviceInfo:
        devicemgmt = await self._device_service()
        answer = await self._call("GetDeviceInformation", devicemgmt.GetDeviceInformation)
        try:
            return DeviceInfo(
                manufacturer=_text(answer.Manufacturer),
                model=_text(answer.Model),
                firmware=_text(answer.FirmwareVersion),
                serial=_text(answer.SerialNumber),
                hardware_id=_text(answer.HardwareId),
            )
        except AttributeError as error:
            raise MalformedResponse(f"{self.where} GetDeviceInformation: answer lacks fields") from error

    async def video_sources(self) -> list[VideoSource]:
        media = await self._media1()
        answer = await self._call("GetVideoSources", media.GetVideoSources)
        sources = []
        for source in answer or []:
            resolution = getattr(source, "Resolution", None)
            sources.append(
                VideoSource(
                    token=_text(source.token),
                    width=getattr(resolution, "Width", None),
                    height=getattr(resolution, "Height", None),
                    fps=getattr(source, "Framerate", None),
                )
            )
        return sources

    async def profiles(self, *, with_snapshot: bool = True) -> tuple[list[MediaProfile], list[str]]:
        """Profiles with their stream (and snapshot) URIs, from Media2 when offered; plus notes on gaps."""
        profiles = await self.list_profiles()
        if NS_MEDIA2 not in self.xaddrs:
            self.note("device offers no Media2 service: profiles read from Media1 (no H.265)")
        filled = []
        snapshot_missing = False
        for profile in profiles:
            stream_uri = await self.stream_uri(profile.token)
            snapshot_uri = None
            if with_snapshot and not snapshot_missing:
                try:
                    snapshot_uri = await self.snapshot_uri(profile.token)
                except NotSupported:
                    snapshot_missing = True
            filled.append(replace(profile, stream_uri=stream_uri, snapshot_uri=snapshot_uri))
        if snapshot_missing:
            self.note("GetSnapshotUri not supported: device offers no snapshot URI")
        return filled, list(self.notes)

    async def list_profiles(self) -> list[MediaProfile]:
        """Profiles without URIs (one call): Media2 when offered, Media1 otherwise."""
        if self.has_media2:
            try:
                return await self._media2_profiles()
            except NotSupported:
                self._media2_refused = True
                self.note("Media2 GetProfiles not supported: profiles read from Media1")
        return await self._media1_profiles()

    async def _media1(self) -> ONVIFService:
        wsdl = str(Path(onvif.client._WSDL_PATH) / "media.wsdl")
        return await self._make_service("media", self.xaddrs[NS_MEDIA], wsdl, MEDIA_BINDING)

    async def _media2_service(self) -> ONVIFService:
        return await self._make_service("media2", self.xaddrs[NS_MEDIA2], str(MEDIA2_WSDL), MEDIA2_BINDING)

    async def _media2_profiles(self) -> list[MediaProfile]:
        media2 = await self._media2_service()
        answer = await self._call("Media2 GetProfiles", lambda: media2.GetProfiles({"Type": ["All"]}))
        profiles = []
        for item in answer or []:
            configurations = getattr(item, "Configurations", None)
            encoder = getattr(configurations, "VideoEncoder", None)
            profiles.append(_media_profile(item, encoder, getattr(configurations, "VideoSource", None)))
        return profiles

    async def _media1_profiles(self) -> list[MediaProfile]:
        media = await self._media1()
        answer = await self._call("GetProfiles", media.GetProfiles)
        profiles = []
        for item in answer or []:
            encoder = getattr(item, "VideoEncoderConfiguration", None)
            profiles.append(_media_profile(item, encoder, getattr(item, "VideoSourceConfiguration", None)))
        return profiles

    async def stream_uri(self, profile_token: str) -> str:
        """The profile's RTSP URI, pinned to the registered host (credentials in it kept for use)."""
        if self.has_media2:
            media2 = await self._media2_service()
            answer = await self._call(
                "Media2 GetStreamUri",
                lambda: media2.GetStreamUri({"Protocol": "RtspUnicast", "ProfileToken": profile_token}),
            )
            return self.pin.media(_text(answer))
        media = await self._media1()
        setup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
        answer = await self._call(
            "GetStreamUri", lambda: media.GetStreamUri({"StreamSetup": setup, "ProfileToken": profile_token})
        )
        return self.pin.media(_text(getattr(answer, "Uri", None)))

    async def snapshot_uri(self, profile_token: str) -> str:
        if self.has_media2:
            media2 = await self._media2_service()
            answer = await self._call(
                "Media2 GetSnapshotUri", lambda: media2.GetSnapshotUri({"ProfileToken": profile_token})
            )
            return self.pin.media(_text(answer))
        media = await self._media1()
        answer = await self._call(
            "GetSnapshotUri", lambda: media.GetSnapshotUri({"ProfileToken": profile_token})
        )
        return self.pin.media(_text(getattr(answer, "Uri", None)))

    async def set_ntp(self, server: str) -> None:
        """Point the camera at ``server`` (host name or IPv4) instead of DHCP-provided NTP."""
        devicemgmt = await self._device_service()
        entry = (
            {"Type": "IPv4", "IPv4Address": server}
            if server.replace(".", "").isdigit()
            else {"Type": "DNS", "DNSname": server}
        )
        await self._call("SetNTP", lambda: devicemgmt.SetNTP({"FromDHCP": False, "NTPManual": [entry]}))

    async def network_interfaces(self) -> list[NetworkInterface]:
        """The device's interfaces; empty with a note when it does not support GetNetworkInterfaces."""
        devicemgmt = await self._device_service()
        answer = await self._optional(
            "GetNetworkInterfaces", devicemgmt.GetNetworkInterfaces, "no MAC or interface addresses"
        )
        interfaces = []
        for item in answer or []:
            info = getattr(item, "Info", None)
            config = getattr(getattr(item, "IPv4", None), "Config", None)
            manual = [
                m.Address for m in (getattr(config, "Manual", None) or []) if getattr(m, "Address", None)
            ]
            interfaces.append(
                NetworkInterface(
                    token=_text(item.token),
                    name=_text(getattr(info, "Name", None)) or None,
                    mac=_text(getattr(info, "HwAddress", None)).lower() or None,
                    enabled=bool(getattr(item, "Enabled", False)),
                    ipv4=tuple(str(a) for a in manual),
                )
            )
        return interfaces

    async def sync_device_clock(self) -> None:
        """Set the camera's clock to ours (UTC, manual), for cameras without a reachable NTP server.

        WS-Security timestamps follow: the stored offset is cleared and the services rebuilt.
        """
        devicemgmt = await self._device_service()
        now = dt.datetime.now(dt.UTC)
        request = {
            "DateTimeType": "Manual",
            "DaylightSavings": False,
            "TimeZone": None,
            "UTCDateTime": {
                "Date": {"Year": now.year, "Month": now.month, "Day": now.day},
                "Time": {"Hour": now.hour, "Minute": now.minute, "Second": now.second},
            },
        }
        await self._call("SetSystemDateAndTime", lambda: devicemgmt.SetSystemDateAndTime(request))
        self._dt_diff = None
        self._services.clear()
        self.clock_offset_s = await self._read_clock_offset(await self._device_service())

    async def ntp_servers(self) -> list[str]:
        """Manually set NTP servers; empty with a note when the device does not support GetNTP."""
        devicemgmt = await self._device_service()
        answer = await self._optional("GetNTP", devicemgmt.GetNTP, "NTP servers unknown")
        servers = []
        for entry in getattr(answer, "NTPManual", None) or []:
            value = entry.DNSname or entry.IPv4Address or entry.IPv6Address
            if value:
                servers.append(str(value))
        return servers


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _media_profile(item: Any, encoder: Any, source: Any) -> MediaProfile:
    """One profile from Media1 or Media2: they nest the encoder and source differently, not their fields."""
    resolution = getattr(encoder, "Resolution", None)
    rate = getattr(encoder, "RateControl", None)
    return MediaProfile(
        token=_text(item.token),
        name=_text(getattr(item, "Name", "")),
        encoding=_text(encoder.Encoding).upper() if encoder is not None else None,
        width=getattr(resolution, "Width", None),
        height=getattr(resolution, "Height", None),
        fps=_float(getattr(rate, "FrameRateLimit", None)),
        video_source_token=_text(source.SourceToken) if source is not None else None,
    )


@dataclass(frozen=True, slots=True)
class DeviceClock:
    """One unauthenticated GetSystemDateAndTime: the device answered in ``latency_ms``."""

    offset_s: float | None
    """Device clock minus ours; None when the answer carries no usable time."""
    latency_ms: float


class DeviceClockReader:
    """GetSystemDateAndTime for many devices through one zeep client and HTTP session.

    Monitoring asks every camera every minute: an :class:`OnvifClient` per ask would build two zeep
    clients, an HTTP session and a WS-Security header each time, and its ``connect`` also reads the
    services (authenticated). Here the WSDL is parsed off the loop once per process (``warm_up``) and
    the unauthenticated zeep client is built once; each read binds it to the device's address, which
    costs nothing. Connections are not kept alive: 10,000 cameras asked once a minute must not hold
    10,000 sockets. Only a read with a login (:meth:`read` with ``username``, for cameras that demand
    one even for the clock) builds its own client, WS-Security token and Digest-capable session.
    ``close()`` when done.
    """

    def __init__(self, *, timeout: float = 10.0) -> None:
        if timeout <= 0:
            raise ValueError("timeout: must be positive")
        self.timeout = timeout
        self._client: ZeepAsyncClient | None = None
        self._session: aiohttp.ClientSession | None = None
        self._lock = asyncio.Lock()

    async def _document(self) -> Any:
        await warm_up()
        return await onvif.client._cached_document(str(Path(onvif.client._WSDL_PATH) / "devicemgmt.wsdl"))

    def _new_session(self, *middlewares: Any) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True, limit=0),
            timeout=aiohttp.ClientTimeout(total=self.timeout),
            middlewares=middlewares,
        )

    async def _zeep(self) -> ZeepAsyncClient:
        async with self._lock:
            if self._client is None:
                document = await self._document()
                self._session = self._new_session()
                self._client = ZeepAsyncClient(
                    wsdl=document,
                    transport=AsyncTransportProtocolErrorHandler(session=self._session),
                    settings=RESPONSE_SETTINGS,
                    plugins=[WsAddressingIfMissingPlugin()],
                )
            return self._client

    async def read(
        self, url: str, username: str | None = None, password: SecretStr | None = None
    ) -> DeviceClock:
        """GetSystemDateAndTime at the device service ``url`` (already pinned by the caller).

        Unauthenticated unless ``username`` is given; then with a WS-Security token and an answer to
        an HTTP Digest challenge, shifted once to the device's HTTP ``Date`` when its clock is far
        off. Raises a ``provisioning.errors`` type when the device does not answer well-formed
        (``AuthFailed`` when it wants, or refuses, a login).
        """
        where = f"ONVIF {urlsplit(url).netloc.rpartition('@')[2]} GetSystemDateAndTime"
        if username is None:
            return await self._ask(await self._zeep(), url, where)
        secret = password.get_secret_value() if password is not None else ""
        server_clock = ServerClock()
        session = self._new_session(DigestAuthMiddleware(username, secret), server_clock)
        try:
            try:
                return await self._ask(await self._login_client(session, username, secret, None), url, where)
            except AuthFailed:
                skew = server_clock.offset_s
                if skew is None or abs(skew) <= CLOCK_ADJUST_THRESHOLD_S:
                    raise
                client = await self._login_client(session, username, secret, dt.timedelta(seconds=skew))
                return await self._ask(client, url, where)
        finally:
            await session.close()

    async def _login_client(
        self, session: aiohttp.ClientSession, username: str, secret: str, dt_diff: dt.timedelta | None
    ) -> ZeepAsyncClient:
        return ZeepAsyncClient(
            wsdl=await self._document(),
            wsse=UsernameDigestTokenDtDiff(username, secret, dt_diff=dt_diff, use_digest=True),
            transport=AsyncTransportProtocolErrorHandler(session=session),
            settings=RESPONSE_SETTINGS,
            plugins=[WsAddressingIfMissingPlugin()],
        )

    async def _ask(self, client: ZeepAsyncClient, url: str, where: str) -> DeviceClock:
        proxy = client.create_service(DEVICE_BINDING, url)
        started, sent = time.perf_counter(), time.time()
        try:
            async with asyncio.timeout(self.timeout):
                answer = await proxy.GetSystemDateAndTime()
        except Exception as error:
            raise translate(error, where) from error
        latency_ms = round((time.perf_counter() - started) * 1000, 1)
        return DeviceClock(clock_offset(answer, sent, time.time()), latency_ms)

    async def close(self) -> None:
        session, self._session, self._client = self._session, None, None
        if session is not None:
            await session.close()
