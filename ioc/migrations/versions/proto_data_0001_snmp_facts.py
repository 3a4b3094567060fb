"""snmp: interfaces move from ``snmp_interfaces`` into the device's versioned SNMP facts

Every protocol stores what onboarding learned the same way: one versioned record under
``devices.attributes[<protocol>]`` (``provisioning/facts.py``). Each device's ``snmp_interfaces`` rows
become ``attributes["snmp"]["interfaces"]`` (same columns, ordered by ifIndex), every SNMP record gets
``version: 1``, and the table is dropped. The downgrade recreates the table from the records and
takes ``version`` and ``interfaces`` out again.

Revision ID: proto_data_0001_snmp_facts
Revises: snmp_0001
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "proto_data_0001_snmp_facts"
down_revision: str | Sequence[str] | None = "snmp_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = "snmp"
COLUMNS = ("if_index", "name", "descr", "alias", "if_type", "speed_bps", "mac", "admin_status", "oper_status")

devices = sa.table("devices", sa.column("id", sa.Integer()), sa.column("attributes", sa.JSON()))


def _interfaces_table() -> sa.TableClause:
    return sa.table("snmp_interfaces", sa.column("device_id"), *(sa.column(name) for name in COLUMNS))


def _attributes(bind: sa.Connection) -> list[tuple[int, dict[str, Any]]]:
    rows = bind.execute(sa.select(devices.c.id, devices.c.attributes).order_by(devices.c.id)).all()
    return [(id_, dict(attributes or {})) for id_, attributes in rows]


def _save(bind: sa.Connection, device_id: int, attributes: dict[str, Any]) -> None:
    bind.execute(devices.update().where(devices.c.id == device_id).values(attributes=attributes))


def upgrade() -> None:
    bind = op.get_bind()
    table = _interfaces_table()
    by_device: dict[int, list[dict[str, Any]]] = {}
    for row in bind.execute(
        sa.select(table.c.device_id, *(table.c[name] for name in COLUMNS)).order_by(
            table.c.device_id, table.c.if_index
        )
    ).mappings():
        by_device.setdefault(row["device_id"], []).append({name: row[name] for name in COLUMNS})
    for device_id, attributes in _attributes(bind):
        record = attributes.get(KEY)
        if not isinstance(record, dict) and device_id not in by_device:
            continue
        if not isinstance(record, dict):
            record = {}  # interfaces without a record (not written by onboarding): keep them anyway
        attributes[KEY] = {**record, "version": 1, "interfaces": by_device.get(device_id, [])}
        _save(bind, device_id, attributes)
    op.drop_table("snmp_interfaces")


def downgrade() -> None:
    op.create_table(
        "snmp_interfaces",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("if_index", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("descr", sa.String(length=255), nullable=True),
        sa.Column("alias", sa.String(length=255), nullable=True),
        sa.Column("if_type", sa.Integer(), nullable=True),
        sa.Column("speed_bps", sa.BigInteger(), nullable=True),
        sa.Column("mac", sa.String(length=17), nullable=True),
        sa.Column("admin_status", sa.String(length=16), nullable=True),
        sa.Column("oper_status", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_snmp_interfaces_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_id", "if_index", name=op.f("pk_snmp_interfaces")),
    )
    bind = op.get_bind()
    table = _interfaces_table()
    for device_id, attributes in _attributes(bind):
        record = attributes.get(KEY)
        if not isinstance(record, dict):
            continue
        record = dict(record)
        interfaces = record.pop("interfaces", None)
        record.pop("version", None)
        rows = {
            item["if_index"]: {"device_id": device_id, **{name: item.get(name) for name in COLUMNS}}
            for item in (interfaces if isinstance(interfaces, list) else [])
            if isinstance(item, dict) and isinstance(item.get("if_index"), int)
        }
        if rows:
            bind.execute(table.insert(), list(rows.values()))
        if record:
            attributes[KEY] = record
        else:
            del attributes[KEY]
        _save(bind, device_id, attributes)
