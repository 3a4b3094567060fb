"""What SNMP onboarding stored about a device (:class:`SnmpFacts`), read back for the API.

The device listing leaves the interface inventory out (``device_registry.queries.without_inventory``);
this is where one device's inventory is read, scoped like every device read.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.authz import Principal
from device_registry.errors import Conflict, NotFound
from device_registry.services.devices import get_device
from provisioning.facts import MalformedFacts, read_facts
from provisioning.snmp.models import SnmpFacts


async def stored_facts(session: AsyncSession, principal: Principal, device_id: int) -> SnmpFacts:
    """The device's SNMP facts. A device out of ``principal``'s scope is "not found" exactly like one
    that does not exist; so is one never onboarded over SNMP. A record that does not validate is a 409
    naming why (another release wrote it, or it was edited by hand)."""
    device = await get_device(session, principal, device_id)
    try:
        facts = read_facts(device.attributes, SnmpFacts)
    except MalformedFacts as error:
        raise Conflict(f"device {device_id}: {error}", field=f"attributes.{error.protocol}") from None
    if facts is None:
        raise NotFound(f"device {device_id} has no SNMP facts (not onboarded over SNMP)", field="device_id")
    return facts
