"""WS-Discovery responder: answers multicast Probes for the fleet's cameras on one interface only.

The socket joins 239.255.255.250 on the given interface address with IP_MULTICAST_ALL off, so it hears
Probes arriving on that interface and no other. ``malformed`` reproduces firmware that omits the
ProbeMatches wrapper or leaves ``&`` unescaped in scopes.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections.abc import Sequence
from typing import Literal
from urllib.parse import quote

from lxml import etree
from lxml.builder import ElementMaker

from provisioning.onvif.wsdiscovery import (
    ACTION_PROBE_MATCHES,
    ANONYMOUS,
    MULTICAST_GROUP,
    PORT,
    SOAP12,
    WSA,
    WSD,
)
from simulators.onvif_camera.device import SimulatedCamera

log = logging.getLogger(__name__)

Malformed = Literal["no_wrapper", "unescaped_scopes"]
_IP_MULTICAST_ALL = getattr(socket, "IP_MULTICAST_ALL", 49)
_NSMAP = {"s": SOAP12, "a": WSA, "d": WSD, "dn": "http://www.onvif.org/ver10/network/wsdl"}
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _scopes(camera: SimulatedCamera) -> list[str]:
    c = camera.config
    base = "onvif://www.onvif.org"
    kind = "NVR" if c.is_nvr else "video_encoder"
    return [
        f"{base}/type/{kind}",
        f"{base}/Profile/Streaming",
        f"{base}/name/{quote(c.name)}",
        f"{base}/hardware/{quote(c.model)}",
        f"{base}/location/{quote(c.location)}",
    ]


def probe_match(
    camera: SimulatedCamera, relates_to: str, message_id: str, malformed: Malformed | None
) -> bytes:
    s = ElementMaker(namespace=SOAP12, nsmap=_NSMAP)
    a = ElementMaker(namespace=WSA, nsmap=_NSMAP)
    d = ElementMaker(namespace=WSD, nsmap=_NSMAP)
    scopes = " ".join(_scopes(camera))
    marker = "SCOPES-PLACEHOLDER"
    match = d.ProbeMatch(
        a.EndpointReference(a.Address(f"urn:uuid:{camera.config.endpoint_uuid}")),
        d.Types("dn:NetworkVideoTransmitter"),
        d.Scopes(marker if malformed == "unescaped_scopes" else scopes),
        d.XAddrs(f"{camera.base_url}/onvif/device_service"),
        d.MetadataVersion("1"),
    )
    body = match if malformed == "no_wrapper" else d.ProbeMatches(match)
    envelope = s.Envelope(
        s.Header(
            a.MessageID(message_id),
            a.RelatesTo(relates_to),
            a.To(ANONYMOUS),
            a.Action(ACTION_PROBE_MATCHES),
        ),
        s.Body(body),
    )
    data = etree.tostring(envelope, xml_declaration=True, encoding="utf-8")
    if malformed == "unescaped_scopes":
        # What some firmware sends: the name scope with a raw "&" that is not XML.
        raw = scopes.replace(quote(camera.config.name), camera.config.name.replace(" ", "_"))
        data = data.replace(marker.encode(), raw.encode())
    return bytes(data)


class _Responder(asyncio.DatagramProtocol):
    def __init__(self, cameras: Sequence[SimulatedCamera], malformed: Malformed | None) -> None:
        self.cameras = cameras
        self.malformed = malformed
        self.transport: asyncio.DatagramTransport | None = None
        self.probes = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            root = etree.fromstring(data, parser=_PARSER)
        except etree.XMLSyntaxError:
            return
        if root.find(f".//{{{WSD}}}Probe") is None:
            return
        self.probes += 1
        message_id = root.findtext(f".//{{{WSA}}}MessageID") or ""
        import uuid

        for camera in self.cameras:
            answer = probe_match(camera, message_id, f"uuid:{uuid.uuid4()}", self.malformed)
            assert self.transport is not None
            self.transport.sendto(answer, addr)


async def start_responder(
    cameras: Sequence[SimulatedCamera],
    interface_address: str,
    *,
    interface: str | None = None,
    port: int = PORT,
    malformed: Malformed | None = None,
) -> asyncio.DatagramTransport:
    """Listen for Probes on ``interface_address``'s interface; close the returned transport to stop."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_IP, _IP_MULTICAST_ALL, 0)
    ifindex = socket.if_nametoindex(interface) if interface else 0
    mreqn = struct.pack(
        "4s4si", socket.inet_aton(MULTICAST_GROUP), socket.inet_aton(interface_address), ifindex
    )
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
    sock.bind(("0.0.0.0", port))
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: _Responder(cameras, malformed), sock=sock)
    return transport
