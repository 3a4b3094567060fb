"""RTSP: the camera's stream answers DESCRIBE with an SDP, logging in with the device's credential.

The stream URI is the one ONVIF onboarding stored (first profile); without one, the camera's root on
the standard port, which many cameras serve. Either is pinned to the device's registered address
before the credential goes out, and Basic authentication is answered only when the device's stored
ONVIF facts allow it (``rtsp_basic_auth``, chosen at onboarding; Digest otherwise).
"""

from __future__ import annotations

from device_registry.credentials import UsernamePasswordCredential
from device_registry.targets import DeviceTarget
from monitors.checks.base import CheckResult
from provisioning.errors import DeviceError, NotSupported
from provisioning.onvif.stored import StoredCamera
from provisioning.rtsp.check import check_rtsp

RTSP_PORT = 554


def default_stream_url(address: str) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"rtsp://{host}:{RTSP_PORT}/"


class RtspDescribeCheck:
    name = "rtsp"

    def __init__(self, url: str | None = None, timeout_s: float = 5.0) -> None:
        self.url = url
        self.timeout_s = timeout_s

    async def run(self, target: DeviceTarget) -> CheckResult:
        credential = target.credential
        username, password = None, None
        if isinstance(credential, UsernamePasswordCredential):
            username, password = credential.username, credential.password
        stored = StoredCamera.of(target.device_id, target.attributes)
        url = stored.pin(target.address, target.port).media(self.url or default_stream_url(target.address))
        try:
            stream = await check_rtsp(
                url, username, password, timeout_s=self.timeout_s, allow_basic=stored.rtsp_basic_auth
            )
        except ValueError as error:
            return CheckResult.failure(self.name, NotSupported(str(error)))
        except DeviceError as error:
            return CheckResult.failure(self.name, error)
        return CheckResult.success(self.name, stream.latency_ms, ", ".join(stream.media))
