"""One simulated camera: its clock, profiles and the answer to each ONVIF operation it offers."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from simulators.onvif_camera.config import CameraConfig
from simulators.onvif_camera.soap import NS_DEVICE, NS_MEDIA, NS_MEDIA2, SoapFault

PRE_AUTH = {(NS_DEVICE, "GetSystemDateAndTime"), (NS_DEVICE, "GetServices"), (NS_DEVICE, "GetCapabilities")}
"""Operations ONVIF's access policy lets anyone call (PRE_AUTH class)."""

ACCESS_LOG_SIZE = 10_000
"""Bounded: a demo fleet runs for days."""

OPTIONAL_OPERATIONS = frozenset(
    {
        (NS_DEVICE, "GetServices"),
        (NS_DEVICE, "GetCapabilities"),
        (NS_DEVICE, "GetNetworkInterfaces"),
        (NS_DEVICE, "GetNTP"),
        (NS_MEDIA, "GetVideoSources"),
        (NS_MEDIA, "GetSnapshotUri"),
    }
)
"""What a minimal Profile S device (``CameraConfig.minimal``) refuses, besides the whole of Media2."""


@dataclass(frozen=True)
class AccessEntry:
    """One HTTP request as the camera saw it: where it arrived, what it asked, what it answered."""

    local_host: str
    local_port: int
    host_header: str
    path: str
    operation: str
    status: int


@dataclass(frozen=True)
class StreamProfile:
    token: str
    name: str
    channel: int
    encoding: str
    width: int
    height: int
    fps: float
    bitrate_kbps: int

    @property
    def source_token(self) -> str:
        return f"VideoSource_{self.channel}"


def _profiles(config: CameraConfig) -> list[StreamProfile]:
    codec = "H265" if config.h265_only else "H264"
    profiles = []
    for channel in range(1, config.channels + 1):
        prefix = f"Channel{channel}_" if config.is_nvr else ""
        profiles.append(
            StreamProfile(f"{prefix}MainStream", "mainStream", channel, codec, 1920, 1080, 25.0, 4096)
        )
        profiles.append(StreamProfile(f"{prefix}SubStream", "subStream", channel, codec, 640, 360, 15.0, 512))
    return profiles


def _not_supported(what: str) -> SoapFault:
    return SoapFault("Receiver", "ter:ActionNotSupported", f"{what} is not supported", status=400)


class SimulatedCamera:
    def __init__(self, config: CameraConfig) -> None:
        self.config = config
        self.clock_offset = timedelta(seconds=config.clock_offset_s)
        self.profiles = _profiles(config)
        self.ntp_servers: list[str] = []
        self.ntp_from_dhcp = True
        self.port = config.port
        self.requests = 0
        """SOAP requests received: lets tests prove a device was (not) contacted."""
        self.access_log: deque[AccessEntry] = deque(maxlen=ACCESS_LOG_SIZE)
        """The latest HTTP requests this camera received, with the local address each arrived on."""

    # -- helpers -----------------------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    @property
    def reported_host(self) -> str:
        """The host the camera names in the URLs it reports: its own, or another one behind NAT."""
        return self.config.reported_host or self.config.host

    @property
    def base_url(self) -> str:
        return f"http://{self.reported_host}:{self.config.reported_port or self.port}"

    def requires_login(self, namespace: str, operation: str) -> bool:
        if not self.config.ws_security:
            return False
        return self.config.auth_everything or (namespace, operation) not in PRE_AUTH

    def stream_uri(self, token: str) -> str:
        template = self.config.rtsp_url or "rtsp://{host}:554/Streaming/{token}"
        return template.format(host=self.reported_host, token=token)

    def _profile(self, token: str | None) -> StreamProfile:
        for profile in self.profiles:
            if profile.token == token:
                return profile
        raise SoapFault("Sender", "ter:NoProfile", f"no profile {token!r}")

    def handler(self, namespace: str, operation: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
        if namespace == NS_MEDIA2 and self.config.media1_only:
            raise _not_supported("Media2")
        if self.config.minimal and (namespace == NS_MEDIA2 or (namespace, operation) in OPTIONAL_OPERATIONS):
            # As a third-party server in the field answers: a reason text, no ONVIF subcode.
            raise SoapFault("Receiver", None, "Action not supported")
        found = getattr(self, f"_{_SERVICE_PREFIX[namespace]}_{operation}", None)
        if found is None:
            raise _not_supported(operation)
        return found

    # -- device service -----------------------------------------------------------------------------
    def _device_GetDeviceInformation(self, _: dict[str, Any]) -> dict[str, Any]:
        c = self.config
        return {
            "Manufacturer": c.manufacturer,
            "Model": c.model,
            "FirmwareVersion": c.firmware,
            "SerialNumber": c.serial,
            "HardwareId": c.hardware_id,
        }

    def _device_GetSystemDateAndTime(self, _: dict[str, Any]) -> dict[str, Any]:
        now = self.now()
        utc = {
            "Time": {"Hour": now.hour, "Minute": now.minute, "Second": now.second},
            "Date": {"Year": now.year, "Month": now.month, "Day": now.day},
        }
        local = now + timedelta(hours=7)
        return {
            "SystemDateAndTime": {
                "DateTimeType": "NTP" if self.ntp_servers else "Manual",
                "DaylightSavings": False,
                "TimeZone": {"TZ": "ICT-7"},
                "UTCDateTime": utc if self.config.utc_in_clock else None,
                "LocalDateTime": {
                    "Time": {"Hour": local.hour, "Minute": local.minute, "Second": local.second},
                    "Date": {"Year": local.year, "Month": local.month, "Day": local.day},
                },
            }
        }

    def _device_SetSystemDateAndTime(self, params: dict[str, Any]) -> dict[str, Any]:
        utc = params.get("UTCDateTime")
        if params.get("DateTimeType") == "Manual" and utc:
            d, t = utc["Date"], utc["Time"]
            wanted = datetime(
                d["Year"], d["Month"], d["Day"], t["Hour"], t["Minute"], t["Second"], tzinfo=UTC
            )
            self.clock_offset = wanted - datetime.now(UTC)
        return {}

    def _device_SetNTP(self, params: dict[str, Any]) -> dict[str, Any]:
        self.ntp_from_dhcp = bool(params.get("FromDHCP"))
        servers = []
        for entry in params.get("NTPManual") or []:
            servers.append(entry.get("DNSname") or entry.get("IPv4Address") or entry.get("IPv6Address") or "")
        self.ntp_servers = [s for s in servers if s]
        return {}

    def _device_GetNTP(self, _: dict[str, Any]) -> dict[str, Any]:
        manual = [
            {"Type": "DNS", "DNSname": server}
            if not server[0].isdigit()
            else {"Type": "IPv4", "IPv4Address": server}
            for server in self.ntp_servers
        ]
        return {"NTPInformation": {"FromDHCP": self.ntp_from_dhcp, "NTPManual": manual}}

    def _services(self) -> list[tuple[str, str]]:
        services = [(NS_DEVICE, "/onvif/device_service"), (NS_MEDIA, "/onvif/media_service")]
        if not (self.config.media1_only or self.config.minimal):
            services.append((NS_MEDIA2, "/onvif/media2_service"))
        return services

    def _device_GetServices(self, _: dict[str, Any]) -> dict[str, Any]:
        if not self.config.get_services:
            raise _not_supported("GetServices")
        return {
            "Service": [
                {
                    "Namespace": namespace,
                    "XAddr": self.base_url + path,
                    "Version": {"Major": 2 if namespace == NS_MEDIA2 else 1, "Minor": 60},
                }
                for namespace, path in self._services()
            ]
        }

    def _device_GetCapabilities(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "Capabilities": {
                "Device": {"XAddr": self.base_url + "/onvif/device_service"},
                "Media": {
                    "XAddr": self.base_url + "/onvif/media_service",
                    "StreamingCapabilities": {"RTPMulticast": False, "RTP_TCP": True, "RTP_RTSP_TCP": True},
                },
            }
        }

    def _device_GetNetworkInterfaces(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "NetworkInterfaces": [
                {
                    "token": "eth0",
                    "Enabled": True,
                    "Info": {"Name": "eth0", "HwAddress": self.config.mac, "MTU": 1500},
                    "IPv4": {
                        "Enabled": True,
                        "Config": {
                            "Manual": [{"Address": self.config.host, "PrefixLength": 24}],
                            "DHCP": False,
                        },
                    },
                }
            ]
        }

    # -- media (ver10) ------------------------------------------------------------------------------
    def _media_GetVideoSources(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "VideoSources": [
                {
                    "token": f"VideoSource_{ch}",
                    "Framerate": 25.0,
                    "Resolution": {"Width": 1920, "Height": 1080},
                }
                for ch in range(1, self.config.channels + 1)
            ]
        }

    def _media_GetProfiles(self, _: dict[str, Any]) -> dict[str, Any]:
        profiles = []
        for p in self.profiles:
            entry: dict[str, Any] = {
                "token": p.token,
                "fixed": True,
                "Name": p.name,
                "VideoSourceConfiguration": self._source_configuration(p),
            }
            if p.encoding != "H265":  # Media1's encoder enumeration cannot express H.265
                entry["VideoEncoderConfiguration"] = {
                    "token": f"VideoEncoder_{p.token}",
                    "Name": p.name,
                    "UseCount": 1,
                    "Encoding": p.encoding,
                    "Resolution": {"Width": p.width, "Height": p.height},
                    "Quality": 5.0,
                    "RateControl": {
                        "FrameRateLimit": int(p.fps),
                        "EncodingInterval": 1,
                        "BitrateLimit": p.bitrate_kbps,
                    },
                    "Multicast": {
                        "Address": {"Type": "IPv4", "IPv4Address": "0.0.0.0"},
                        "Port": 0,
                        "TTL": 1,
                        "AutoStart": False,
                    },
                    "SessionTimeout": "PT60S",
                }
            profiles.append(entry)
        return {"Profiles": profiles}

    def _source_configuration(self, p: StreamProfile) -> dict[str, Any]:
        return {
            "token": f"VideoSourceConfig_{p.channel}",
            "Name": f"VideoSourceConfig_{p.channel}",
            "UseCount": 2,
            "SourceToken": p.source_token,
            "Bounds": {"x": 0, "y": 0, "width": 1920, "height": 1080},
        }

    def _media_uri(self, uri: str) -> dict[str, Any]:
        return {
            "MediaUri": {
                "Uri": uri,
                "InvalidAfterConnect": False,
                "InvalidAfterReboot": False,
                "Timeout": "PT0S",
            }
        }

    def _media_GetStreamUri(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._media_uri(self.stream_uri(self._profile(params.get("ProfileToken")).token))

    def _media_GetSnapshotUri(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.config.no_snapshot:
            raise _not_supported("GetSnapshotUri")
        profile = self._profile(params.get("ProfileToken"))
        return self._media_uri(f"{self.base_url}/onvif/snapshot/{profile.token}.jpg")

    # -- media2 (ver20) -----------------------------------------------------------------------------
    def _media2_GetProfiles(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "Profiles": [
                {
                    "token": p.token,
                    "fixed": True,
                    "Name": p.name,
                    "Configurations": {
                        "VideoSource": self._source_configuration(p),
                        "VideoEncoder": {
                            "token": f"VideoEncoder_{p.token}",
                            "Name": p.name,
                            "UseCount": 1,
                            "Encoding": p.encoding,
                            "Resolution": {"Width": p.width, "Height": p.height},
                            "RateControl": {"FrameRateLimit": p.fps, "BitrateLimit": p.bitrate_kbps},
                            "Quality": 5.0,
                            "GovLength": 50,
                            "Profile": "Main",
                        },
                    },
                }
                for p in self.profiles
            ]
        }

    def _media2_GetStreamUri(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"Uri": self.stream_uri(self._profile(params.get("ProfileToken")).token)}

    def _media2_GetSnapshotUri(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.config.no_snapshot:
            raise _not_supported("GetSnapshotUri")
        profile = self._profile(params.get("ProfileToken"))
        return {"Uri": f"{self.base_url}/onvif/snapshot/{profile.token}.jpg"}


_SERVICE_PREFIX = {NS_DEVICE: "device", NS_MEDIA: "media", NS_MEDIA2: "media2"}
