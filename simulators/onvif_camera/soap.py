"""The SOAP layer of the simulator: zeep reads requests and writes answers from the ONVIF WSDLs.

Documents are loaded once per process (blocking file reads, done before the server starts) and shared
by every simulated camera, which is what lets one process host hundreds of them.
"""

from __future__ import annotations

import atexit
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onvif
from lxml import etree
from lxml.builder import ElementMaker
from onvif.transport import ASYNC_TRANSPORT
from zeep import Settings
from zeep.wsdl import Document
from zeep.wsdl.definitions import Binding

from provisioning.onvif.client import close_wsdl_transport

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
TER = "http://www.onvif.org/ver10/error"

NS_DEVICE = "http://www.onvif.org/ver10/device/wsdl"
NS_MEDIA = "http://www.onvif.org/ver10/media/wsdl"
NS_MEDIA2 = "http://www.onvif.org/ver20/media/wsdl"

atexit.register(close_wsdl_transport)  # quiet interpreter exit, see provisioning.onvif.client

_ONVIF_WSDL = Path(onvif.__file__).parent / "wsdl"
_MEDIA2_WSDL = Path(__file__).resolve().parents[2] / "provisioning" / "onvif" / "wsdl" / "media2.wsdl"

_SERVICES = {
    NS_DEVICE: (_ONVIF_WSDL / "devicemgmt.wsdl", "DeviceBinding"),
    NS_MEDIA: (_ONVIF_WSDL / "media.wsdl", "MediaBinding"),
    NS_MEDIA2: (_MEDIA2_WSDL, "Media2Binding"),
}

# Requests from the network are parsed without entity expansion, DTD fetches or network access.
_REQUEST_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


class SoapFault(Exception):
    """An ONVIF fault to send back: SOAP 1.2 code, ONVIF subcode (None: reason text only) and HTTP status."""

    def __init__(self, code: str, subcode: str | None, reason: str, status: int = 400) -> None:
        super().__init__(reason)
        self.code = code
        self.subcode = subcode
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Request:
    namespace: str
    operation: str
    params: dict[str, Any]
    envelope: etree._Element


class ServiceCatalog:
    """The bindings of the services the simulator offers, keyed by their namespace."""

    def __init__(self) -> None:
        settings = Settings(strict=False)
        self.bindings: dict[str, Binding] = {}
        for namespace, (path, binding_name) in _SERVICES.items():
            document = Document(str(path), ASYNC_TRANSPORT, settings=settings)
            self.bindings[namespace] = document.bindings[f"{{{namespace}}}{binding_name}"]

    def parse(self, body: bytes) -> Request:
        try:
            envelope = etree.fromstring(body, parser=_REQUEST_PARSER)
        except etree.XMLSyntaxError as error:
            raise SoapFault("Sender", "ter:WellFormed", f"request is not well-formed XML: {error}") from None
        if envelope.getroottree().docinfo.internalDTD is not None:
            raise SoapFault("Sender", "ter:WellFormed", "DTDs are not accepted")
        body_element = envelope.find(f"{{{SOAP12}}}Body")
        if body_element is None or len(body_element) == 0:
            raise SoapFault("Sender", "ter:WellFormed", "no SOAP 1.2 Body")
        qname = etree.QName(body_element[0])
        binding = self.bindings.get(qname.namespace or "")
        if binding is None:
            raise SoapFault("Receiver", "ter:ActionNotSupported", f"no service {qname.namespace}")
        try:
            operation = binding.get(qname.localname)
        except ValueError:
            raise SoapFault(
                "Receiver", "ter:ActionNotSupported", f"{qname.localname} not supported"
            ) from None
        params = _as_dict(operation.input.deserialize(envelope))
        if "value" in params and len(params) == 1:
            # zeep unwraps a request with a single child element; give it back its name.
            names = [name for name, _ in operation.input.body.type.elements]
            params = {names[0]: params["value"]} if names else params
        return Request(qname.namespace or "", qname.localname, params, envelope)

    def answer(self, namespace: str, operation: str, values: dict[str, Any]) -> bytes:
        message = self.bindings[namespace].get(operation).output.serialize(**values)
        return bytes(etree.tostring(message.content, xml_declaration=True, encoding="utf-8"))


def _as_dict(params: Any) -> dict[str, Any]:
    from zeep.helpers import serialize_object

    if params is None:
        return {}
    data = serialize_object(params, dict)
    return data if isinstance(data, dict) else {"value": data}


def fault_envelope(fault: SoapFault) -> bytes:
    env = ElementMaker(namespace=SOAP12, nsmap={"env": SOAP12, "ter": TER})
    document = env.Envelope(
        env.Body(
            env.Fault(
                env.Code(
                    env.Value(f"env:{fault.code}"),
                    *([env.Subcode(env.Value(fault.subcode))] if fault.subcode else []),
                ),
                env.Reason(env.Text(fault.reason, **{"{http://www.w3.org/XML/1998/namespace}lang": "en"})),
            )
        )
    )
    return bytes(etree.tostring(document, xml_declaration=True, encoding="utf-8"))


@functools.cache
def catalog() -> ServiceCatalog:
    """The process-wide catalog; first call loads the WSDLs (blocking: call it before serving)."""
    return ServiceCatalog()
