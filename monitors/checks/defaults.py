"""Which checks a device gets when nobody chose: decided by its kind and the protocols it speaks.

| kind                                   | protocols | checks                      |
|----------------------------------------|-----------|-----------------------------|
| any, or ``sensor``                     | mqtt      | MQTT freshness              |
| switch, router, firewall, ups, gateway | snmp      | ICMP + SNMP sysUpTime       |
| camera, nvr                            | onvif     | ICMP + ONVIF + RTSP DESCRIBE|
| camera, nvr                            | -         | ICMP + TCP 554              |
| switch, router, firewall, ups, gateway | -         | ICMP                        |
| anything else                          | -         | TCP to its port, else ICMP  |

SNMP needs the device's SNMP credential: without one the device gets ICMP alone rather than a check
that can only fail. :class:`DefaultChecks` owns what checks share across devices (one SNMP client,
one ONVIF clock reader), so it lives as long as the monitors and is closed with them.
"""

from __future__ import annotations

from device_registry.credentials import SnmpCommunityCredential, SnmpV3Credential
from device_registry.models.types import utcnow
from device_registry.targets import DeviceTarget
from monitors.checks.base import Check
from monitors.checks.icmp import IcmpCheck
from monitors.checks.mqtt_freshness import LastSeen, MqttFreshnessCheck
from monitors.checks.onvif import OnvifCheck
from monitors.checks.rtsp import RTSP_PORT, RtspDescribeCheck
from monitors.checks.snmp import SnmpUptimeCheck
from monitors.checks.tcp import TcpConnectCheck
from provisioning.onvif.client import DeviceClockReader

NETWORK_KINDS = frozenset({"switch", "router", "firewall", "ups", "gateway"})
VIDEO_KINDS = frozenset({"camera", "nvr"})


class DefaultChecks:
    def __init__(
        self,
        *,
        timeout_s: float = 2.0,
        last_seen: LastSeen | None = None,
        publish_interval_s: float = 60.0,
        clock_drift_warn_s: float | None = None,
    ) -> None:
        """``timeout_s`` bounds one check whole (the scheduler gives up on it then)."""
        self.timeout_s = timeout_s
        self.last_seen = last_seen
        self.publish_interval_s = publish_interval_s
        self.started = utcnow()
        """MQTT devices never heard from are given one freshness limit from here (mqtt_freshness)."""
        self.snmp = SnmpUptimeCheck(timeout_s)
        self.onvif = OnvifCheck(DeviceClockReader(timeout=timeout_s), clock_drift_warn_s=clock_drift_warn_s)

    def for_target(self, target: DeviceTarget, *, stream_uri: str | None = None) -> tuple[Check, ...]:
        """Raises ``ValueError`` naming the device when it cannot be checked (MQTT without a lookup)."""
        kind = target.kind.lower()
        protocols = set(target.protocols)
        if "mqtt" in protocols or kind in {"sensor", "mqtt_sensor"}:
            if self.last_seen is None:
                raise ValueError(f"device {target.device_id}: MQTT devices need a last_seen lookup")
            return (MqttFreshnessCheck(self.last_seen, self.publish_interval_s, watching_since=self.started),)
        if kind in VIDEO_KINDS:
            if "onvif" in protocols:
                return (IcmpCheck(self.timeout_s), self.onvif, RtspDescribeCheck(stream_uri, self.timeout_s))
            return (IcmpCheck(self.timeout_s), TcpConnectCheck(target.port or RTSP_PORT, self.timeout_s))
        if kind in NETWORK_KINDS:
            if "snmp" in protocols and isinstance(
                target.credential, SnmpCommunityCredential | SnmpV3Credential
            ):
                return (IcmpCheck(self.timeout_s), self.snmp)
            return (IcmpCheck(self.timeout_s),)
        if target.port is not None:
            return (TcpConnectCheck(target.port, self.timeout_s),)
        return (IcmpCheck(self.timeout_s),)

    def forget(self, keep: set[int]) -> None:
        self.snmp.forget(keep)

    async def close(self) -> None:
        self.snmp.close()
        await self.onvif.reader.close()
