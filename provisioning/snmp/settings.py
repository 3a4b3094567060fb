"""SNMP polling and probing settings (``IOC_SNMP__TIMEOUT=1.5`` etc., or ``[snmp]`` in ioc.toml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from provisioning.targets import AllowedNetworks


class SnmpSettings(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)

    timeout: float = Field(default=2.0, gt=0, le=30, description="Seconds per request.")
    retries: int = Field(default=1, ge=0, le=5, description="Extra tries after a timeout.")
    interval_s: float = Field(default=60.0, ge=5, description="Polling cycle length.")
    concurrency: int = Field(
        default=64,
        ge=1,
        le=100,
        description="Devices polled at once; ~100 answers in flight overflow UDP buffers.",
    )
    suspect_concurrency: int = Field(
        default=8,
        ge=1,
        le=32,
        description="Lane for devices that failed last cycle; small, so their agents can recover.",
    )
    max_in_flight: int = Field(
        default=100, ge=1, le=100, description="Ceiling of the adaptive (AIMD) overall request window."
    )
    max_interfaces: int = Field(default=1024, ge=1, description="Rows read per interface table walk.")
    allowed_networks: AllowedNetworks = Field(
        default_factory=list,
        description="Management networks that probes, onboarding and discovery may reach (CIDRs, comma-"
        "separated). Empty: anything but loopback, link-local, metadata and multicast addresses.",
    )
