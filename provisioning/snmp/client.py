"""The one place that speaks SNMP: pysnmp 7 asyncio, numeric OIDs in, this project's dataclasses out.

Why two pysnmp architectures: v1/v2c go through ``hlapi.v1arch`` with raw ``(oid, Null)`` pairs, which
never touches the MIB machinery and costs about a third of the CPU of ``v3arch`` per device (measured);
v3 needs the USM of ``v3arch``. Both are set up once: the v1arch dispatcher is created on the loop (it
binds to it, no blocking work), the v3 engine and its MIB view are built in a worker thread on first
v3 use because that loads MIB modules from disk.

All library failures leave this module as ``provisioning.errors`` types, through
``provisioning.snmp.errors.translate``. What goes in and comes out (endpoints, var-binds, table walks)
is in ``provisioning.snmp.models``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from pyasn1.type import univ
from pysnmp.hlapi.v1arch import asyncio as v1
from pysnmp.proto import rfc1902, rfc1905
from pysnmp.proto.rfc1902 import Null

from device_registry.credentials import SnmpCommunityCredential, SnmpV3Credential
from provisioning.errors import DeviceError, DeviceTimeout, MalformedResponse
from provisioning.snmp.errors import NoSuchObject, PduError, translate
from provisioning.snmp.fast import FastSnmp
from provisioning.snmp.mib import SYS_DESCR
from provisioning.snmp.models import (
    Oid,
    SnmpCredential,
    SnmpEndpoint,
    TableWalk,
    VarBind,
    format_oid,
    parse_oid,
)
from provisioning.snmp.pacing import Pacer, Ticket

_NULL = Null()


def _convert(name: Any, value: Any) -> VarBind:
    oid = tuple(name)
    if isinstance(value, rfc1905.NoSuchObject):
        return VarBind(oid, "noSuchObject", None)
    if isinstance(value, rfc1905.NoSuchInstance):
        return VarBind(oid, "noSuchInstance", None)
    if isinstance(value, rfc1905.EndOfMibView):
        return VarBind(oid, "endOfMibView", None)
    if isinstance(value, rfc1902.IpAddress):
        raw = value.asOctets()
        return VarBind(oid, "IpAddress", socket.inet_ntoa(raw) if len(raw) == 4 else raw.hex())
    if isinstance(value, univ.OctetString):  # also Opaque, Bits
        return VarBind(oid, type(value).__name__, value.asOctets())
    if isinstance(value, univ.ObjectIdentifier):
        return VarBind(oid, "ObjectIdentifier", str(value))
    if isinstance(value, univ.Null):
        return VarBind(oid, "Null", None)
    try:
        return VarBind(oid, type(value).__name__, int(value))
    except (TypeError, ValueError):
        raise MalformedResponse(
            f"{format_oid(oid)}: value of unexpected type {type(value).__name__}"
        ) from None


_V3_AUTH = {
    "none": "usmNoAuthProtocol",
    "MD5": "usmHMACMD5AuthProtocol",
    "SHA": "usmHMACSHAAuthProtocol",
    "SHA224": "usmHMAC128SHA224AuthProtocol",
    "SHA256": "usmHMAC192SHA256AuthProtocol",
    "SHA384": "usmHMAC256SHA384AuthProtocol",
    "SHA512": "usmHMAC384SHA512AuthProtocol",
}
# AES192/256 follow draft-blumenthal-aes-usm, as net-snmp's AES-192/AES-256 do.
_V3_PRIV = {
    "none": "usmNoPrivProtocol",
    "DES": "usmDESPrivProtocol",
    "AES": "usmAesCfb128Protocol",
    "AES192": "usmAesBlumenthalCfb192Protocol",
    "AES256": "usmAesBlumenthalCfb256Protocol",
}


class SnmpClient:
    """Asks many agents concurrently through one dispatcher.

    ``max_in_flight`` caps concurrent requests when given. By default callers bound it (the cycle
    runner's lanes, the discovery sweep), because only they know which devices are expected to
    answer: silent devices cost no receive buffer, answering ones do (~100 in flight is the measured
    limit on a small host). Create inside the running loop; ``close()`` when done.
    """

    def __init__(self, *, max_in_flight: int | None = None, pacer: Pacer | None = None) -> None:
        if max_in_flight is not None and max_in_flight < 1:
            raise ValueError("max_in_flight: must be >= 1")
        self._dispatcher = v1.SnmpDispatcher()
        self._slots: asyncio.Semaphore | contextlib.nullcontext[None] = (
            asyncio.Semaphore(max_in_flight) if max_in_flight else contextlib.nullcontext()
        )
        self._targets: dict[tuple[str, int, float, int], Any] = {}
        self._v3_targets: dict[tuple[str, int, float, int], Any] = {}
        self._v3_auth: dict[tuple[Any, ...], Any] = {}
        self._v3_engine: Any = None
        self._v3_lock = asyncio.Lock()
        self._communities: dict[tuple[str, int], Any] = {}
        self.pacer = pacer
        self._fast: FastSnmp | None = None

    @classmethod
    async def create(cls, *, max_in_flight: int | None = None, pacer: Pacer | None = None) -> SnmpClient:
        return cls(max_in_flight=max_in_flight, pacer=pacer)

    @property
    def fast(self) -> FastSnmp:
        """The v1/v2c polling fast path, sharing this client's pacer; closed with the client."""
        if self._fast is None:
            self._fast = FastSnmp(pacer=self.pacer)
        return self._fast

    async def __aenter__(self) -> SnmpClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._fast is not None:
            self._fast.close()
            self._fast = None
        with contextlib.suppress(Exception):
            self._dispatcher.close()
        if self._v3_engine is not None:
            with contextlib.suppress(Exception):
                self._v3_engine.close_dispatcher()
            self._v3_engine = None

    # ---- public operations -------------------------------------------------------------------

    async def get(self, endpoint: SnmpEndpoint, oids: Sequence[str | Oid]) -> list[VarBind]:
        """GET ``oids``; unimplemented ones come back with a ``missing`` kind, never as an error."""
        wanted = [parse_oid(o) for o in oids]
        if not wanted:
            return []
        return await self._get_tolerant(endpoint, wanted)

    async def get_one(self, endpoint: SnmpEndpoint, oid: str | Oid) -> VarBind:
        """GET one OID; raises ``NoSuchObject`` when the agent does not have it."""
        (vb,) = await self.get(endpoint, [oid])
        if vb.missing:
            raise NoSuchObject(f"{endpoint.label}: {vb.oid_str} is {vb.kind}")
        return vb

    async def next(self, endpoint: SnmpEndpoint, oids: Sequence[Oid]) -> list[VarBind]:
        """One GETNEXT for several OIDs (the v1 way to walk)."""
        return await self._request(endpoint, "next", list(oids))

    async def bulk(
        self, endpoint: SnmpEndpoint, oids: Sequence[Oid], max_repetitions: int, non_repeaters: int = 0
    ) -> list[VarBind]:
        """One GETBULK (v2c/v3): the first ``non_repeaters`` OIDs get one GETNEXT each, the rest
        ``max_repetitions``. On v1 falls back to one GETNEXT of every OID (same leading layout)."""
        if self._is_v1(endpoint):
            return await self.next(endpoint, oids)
        return await self._request(
            endpoint, "bulk", list(oids), max_repetitions=max_repetitions, non_repeaters=non_repeaters
        )

    async def walk_table(
        self,
        endpoint: SnmpEndpoint,
        columns: Sequence[str | Oid],
        *,
        max_rows: int = 10_000,
        max_time: float = 30.0,
        max_repetitions: int = 25,
        scalars: Sequence[str | Oid] = (),
    ) -> TableWalk:
        """Walk several columns side by side, each inside its own subtree, bounded by rows and time.

        One GETBULK carries every still-open column, so a 5-column table of 48 rows costs ~10
        round trips, not 240. A column that leaves its subtree, hits ``endOfMibView`` or repeats an
        OID is closed; the rest go on. Errors after the first answer stop the walk with what was read.
        ``scalars`` ride along in the first request as GETBULK non-repeaters (GETNEXT semantics: pass
        ``sysUpTime`` as ``1.3.6.1.2.1.1.3`` to get ``...3.0``); their answers land in ``scalars``.
        """
        bases = [parse_oid(c) for c in columns]
        result = TableWalk(columns={b: {} for b in bases})
        pending_scalars = [parse_oid(o) for o in scalars]
        cursor: dict[Oid, Oid] = {b: b for b in bases}
        open_cols = list(bases)
        rows = 0
        deadline = time.monotonic() + max_time
        first = True
        while open_cols:
            if rows >= max_rows:
                result.complete, result.stopped = False, f"stopped after {max_rows} rows"
                break
            if time.monotonic() > deadline:
                result.complete, result.stopped = False, f"stopped after {max_time:g}s"
                break
            reps = max(1, min(max_repetitions, max_rows - rows))
            try:
                answer = await self.bulk(
                    endpoint, pending_scalars + [cursor[c] for c in open_cols], reps, len(pending_scalars)
                )
            except DeviceError as error:
                if first:
                    raise
                result.complete, result.stopped = False, f"walk interrupted: {error}"
                break
            first = False
            if pending_scalars:
                result.scalars = answer[: len(pending_scalars)]
                answer = answer[len(pending_scalars) :]
                pending_scalars = []
            if not answer:
                result.complete, result.stopped = False, "agent answered an empty PDU"
                break
            width = len(open_cols)
            still_open: list[Oid] = []
            closed: set[Oid] = set()
            for position, vb in enumerate(answer):
                column = open_cols[position % width]
                if column in closed:
                    continue
                prefix = len(column)
                if vb.kind == "endOfMibView" or vb.oid[:prefix] != column:
                    closed.add(column)
                    continue
                if vb.oid <= cursor[column]:
                    result.complete, result.stopped = False, f"agent went backwards at {vb.oid_str}"
                    closed.add(column)
                    continue
                cursor[column] = vb.oid
                result.columns[column][vb.oid[prefix:]] = vb
            for column in open_cols:
                if column not in closed:
                    still_open.append(column)
            rows = max((len(r) for r in result.columns.values()), default=0)
            open_cols = still_open
        return result

    # ---- plumbing ----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _paced(self, endpoint: SnmpEndpoint) -> AsyncIterator[Ticket | None]:
        if self.pacer is None:
            yield None
        else:
            async with self.pacer.slot((endpoint.host, endpoint.port)) as ticket:
                yield ticket

    def _is_v1(self, endpoint: SnmpEndpoint) -> bool:
        cred = endpoint.credential
        return isinstance(cred, SnmpCommunityCredential) and cred.version == "1"

    async def _get_tolerant(self, endpoint: SnmpEndpoint, oids: list[Oid]) -> list[VarBind]:
        """GET that survives v1 ``noSuchName`` (drop the culprit, ask again) and ``tooBig`` (split)."""
        try:
            return await self._request(endpoint, "get", oids)
        except PduError as error:
            if error.status == "noSuchName" and 0 < error.index <= len(oids):
                culprit = error.index - 1
                rest = oids[:culprit] + oids[culprit + 1 :]
                answered = await self._get_tolerant(endpoint, rest) if rest else []
                answered.insert(culprit, VarBind(oids[culprit], "noSuchObject", None))
                return answered
            if error.status == "tooBig" and len(oids) > 1:
                half = len(oids) // 2
                return await self._get_tolerant(endpoint, oids[:half]) + await self._get_tolerant(
                    endpoint, oids[half:]
                )
            raise error.as_device_error() from None

    async def _request(
        self,
        endpoint: SnmpEndpoint,
        op: str,
        oids: list[Oid],
        *,
        max_repetitions: int = 0,
        non_repeaters: int = 0,
    ) -> list[VarBind]:
        try:
            async with self._paced(endpoint) as ticket:
                try:
                    if isinstance(endpoint.credential, SnmpV3Credential):
                        raw = await self._request_v3(endpoint, op, oids, max_repetitions, non_repeaters)
                    else:
                        raw = await self._request_v1(endpoint, op, oids, max_repetitions, non_repeaters)
                except (DeviceTimeout, asyncio.CancelledError):
                    if ticket is not None:
                        ticket.timed_out()
                    raise
        except PduError as error:
            if op == "get":
                raise
            if op == "bulk" and error.status == "tooBig" and max_repetitions > 1:
                return await self._request(
                    endpoint, op, oids, max_repetitions=max_repetitions // 2, non_repeaters=non_repeaters
                )
            if error.status == "noSuchName":  # v1 GETNEXT past the end of the MIB
                return [VarBind(o, "endOfMibView", None) for o in oids]
            raise error.as_device_error() from None
        return raw

    async def _request_v1(
        self, endpoint: SnmpEndpoint, op: str, oids: list[Oid], reps: int, nonrep: int
    ) -> list[VarBind]:
        cred = endpoint.credential
        assert isinstance(cred, SnmpCommunityCredential)
        auth_key = (cred.community.get_secret_value(), 0 if cred.version == "1" else 1)
        auth = self._communities.get(auth_key)
        if auth is None:
            auth = self._communities[auth_key] = v1.CommunityData(auth_key[0], mpModel=auth_key[1])
        target = await self._target(endpoint, self._targets, v1.UdpTransportTarget)
        pairs = [(o, _NULL) for o in oids]
        async with self._slots:
            try:
                if op == "get":
                    reply = await v1.get_cmd(self._dispatcher, auth, target, *pairs)
                elif op == "next":
                    reply = await v1.next_cmd(self._dispatcher, auth, target, *pairs)
                else:
                    reply = await v1.bulk_cmd(self._dispatcher, auth, target, nonrep, reps, *pairs)
            except DeviceError:
                raise
            except Exception as error:  # pyasn1 decode errors and the like from a broken agent
                raise MalformedResponse(
                    f"{endpoint.label}: unreadable response ({type(error).__name__})"
                ) from None
        return self._unpack(endpoint, reply, op)

    async def _request_v3(
        self, endpoint: SnmpEndpoint, op: str, oids: list[Oid], reps: int, nonrep: int
    ) -> list[VarBind]:
        from pysnmp.hlapi.v3arch import asyncio as v3

        engine = await self._engine()
        auth = self._v3_user(endpoint.credential)
        target = await self._target(endpoint, self._v3_targets, v3.UdpTransportTarget)
        pairs = [(format_oid(o), _NULL) for o in oids]
        async with self._slots:
            try:
                if op == "get":
                    reply = await v3.get_cmd(engine, auth, target, v3.ContextData(), *pairs, lookupMib=False)
                elif op == "next":
                    reply = await v3.next_cmd(engine, auth, target, v3.ContextData(), *pairs, lookupMib=False)
                else:
                    reply = await v3.bulk_cmd(
                        engine, auth, target, v3.ContextData(), nonrep, reps, *pairs, lookupMib=False
                    )
            except DeviceError:
                raise
            except Exception as error:
                raise MalformedResponse(
                    f"{endpoint.label}: unreadable response ({type(error).__name__})"
                ) from None
        return self._unpack(endpoint, reply, op)

    def _unpack(self, endpoint: SnmpEndpoint, reply: Any, op: str) -> list[VarBind]:
        indication, status, index, var_binds = reply
        if indication:
            raise translate(indication, endpoint)
        if status:
            raise PduError(endpoint, status.prettyPrint(), int(index))
        out: list[VarBind] = []
        for item in var_binds:
            name, value = item[0], item[1]
            out.append(_convert(name, value))
        return out

    async def _target(self, endpoint: SnmpEndpoint, cache: dict[Any, Any], cls: Any) -> Any:
        key = (endpoint.host, endpoint.port, endpoint.timeout, endpoint.retries)
        target = cache.get(key)
        if target is None:
            try:
                target = await cls.create(
                    (endpoint.host, endpoint.port), timeout=endpoint.timeout, retries=endpoint.retries
                )
            except Exception as error:
                from provisioning.errors import DeviceUnreachable

                raise DeviceUnreachable(f"{endpoint.label}: cannot resolve address ({error})") from None
            cache[key] = target
        return target

    async def _engine(self) -> Any:
        if self._v3_engine is None:
            async with self._v3_lock:
                if self._v3_engine is None:
                    self._v3_engine = await asyncio.to_thread(_build_v3_engine)
        return self._v3_engine

    def _v3_user(self, cred: SnmpCredential) -> Any:
        from pysnmp.hlapi.v3arch import asyncio as v3

        assert isinstance(cred, SnmpV3Credential)
        auth_key = cred.auth_key.get_secret_value() if cred.auth_key else None
        priv_key = cred.priv_key.get_secret_value() if cred.priv_key else None
        key = (cred.username, cred.auth_protocol, auth_key, cred.priv_protocol, priv_key)
        user = self._v3_auth.get(key)
        if user is None:
            if cred.auth_protocol != "none" and not auth_key:
                raise ValueError("auth_key: required when auth_protocol is not 'none'")
            if cred.priv_protocol != "none" and (cred.auth_protocol == "none" or not priv_key):
                raise ValueError("priv_key: privacy needs an auth protocol and a priv key")
            user = v3.UsmUserData(
                cred.username,
                authKey=auth_key if cred.auth_protocol != "none" else None,
                privKey=priv_key if cred.priv_protocol != "none" else None,
                authProtocol=getattr(v3, _V3_AUTH[cred.auth_protocol]),
                privProtocol=getattr(v3, _V3_PRIV[cred.priv_protocol]),
            )
            self._v3_auth[key] = user
        return user


def _build_v3_engine() -> Any:
    """Blocking: builds the engine and loads the MIB view its var-bind processing needs."""
    from pysnmp.hlapi.v3arch import asyncio as v3
    from pysnmp.hlapi.varbinds import CommandGeneratorVarBinds

    engine = v3.SnmpEngine()
    CommandGeneratorVarBinds().make_varbinds(engine.cache, ((format_oid(SYS_DESCR), _NULL),))
    return engine
