"""Sweep a list of addresses for SNMP agents: one small GET per address and credential, bounded in flight.

Only the addresses given are ever asked (``Sweep.addresses`` yields a CIDR's hosts lazily);
credentials are tried in order and the first that gets an answer wins, so a sweep with three
communities costs one request per silent address per community, not a probe each.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from device_registry.credentials import SnmpCommunityCredential
from provisioning.errors import DeviceError
from provisioning.snmp import identify, mib
from provisioning.snmp.client import SnmpClient
from provisioning.snmp.models import SnmpCredential, SnmpEndpoint

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_SWEEP_PREFIX = 16
"""Networks larger than a /16 (65,536 addresses) need an explicit ``force`` on the command line."""
MAX_CLI_HOSTS = 2**20
"""Never more, even forced: a million addresses is a day of sweeping already."""


@dataclass(frozen=True, slots=True)
class SweepLimits:
    """How many addresses one sweep may ask: ``normal`` without ``force``, ``forced`` with it. Counted
    in addresses, whatever the family: an IPv6 /64 is 2^64 addresses, not "a /64"."""

    normal: int = 2**MAX_SWEEP_PREFIX
    forced: int = MAX_CLI_HOSTS


@dataclass(frozen=True, slots=True)
class Sweep:
    network: IPNetwork
    hosts: int

    def addresses(self) -> Iterator[str]:
        """Lazily: never a list of every address. Network and broadcast addresses are left out (a /31
        or /32 keeps all), so nothing is sent to a broadcast address."""
        hosts = self.network.hosts() if self.network.num_addresses > 2 else iter(self.network)
        return (str(h) for h in hosts)


@dataclass(frozen=True, slots=True)
class DiscoveryHit:
    address: str
    port: int
    credential: SnmpCredential = field(repr=False)
    credential_index: int
    """Position of the credential that answered in the list given (never the secret itself)."""
    sys_name: str | None
    sys_descr: str | None
    sys_object_id: str | None
    vendor: str | None
    model: str | None

    @property
    def credential_label(self) -> str:
        cred = self.credential
        if isinstance(cred, SnmpCommunityCredential):
            return f"v{cred.version} community #{self.credential_index + 1}"
        return f"v3 user {cred.username}"


def sweep_addresses(cidr: str, *, force: bool = False, limits: SweepLimits = SweepLimits()) -> Sweep:
    """``"10.1.2.0/24"`` -> the network and how many hosts it has; ``ValueError`` naming ``cidr``."""
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError as error:
        raise ValueError(f"cidr: {error}") from None
    count = network.num_addresses if network.num_addresses <= 2 else network.num_addresses - 2
    if isinstance(network, ipaddress.IPv6Network) and network.num_addresses > 2:
        count = network.num_addresses - 1  # IPv6 has no broadcast; hosts() skips the anycast address only
    if count > limits.forced:
        raise ValueError(f"cidr: {network} has {count} addresses; a sweep asks at most {limits.forced}")
    if count > limits.normal and not force:
        raise ValueError(
            f"cidr: {network} has {count} addresses, more than {limits.normal}; "
            "add --force (or force=true) if you mean it"
        )
    return Sweep(network, count)


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.rstrip(b"\x00").decode("utf-8", errors="replace").strip() or None
    return value if isinstance(value, str) else None


@dataclass
class SweepResult:
    hits: list[DiscoveryHit]
    asked: int
    complete: bool
    """False when the deadline stopped the sweep: ``hits`` are those found until then."""


async def sweep(
    client: SnmpClient,
    hosts: Iterable[str],
    port: int,
    credentials: Sequence[SnmpCredential],
    *,
    timeout: float = 1.0,  # noqa: ASYNC109 - the per-request SNMP timeout, not a deadline for sweep()
    retries: int = 0,
    concurrency: int = 64,
    deadline_s: float | None = None,
    total: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Addresses that answered, in the order given. ``concurrency`` workers draw from ``hosts`` as they
    go (a sweep holds ``concurrency`` addresses in memory, not the network); after ``deadline_s`` the
    sweep stops and reports what it found so far."""
    await identify.load_async()
    found: list[tuple[int, DiscoveryHit]] = []
    numbered = enumerate(hosts)
    asked = 0

    async def one(host: str) -> DiscoveryHit | None:
        for position, credential in enumerate(credentials):
            endpoint = SnmpEndpoint(host, credential, port=port, timeout=timeout, retries=retries)
            try:
                descr, oid, name = await client.get(
                    endpoint, [mib.SYS_DESCR, mib.SYS_OBJECT_ID, mib.SYS_NAME]
                )
            except DeviceError:
                continue
            sys_oid = oid.value if isinstance(oid.value, str) else None
            sys_descr = _text(descr.value)
            identified = identify.identify(sys_oid, sys_descr)
            return DiscoveryHit(
                host,
                port,
                credential,
                position,
                _text(name.value),
                sys_descr,
                sys_oid,
                identified.vendor,
                identified.model,
            )
        return None

    async def worker() -> None:
        nonlocal asked
        for index, host in numbered:
            asked += 1
            try:
                hit = await one(host)
            finally:
                if progress is not None:
                    progress(asked, total if total is not None else asked)
            if hit is not None:
                found.append((index, hit))

    complete = True
    try:
        async with asyncio.timeout(deadline_s), asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(worker())
    except TimeoutError:
        complete = False
    return SweepResult([hit for _, hit in sorted(found, key=lambda pair: pair[0])], asked, complete)
