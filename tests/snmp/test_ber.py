"""The fast-path BER codec against pysnmp's own encoder and decoder, on generated and corrupted bytes."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyasn1.codec.ber import decoder, encoder
from pyasn1.error import PyAsn1Error
from pyasn1.type import univ
from pysnmp.proto import api, rfc1902, rfc1905

from provisioning.errors import MalformedResponse
from provisioning.snmp import ber

V2C = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]

oids = st.tuples(st.integers(0, 2), st.integers(0, 39)).flatmap(
    lambda head: st.lists(st.integers(0, 2**32 - 1), min_size=0, max_size=12).map(lambda t: (*head, *t))
)
u32 = st.integers(0, 2**32 - 1)
values = st.one_of(
    st.integers(-(2**31), 2**31 - 1).map(lambda v: (ber.TAG_INTEGER, v, rfc1902.Integer32(v))),
    st.binary(max_size=300).map(lambda v: (ber.TAG_OCTET_STRING, v, rfc1902.OctetString(v))),
    st.just((ber.TAG_NULL, None, rfc1902.Null(""))),
    oids.map(lambda v: (ber.TAG_OID, v, rfc1902.ObjectIdentifier(v))),
    st.binary(min_size=4, max_size=4).map(lambda v: (ber.TAG_IP_ADDRESS, v, rfc1902.IpAddress(v))),
    u32.map(lambda v: (ber.TAG_COUNTER32, v, rfc1902.Counter32(v))),
    u32.map(lambda v: (ber.TAG_GAUGE32, v, rfc1902.Gauge32(v))),
    u32.map(lambda v: (ber.TAG_TIMETICKS, v, rfc1902.TimeTicks(v))),
    st.binary(max_size=40).map(lambda v: (ber.TAG_OPAQUE, v, rfc1902.Opaque(v))),
    st.integers(0, 2**64 - 1).map(lambda v: (ber.TAG_COUNTER64, v, rfc1902.Counter64(v))),
    st.just((ber.TAG_NO_SUCH_OBJECT, None, rfc1905.noSuchObject)),
    st.just((ber.TAG_NO_SUCH_INSTANCE, None, rfc1905.noSuchInstance)),
    st.just((ber.TAG_END_OF_MIB_VIEW, None, rfc1905.endOfMibView)),
)
messages = st.tuples(
    st.binary(max_size=40),  # community
    st.integers(-214783648, 214783647),  # request id (RFC 3416's range)
    st.integers(0, 18),  # error-status
    st.integers(0, 100),  # error-index
    st.lists(st.tuples(oids, values), max_size=16),
)


def _encode(community: bytes, request_id: int, status: int, index: int, varbinds) -> bytes:
    pdu = V2C.GetResponsePDU()
    V2C.apiPDU.set_defaults(pdu)
    V2C.apiPDU.set_request_id(pdu, request_id)
    V2C.apiPDU.set_error_status(pdu, status)
    V2C.apiPDU.set_error_index(pdu, index)
    V2C.apiPDU.set_varbinds(pdu, [(oid, value[2]) for oid, value in varbinds])
    message = V2C.Message()
    V2C.apiMessage.set_defaults(message)
    V2C.apiMessage.set_community(message, community)
    V2C.apiMessage.set_pdu(message, pdu)
    return bytes(encoder.encode(message))


def _pysnmp_view(packet: bytes):
    """pysnmp's reading of ``packet`` in our result's shape, or None when pysnmp refuses it."""
    try:
        message, rest = decoder.decode(packet, asn1Spec=V2C.Message())
        if rest:
            return None
        pdu = V2C.apiMessage.get_pdu(message)
        if pdu.tagSet != V2C.GetResponsePDU.tagSet:
            return None
        out = []
        for varbind in pdu[3]:
            name, value = varbind[0], varbind[1]
            while isinstance(value, univ.Choice):
                value = value.getComponent()
            plain: object
            if isinstance(value, univ.ObjectIdentifier):
                plain = tuple(value)
            elif isinstance(
                value, univ.Null | rfc1905.NoSuchObject | rfc1905.NoSuchInstance | rfc1905.EndOfMibView
            ):
                plain = None
            elif isinstance(value, univ.OctetString):
                plain = bytes(value.asOctets())
            else:
                plain = int(value)
            out.append((tuple(name), value.tagSet[0][2] | value.tagSet[0][0], plain))
        return (
            int(message["version"]),
            bytes(V2C.apiMessage.get_community(message)),
            int(pdu[0]),
            int(pdu[1]),
            int(pdu[2]),
            out,
        )
    except (PyAsn1Error, ValueError, TypeError, AttributeError):
        return None


def _our_view(response: ber.Response):
    return (
        response.version,
        response.community,
        response.request_id,
        response.error_status,
        response.error_index,
        [(ber.decode_oid(raw), tag, value) for raw, tag, value in response.varbinds],
    )


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(messages)
def test_every_value_type_decodes_as_pysnmp_encoded_it(message) -> None:
    community, request_id, status, index, varbinds = message
    packet = _encode(community, request_id, status, index, varbinds)
    ours = ber.decode_response(packet)
    assert _our_view(ours) == _pysnmp_view(packet)
    assert [(tag, value) for _, (tag, value, _) in varbinds] == [(t, v) for _, t, v in ours.varbinds]
    assert ber.peek_request_id(packet) == request_id


@FUZZ
@given(messages, st.data())
def test_corrupted_packets_raise_malformed_response_or_decode_as_pysnmp_does(message, data) -> None:
    packet = bytearray(_encode(*message))
    for _ in range(data.draw(st.integers(1, 4))):
        how = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        at = data.draw(st.integers(0, max(0, len(packet) - 1)))
        if how == "flip" and packet:
            packet[at] ^= data.draw(st.integers(1, 255))
        elif how == "cut":
            del packet[at:]
        elif how == "insert":
            packet[at:at] = data.draw(st.binary(min_size=1, max_size=4))
        elif packet:
            del packet[at]
    raw = bytes(packet)
    try:
        # Varbind names stay raw until the reader needs them, so decoding them belongs to the refusal too:
        # a corrupted name such as b"\x00\x80\x00" is refused there, as the table reader would.
        ours = _our_view(ber.decode_response(raw))
    except MalformedResponse:
        return  # refused: fine, whatever pysnmp thinks (it is laxer: indefinite lengths etc.)
    assert ours == _pysnmp_view(raw), "we accepted what pysnmp reads otherwise"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_never_raise_anything_but_malformed_response(raw: bytes) -> None:
    with contextlib.suppress(MalformedResponse):
        ber.decode_response(raw)
    assert ber.peek_request_id(raw) is None or isinstance(ber.peek_request_id(raw), int)


@FUZZ
@given(
    st.sampled_from([ber.PDU_GET, ber.PDU_GETNEXT, ber.PDU_GETBULK]),
    st.sampled_from([0, 1]),
    st.binary(max_size=300),
    st.lists(oids, min_size=1, max_size=30),
    st.integers(0, 5),
    st.integers(0, 300),
    st.integers(ber.REQUEST_ID_MIN, ber.REQUEST_ID_MAX),
)
def test_request_templates_are_what_pysnmp_reads(
    pdu, version, community, wanted, nonrep, reps, request_id
) -> None:
    bulk = pdu == ber.PDU_GETBULK
    version = 1 if bulk else version  # GETBULK is v2c only
    nonrep, reps = (nonrep, reps) if bulk else (0, 0)
    template = ber.RequestTemplate.build(
        version, community, pdu, wanted, non_repeaters=nonrep, max_repetitions=reps
    )
    packet = template.render(request_id)
    proto = api.PROTOCOL_MODULES[api.SNMP_VERSION_1 if version == 0 else api.SNMP_VERSION_2C]
    message, rest = decoder.decode(packet, asn1Spec=proto.Message())
    assert not rest and bytes(proto.apiMessage.get_community(message)) == community
    decoded = proto.apiMessage.get_pdu(message)
    assert int(proto.apiPDU.get_request_id(decoded)) == request_id
    assert [tuple(name) for name, _ in proto.apiPDU.get_varbinds(decoded)] == [tuple(o) for o in wanted]
    assert (int(decoded[1]), int(decoded[2])) == (nonrep, reps)
    assert bytes(encoder.encode(message)) == packet  # minimal encodings: byte for byte what pysnmp writes


def test_unencodable_oids_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="oid"):
        ber.encode_oid((1, 40))


def test_hostile_datagrams_are_dropped_by_the_transport_not_raised() -> None:
    """Garbage and answers from the wrong address reach the transport's router: counted, never raised."""
    from provisioning.snmp.fast import FastSnmp

    fast = FastSnmp()
    fast._deliver(b"\x30\x03\x02\x01", ("127.0.0.1", 161))
    fast._deliver(b"", ("127.0.0.1", 161))
    assert fast.stray == 2  # nothing pending: both dropped and counted
