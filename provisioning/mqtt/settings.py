"""MQTT probing settings: the ``mqtt`` field of ``ioc.settings.Settings`` (``IOC_MQTT__PROBE_TIMEOUT_S=3``).

The platform's own broker is ``IOC_MQTT_URL`` (``provisioning.mqtt.url``); these settings bound what a
probe of some other broker may do.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from provisioning.targets import AllowedNetworks


class MqttSettings(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)

    probe_timeout_s: float = Field(default=5.0, gt=0, le=60, description="Seconds for a broker probe.")
    allowed_networks: AllowedNetworks = Field(
        default_factory=list,
        description="Management networks that probes may reach (CIDRs, comma-separated). Empty: anything "
        "but loopback, link-local, metadata and multicast addresses.",
    )
