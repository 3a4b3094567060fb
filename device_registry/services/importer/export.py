"""Export in the importer's own columns, so export -> import is a no-op."""

from __future__ import annotations

import csv
import io

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from device_registry.authz import Principal
from device_registry.models import Credential, Device, Site
from device_registry.models.devices import PRIVATE_PREFIX
from device_registry.queries.devices import links_of
from device_registry.services.devices import invisible_ids
from device_registry.services.importer.parse import COLUMNS, Format, formula_safe


async def export_devices(
    session: AsyncSession, principal: Principal, query_devices: list[Device], fmt: Format
) -> str:
    """The same columns the importer reads, so export -> import is a no-op. Uplinks outside the
    caller's scope are left out (their names are not the caller's to see; import keeps them). Cells
    that a spreadsheet would run as a formula are neutralised (:func:`formula_safe`)."""
    links = await links_of(session, [d.id for d in query_devices])
    names = dict((await session.execute(select(Device.id, Device.name))).all())
    hidden = await invisible_ids(session, principal, {u for us in links.uplinks.values() for u in us})
    site_codes = dict((await session.execute(select(Site.id, Site.code))).all())
    credential_names = {
        i: n
        for i, n in (await session.execute(select(Credential.id, Credential.name))).all()
        if not n.startswith(PRIVATE_PREFIX)
    }
    records = []
    for d in query_devices:
        records.append(
            {
                "name": d.name,
                "kind": str(d.kind),
                "site": site_codes[d.site_id],
                "address": d.address,
                "port": d.port,
                "protocols": list(d.protocols or []),
                "credential": credential_names.get(d.credential_id or -1),
                "uplinks": sorted(names[u] for u in links.uplinks.get(d.id, []) if u not in hidden),
                "tags": sorted(links.tags.get(d.id, [])),
                "lifecycle": str(d.lifecycle),
                "vendor": d.vendor,
                "model": d.model,
                "serial": d.serial,
                "firmware": d.firmware,
                "description": d.description,
            }
        )
    if fmt == "yaml":
        cleaned = [{k: v for k, v in r.items() if v not in (None, [])} for r in records]
        return yaml.safe_dump({"devices": cleaned}, allow_unicode=True, sort_keys=False)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for r in records:
        writer.writerow(
            {
                k: formula_safe(";".join(v) if isinstance(v, list) else ("" if v is None else str(v)))
                for k, v in r.items()
            }
        )
    return out.getvalue()
