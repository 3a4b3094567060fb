"""What a route that talks to a device answers when the device fails: one body for every protocol.

The composition root (``ioc/app.py``) installs the one handler that turns any ``DeviceError`` into this
body; routes only declare it, so clients (and the fuzzer) know the statuses a device route can answer.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from provisioning.errors import AuthFailed, DeviceError

ProbeT = TypeVar("ProbeT", bound=BaseModel | None)
FoundT = TypeVar("FoundT", bound=BaseModel)
OnboardT = TypeVar("OnboardT", bound=BaseModel)


class OnboardPublic(BaseModel, Generic[ProbeT]):
    """What ``POST /api/v1/{protocol}/onboard`` answers for every protocol: the saved device, then the
    probe that justified it (the same body ``/probe`` answers) and its ``notes`` (what was not read).

    A protocol with nothing to probe before saving (an MQTT sensor connects to the broker itself)
    answers ``probe: null`` and says so in ``notes``."""

    device_id: int
    name: str
    kind: str
    notes: list[str] = Field(description="The probe's notes: what could not be read, and why.")
    probe: ProbeT


class DiscoverPublic(BaseModel, Generic[FoundT]):
    """What ``POST /api/v1/{protocol}/discover`` answers for every protocol: what was ``found`` and
    whether the search ran to its end (``complete``); each protocol adds what it searched."""

    complete: bool = Field(description="False when a deadline or a bound cut the search short.")
    found: list[FoundT]


class OnboardAttempt(BaseModel, Generic[OnboardT]):
    """``ioc discover PROTOCOL --onboard``: what became of one device found, saved or not."""

    address: str
    onboarded: OnboardT | None = None
    error: str | None = None


class DeviceErrorBody(BaseModel):
    """A device's failure: ``kind`` says what happened, ``retryable`` whether trying again may help,
    ``field`` the request field it points at (the credential of a refused login), else null."""

    detail: str
    field: str | None = None
    kind: str
    retryable: bool


def device_error_status(error: DeviceError) -> int:
    """422 when the caller's input is at fault (a refused credential), else 502: the device failed."""
    return 422 if isinstance(error, AuthFailed) else 502


def device_error_body(error: DeviceError) -> dict[str, Any]:
    return DeviceErrorBody(
        detail=str(error), field=error.field, kind=error.kind, retryable=error.retryable
    ).model_dump()


DEVICE_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    502: {"model": DeviceErrorBody, "description": "The device did not answer, or answered wrongly"},
}
"""Declared on every route that talks to a device (probe, discover, onboard). A refused credential is a
422 with the same body; the 422 of the shared error responses documents it."""
