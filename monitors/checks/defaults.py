"""Which checks a device gets when nobody chose: decided by its kind.

SNMP sysUpTime, ONVIF GetSystemDateAndTime and RTSP DESCRIBE checks join here as thin adapters once
their protocol clients exist in ``provisioning/``; until then switches and cameras are checked by ICMP
and TCP connect.
"""

from __future__ import annotations

from device_registry.targets import DeviceTarget
from monitors.checks.base import Check
from monitors.checks.icmp import IcmpCheck
from monitors.checks.mqtt_freshness import LastSeen, MqttFreshnessCheck
from monitors.checks.tcp import TcpConnectCheck

RTSP_PORT = 554


def default_checks(
    target: DeviceTarget,
    *,
    timeout_s: float = 2.0,
    last_seen: LastSeen | None = None,
    publish_interval_s: float = 60.0,
) -> tuple[Check, ...]:
    kind = target.kind.lower()
    if "mqtt" in target.protocols or kind in {"sensor", "mqtt_sensor"}:
        if last_seen is None:
            raise ValueError(f"device {target.device_id}: MQTT devices need a last_seen lookup")
        return (MqttFreshnessCheck(last_seen, publish_interval_s),)
    if kind == "camera":
        return (IcmpCheck(timeout_s), TcpConnectCheck(target.port or RTSP_PORT, timeout_s))
    if target.port is not None and kind not in {"switch", "router", "gateway"}:
        return (TcpConnectCheck(target.port, timeout_s),)
    return (IcmpCheck(timeout_s),)
