"""The v1/v2c polling fast path: pre-encoded requests over our own UDP socket, matched by request id.

pysnmp stays for v3, probes and discovery; polling v1/v2c devices goes through here because the
pyasn1 round trip costs ~10x what the whole rest of a poll does (see ``ber.py``). Shape:

* one UDP socket per address family for the whole poller (``socket_per_agent=True`` gives each agent
  its own connected socket instead; the bench measures both). The shared socket gets a 4 MiB receive
  buffer where the kernel allows it;
* each request takes a slot from the shared :class:`~provisioning.snmp.pacing.Pacer` (AIMD per agent
  and overall), is sent, and waits for the datagram carrying its request id from its agent's address.
  A retry re-sends the same bytes with the same request id, so a late answer to the first try still
  counts and never turns into a second queued copy at the agent being answered twice;
* a datagram that is not a response we wait for (unknown id, wrong source, garbage) is dropped and
  counted in ``stray``.

All failures leave as ``provisioning.errors`` types: ``DeviceTimeout``, ``DeviceUnreachable``,
``MalformedResponse``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import random
import socket
from collections.abc import Sequence
from typing import Any

from provisioning.errors import AuthFailed, DeviceError, DeviceTimeout, DeviceUnreachable
from provisioning.snmp.ber import (
    REQUEST_ID_MAX,
    REQUEST_ID_MIN,
    RequestTemplate,
    Response,
    decode_response,
    peek_request_id,
)
from provisioning.snmp.pacing import Pacer

_RECEIVE_BUFFER = 4 * 1024 * 1024


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, owner: FastSnmp) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.owner._deliver(data, addr)

    def error_received(self, exc: Exception) -> None:  # ICMP port unreachable and the like
        self.owner.icmp_errors += 1


class FastSnmp:
    """Sends pre-encoded v1/v2c requests and returns decoded responses. Create inside the running loop."""

    def __init__(self, *, pacer: Pacer | None = None, socket_per_agent: bool = False) -> None:
        self.pacer = pacer or Pacer()
        self.socket_per_agent = socket_per_agent
        self.stray = 0
        self.icmp_errors = 0
        self._next_id = random.randrange(REQUEST_ID_MIN, REQUEST_ID_MAX)
        self._pending: dict[int, tuple[tuple[str, int], asyncio.Future[bytes]]] = {}
        self._shared: dict[int, asyncio.DatagramTransport] = {}
        self._own: dict[tuple[str, int], asyncio.DatagramTransport] = {}
        self._resolved: dict[tuple[str, int], tuple[int, tuple[str, int]]] = {}

    async def __aenter__(self) -> FastSnmp:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        for transport in (*self._shared.values(), *self._own.values()):
            transport.close()
        self._shared.clear()
        self._own.clear()
        for _, waiter in self._pending.values():
            if not waiter.done():
                waiter.cancel()
        self._pending.clear()

    @property
    def sockets(self) -> int:
        return len(self._shared) + len(self._own)

    async def request(
        self, host: str, port: int, template: RequestTemplate, *, per_try: float, retries: int
    ) -> Response:
        """Send ``template`` to ``host:port`` and wait for its answer, ``retries`` re-sends at most."""
        family, address = await self._resolve(host, port)
        transport = await self._transport(family, address)
        loop = asyncio.get_running_loop()
        async with self.pacer.slot(address) as ticket:
            request_id = self._take_id()
            waiter: asyncio.Future[bytes] = loop.create_future()
            self._pending[request_id] = (address, waiter)
            packet = template.render(request_id)
            try:
                for _ in range(retries + 1):
                    if self.socket_per_agent:
                        transport.sendto(packet)
                    else:
                        transport.sendto(packet, address)
                    done, _pending = await asyncio.wait((waiter,), timeout=per_try)
                    if done:
                        break
                else:
                    ticket.timed_out()
                    tries = retries + 1
                    raise DeviceTimeout(
                        f"{host}:{port}: authentication failed or no answer "
                        f"(timeout {per_try:g}s x {tries} tr{'y' if tries == 1 else 'ies'})"
                    )
            except asyncio.CancelledError:
                ticket.timed_out()  # the device's deadline ran out while we waited: a slow agent
                raise
            finally:
                self._pending.pop(request_id, None)
        response = decode_response(waiter.result())
        if response.request_id != request_id or response.community != template.community:
            raise AuthFailed(f"{host}:{port}: answer for another request or community")
        return response

    # ---- plumbing ----------------------------------------------------------------------------

    def _take_id(self) -> int:
        request_id = self._next_id
        self._next_id = request_id + 1 if request_id < REQUEST_ID_MAX else REQUEST_ID_MIN
        return request_id

    def _deliver(self, data: bytes, addr: Any) -> None:
        request_id = peek_request_id(data)
        entry = self._pending.get(request_id) if request_id is not None else None
        if entry is None or entry[0] != (addr[0], addr[1]) or entry[1].done():
            self.stray += 1
            return
        entry[1].set_result(data)

    async def _resolve(self, host: str, port: int) -> tuple[int, tuple[str, int]]:
        key = (host, port)
        known = self._resolved.get(key)
        if known is not None:
            return known
        try:
            ip = ipaddress.ip_address(host)
            found: tuple[int, tuple[str, int]] = (
                int(socket.AF_INET6 if ip.version == 6 else socket.AF_INET),
                (ip.compressed, port),
            )
        except ValueError:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_DGRAM)
            except OSError as error:
                raise DeviceUnreachable(f"{host}:{port}: cannot resolve address ({error})") from None
            family, _, _, _, sockaddr = infos[0]
            found = (int(family), (str(sockaddr[0]), int(sockaddr[1])))
        self._resolved[key] = found
        return found

    async def _transport(self, family: int, address: tuple[str, int]) -> asyncio.DatagramTransport:
        loop = asyncio.get_running_loop()
        if self.socket_per_agent:
            transport = self._own.get(address)
            if transport is None:
                transport, _ = await loop.create_datagram_endpoint(
                    lambda: _Receiver(self), remote_addr=address, family=family
                )
                self._own[address] = transport
            return transport
        transport = self._shared.get(family)
        if transport is None:
            sock = socket.socket(family, socket.SOCK_DGRAM)
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER)
            sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 0))
            sock.setblocking(False)
            transport, _ = await loop.create_datagram_endpoint(lambda: _Receiver(self), sock=sock)
            self._shared[family] = transport
        return transport


def raise_for_status(response: Response, where: str, oids: Sequence[Any] = ()) -> None:
    """Turn a non-zero error-status into a typed error (``noSuchName`` handled by the caller)."""
    status = response.error_status
    if not status:
        return
    name = response.error_name
    message = f"{where}: agent answered {name}"
    if 0 < response.error_index <= len(oids):
        message += f" at varbind {response.error_index}"
    if name in ("authorizationError", "noAccess"):
        raise AuthFailed(f"{message} (authentication failed or no access)")
    raise DeviceError(message, retryable=name in ("genErr", "resourceUnavailable", "tooBig"))
