"""monitors: outages, outage state history, maintenance windows

Revision ID: monitors_0001
Revises: 0001_registry
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "monitors_0001"
down_revision: str | Sequence[str] | None = "0001_registry"
branch_labels: str | Sequence[str] | None = ("monitors",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitor_outages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("root_cause_device_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("affected_count", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_monitor_outages_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["root_cause_device_id"],
            ["devices.id"],
            name=op.f("fk_monitor_outages_root_cause_device_id_devices"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_outages")),
    )
    with op.batch_alter_table("monitor_outages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitor_outages_device_id"), ["device_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_monitor_outages_root_cause_device_id"), ["root_cause_device_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_monitor_outages_started_at"), ["started_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_monitor_outages_ended_at"), ["ended_at"], unique=False)

    op.create_table(
        "monitor_outage_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outage_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outage_id"],
            ["monitor_outages.id"],
            name=op.f("fk_monitor_outage_history_outage_id_monitor_outages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_outage_history")),
    )
    with op.batch_alter_table("monitor_outage_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitor_outage_history_outage_id"), ["outage_id"], unique=False)

    op.create_table(
        "monitor_maintenance_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cron", sa.String(length=120), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(device_id IS NULL) <> (site_id IS NULL)", name=op.f("ck_monitor_maintenance_windows_one_scope")
        ),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_monitor_maintenance_windows_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["sites.id"],
            name=op.f("fk_monitor_maintenance_windows_site_id_sites"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitor_maintenance_windows")),
    )
    with op.batch_alter_table("monitor_maintenance_windows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_monitor_maintenance_windows_device_id"), ["device_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_monitor_maintenance_windows_site_id"), ["site_id"], unique=False)


def downgrade() -> None:
    op.drop_table("monitor_maintenance_windows")
    op.drop_table("monitor_outage_history")
    op.drop_table("monitor_outages")
