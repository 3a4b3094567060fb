"""onvif: stored ONVIF records become versioned facts, ``rtsp_basic_auth`` moves into them

Every protocol stores what onboarding learned the same way: one versioned record under
``devices.attributes[<protocol>]`` (``provisioning/facts.py``). Each ``attributes["onvif"]`` gets
``version: 1`` and the operator's ``rtsp_basic_auth`` choice, which used to be a top-level attribute
beside it. The downgrade puts ``rtsp_basic_auth`` back at the top level (only when true, as onboarding
wrote it) and removes ``version``.

ONVIF had no tables, hence no area of its own until now: this revision starts the ``onvif`` branch.

Revision ID: proto_data_0003_onvif_facts
Revises: 0001_registry
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "proto_data_0003_onvif_facts"
down_revision: str | Sequence[str] | None = "0001_registry"
branch_labels: str | Sequence[str] | None = ("onvif",)
depends_on: str | Sequence[str] | None = None

KEY = "onvif"
BASIC = "rtsp_basic_auth"

devices = sa.table("devices", sa.column("id", sa.Integer()), sa.column("attributes", sa.JSON()))


def _records(bind: sa.Connection) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    """(device id, attributes, ONVIF record) for every device with an ONVIF record."""
    out = []
    for device_id, attributes in bind.execute(sa.select(devices.c.id, devices.c.attributes)).all():
        record = (attributes or {}).get(KEY)
        if isinstance(record, dict):
            out.append((device_id, dict(attributes), dict(record)))
    return out


def _save(bind: sa.Connection, device_id: int, attributes: dict[str, Any]) -> None:
    bind.execute(devices.update().where(devices.c.id == device_id).values(attributes=attributes))


def upgrade() -> None:
    bind = op.get_bind()
    for device_id, attributes, record in _records(bind):
        basic = attributes.pop(BASIC, None) is True
        attributes[KEY] = {**record, "version": 1, BASIC: basic}
        _save(bind, device_id, attributes)


def downgrade() -> None:
    bind = op.get_bind()
    for device_id, attributes, record in _records(bind):
        record.pop("version", None)
        if record.pop(BASIC, None) is True:
            attributes[BASIC] = True
        attributes[KEY] = record
        _save(bind, device_id, attributes)
