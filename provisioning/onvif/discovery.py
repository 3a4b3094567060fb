"""ONVIF WS-Discovery on exactly one interface, or a directed Probe to one address.

The multicast Probe leaves only through the named interface (IP_MULTICAST_IF with its index, the
socket bound to its address and, when permitted, SO_BINDTODEVICE): a server with a management and a
camera segment must not probe the management side. A directed Probe (WS-Discovery's unicast mode)
asks one address that multicast does not reach (another subnet, a NAT). The `wsdiscovery` package
probes on every interface from threads, so this small asyncio implementation is used instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
from dataclasses import dataclass

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
MAX_FOUND = 1024
"""Answers kept from one Probe; more (a flood, or a spoofer) end the search early, ``complete=False``."""
MAX_LISTEN_S = 60.0


@dataclass(frozen=True, slots=True)
class Search:
    """Where to Probe: multicast on ``interface``, or directed to ``address`` (exactly one of them)."""

    interface: str | None = None
    address: str | None = None
    listen_s: float = 3.0
    port: int = PORT

    def __post_init__(self) -> None:
        if (self.interface is None) == (self.address is None):
            raise DiscoveryError("--interface or --address: give exactly one", field="interface")
        if not 0 < self.listen_s <= MAX_LISTEN_S:
            raise DiscoveryError(
                f"--timeout: {self.listen_s} is outside (0, {MAX_LISTEN_S}] seconds", field="timeout_s"
            )


@dataclass(frozen=True, slots=True)
class Found:
    devices: list[DiscoveredDevice]
    complete: bool
    """False when :data:`MAX_FOUND` answers ended the search before ``listen_s``."""


class DiscoveryError(ValueError):
    """Bad input to discovery (unknown interface, no IPv4 on it): the message names the CLI option,
    ``field`` the API's request field."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def interface_ipv4(interface: str) -> str:
    addresses = psutil.net_if_addrs()
    if interface not in addresses:
        raise DiscoveryError(f"--interface: no network interface named {interface!r}", field="interface")
    for address in addresses[interface]:
        if address.family == socket.AF_INET:
            return str(address.address)
    raise DiscoveryError(f"--interface: {interface!r} has no IPv4 address", field="interface")


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
        self.full = asyncio.Event()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        matches = parse_probe_matches(data)
        if not matches:
            log.debug("discovery: unreadable answer from %s", addr[0])
        for match in matches:
            if match.relates_to and match.relates_to != self.message_id:
                continue  # an answer to somebody else's probe
            key = match.endpoint or f"{addr[0]}:{','.join(match.xaddrs)}"
            if len(self.found) >= MAX_FOUND:
                self.full.set()
                return
            if key not in self.found:
                self.found[key] = DiscoveredDevice(
                    addr[0], match.endpoint, match.scopes, match.xaddrs, match.types
                )


def _directed_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.bind(("0.0.0.0", 0))
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


async def discover(search: Search) -> Found:
    """Probe (repeated) as ``search`` says and collect answers for ``search.listen_s`` seconds."""
    if search.interface is not None:
        address = interface_ipv4(search.interface)
        destination = MULTICAST_GROUP
        try:
            sock = _socket(search.interface, address)
        except OSError as error:
            raise DiscoveryError(
                f"--interface: cannot send on {search.interface!r}: {error.strerror}", field="interface"
            ) from None
    else:
        assert search.address is not None
        destination = search.address
        sock = _directed_socket()
    message_id, datagram = build_probe()
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(lambda: _Collector(message_id), sock=sock)
    try:
        for attempt in range(PROBE_REPEATS):
            transport.sendto(datagram, (destination, search.port))
            if attempt + 1 < PROBE_REPEATS:
                await asyncio.sleep(min(0.1, search.listen_s / 4))
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(search.listen_s):
                await protocol.full.wait()
    finally:
        transport.close()
    devices = sorted(protocol.found.values(), key=lambda device: (device.address, device.endpoint))
    return Found(devices, complete=not protocol.full.is_set())
