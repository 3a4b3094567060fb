"""ICMP echo through icmplib, on unprivileged (SOCK_DGRAM) sockets when the kernel allows it.

Measured in ``bench/monitors_bench.py``: icmplib on DGRAM sockets is the cheapest way to ping one
target per check (no process spawn as with fping, no raw socket). Unprivileged ICMP needs the process
group inside ``net.ipv4.ping_group_range`` (``sysctl -w net.ipv4.ping_group_range="0 2147483647"``;
systemd sets this by default, containers often do not). Without it, root falls back to raw sockets and
anyone else gets :class:`IcmpUnavailable` naming the sysctl.
"""

from __future__ import annotations

import functools
import ipaddress
import os
from pathlib import Path

from icmplib import ICMPLibError, async_ping

from device_registry.targets import DeviceTarget
from monitors.checks.base import CheckResult
from provisioning.errors import DeviceTimeout, DeviceUnreachable, NotSupported

PING_GROUP_RANGE = Path("/proc/sys/net/ipv4/ping_group_range")


class IcmpUnavailable(RuntimeError):
    """Neither unprivileged nor raw ICMP sockets may be opened by this process."""


def unprivileged_icmp_allowed(range_file: Path = PING_GROUP_RANGE) -> bool:
    try:
        low, high = (int(part) for part in range_file.read_text().split())
    except (OSError, ValueError):
        return False
    groups = {os.getegid(), *os.getgroups()}
    return any(low <= gid <= high for gid in groups)


@functools.cache
def icmp_privileged() -> bool:
    """Which socket kind to use: ``False`` = DGRAM (preferred), ``True`` = raw (root only)."""
    if unprivileged_icmp_allowed():
        return False
    if os.geteuid() == 0:
        return True
    low_high = PING_GROUP_RANGE.read_text().strip() if PING_GROUP_RANGE.exists() else "missing"
    raise IcmpUnavailable(
        f"net.ipv4.ping_group_range is {low_high!r} and excludes group {os.getegid()}: "
        'run `sysctl -w net.ipv4.ping_group_range="0 2147483647"` or use TCP checks'
    )


class IcmpCheck:
    name = "icmp"

    def __init__(self, timeout_s: float = 2.0, privileged: bool | None = None) -> None:
        self.timeout_s = timeout_s
        self.privileged = icmp_privileged() if privileged is None else privileged

    async def run(self, target: DeviceTarget) -> CheckResult:
        """Only IP addresses: icmplib would resolve a name itself, and resolution belongs to the registry."""
        try:
            ipaddress.ip_address(target.address)
        except ValueError:
            return CheckResult.failure(self.name, NotSupported(f"{target.address!r} is not an IP address"))
        try:
            host = await async_ping(
                target.address, count=1, timeout=self.timeout_s, privileged=self.privileged
            )
        except ICMPLibError as error:
            return CheckResult.failure(self.name, DeviceUnreachable(f"{type(error).__name__}: {error}"))
        except OSError as error:
            return CheckResult.failure(self.name, DeviceUnreachable(error.strerror or str(error)))
        if not host.is_alive:
            return CheckResult.failure(self.name, DeviceTimeout(f"no echo reply in {self.timeout_s}s"))
        return CheckResult.success(self.name, host.avg_rtt)
