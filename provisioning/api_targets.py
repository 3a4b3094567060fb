"""Route dependencies handing each protocol's :class:`TargetPolicy` to its API routes.

Apart from ``targets.py`` so that the settings (which type the allowlists) do not import fastapi:
every CLI command reads the settings, few serve HTTP.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from provisioning.targets import TargetPolicy


def _snmp_policy(request: Request) -> TargetPolicy:
    policy: TargetPolicy = request.app.state.snmp_targets
    return policy


def _onvif_policy(request: Request) -> TargetPolicy:
    policy: TargetPolicy = request.app.state.onvif_targets
    return policy


def _mqtt_policy(request: Request) -> TargetPolicy:
    policy: TargetPolicy = request.app.state.mqtt_targets
    return policy


SnmpTargets = Annotated[TargetPolicy, Depends(_snmp_policy)]
"""Route dependency; the app factory sets ``app.state.snmp_targets`` from the settings."""
OnvifTargets = Annotated[TargetPolicy, Depends(_onvif_policy)]
MqttTargets = Annotated[TargetPolicy, Depends(_mqtt_policy)]
