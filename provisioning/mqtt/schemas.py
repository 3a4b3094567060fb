"""What MQTT's probe, discover and onboard answer, in the API and under ``ioc --json`` alike.

Apart from ``api.py`` so that the CLI prints the very models the API returns without importing
fastapi.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from provisioning.responses import DiscoverPublic, OnboardPublic

if TYPE_CHECKING:  # printing a model needs neither aiomqtt (discovery) nor the registry (onboard)
    from provisioning.mqtt.discovery import MqttDiscovery, Publisher
    from provisioning.mqtt.onboard import OnboardedSensor

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


class MqttFoundPublic(BaseModel):
    """A publisher whose device key is no registered device: a candidate to onboard (or to stop)."""

    device_key: str = Field(description="The topic's device segment: ioc/v1/d/{device_key}/{kind}.")
    device_id: int | None = Field(description="The key as a device id; null when it is not one.")
    first_seen: datetime
    last_seen: datetime
    messages: int
    retained: int = Field(description="Of those, kept by the broker from before the listen.")
    topics: list[str] = Field(description="Topic kinds it published on.")
    fields: list[str] = Field(description="A sample of the field names it sent (never values).")

    @classmethod
    def of(cls, publisher: Publisher) -> MqttFoundPublic:
        return cls(
            device_key=publisher.key,
            device_id=publisher.device_id,
            first_seen=publisher.first_seen,
            last_seen=publisher.last_seen,
            messages=publisher.messages,
            retained=publisher.retained,
            topics=sorted(publisher.kinds),
            fields=publisher.fields,
        )


class MqttSilentPublic(BaseModel):
    device_id: int
    name: str


class MqttDiscoverPublic(DiscoverPublic[MqttFoundPublic]):
    broker: str = Field(description="The broker listened to (no login shown).")
    listen_s: float = Field(description="How long it listened.")
    messages: int = Field(description="Messages heard in all.")
    publishers: int = Field(description="Distinct device keys heard.")
    registered_heard: int = Field(description="Of those, registered devices (not candidates).")
    silent: list[MqttSilentPublic] = Field(
        description="Registered MQTT devices in your scope that published nothing meanwhile (the first 100)."
    )
    silent_total: int

    @classmethod
    def of(cls, broker: str, found: MqttDiscovery) -> MqttDiscoverPublic:
        return cls(
            broker=broker,
            listen_s=found.heard.listened_s,
            complete=found.heard.complete,
            messages=found.heard.messages,
            publishers=len(found.heard.publishers),
            registered_heard=found.registered_heard,
            found=[MqttFoundPublic.of(p) for p in found.candidates],
            silent=[MqttSilentPublic(device_id=d.device_id, name=d.name) for d in found.silent],
            silent_total=found.silent_total,
        )
