"""Per-camera settings of the simulator: identity, credentials and the quirks to reproduce."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Literal

WrongPasswordAnswer = Literal["fault", "http401"]
"""How a camera answers bad credentials: a SOAP ter:NotAuthorized fault (HTTP 400, most firmwares)
or a bare HTTP 401 with a Digest challenge (firmwares that put HTTP auth in front of SOAP)."""

HttpDigestAlgorithm = Literal["MD5", "SHA-256"]
"""HTTP Digest (RFC 7616) in front of SOAP, with this hash, as some firmwares demand."""

BrokenAnswer = Literal["truncated", "not_xml", "bomb", "external_entity"]
"""How GetDeviceInformation is broken, to test that the client turns it into a typed error."""


@dataclass
class CameraConfig:
    name: str = "Camera"
    manufacturer: str = "SimCam"
    model: str = "IPC-2000"
    firmware: str = "V5.6.3 build 210315"
    serial: str = field(default_factory=lambda: uuid.uuid4().hex[:12].upper())
    hardware_id: str = "HW-1"
    location: str = "vietnam"
    username: str = "admin"
    password: str = "admin123"
    port: int = 0
    """TCP port of the device service; 0 lets the kernel choose (read it back from the fleet)."""
    host: str = "127.0.0.1"
    clock_offset_s: float = 0.0
    """Device clock minus the real clock: what a camera without NTP drifts to."""
    utc_in_clock: bool = True
    """False: GetSystemDateAndTime gives only LocalDateTime and a POSIX TZ (ICT-7), as some firmware does."""
    max_created_skew_s: float = 300.0
    """A UsernameToken whose Created is further than this from the device clock is refused."""
    channels: int = 1
    """Video sources; more than one makes the device an NVR with two profiles per channel."""
    h265_only: bool = False
    media1_only: bool = False
    get_services: bool = True
    """False: old firmware without GetServices; clients must fall back to GetCapabilities."""
    no_snapshot: bool = False
    slow_s: float = 0.0
    """Delay before every answer."""
    wrong_password: WrongPasswordAnswer = "fault"
    broken: BrokenAnswer | None = None
    rtsp_url: str | None = None
    """Stream URI template ({host}, {token}); default rtsp://{host}:554/Streaming/{token}."""
    auth_everything: bool = False
    """True: even GetSystemDateAndTime, GetServices and GetCapabilities demand a login (some Axis)."""
    minimal: bool = False
    """True: a minimal Profile S device answering "Action not supported" to every optional operation
    (GetServices, GetCapabilities, GetVideoSources, GetSnapshotUri, GetNetworkInterfaces, GetNTP, Media2)."""
    http_digest: HttpDigestAlgorithm | None = None
    """Set: every SOAP request must carry HTTP Digest credentials (401 with a challenge otherwise)."""
    ws_security: bool = True
    """False: no WS-Security UsernameToken is checked (with ``http_digest``: a Digest-only device)."""
    reported_host: str | None = None
    """NAT: the host the camera puts in XAddrs, stream and snapshot URIs instead of its own."""
    reported_port: int | None = None
    """NAT: the HTTP port the camera puts in XAddrs and snapshot URIs instead of its own."""
    endpoint_uuid: str = field(default_factory=lambda: str(uuid.uuid4()))
    mac: str = "02:00:00:00:00:01"

    @property
    def is_nvr(self) -> bool:
        return self.channels > 1
