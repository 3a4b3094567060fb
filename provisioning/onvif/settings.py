"""ONVIF/RTSP settings: the ``onvif`` field of ``ioc.settings.Settings`` (``IOC_ONVIF__CALL_TIMEOUT_S=5``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from provisioning.targets import AllowedNetworks


class OnvifSettings(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)

    call_timeout_s: float = Field(default=10.0, gt=0, le=300, description="Seconds per ONVIF call.")
    adjust_time: bool = Field(
        default=True, description="Shift WS-Security timestamps to a camera clock that is far off."
    )
    rtsp_timeout_s: float = Field(default=5.0, gt=0, le=300, description="Seconds for an RTSP check.")
    discovery_listen_s: float = Field(
        default=3.0, gt=0, le=60, description="Seconds to collect WS-Discovery answers."
    )
    poll_interval_s: float = Field(
        default=60.0, ge=5, description="Cycle of the `cameras` service (camera_health points)."
    )
    poll_concurrency: int = Field(default=32, ge=1, le=1000, description="Cameras polled at once.")
    allowed_networks: AllowedNetworks = Field(
        default_factory=list,
        description="Management networks that probes, onboarding and discovery may reach (CIDRs, comma-"
        "separated). Empty: anything but loopback, link-local, metadata and multicast addresses.",
    )
