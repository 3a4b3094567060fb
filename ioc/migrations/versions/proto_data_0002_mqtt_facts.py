"""mqtt: every sensor with a broker credential gets its versioned MQTT facts

Every protocol stores what onboarding learned the same way: one versioned record under
``devices.attributes[<protocol>]`` (``provisioning/facts.py``). MQTT stored none; each
``mqtt_credentials`` row now back-fills ``attributes["mqtt"]`` (user name = device id, topic prefix
``ioc/v1/d/<id>``, the credential's issued and revoked times). The password hashes stay in
``mqtt_credentials``: a broker verifier is not a fact, and attributes are returned by the API. The
downgrade removes ``attributes["mqtt"]``.

Revision ID: proto_data_0002_mqtt_facts
Revises: mqtt_0001
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "proto_data_0002_mqtt_facts"
down_revision: str | Sequence[str] | None = "mqtt_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "mqtt"
PREFIX = "ioc/v1/d"

devices = sa.table("devices", sa.column("id", sa.Integer()), sa.column("attributes", sa.JSON()))
credentials = sa.table(
    "mqtt_credentials",
    sa.column("device_id", sa.Integer()),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("revoked_at", sa.DateTime(timezone=True)),
)


def _iso(value: datetime | None) -> str | None:
    """SQLite hands the stored UTC time back without its zone."""
    if value is None:
        return None
    return (value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)).isoformat()


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(devices.c.id, devices.c.attributes, credentials.c.created_at, credentials.c.revoked_at)
        .join(credentials, credentials.c.device_id == devices.c.id)
        .order_by(devices.c.id)
    ).all()
    for device_id, attributes, created_at, revoked_at in rows:
        facts = {
            "version": 1,
            "username": str(device_id),
            "topic_prefix": f"{PREFIX}/{device_id}",
            "credential_issued_at": _iso(created_at),
            "credential_revoked_at": _iso(revoked_at),
        }
        bind.execute(
            devices.update()
            .where(devices.c.id == device_id)
            .values(attributes={**(attributes or {}), KEY: facts})
        )


def downgrade() -> None:
    bind = op.get_bind()
    for device_id, attributes in bind.execute(sa.select(devices.c.id, devices.c.attributes)).all():
        if attributes and KEY in attributes:
            kept = {key: value for key, value in attributes.items() if key != KEY}
            bind.execute(devices.update().where(devices.c.id == device_id).values(attributes=kept))
