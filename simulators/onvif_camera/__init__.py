"""A fleet of simulated ONVIF cameras speaking real SOAP 1.2, for tests, the bench and the demo fleet.

Requests are parsed and answers built by zeep from the ONVIF WSDLs (the same documents the client
uses), so a message the simulator accepts is one a real camera would; per-camera settings reproduce
the quirks real fleets show (clock skew, H.265-only, NVR channels, slow or broken answers).
"""

from simulators.onvif_camera.config import CameraConfig
from simulators.onvif_camera.server import CameraFleet

__all__ = ["CameraConfig", "CameraFleet"]
