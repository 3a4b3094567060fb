"""What MQTT's probe, discover and onboard answer, in the API and under ``ioc --json`` alike.

Apart from ``api.py`` so that the CLI prints the very models the API returns without importing
fastapi.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from provisioning.mqtt.onboard import OnboardedSensor
from provisioning.responses import OnboardPublic

NOTHING_TO_PROBE = "probe: none; an MQTT sensor connects to the broker itself once given its password"


class MqttProbePublic(BaseModel):
    """What ``/mqtt/probe`` answers."""

    model_config = ConfigDict(from_attributes=True)

    host: str
    port: int
    tls: bool
    authenticated: bool
    broker_version: str | None
    notes: list[str]


class MqttOnboardPublic(OnboardPublic[None]):
    """What ``/mqtt/onboard`` answers: the one response that ever carries the sensor's password."""

    username: str = Field(description="The sensor's broker user name (its device id).")
    one_time_password: str = Field(
        description="The sensor's broker password, shown in this response only: only its hash is stored."
    )
    topics: dict[str, str] = Field(description="Topic kind -> the topic the sensor publishes (or reads) on.")
    broker: str = Field(description="Whether the broker took the new credential.")

    @classmethod
    def of(cls, sensor: OnboardedSensor, broker: str) -> MqttOnboardPublic:
        return cls(
            device_id=sensor.device_id,
            name=sensor.name,
            kind=sensor.kind,
            notes=[NOTHING_TO_PROBE],
            probe=None,
            username=sensor.username,
            one_time_password=sensor.password.get_secret_value(),
            topics=sensor.topics,
            broker=broker,
        )
