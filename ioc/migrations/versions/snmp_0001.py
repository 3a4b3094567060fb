"""snmp: interfaces read when an SNMP device is onboarded

Revision ID: snmp_0001
Revises: 0001_registry
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "snmp_0001"
down_revision: str | Sequence[str] | None = "0001_registry"
branch_labels: str | Sequence[str] | None = ("snmp",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
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


def downgrade() -> None:
    op.drop_table("snmp_interfaces")
