"""monitors: each device's current state and last check results (the status API and page read it)

Revision ID: status_0001_device_status
Revises: monitors_0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "status_0001_device_status"
down_revision: str | Sequence[str] | None = "monitors_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "monitor_device_status",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flapping", sa.Boolean(), nullable=False),
        sa.Column("in_maintenance", sa.Boolean(), nullable=False),
        sa.Column("root_cause_device_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["devices.id"],
            name=op.f("fk_monitor_device_status_device_id_devices"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_monitor_device_status")),
    )
    with op.batch_alter_table("monitor_device_status", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitor_device_status_state"), ["state"], unique=False)


def downgrade() -> None:
    op.drop_table("monitor_device_status")
