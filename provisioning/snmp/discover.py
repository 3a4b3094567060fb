"""Sweep a list of addresses for SNMP agents: one small GET per address and credential, bounded in flight.

Only the addresses given are ever asked (the caller expands the CIDR); credentials are tried in order
and the first that gets an answer wins, so a sweep with three communities costs one request per
silent address per community, not a probe each.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from device_registry.credentials import SnmpCommunityCredential
from provisioning.errors import DeviceError
from provisioning.snmp import identify
from provisioning.snmp.client import SnmpClient, SnmpCredential, SnmpEndpoint

MAX_SWEEP_PREFIX = 16
"""Networks larger than a /16 (65,536 addresses) need an explicit ``force``."""

_SYS_DESCR, _SYS_OBJECT_ID, _SYS_NAME = "1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.5.0"


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

    def view(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "port": self.port,
            "sys_name": self.sys_name,
            "sys_descr": self.sys_descr,
            "sys_object_id": self.sys_object_id,
            "vendor": self.vendor,
            "model": self.model,
            "credential": self.credential_label,
        }


def sweep_addresses(cidr: str, *, force: bool = False) -> tuple[str, list[str]]:
    """``"10.1.2.0/24"`` -> (normalised network, its host addresses); ``ValueError`` naming ``cidr``.

    Network and broadcast addresses are left out (a /31 or /32 keeps all), so nothing is sent to a
    broadcast address.
    """
    try:
        network = ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError as error:
        raise ValueError(f"cidr: {error}") from None
    if network.num_addresses > 2 ** (network.max_prefixlen - MAX_SWEEP_PREFIX) and not force:
        raise ValueError(
            f"cidr: {network} has {network.num_addresses} addresses, more than a /{MAX_SWEEP_PREFIX}; "
            "add --force (or force=true) if you mean it"
        )
    hosts = network.hosts() if network.num_addresses > 2 else iter(network)
    return str(network), [str(h) for h in hosts]


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        return value.rstrip(b"\x00").decode("utf-8", errors="replace").strip() or None
    return value if isinstance(value, str) else None


async def sweep(
    client: SnmpClient,
    hosts: Sequence[str],
    port: int,
    credentials: Sequence[SnmpCredential],
    *,
    timeout: float = 1.0,  # noqa: ASYNC109 - the per-request SNMP timeout, not a deadline for sweep()
    retries: int = 0,
    concurrency: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> list[DiscoveryHit]:
    """Addresses that answered, in the order given."""
    await identify.load_async()
    slots = asyncio.Semaphore(concurrency)
    done = 0

    async def one(host: str) -> DiscoveryHit | None:
        nonlocal done
        async with slots:
            try:
                for position, credential in enumerate(credentials):
                    endpoint = SnmpEndpoint(host, credential, port=port, timeout=timeout, retries=retries)
                    try:
                        descr, oid, name = await client.get(endpoint, [_SYS_DESCR, _SYS_OBJECT_ID, _SYS_NAME])
                    except DeviceError:
                        continue
                    sys_oid = oid.value if isinstance(oid.value, str) else None
                    sys_descr = _text(descr.value)
                    found = identify.identify(sys_oid, sys_descr)
                    return DiscoveryHit(
                        host,
                        port,
                        credential,
                        position,
                        _text(name.value),
                        sys_descr,
                        sys_oid,
                        found.vendor,
                        found.model,
                    )
                return None
            finally:
                done += 1
                if progress is not None:
                    progress(done, len(hosts))

    results = await asyncio.gather(*(one(h) for h in hosts))
    return [hit for hit in results if hit is not None]
