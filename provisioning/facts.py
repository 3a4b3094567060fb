"""What onboarding learned about a device, stored the same way for every protocol.

Each protocol declares one typed, versioned record in its ``models.py`` (``SnmpFacts``, ``OnvifFacts``,
``MqttFacts``), kept under ``device.attributes[<protocol>]`` and written and read only here. A record
is facts, never secrets: attributes are returned by the device API. Secrets live in the registry's
sealed credential store (SNMP, ONVIF) or, for MQTT, as the broker's one-way verifier in
``mqtt_credentials`` (``provisioning/mqtt/credentials.py``).

``version`` changes when a record's shape changes incompatibly; the migration that changes it rewrites
every stored record, so a reader meeting another version knows the record was written by another
release and says so rather than guessing. Readers ignore keys they do not know (records written
before a key was dropped still read); writers write only the declared ones.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from device_registry.log_once import error_once

log = logging.getLogger(__name__)


class Facts(BaseModel):
    """Base of every protocol's facts record; ``protocol`` is its key in ``device.attributes``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    protocol: ClassVar[str]
    version: int


F = TypeVar("F", bound=Facts)


class MalformedFacts(ValueError):
    """A stored record that does not validate as its protocol's facts: which device key, and why."""

    def __init__(self, protocol: str, problem: str) -> None:
        super().__init__(f"attributes[{protocol!r}]: {problem}")
        self.protocol = protocol
        self.problem = problem


class HasAttributes(Protocol):
    attributes: dict[str, Any]


def _problem(error: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in error.errors()[:3]]
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def read_facts(attributes: Mapping[str, Any] | None, facts_type: type[F]) -> F | None:
    """``facts_type``'s record in ``attributes``; None when there is none; :class:`MalformedFacts` when
    one is there but does not validate (wrong version, wrong types, not an object)."""
    record = (attributes or {}).get(facts_type.protocol)
    if record is None:
        return None
    if not isinstance(record, Mapping):
        raise MalformedFacts(facts_type.protocol, f"expected an object, got {type(record).__name__}")
    expected, found = facts_type.model_fields["version"].default, record.get("version")
    if found != expected:
        hint = " (stored before facts were versioned: run the migrations)" if found is None else ""
        raise MalformedFacts(
            facts_type.protocol, f"version {found!r}, this release reads version {expected}{hint}"
        )
    try:
        return facts_type.model_validate(record)
    except ValidationError as error:
        raise MalformedFacts(facts_type.protocol, _problem(error)) from None


def write_facts(device: HasAttributes, facts: Facts) -> None:
    """Store ``facts`` under its protocol's key, replacing that key only (a new dict, so the ORM sees
    the change)."""
    device.attributes = {**(device.attributes or {}), facts.protocol: facts.model_dump(mode="json")}


def read_facts_or_none(device_id: int, attributes: Mapping[str, Any] | None, facts_type: type[F]) -> F | None:
    """For pollers and monitors, which re-read every device every cycle: a malformed record reads as
    none and is logged once per device and problem, so one broken record neither stops the others
    nor fills the log."""
    try:
        return read_facts(attributes, facts_type)
    except MalformedFacts as error:
        message = "device %d: stored %s facts ignored, they do not validate: %s"
        error_once(log, message, device_id, error.protocol, str(error))
        return None
