"""ONVIF WS-Discovery on exactly one interface.

The multicast Probe leaves only through the named interface (IP_MULTICAST_IF with its index, the
socket bound to its address and, when permitted, SO_BINDTODEVICE): a server with a management and a
camera segment must not probe the management side. The `wsdiscovery` package probes on every
interface from threads, so this small asyncio implementation is used instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct

import psutil

from provisioning.onvif.wsdiscovery import (
    MULTICAST_GROUP,
    PORT,
    DiscoveredDevice,
    build_probe,
    parse_probe_matches,
)

log = logging.getLogger(__name__)

PROBE_REPEATS = 2
"""UDP may drop a datagram; WS-Discovery senders repeat the Probe (SOAP-over-UDP MULTICAST_UDP_REPEAT)."""


class DiscoveryError(Exception):
    """Bad input to discovery (unknown interface, no IPv4 on it): the message names the option."""


def interface_ipv4(interface: str) -> str:
    addresses = psutil.net_if_addrs()
    if interface not in addresses:
        raise DiscoveryError(f"--interface: no network interface named {interface!r}")
    for address in addresses[interface]:
        if address.family == socket.AF_INET:
            return str(address.address)
    raise DiscoveryError(f"--interface: {interface!r} has no IPv4 address")


def _socket(interface: str, address: str) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        with contextlib.suppress(PermissionError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, interface.encode())
        ifindex = socket.if_nametoindex(interface)
        mreqn = struct.pack("4s4si", socket.inet_aton("0.0.0.0"), socket.inet_aton(address), ifindex)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, mreqn)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        sock.bind((address, 0))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class _Collector(asyncio.DatagramProtocol):
    def __init__(self, message_id: str) -> None:
        self.message_id = message_id
        self.found: dict[str, DiscoveredDevice] = {}

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        matches = parse_probe_matches(data)
        if not matches:
            log.debug("discovery: unreadable answer from %s", addr[0])
        for match in matches:
            if match.relates_to and match.relates_to != self.message_id:
                continue  # an answer to somebody else's probe
            key = match.endpoint or f"{addr[0]}:{','.join(match.xaddrs)}"
            if key not in self.found:
                self.found[key] = DiscoveredDevice(
                    addr[0], match.endpoint, match.scopes, match.xaddrs, match.types
                )


async def discover(interface: str, *, listen_s: float = 3.0, port: int = PORT) -> list[DiscoveredDevice]:
    """Probe once (repeated) on ``interface`` and collect answers for ``listen_s`` seconds."""
    address = interface_ipv4(interface)
    try:
        sock = _socket(interface, address)
    except OSError as error:
        raise DiscoveryError(f"--interface: cannot send on {interface!r}: {error.strerror}") from None
    message_id, datagram = build_probe()
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(lambda: _Collector(message_id), sock=sock)
    try:
        for attempt in range(PROBE_REPEATS):
            transport.sendto(datagram, (MULTICAST_GROUP, port))
            if attempt + 1 < PROBE_REPEATS:
                await asyncio.sleep(min(0.1, listen_s / 4))
        await asyncio.sleep(listen_s)
    finally:
        transport.close()
    return sorted(protocol.found.values(), key=lambda device: (device.address, device.endpoint))
