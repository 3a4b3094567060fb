"""The topic scheme: ``ioc/v1/d/{device_id}/{kind}``, keyed by device id and never by site.

Sites get re-organised; a device id does not change, so neither do its topics, its ACL pattern
(``%u`` is the device id) nor the firmware configuration in the field.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import lru_cache

PREFIX = "ioc/v1/d"


class TopicKind(enum.StrEnum):
    TELEMETRY = "telemetry"  # our JSON format, device -> platform
    SENML = "senml"  # SenML JSON (RFC 8428), device -> platform
    STATUS = "status"  # retained "online"/"offline", the device's will message
    CMD = "cmd"  # platform -> device


INGEST_KINDS = (TopicKind.TELEMETRY, TopicKind.SENML, TopicKind.STATUS)


class TopicError(ValueError):
    """A topic outside the scheme; the message says which part is wrong."""


@dataclass(frozen=True, slots=True)
class DeviceTopic:
    device_id: int
    kind: TopicKind


def device_prefix(device_id: int) -> str:
    """Every topic of one device starts with this."""
    return f"{PREFIX}/{device_id}"


def device_topic(device_id: int, kind: TopicKind) -> str:
    return f"{device_prefix(device_id)}/{kind.value}"


def ingest_filter(kind: TopicKind, share_group: str | None = "ioc") -> str:
    """The subscription for every device's ``kind`` topic, through a shared subscription by default."""
    base = f"{PREFIX}/+/{kind.value}"
    return f"$share/{share_group}/{base}" if share_group else base


def parse_device_id(text: str) -> int:
    """Device ids are the registry's positive integers, written in decimal without sign or padding."""
    if not text.isascii() or not text.isdigit() or (len(text) > 1 and text[0] == "0") or len(text) > 18:
        raise TopicError(f"device id {text[:40]!r} is not a positive decimal integer")
    value = int(text)
    if value <= 0:
        raise TopicError("device id must be positive")
    return value


@lru_cache(maxsize=65536)
def parse_topic(topic: str) -> DeviceTopic:
    """Cached: every device repeats its few topics in every message (a bad topic raises, uncached)."""
    parts = topic.split("/")
    if len(parts) != 5 or "/".join(parts[:3]) != PREFIX:
        raise TopicError(f"topic {topic[:120]!r} is not {PREFIX}/<device_id>/<kind>")
    try:
        kind = TopicKind(parts[4])
    except ValueError:
        raise TopicError(
            f"topic kind {parts[4][:40]!r} is not one of {[k.value for k in TopicKind]}"
        ) from None
    return DeviceTopic(parse_device_id(parts[3]), kind)
