"""WS-Discovery (2005/04) messages for ONVIF: building a Probe and reading ProbeMatches leniently.

Shared by the discovery client and the simulator's responder. Reading is forgiving on purpose: real
cameras send ProbeMatch without its ProbeMatches wrapper and scopes with a bare ``&``; such answers are
repaired, never expanded (no entities, no DTD, no network).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from lxml import etree
from lxml.builder import ElementMaker

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
DN = "http://www.onvif.org/ver10/network/wsdl"
TDS = "http://www.onvif.org/ver10/device/wsdl"
MULTICAST_GROUP = "239.255.255.250"
PORT = 3702
ACTION_PROBE = f"{WSD}/Probe"
ACTION_PROBE_MATCHES = f"{WSD}/ProbeMatches"
TO_DISCOVERY = "urn:schemas-xmlsoap-org:ws:2005:04:discovery"
ANONYMOUS = f"{WSA}/role/anonymous"

_NSMAP = {"s": SOAP12, "a": WSA, "d": WSD, "dn": DN, "tds": TDS}
_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    huge_tree=False,
    recover=True,
    remove_comments=True,
)
_BARE_AMPERSAND = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)")
MAX_DATAGRAM = 65535


def build_probe(message_id: str | None = None) -> tuple[str, bytes]:
    """A Probe for NetworkVideoTransmitter devices; returns (message id, datagram)."""
    message_id = message_id or f"uuid:{uuid.uuid4()}"
    s = ElementMaker(namespace=SOAP12, nsmap=_NSMAP)
    a = ElementMaker(namespace=WSA, nsmap=_NSMAP)
    d = ElementMaker(namespace=WSD, nsmap=_NSMAP)
    envelope = s.Envelope(
        s.Header(a.MessageID(message_id), a.To(TO_DISCOVERY), a.Action(ACTION_PROBE)),
        s.Body(d.Probe(d.Types("dn:NetworkVideoTransmitter"))),
    )
    return message_id, etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


@dataclass(frozen=True)
class ProbeMatch:
    endpoint: str
    types: list[str]
    scopes: list[str]
    xaddrs: list[str]
    relates_to: str | None = None


@dataclass(frozen=True)
class DiscoveredDevice:
    address: str
    """Source IP of the answer."""
    endpoint: str
    scopes: list[str]
    xaddrs: list[str]
    types: list[str] = field(default_factory=list)

    def scope(self, kind: str) -> str | None:
        """Value of an ``onvif://www.onvif.org/<kind>/...`` scope, URL-decoded."""
        prefix = f"onvif://www.onvif.org/{kind}/"
        for scope in self.scopes:
            if scope.lower().startswith(prefix):
                return unquote(scope[len(prefix) :])
        return None


def _local(element: Any, name: str) -> list[Any]:
    return [
        child
        for child in element.iter()
        if isinstance(child.tag, str) and etree.QName(child).localname == name
    ]


def _words(element: Any, name: str) -> list[str]:
    found = _local(element, name)
    return (found[0].text or "").split() if found else []


def parse_probe_matches(datagram: bytes) -> list[ProbeMatch]:
    """Every ProbeMatch in an answer, wherever it sits; [] for answers that cannot be read at all."""
    repaired = _BARE_AMPERSAND.sub(b"&amp;", datagram)
    try:
        root = etree.fromstring(repaired, parser=_PARSER)
    except etree.XMLSyntaxError:
        return []
    if root is None or root.getroottree().docinfo.internalDTD is not None:
        return []
    relates = _local(root, "RelatesTo")
    relates_to = (relates[0].text or "").strip() if relates else None
    matches = []
    for match in _local(root, "ProbeMatch"):
        addresses = _local(match, "Address")
        endpoint = (addresses[0].text or "").strip() if addresses else ""
        matches.append(
            ProbeMatch(
                endpoint=endpoint,
                types=_words(match, "Types"),
                scopes=_words(match, "Scopes"),
                xaddrs=_words(match, "XAddrs"),
                relates_to=relates_to,
            )
        )
    return matches
