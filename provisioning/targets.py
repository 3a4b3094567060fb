"""Which addresses the platform may send probes and discovery sweeps to, checked before any packet.

A user-given address is either in an operator's allowlist of management networks (settings
``IOC_SNMP__ALLOWED_NETWORKS``, ``IOC_ONVIF__ALLOWED_NETWORKS``; comma-separated CIDRs) or, when no
allowlist is set, anything but the addresses a server must never be steered at: its own loopback,
link-local (where cloud metadata services answer, 169.254.169.254 and friends), unspecified and
multicast. Those are refused unless an allowlist names them (the tests and the demo allow loopback).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, IPvAnyNetwork
from pydantic_settings import NoDecode

from device_registry.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

NEVER_BY_DEFAULT: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",  # "this network": 0.0.0.0 reaches the server itself
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local: AWS/GCP/Azure/OpenStack metadata at 169.254.169.254
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "168.63.129.16/32",  # Azure wire server
        "224.0.0.0/4",
        "255.255.255.255/32",
        "::/128",
        "::1/128",
        "::ffff:0:0/96",  # IPv4-mapped: sweep them by their IPv4 form
        "fe80::/10",
        "fd00:ec2::254/128",  # AWS metadata over IPv6
        "ff00::/8",
    )
)


class TargetRefused(InvalidInput):
    """422 naming the field: the address is not one the platform may probe."""


def _split(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


AllowedNetworks = Annotated[list[IPvAnyNetwork], NoDecode, BeforeValidator(_split)]
"""A settings field: ``"10.20.0.0/16, 10.30.0.0/16"`` or a JSON list, from the environment or TOML."""


def _plain(address: IPAddress) -> IPAddress:
    """``::ffff:127.0.0.1`` is 127.0.0.1 on the wire."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


@dataclass(frozen=True)
class TargetPolicy:
    allowed: tuple[IPNetwork, ...] = ()

    @classmethod
    def of(cls, networks: Sequence[Any]) -> TargetPolicy:
        return cls(tuple(ipaddress.ip_network(str(n), strict=False) for n in networks))

    def _allowlisted(self, address: IPAddress) -> bool:
        return any(address in network for network in self.allowed)

    def check_address(self, address: IPAddress, field: str) -> None:
        address = _plain(address)
        if self._allowlisted(address):
            return
        if self.allowed:
            raise TargetRefused(f"{field}: {address} is outside the allowed management networks", field=field)
        if any(address in network for network in NEVER_BY_DEFAULT):
            raise TargetRefused(
                f"{field}: {address} is a loopback, link-local, metadata or multicast address; "
                "allow it in the protocol's allowed_networks setting if you mean it",
                field=field,
            )

    def check_network(self, network: IPNetwork, field: str) -> None:
        """Every address of ``network`` must pass: wholly inside one allowed network, or (no allowlist)
        touching none of the never-by-default ranges."""
        if any(
            network.version == allowed.version and network.subnet_of(allowed)  # type: ignore[arg-type]
            for allowed in self.allowed
        ):
            return
        if self.allowed:
            raise TargetRefused(f"{field}: {network} is outside the allowed management networks", field=field)
        for never in NEVER_BY_DEFAULT:
            if network.version == never.version and network.overlaps(never):
                raise TargetRefused(
                    f"{field}: {network} includes {never} (loopback, link-local, metadata or multicast); "
                    "allow it in the protocol's allowed_networks setting if you mean it",
                    field=field,
                )

    async def check_host(self, host: str, field: str) -> None:
        """A literal address, or every address the name resolves to (a name may point anywhere)."""
        try:
            addresses: list[IPAddress] = [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, None, proto=socket.IPPROTO_UDP)
            except OSError:
                raise InvalidInput(f"{field}: cannot resolve {host!r}", field=field) from None
            addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
        for address in addresses:
            self.check_address(address, field)
