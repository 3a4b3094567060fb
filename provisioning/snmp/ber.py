"""A BER codec for exactly what v1/v2c polling needs: request templates out, response PDUs in.

Why not pyasn1 here: decoding a response through pysnmp builds a tree of pyasn1 objects per value and
costs ~100 µs per value; polling needs ~1 µs. So:

* :class:`RequestTemplate` encodes a GET/GETNEXT/GETBULK message once. The request id is always a
  4-byte INTEGER in ``[2**23, 214783647]`` (minimal encoding, so strict agents accept it) at a fixed offset,
  and a poll only writes those 4 bytes.
* :func:`decode_response` walks a response message straight from the byte buffer (no pyasn1
  objects, no copies but the OIDs and values themselves) and yields raw OID bytes with typed Python
  values. Anything that is not a well-formed v1/v2c Response-PDU raises :class:`MalformedResponse`,
  never another exception: callers may feed it any datagram a hostile host sends.

Values: INTEGER -> ``int`` (signed); Counter32/Gauge32/TimeTicks/Counter64/UInteger32 -> ``int``
(unsigned); OCTET STRING, Opaque, NsapAddress -> ``bytes``; IpAddress -> ``bytes`` (4); OBJECT
IDENTIFIER -> ``tuple[int, ...]``; NULL -> ``None``; noSuchObject/noSuchInstance/endOfMibView ->
``None`` with their tag. The tag (``TAG_*``) tells them apart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from provisioning.errors import MalformedResponse

Oid = tuple[int, ...]

TAG_INTEGER = 0x02
TAG_OCTET_STRING = 0x04
TAG_NULL = 0x05
TAG_OID = 0x06
TAG_SEQUENCE = 0x30
TAG_IP_ADDRESS = 0x40
TAG_COUNTER32 = 0x41
TAG_GAUGE32 = 0x42
TAG_TIMETICKS = 0x43
TAG_OPAQUE = 0x44
TAG_NSAP = 0x45
TAG_COUNTER64 = 0x46
TAG_UINTEGER32 = 0x47
TAG_NO_SUCH_OBJECT = 0x80
TAG_NO_SUCH_INSTANCE = 0x81
TAG_END_OF_MIB_VIEW = 0x82

PDU_GET = 0xA0
PDU_GETNEXT = 0xA1
PDU_RESPONSE = 0xA2
PDU_GETBULK = 0xA5

KIND_NAMES = {
    TAG_INTEGER: "Integer",
    TAG_OCTET_STRING: "OctetString",
    TAG_NULL: "Null",
    TAG_OID: "ObjectIdentifier",
    TAG_IP_ADDRESS: "IpAddress",
    TAG_COUNTER32: "Counter32",
    TAG_GAUGE32: "Gauge32",
    TAG_TIMETICKS: "TimeTicks",
    TAG_OPAQUE: "Opaque",
    TAG_NSAP: "NsapAddress",
    TAG_COUNTER64: "Counter64",
    TAG_UINTEGER32: "Unsigned32",
    TAG_NO_SUCH_OBJECT: "noSuchObject",
    TAG_NO_SUCH_INSTANCE: "noSuchInstance",
    TAG_END_OF_MIB_VIEW: "endOfMibView",
}
MISSING_TAGS = frozenset({TAG_NO_SUCH_OBJECT, TAG_NO_SUCH_INSTANCE, TAG_END_OF_MIB_VIEW})
_UNSIGNED = frozenset({TAG_COUNTER32, TAG_GAUGE32, TAG_TIMETICKS, TAG_COUNTER64, TAG_UINTEGER32})
_BYTES = frozenset({TAG_OCTET_STRING, TAG_OPAQUE, TAG_NSAP, TAG_IP_ADDRESS})
_UNSIGNED_BITS = {
    TAG_COUNTER32: 32,
    TAG_GAUGE32: 32,
    TAG_TIMETICKS: 32,
    TAG_UINTEGER32: 32,
    TAG_COUNTER64: 64,
}
REQUEST_ID_MIN = 1 << 23
REQUEST_ID_MAX = 214783647  # RFC 3416's own (typo'd) bound, which pysnmp-based agents enforce
ERROR_STATUS_NAMES = (
    "noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr", "noAccess", "wrongType",
    "wrongLength", "wrongEncoding", "wrongValue", "noCreation", "inconsistentValue",
    "resourceUnavailable", "commitFailed", "undoFailed", "authorizationError", "notWritable",
    "inconsistentName",
)  # fmt: skip


# ---- encoding -------------------------------------------------------------------------------------


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes((tag,)) + _length(len(body)) + body


def _int(value: int) -> bytes:
    return _tlv(TAG_INTEGER, value.to_bytes(max(1, (value.bit_length() + 8) // 8), "big", signed=True))


def encode_oid(oid: Sequence[int]) -> bytes:
    """The content octets of an OBJECT IDENTIFIER (no tag, no length)."""
    if len(oid) < 2 or oid[0] > 2 or (oid[0] < 2 and oid[1] > 39) or min(oid) < 0:
        raise ValueError(f"oid: {'.'.join(map(str, oid))} cannot be encoded")
    out = bytearray()
    for arc in (oid[0] * 40 + oid[1], *oid[2:]):
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)


@dataclass(frozen=True, slots=True)
class RequestTemplate:
    """One encoded request message; :meth:`render` patches only the request id."""

    head: bytes
    tail: bytes
    version: int
    community: bytes
    oids: tuple[bytes, ...]
    """Each requested OID's content octets, in request order (to match a GET's answers by bytes)."""

    @classmethod
    def build(
        cls,
        version: int,
        community: bytes,
        pdu: int,
        oids: Sequence[Oid],
        *,
        non_repeaters: int = 0,
        max_repetitions: int = 0,
    ) -> RequestTemplate:
        """``version`` is the wire value (0 = v1, 1 = v2c); GETBULK puts its two counts where v1 has
        error-status and error-index."""
        encoded = tuple(encode_oid(o) for o in oids)
        varbinds = b"".join(_tlv(TAG_SEQUENCE, _tlv(TAG_OID, o) + b"\x05\x00") for o in encoded)
        rest = _int(non_repeaters) + _int(max_repetitions) + _tlv(TAG_SEQUENCE, varbinds)
        pdu_body_len = 6 + len(rest)  # 02 04 xx xx xx xx
        pdu_head = bytes((pdu,)) + _length(pdu_body_len)
        message_body_len = len(_int(version)) + len(_tlv(TAG_OCTET_STRING, community))
        message_body_len += len(pdu_head) + pdu_body_len
        head = (
            bytes((TAG_SEQUENCE,))
            + _length(message_body_len)
            + _int(version)
            + _tlv(TAG_OCTET_STRING, community)
            + pdu_head
            + b"\x02\x04"
        )
        return cls(head, rest, version, community, encoded)

    def render(self, request_id: int) -> bytes:
        return self.head + request_id.to_bytes(4, "big") + self.tail


# ---- decoding -------------------------------------------------------------------------------------


_VarBind = tuple[bytes, int, int | bytes | Oid | None]


@dataclass(slots=True)
class Response:
    """A decoded Response-PDU. ``varbinds`` holds ``(oid content octets, tag, value)``."""

    version: int
    community: bytes
    request_id: int
    error_status: int
    error_index: int
    varbinds: list[_VarBind]

    @property
    def error_name(self) -> str:
        status = self.error_status
        return ERROR_STATUS_NAMES[status] if 0 <= status < len(ERROR_STATUS_NAMES) else f"error {status}"


def _bad(why: str) -> MalformedResponse:
    return MalformedResponse(f"malformed SNMP response: {why}")


def _span(buf: bytes | memoryview, pos: int, end: int) -> tuple[int, int]:
    """Read the length octets at ``pos``; returns (content start, content end) within ``end``."""
    if pos >= end:
        raise _bad("truncated")
    first = buf[pos]
    pos += 1
    if first & 0x80:
        count = first & 0x7F
        if count == 0 or count > 4 or pos + count > end:
            raise _bad("bad length")
        first = int.from_bytes(buf[pos : pos + count], "big")
        pos += count
    stop = pos + first
    if stop > end:
        raise _bad("truncated")
    return pos, stop


def _header(buf: memoryview, pos: int, end: int, tag: int) -> tuple[int, int]:
    """Check the tag at ``pos`` and read its length; returns (content start, content end)."""
    if pos >= end:
        raise _bad("truncated")
    if buf[pos] != tag:
        raise _bad(f"expected tag 0x{tag:02x}, got 0x{buf[pos]:02x}")
    return _span(buf, pos + 1, end)


def _any_header(buf: memoryview, pos: int, end: int) -> tuple[int, int, int]:
    """Like :func:`_header` for a value of any (single-octet) tag; returns (tag, start, end)."""
    if pos >= end:
        raise _bad("truncated")
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise _bad("multi-octet tag")
    start, stop = _span(buf, pos + 1, end)
    return tag, start, stop


def _read_int(buf: memoryview, pos: int, end: int) -> tuple[int, int]:
    start, stop = _header(buf, pos, end, TAG_INTEGER)
    if start == stop or stop - start > 9:
        raise _bad("bad INTEGER")
    return int.from_bytes(buf[start:stop], "big", signed=True), stop


def decode_oid(raw: bytes | memoryview) -> Oid:
    """OBJECT IDENTIFIER content octets -> arcs; rejects empty, unterminated and non-minimal arcs."""
    if not raw:
        raise _bad("empty OBJECT IDENTIFIER")
    arcs: list[int] = []
    value = 0
    fresh = True
    for octet in raw:
        if fresh and octet == 0x80:
            raise _bad("non-minimal OBJECT IDENTIFIER arc")
        value = (value << 7) | (octet & 0x7F)
        fresh = not octet & 0x80
        if fresh:
            arcs.append(value)
            value = 0
    if not fresh:
        raise _bad("unterminated OBJECT IDENTIFIER")
    first = arcs[0]
    head = (first // 40, first % 40) if first < 80 else (2, first - 80)
    return (*head, *arcs[1:])


def decode_arcs(raw: bytes | memoryview) -> Oid:
    """Sub-identifiers after a known prefix (a table index): no first-arc folding."""
    if not raw:
        return ()
    if len(raw) == 1 and raw[0] < 0x80:
        return (raw[0],)
    whole = decode_oid(b"\x2b" + bytes(raw))  # 1.3 in front, folded back out below
    return whole[2:]


def _value(tag: int, body: memoryview) -> int | bytes | Oid | None:
    if tag in _UNSIGNED:
        if not body or len(body) > 9:
            raise _bad(f"bad {KIND_NAMES[tag]}")
        value = int.from_bytes(body, "big", signed=True)
        # pysnmp reads these as two's complement like INTEGER and then refuses out-of-range values
        if value < 0 or value.bit_length() > _UNSIGNED_BITS[tag]:
            raise _bad(f"{KIND_NAMES[tag]} out of range")
        return value
    if tag == TAG_INTEGER:
        if not body or len(body) > 9:
            raise _bad("bad INTEGER")
        value = int.from_bytes(body, "big", signed=True)
        if not -(1 << 31) <= value < (1 << 31):
            raise _bad("INTEGER out of range")
        return value
    if tag in _BYTES:
        if tag == TAG_IP_ADDRESS and len(body) != 4:
            raise _bad("IpAddress is not 4 octets")
        return bytes(body)
    if tag == TAG_OID:
        return decode_oid(body)
    if tag == TAG_NULL or tag in MISSING_TAGS:
        if body:
            raise _bad(f"{KIND_NAMES[tag]} with content")
        return None
    raise _bad(f"unknown value tag 0x{tag:02x}")


def decode_response(packet: bytes) -> Response:
    """Decode a v1/v2c message carrying a Response-PDU; :class:`MalformedResponse` for anything else."""
    buf = memoryview(packet)
    end = len(buf)
    start, stop = _header(buf, 0, end, TAG_SEQUENCE)
    if stop != end:
        raise _bad("trailing bytes")
    version, pos = _read_int(buf, start, stop)
    if version not in (0, 1):
        raise _bad(f"version {version} is not v1/v2c")
    c_start, pos = _header(buf, pos, stop, TAG_OCTET_STRING)
    community = bytes(buf[c_start:pos])
    pos, pdu_end = _header(buf, pos, stop, PDU_RESPONSE)
    if pdu_end != stop:
        raise _bad("trailing bytes after the PDU")
    request_id, pos = _read_int(buf, pos, pdu_end)
    error_status, pos = _read_int(buf, pos, pdu_end)
    error_index, pos = _read_int(buf, pos, pdu_end)
    if not -214783648 <= request_id <= REQUEST_ID_MAX:
        raise _bad("request-id out of range")
    if not 0 <= error_status < len(ERROR_STATUS_NAMES) or not 0 <= error_index < (1 << 31):
        raise _bad("error-status or error-index out of range")
    pos, vb_end = _header(buf, pos, pdu_end, TAG_SEQUENCE)
    if vb_end != pdu_end:
        raise _bad("trailing bytes after the variable bindings")
    varbinds: list[_VarBind] = []
    try:
        _varbinds(bytes(packet), pos, vb_end, varbinds.append)
    except IndexError:
        raise _bad("truncated") from None
    return Response(version, community, request_id, error_status, error_index, varbinds)


def _varbinds(buf: bytes, pos: int, end: int, append: Callable[[_VarBind], None]) -> None:
    """The variable bindings in ``buf[pos:end]``, one ``append`` each: the hot loop of every poll.

    Written out rather than built from :func:`_header` calls: short-form lengths (almost every varbind)
    and the common value types are read inline, which halves the cost per value. Long-form lengths and
    rare types take the general helpers. Reads past ``end`` are caught by the length checks below (an
    index past the whole packet raises ``IndexError``, which the caller turns into ``truncated``).
    """
    unsigned_bits = _UNSIGNED_BITS
    while pos < end:
        if buf[pos] != TAG_SEQUENCE:
            raise _bad(f"expected tag 0x30, got 0x{buf[pos]:02x}")
        length = buf[pos + 1]
        if length < 0x80:
            item, item_end = pos + 2, pos + 2 + length
            if item_end > end:
                raise _bad("truncated")
        else:
            item, item_end = _span(buf, pos + 1, end)
        if item >= item_end or buf[item] != TAG_OID:
            raise _bad("expected an OBJECT IDENTIFIER")
        length = buf[item + 1]
        if length < 0x80:
            o_start, o_end = item + 2, item + 2 + length
            if o_end > item_end:
                raise _bad("truncated")
        else:
            o_start, o_end = _span(buf, item + 1, item_end)
        if o_end >= item_end:
            raise _bad("truncated")
        tag = buf[o_end]
        if tag & 0x1F == 0x1F:
            raise _bad("multi-octet tag")
        length = buf[o_end + 1]
        if length < 0x80:
            v_start, v_end = o_end + 2, o_end + 2 + length
        else:
            v_start, v_end = _span(buf, o_end + 1, item_end)
        if v_end != item_end:
            raise _bad("trailing bytes in a variable binding" if v_end < item_end else "truncated")
        if o_start == o_end or buf[o_end - 1] & 0x80:
            raise _bad("bad OBJECT IDENTIFIER")
        bits = unsigned_bits.get(tag)
        if bits is not None and 0 < length < 10 and not buf[v_start] & 0x80:
            value: int | bytes | Oid | None = int.from_bytes(buf[v_start:v_end], "big")
            if value.bit_length() > bits:  # type: ignore[union-attr]
                raise _bad(f"{KIND_NAMES[tag]} out of range")
        elif tag == TAG_OCTET_STRING:
            value = buf[v_start:v_end]
        elif tag == TAG_INTEGER and 0 < length < 5:
            value = int.from_bytes(buf[v_start:v_end], "big", signed=True)
        else:
            value = _value(tag, memoryview(buf)[v_start:v_end])
        append((buf[o_start:o_end], tag, value))
        pos = item_end


def peek_request_id(packet: bytes) -> int | None:
    """The request id of a datagram, cheaply, to route it to its waiter; None when unreadable."""
    try:
        buf = memoryview(packet)
        end = len(buf)
        start, stop = _header(buf, 0, end, TAG_SEQUENCE)
        _, pos = _read_int(buf, start, stop)
        _, pos = _header(buf, pos, stop, TAG_OCTET_STRING)
        pos, pdu_end = _header(buf, pos, stop, PDU_RESPONSE)
        return _read_int(buf, pos, pdu_end)[0]
    except MalformedResponse:
        return None
